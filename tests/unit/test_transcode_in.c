/*
 * Unit tests of common/transcode_in.c: JSON -> protobuf with violations on
 * the real taskapi messages and the hand-built kitchen message.
 */
#include "transcode_fixture.h"

static void
test_create_full(void **state)
{
	Taskapi__V1__CreateTaskRequest *r;

	(void)state;
	r = (Taskapi__V1__CreateTaskRequest *)fill_ok(
	    &taskapi__v1__create_task_request__descriptor,
	    "{\"title\":\"Write report\",\"description\":\"Q1\","
	    "\"status\":\"in_progress\",\"priority\":\"low\","
	    "\"due_date\":\"2025-03-02T10:15:04.221+05:30\",\"extra\":[1]}");
	assert_string_equal(r->title, "Write report");
	assert_non_null(r->description);
	assert_string_equal(r->description->value, "Q1");
	assert_int_equal(
	    r->status, TASKAPI__V1__TASK_STATUS__TASK_STATUS_IN_PROGRESS);
	assert_int_equal(
	    r->priority, TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_LOW);
	assert_non_null(r->due_date);
	assert_int_equal(r->due_date->seconds, 1740890704); /* 04:45:04Z */
	assert_int_equal(r->due_date->nanos, 221000000);
	assert_render(&r->base,
	    "{\"title\":\"Write report\",\"description\":\"Q1\","
	    "\"status\":\"in_progress\",\"priority\":\"low\","
	    "\"due_date\":\"2025-03-02T04:45:04.221Z\"}");
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void
test_create_nulls_and_absent(void **state)
{
	Taskapi__V1__CreateTaskRequest *r;

	(void)state;
	r = (Taskapi__V1__CreateTaskRequest *)fill_ok(
	    &taskapi__v1__create_task_request__descriptor,
	    "{\"title\":null,\"description\":null,\"status\":null,"
	    "\"due_date\":null}");
	assert_string_equal(r->title, "");
	assert_null(r->description);
	assert_int_equal(r->status, 0);
	assert_null(r->due_date);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	/* Names match exactly. */
	r = (Taskapi__V1__CreateTaskRequest *)fill_ok(
	    &taskapi__v1__create_task_request__descriptor,
	    "{\"Title\":\"no\",\"title\":\"a\",\"STATUS\":\"pending\"}");
	assert_string_equal(r->title, "a");
	assert_int_equal(r->status, 0);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	/* Duplicate keys never get this far (issue 9: the first used to win
	 * here, the last in JavaScript). */
	parse_fails(
	    "{\"title\":\"a\",\"title\":\"b\"}", 25, TA_JSON_MSG_DUPLICATE);
}

static void
test_unicode_round_trip(void **state)
{
	static const char *titles[] = {
	    "quotes \" and \\ backslash / slash",
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80 "
	    "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb caf\xc3\xa9",
	    "tab\tnewline\ncontrol\x01",
	    "",
	};
	char big[201];

	(void)state;
	memset(big, 'x', 200);
	big[200] = '\0';
	for (size_t i = 0; i < 5; i++) {
		const char *t = i < 4 ? titles[i] : big;
		Taskapi__V1__CreateTaskRequest *r;
		cJSON *in = cJSON_CreateObject(), *back;
		char *body, *out;
		ta_violations errs = {0};

		cJSON_AddStringToObject(in, "title", t);
		body = cJSON_PrintUnformatted(in);
		cJSON_Delete(in);
		r = (Taskapi__V1__CreateTaskRequest *)fill_ok(
		    &taskapi__v1__create_task_request__descriptor, body);
		assert_string_equal(r->title, t);
		out = render(&r->base);
		back = parse(out);
		assert_string_equal(
		    cJSON_GetObjectItemCaseSensitive(back, "title")
		        ->valuestring,
		    t);
		cJSON_Delete(back);
		free(out);
		free(body);
		ta_violations_fini(&errs);
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
}

static void
test_wrong_types(void **state)
{
	const ProtobufCMessageDescriptor *c =
	    &taskapi__v1__create_task_request__descriptor;
	static const char st[] =
	    "status must be one of: pending, in_progress, completed";
	static const char dd[] = "due_date must be an RFC 3339 date-time";
	ta_violations errs = {0};
	ProtobufCMessage *m;
	ta_status s;

	(void)state;
	expect_one(c, "{\"title\":5}", "title", "title must be a string");
	expect_one(c, "{\"title\":true}", "title", "title must be a string");
	expect_one(c, "{\"title\":{}}", "title", "title must be a string");
	expect_one(c, "{\"title\":[\"a\"]}", "title", "title must be a string");
	expect_one(c, "{\"description\":5}", "description",
	    "description must be a string");
	expect_one(c, "{\"status\":1}", "status", st);
	expect_one(c, "{\"status\":true}", "status", st);
	/* Strings naming no value are forwarded for the worker to reject. */
	static const char *unknown[] = {"{\"status\":\"unspecified\"}",
	    "{\"status\":\"PENDING\"}", "{\"status\":\"pending \"}",
	    "{\"status\":\"task_status_pending\"}", "{\"status\":\"\"}"};
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		Taskapi__V1__CreateTaskRequest *r =
		    (Taskapi__V1__CreateTaskRequest *)fill_ok(c, unknown[i]);

		assert_int_equal((int)r->status, TA_ENUM_UNRECOGNIZED);
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	{
		Taskapi__V1__CreateTaskRequest *r =
		    (Taskapi__V1__CreateTaskRequest *)fill_ok(
		        c, "{\"priority\":\"urgent\"}");

		assert_int_equal((int)r->priority, TA_ENUM_UNRECOGNIZED);
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	expect_one(c, "{\"due_date\":5}", "due_date", dd);
	expect_one(c, "{\"due_date\":\"yesterday\"}", "due_date", dd);
	expect_one(c, "{\"due_date\":\"2023-02-29\"}", "due_date", dd);
	expect_one(c, "{\"due_date\":{\"seconds\":1}}", "due_date", dd);
	/* Every bad field is reported, in the body's order. */
	m = fill(c,
	    "{\"title\":1,\"status\":\"x\",\"due_date\":\"2023-02-29\","
	    "\"priority\":\"high\"}",
	    NULL, &errs, &s);
	assert_int_equal(s, TA_INVALID_ARGUMENT);
	assert_int_equal(errs.n, 2);
	assert_string_equal(errs.items[0].field, "title");
	assert_string_equal(errs.items[1].field, "due_date");
	assert_int_equal((int)((Taskapi__V1__CreateTaskRequest *)m)->status,
	    TA_ENUM_UNRECOGNIZED);
	/* What did parse is kept, and the message stays freeable. */
	assert_int_equal(((Taskapi__V1__CreateTaskRequest *)m)->priority,
	    TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_HIGH);
	ta_violations_fini(&errs);
	protobuf_c_message_free_unpacked(m, NULL);
}

static void
test_top_level_not_object(void **state)
{
	static const char *bodies[] = {"[1,2]", "42", "\"s\"", "null", "true"};
	Taskapi__V1__CreateTaskRequest r =
	    TASKAPI__V1__CREATE_TASK_REQUEST__INIT;

	(void)state;
	for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
		ta_violations errs = {0};
		cJSON *j = parse(bodies[i]);

		assert_int_equal(ta_json_to_message(j, &r.base, NULL, &errs),
		    TA_INVALID_ARGUMENT);
		assert_int_equal(errs.n, 1);
		assert_string_equal(errs.items[0].field, "body");
		assert_string_equal(
		    errs.items[0].message, "body must be a JSON object");
		ta_violations_fini(&errs);
		cJSON_Delete(j);
	}
}

static void
test_integers(void **state)
{
	const ProtobufCMessageDescriptor *u =
	    &taskapi__v1__update_task_request__descriptor;
	const ProtobufCMessageDescriptor *l =
	    &taskapi__v1__list_tasks_reply__descriptor;
	Taskapi__V1__UpdateTaskRequest *r;
	Taskapi__V1__ListTasksReply *lr;

	(void)state;
	r = (Taskapi__V1__UpdateTaskRequest *)fill_ok(
	    u, "{\"id\":9007199254740991}");
	assert_true(r->id == 9007199254740991LL);
	assert_render(&r->base,
	    "{\"id\":9007199254740991,\"title\":\"\","
	    "\"description\":null,\"status\":null,\"priority\":null,"
	    "\"due_date\":null,\"update_mask\":null,\"if_match\":\"\"}");
	protobuf_c_message_free_unpacked(&r->base, NULL);
	r = (Taskapi__V1__UpdateTaskRequest *)fill_ok(
	    u, "{\"id\":-9007199254740991}");
	assert_true(r->id == -9007199254740991LL);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	r = (Taskapi__V1__UpdateTaskRequest *)fill_ok(u, "{\"id\":1e3}");
	assert_true(r->id == 1000);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	r = (Taskapi__V1__UpdateTaskRequest *)fill_ok(u, "{\"id\":-0}");
	assert_true(r->id == 0);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	expect_one(u, "{\"id\":1.5}", "id", "id must be an integer");
	expect_one(u, "{\"id\":\"5\"}", "id", "id must be an integer");
	expect_one(u, "{\"id\":true}", "id", "id must be an integer");
	expect_one(u, "{\"id\":9007199254740992}", "id", "id is out of range");
	expect_one(u, "{\"id\":-9007199254740993}", "id", "id is out of range");
	expect_one(u, "{\"id\":1e300}", "id", "id is out of range");
	lr = (Taskapi__V1__ListTasksReply *)fill_ok(
	    l, "{\"count\":-2147483648}");
	assert_int_equal(lr->count, INT32_MIN);
	assert_render(&lr->base,
	    "{\"tasks\":[],\"count\":-2147483648,\"truncated\":false,"
	    "\"next_cursor\":null}");
	protobuf_c_message_free_unpacked(&lr->base, NULL);
	expect_one(
	    l, "{\"count\":2147483648}", "count", "count is out of range");
	expect_one(
	    l, "{\"count\":-2147483649}", "count", "count is out of range");
}

static void
test_bool_and_nested(void **state)
{
	const ProtobufCMessageDescriptor *v =
	    &taskapi__v1__validate_token_reply__descriptor;
	const ProtobufCMessageDescriptor *rr =
	    &taskapi__v1__register_reply__descriptor;
	Taskapi__V1__ValidateTokenReply *vr;
	Taskapi__V1__RegisterReply *r;
	ta_violations errs = {0};
	ta_status s;
	ProtobufCMessage *m;

	(void)state;
	vr = (Taskapi__V1__ValidateTokenReply *)fill_ok(v,
	    "{\"valid\":true,\"user\":{\"user_id\":4,\"username\":\"bo\","
	    "\"email\":\"b@x.io\"}}");
	assert_true(vr->valid);
	assert_non_null(vr->user);
	assert_int_equal(vr->user->user_id, 4);
	assert_render(&vr->base, "{\"valid\":true,\"user\":{\"user_id\":4,"
	                         "\"username\":\"bo\",\"email\":\"b@x.io\"}}");
	protobuf_c_message_free_unpacked(&vr->base, NULL);
	expect_one(
	    v, "{\"valid\":\"true\"}", "valid", "valid must be a boolean");
	expect_one(v, "{\"valid\":1}", "valid", "valid must be a boolean");
	expect_one(v, "{\"user\":5}", "user", "user must be an object");
	expect_one(v, "{\"user\":[]}", "user", "user must be an object");
	m = fill(rr,
	    "{\"user\":{\"email\":5,\"id\":\"x\",\"username\":\"u\","
	    "\"created_at\":\"2024-01-01\"}}",
	    NULL, &errs, &s);
	assert_int_equal(s, TA_INVALID_ARGUMENT);
	assert_int_equal(errs.n, 2);
	assert_string_equal(errs.items[0].field, "user.email");
	assert_string_equal(
	    errs.items[0].message, "user.email must be a string");
	assert_string_equal(errs.items[1].field, "user.id");
	assert_string_equal(
	    errs.items[1].message, "user.id must be an integer");
	r = (Taskapi__V1__RegisterReply *)m;
	assert_non_null(r->user); /* a bad object keeps what parsed */
	assert_string_equal(r->user->username, "u");
	assert_int_equal(r->user->created_at->seconds, 1704067200);
	ta_violations_fini(&errs);
	protobuf_c_message_free_unpacked(m, NULL);
}

static void
test_repeated_messages(void **state)
{
	const ProtobufCMessageDescriptor *l =
	    &taskapi__v1__list_tasks_reply__descriptor;
	Taskapi__V1__ListTasksReply *r;

	(void)state;
	r = (Taskapi__V1__ListTasksReply *)fill_ok(l,
	    "{\"tasks\":[{\"id\":1,\"title\":\"a\",\"status\":\"completed\"},"
	    "{\"id\":2,\"due_date\":\"2024-02-29T23:59:60Z\"}],\"count\":2}");
	assert_int_equal(r->n_tasks, 2);
	assert_string_equal(r->tasks[0]->title, "a");
	assert_int_equal(r->tasks[1]->id, 2);
	/* A leap second rolls over to the next minute. */
	assert_int_equal(r->tasks[1]->due_date->seconds, 1709251200);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	expect_one(l, "{\"tasks\":[{\"title\":\"a\"},{\"title\":5}]}",
	    "tasks[1].title", "tasks[1].title must be a string");
	expect_one(l, "{\"tasks\":{}}", "tasks", "tasks must be an array");
	expect_one(
	    l, "{\"tasks\":[null]}", "tasks[0]", "tasks[0] must be an object");
	r = (Taskapi__V1__ListTasksReply *)fill_ok(l, "{\"tasks\":null}");
	assert_int_equal(r->n_tasks, 0);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void
test_field_mask(void **state)
{
	const ProtobufCMessageDescriptor *u =
	    &taskapi__v1__update_task_request__descriptor;
	Taskapi__V1__UpdateTaskRequest *r;
	ta_violations errs = {0};
	ta_status s;

	(void)state;
	/* Keys present, null ones included, in body order. */
	r = (Taskapi__V1__UpdateTaskRequest *)fill(u,
	    "{\"title\":\"x\",\"description\":null,\"unknown\":1,"
	    "\"due_date\":null,\"update_mask\":\"status\"}",
	    "update_mask", &errs, &s);
	assert_int_equal(s, TA_OK);
	assert_non_null(r->update_mask);
	assert_int_equal(r->update_mask->n_paths, 3);
	assert_string_equal(r->update_mask->paths[0], "title");
	assert_string_equal(r->update_mask->paths[1], "description");
	assert_string_equal(r->update_mask->paths[2], "due_date");
	assert_string_equal(r->title, "x");
	assert_null(r->description);
	assert_int_equal(r->status, 0);
	assert_render(&r->base,
	    "{\"id\":0,\"title\":\"x\",\"description\":null,"
	    "\"status\":null,\"priority\":null,\"due_date\":null,"
	    "\"update_mask\":\"title,description,due_date\",\"if_match\":\"\"}");
	protobuf_c_message_free_unpacked(&r->base, NULL);
	/* An empty body still gets an (empty) mask: "change nothing". */
	r = (Taskapi__V1__UpdateTaskRequest *)fill(
	    u, "{}", "update_mask", &errs, &s);
	assert_int_equal(s, TA_OK);
	assert_non_null(r->update_mask);
	assert_int_equal(r->update_mask->n_paths, 0);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	/* Paths are recorded even when a value is invalid. */
	r = (Taskapi__V1__UpdateTaskRequest *)fill(
	    u, "{\"status\":7}", "update_mask", &errs, &s);
	assert_int_equal(s, TA_INVALID_ARGUMENT);
	assert_int_equal(r->update_mask->n_paths, 1);
	ta_violations_fini(&errs);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	/* Without mask_field, a FieldMask reads a comma-separated string. */
	r = (Taskapi__V1__UpdateTaskRequest *)fill_ok(
	    u, "{\"update_mask\":\"title,,status\"}");
	assert_int_equal(r->update_mask->n_paths, 2);
	assert_string_equal(r->update_mask->paths[1], "status");
	protobuf_c_message_free_unpacked(&r->base, NULL);
	expect_one(u, "{\"update_mask\":[\"a\"]}", "update_mask",
	    "update_mask must be a string");
	/* A mask_field that is not a FieldMask is ignored. */
	r = (Taskapi__V1__UpdateTaskRequest *)fill(
	    u, "{\"title\":\"t\"}", "title", &errs, &s);
	assert_int_equal(s, TA_OK);
	assert_string_equal(r->title, "t");
	assert_null(r->update_mask);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void
test_refill_frees_old_values(void **state)
{
	Taskapi__V1__CreateTaskRequest *r;
	ta_violations errs = {0};
	cJSON *j;

	(void)state;
	r = (Taskapi__V1__CreateTaskRequest *)fill_ok(
	    &taskapi__v1__create_task_request__descriptor,
	    "{\"title\":\"a\",\"description\":\"b\",\"due_date\":\"2024-01-"
	    "01\"}");
	j = parse("{\"title\":\"c\",\"description\":\"d\",\"due_date\":null}");
	assert_int_equal(ta_json_to_message(j, &r->base, NULL, &errs), TA_OK);
	assert_string_equal(r->title, "c");
	assert_string_equal(r->description->value, "d");
	assert_null(r->due_date);
	cJSON_Delete(j);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void
test_kitchen_violations(void **state)
{
	const ProtobufCMessageDescriptor *d = &kitchen_descriptor;

	(void)state;
	expect_one(d, "{\"u32\":-1}", "u32", "u32 is out of range");
	expect_one(d, "{\"u32\":4294967296}", "u32", "u32 is out of range");
	expect_one(d, "{\"u64\":-1}", "u64", "u64 is out of range");
	expect_one(d, "{\"i32\":2147483648}", "i32", "i32 is out of range");
	expect_one(d, "{\"flag\":0}", "flag", "flag must be a boolean");
	expect_one(d, "{\"ratio\":\"x\"}", "ratio", "ratio must be a number");
	expect_one(
	    d, "{\"blob\":\"!!\"}", "blob", "blob must be a base64 string");
	expect_one(
	    d, "{\"blob\":\"a\"}", "blob", "blob must be a base64 string");
	expect_one(
	    d, "{\"tags\":[\"a\",1]}", "tags[1]", "tags[1] must be a string");
	expect_one(d, "{\"tags\":\"a\"}", "tags", "tags must be an array");
	expect_one(
	    d, "{\"nums\":[1.5]}", "nums[0]", "nums[0] must be an integer");
	expect_one(d, "{\"states\":[\"pending\",7]}", "states[1]",
	    "states[1] must be one of: pending, in_progress, completed");
	expect_one(d, "{\"count\":\"x\"}", "count", "count must be an integer");
	expect_one(d, "{\"count\":9007199254740992}", "count",
	    "count is out of range");
	expect_one(d, "{\"on\":1}", "on", "on must be a boolean");
	expect_one(d, "{\"name\":\"a\",\"num\":5}", "num",
	    "num cannot be set together with name");
	expect_one(d, "{\"children\":[{\"title\":[]}]}", "children[0].title",
	    "children[0].title must be a string");
	{
		ProtobufCMessage *m = ta_message_new(d);

		set_text_fails(m, "u32", "-1", "u32 must be an integer");
		protobuf_c_message_free_unpacked(m, NULL);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_full),
	    cmocka_unit_test(test_create_nulls_and_absent),
	    cmocka_unit_test(test_unicode_round_trip),
	    cmocka_unit_test(test_wrong_types),
	    cmocka_unit_test(test_top_level_not_object),
	    cmocka_unit_test(test_integers),
	    cmocka_unit_test(test_bool_and_nested),
	    cmocka_unit_test(test_repeated_messages),
	    cmocka_unit_test(test_field_mask),
	    cmocka_unit_test(test_refill_frees_old_values),
	    cmocka_unit_test(test_kitchen_violations),
	};

	return cmocka_run_group_tests_name("transcode_in", tests, NULL, NULL);
}
