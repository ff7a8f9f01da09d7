/*
 * Unit tests of common/transcode_out.c: protobuf -> JSON rendering, and
 * the kitchen message through render -> fill -> render.
 */
#include "transcode_fixture.h"
#include "utf8.h"

static void
test_task_full_renders(void **state)
{
	Taskapi__V1__Task *t =
	    (Taskapi__V1__Task *)ta_message_new(&taskapi__v1__task__descriptor);
	Google__Protobuf__StringValue *d =
	    (Google__Protobuf__StringValue *)ta_message_new(
	        &google__protobuf__string_value__descriptor);

	(void)state;
	t->id = 9007199254740991LL;
	t->user_id = 7;
	t->title = strdup("Buy \"milk\" \\ now");
	d->value = strdup("caf\xc3\xa9");
	t->description = d;
	t->status = TASKAPI__V1__TASK_STATUS__TASK_STATUS_IN_PROGRESS;
	t->priority = TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_HIGH;
	t->due_date = ts_new(1709164800, 123456789);
	t->created_at = ts_new(0, 0);
	t->updated_at = ts_new(-1, 999000000);
	assert_render(&t->base,
	    "{\"id\":9007199254740991,\"user_id\":7,"
	    "\"title\":\"Buy \\\"milk\\\" \\\\ now\","
	    "\"description\":\"caf\xc3\xa9\",\"status\":\"in_progress\","
	    "\"priority\":\"high\",\"due_date\":\"2024-02-29T00:00:00.123Z\","
	    "\"created_at\":\"1970-01-01T00:00:00.000Z\","
	    "\"updated_at\":\"1969-12-31T23:59:59.999Z\"}");
	/* int64 beyond 2^53 still renders exactly (never via a double). */
	t->id = INT64_MAX;
	t->user_id = INT64_MIN;
	t->status = TASKAPI__V1__TASK_STATUS__TASK_STATUS_PENDING;
	t->priority = TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_MEDIUM;
	char *s = render(&t->base);
	assert_non_null(strstr(s, "\"id\":9223372036854775807,"
	                          "\"user_id\":-9223372036854775808,"));
	assert_non_null(strstr(s, "\"status\":\"pending\","
	                          "\"priority\":\"medium\""));
	free(s);
	protobuf_c_message_free_unpacked(&t->base, NULL);
}

static void
test_task_empty_renders(void **state)
{
	Taskapi__V1__Task t = TASKAPI__V1__TASK__INIT;
	cJSON *j;

	(void)state;
	assert_render(&t.base,
	    "{\"id\":0,\"user_id\":0,\"title\":\"\",\"description\":null,"
	    "\"status\":null,\"priority\":null,\"due_date\":null,"
	    "\"created_at\":null,\"updated_at\":null}");
	j = ta_message_to_json(&t.base);
	assert_int_equal(cJSON_GetArraySize(j), 9);
	cJSON_Delete(j);
	/* An enum number this build does not know renders as a number. */
	t.status = 42;
	assert_render(&t.base,
	    "{\"id\":0,\"user_id\":0,\"title\":\"\",\"description\":null,"
	    "\"status\":42,\"priority\":null,\"due_date\":null,"
	    "\"created_at\":null,\"updated_at\":null}");
}

static void
test_nested_and_repeated_render(void **state)
{
	Taskapi__V1__ListTasksReply r = TASKAPI__V1__LIST_TASKS_REPLY__INIT;
	Taskapi__V1__Task a = TASKAPI__V1__TASK__INIT;
	Taskapi__V1__Task *tasks[1] = {&a};
	Taskapi__V1__RegisterReply rr = TASKAPI__V1__REGISTER_REPLY__INIT;
	Taskapi__V1__ValidateTokenReply v =
	    TASKAPI__V1__VALIDATE_TOKEN_REPLY__INIT;

	(void)state;
	assert_render(
	    &r.base, "{\"tasks\":[],\"count\":0,\"truncated\":false,"
	             "\"next_cursor\":null}");
	a.id = 3;
	a.title = "x";
	r.n_tasks = 1;
	r.tasks = tasks;
	r.count = 1;
	assert_render(&r.base,
	    "{\"tasks\":[{\"id\":3,\"user_id\":0,\"title\":\"x\","
	    "\"description\":null,\"status\":null,\"priority\":null,"
	    "\"due_date\":null,\"created_at\":null,\"updated_at\":null}],"
	    "\"count\":1,\"truncated\":false,\"next_cursor\":null}");
	rr.message = "User registered successfully";
	assert_render(&rr.base,
	    "{\"message\":\"User registered successfully\",\"user\":null}");
	assert_render(&v.base, "{\"valid\":false,\"user\":null}");
}

static void
test_kitchen_round_trip(void **state)
{
	static const char full[] =
	    "{\"i32\":-5,\"u32\":4294967295,\"u64\":9007199254740991,"
	    "\"flag\":true,\"ratio\":0.5,\"blob\":\"aGVsbG8=\","
	    "\"tags\":[\"a\",\"\xc3\xa9\"],\"nums\":[1,-2,9007199254740991],"
	    "\"states\":[\"pending\",\"completed\"],\"count\":42,"
	    "\"on\":false,\"mask\":\"a,b\",\"name\":\"n\","
	    "\"children\":[{\"id\":1,\"user_id\":0,\"title\":\"c\","
	    "\"description\":null,\"status\":null,\"priority\":null,"
	    "\"due_date\":null,\"created_at\":null,\"updated_at\":null}]}";
	kitchen *k;
	ta_violations errs = {0};
	cJSON *j;

	(void)state;
	k = (kitchen *)ta_message_new(&kitchen_descriptor);
	assert_render(&k->base,
	    "{\"i32\":0,\"u32\":0,\"u64\":0,\"flag\":false,\"ratio\":0,"
	    "\"blob\":\"\",\"tags\":[],\"nums\":[],\"states\":[],"
	    "\"count\":null,\"on\":null,\"mask\":null,\"name\":null,"
	    "\"num\":null,\"children\":[]}");
	protobuf_c_message_free_unpacked(&k->base, NULL);

	k = (kitchen *)fill_ok(&kitchen_descriptor, full);
	assert_int_equal(k->blob.len, 5);
	assert_memory_equal(k->blob.data, "hello", 5);
	assert_int_equal(k->pick_case, 13);
	assert_render(&k->base, full);
	/* Re-filling replaces every value without leaking the old ones. */
	j = parse("{\"tags\":[\"z\"],\"blob\":\"YQ\",\"count\":null,"
	          "\"nums\":null,\"num\":7,\"children\":[]}");
	assert_int_equal(ta_json_to_message(j, &k->base, NULL, &errs), TA_OK);
	cJSON_Delete(j);
	assert_int_equal(k->n_tags, 1);
	assert_memory_equal(k->blob.data, "a", 1);
	assert_null(k->count);
	assert_int_equal(k->n_nums, 0);
	assert_int_equal(k->pick_case, 14);
	assert_true(k->num == 7);
	assert_int_equal(k->n_children, 0);
	char *s = render(&k->base);
	assert_non_null(strstr(s, "\"num\":7"));
	assert_null(strstr(s, "\"name\""));
	free(s);
	/* Setting the other member by text clears this one. */
	assert_int_equal(
	    ta_message_set_text(&k->base, "name", "x", &errs), TA_OK);
	assert_int_equal(k->pick_case, 13);
	assert_string_equal(k->name, "x");
	assert_int_equal(
	    ta_message_set_text(&k->base, "num", "8", &errs), TA_OK);
	assert_int_equal(k->pick_case, 14);
	assert_int_equal(
	    ta_message_set_text(&k->base, "name", "y", &errs), TA_OK);
	/* null clears only the selected member. */
	j = parse("{\"num\":null}");
	assert_int_equal(ta_json_to_message(j, &k->base, NULL, &errs), TA_OK);
	cJSON_Delete(j);
	assert_int_equal(k->pick_case, 13);
	j = parse("{\"name\":null}");
	assert_int_equal(ta_json_to_message(j, &k->base, NULL, &errs), TA_OK);
	cJSON_Delete(j);
	assert_int_equal(k->pick_case, 0);
	assert_int_equal(errs.n, 0);
	protobuf_c_message_free_unpacked(&k->base, NULL);
}

/* A peer's string that is not UTF-8 renders with U+FFFD (fuzz: render). */
static void
test_render_repairs_utf8(void **state)
{
	Taskapi__V1__Task t = TASKAPI__V1__TASK__INIT;
	cJSON *j, *title;

	(void)state;
	t.title = "a\xC3\x28\xFF\xED\xA0\x80z\xC3\xA9";
	j = ta_message_to_json(&t.base);
	title = cJSON_GetObjectItemCaseSensitive(j, "title");
	assert_non_null(title);
	assert_string_equal(title->valuestring,
	    "a\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
	    "\xEF\xBF\xBDz\xC3\xA9");
	cJSON_Delete(j);
	assert_null(ta_utf8_repaired("valid \xE2\x82\xAC"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_task_full_renders),
	    cmocka_unit_test(test_task_empty_renders),
	    cmocka_unit_test(test_nested_and_repeated_render),
	    cmocka_unit_test(test_kitchen_round_trip),
	    cmocka_unit_test(test_render_repairs_utf8),
	};

	return cmocka_run_group_tests_name("transcode_out", tests, NULL, NULL);
}
