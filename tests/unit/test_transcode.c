/*
 * Unit tests of common/transcode: strict body parsing, JSON -> protobuf with
 * violations, protobuf -> JSON rendering, RFC 3339 and path parameters, on
 * the real taskapi messages plus one hand-built descriptor that covers the
 * field kinds taskapi does not use yet (oneof, repeated scalars, bytes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "transcode.h"

#include "google/protobuf/field_mask.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"
#include "taskapi/v1/auth.pb-c.h"
#include "taskapi/v1/task.pb-c.h"

/* ------------------------------------------------------------------ */
/* A hand-built message with the kinds taskapi's protos do not have. */

typedef struct kitchen {
	ProtobufCMessage base;
	int32_t i32;
	uint32_t u32;
	uint64_t u64;
	protobuf_c_boolean flag;
	double ratio;
	ProtobufCBinaryData blob;
	size_t n_tags;
	char **tags;
	size_t n_nums;
	int64_t *nums;
	size_t n_states;
	Taskapi__V1__TaskStatus *states;
	Google__Protobuf__Int64Value *count;
	Google__Protobuf__BoolValue *on;
	Google__Protobuf__FieldMask *mask;
	uint32_t pick_case;
	union {
		char *name;
		int64_t num;
	};
	size_t n_children;
	Taskapi__V1__Task **children;
} kitchen;

#define K_FIELD(n, id, label, type, q, member, desc, flags)                    \
	{                                                                      \
		n, id, PROTOBUF_C_LABEL_##label, PROTOBUF_C_TYPE_##type, q,    \
		    offsetof(kitchen, member), desc, NULL, flags, 0, NULL,     \
		    NULL                                                       \
	}

static const ProtobufCFieldDescriptor kitchen_fields[15] = {
    K_FIELD("i32", 1, NONE, INT32, 0, i32, NULL, 0),
    K_FIELD("u32", 2, NONE, UINT32, 0, u32, NULL, 0),
    K_FIELD("u64", 3, NONE, UINT64, 0, u64, NULL, 0),
    K_FIELD("flag", 4, NONE, BOOL, 0, flag, NULL, 0),
    K_FIELD("ratio", 5, NONE, DOUBLE, 0, ratio, NULL, 0),
    K_FIELD("blob", 6, NONE, BYTES, 0, blob, NULL, 0),
    K_FIELD(
        "tags", 7, REPEATED, STRING, offsetof(kitchen, n_tags), tags, NULL, 0),
    K_FIELD("nums", 8, REPEATED, INT64, offsetof(kitchen, n_nums), nums, NULL,
        PROTOBUF_C_FIELD_FLAG_PACKED),
    K_FIELD("states", 9, REPEATED, ENUM, offsetof(kitchen, n_states), states,
        &taskapi__v1__task_status__descriptor, PROTOBUF_C_FIELD_FLAG_PACKED),
    K_FIELD("count", 10, NONE, MESSAGE, 0, count,
        &google__protobuf__int64_value__descriptor, 0),
    K_FIELD("on", 11, NONE, MESSAGE, 0, on,
        &google__protobuf__bool_value__descriptor, 0),
    K_FIELD("mask", 12, NONE, MESSAGE, 0, mask,
        &google__protobuf__field_mask__descriptor, 0),
    K_FIELD("name", 13, NONE, STRING, offsetof(kitchen, pick_case), name, NULL,
        PROTOBUF_C_FIELD_FLAG_ONEOF),
    K_FIELD("num", 14, NONE, INT64, offsetof(kitchen, pick_case), num, NULL,
        PROTOBUF_C_FIELD_FLAG_ONEOF),
    K_FIELD("children", 15, REPEATED, MESSAGE, offsetof(kitchen, n_children),
        children, &taskapi__v1__task__descriptor, 0),
};

/* blob children count flag i32 mask name num nums on ratio states tags u32
 * u64 */
static const unsigned kitchen_by_name[15] = {
    5, 14, 9, 3, 0, 11, 12, 13, 7, 10, 4, 8, 6, 1, 2};
static const ProtobufCIntRange kitchen_ranges[2] = {{1, 0}, {0, 15}};

static void kitchen_init(ProtobufCMessage *m);

static const ProtobufCMessageDescriptor kitchen_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, "test.Kitchen", "Kitchen", "Kitchen",
    "test", sizeof(kitchen), 15, kitchen_fields, kitchen_by_name, 1,
    kitchen_ranges, (ProtobufCMessageInit)kitchen_init, NULL, NULL, NULL};

static void
kitchen_init(ProtobufCMessage *m)
{
	memset(m, 0, sizeof(kitchen));
	m->descriptor = &kitchen_descriptor;
}

/* ------------------------------------------------------------------ */
/* Helpers */

static cJSON *
parse(const char *s)
{
	cJSON *j = NULL;
	char msg[128];

	assert_int_equal(
	    ta_json_parse_strict(s, strlen(s), &j, msg, sizeof msg), TA_OK);
	return j;
}

static void
parse_fails(const char *s, size_t len, const char *want)
{
	cJSON *j = NULL;
	char msg[128] = "";

	assert_int_equal(ta_json_parse_strict(s, len, &j, msg, sizeof msg),
	    TA_INVALID_ARGUMENT);
	assert_null(j);
	assert_string_equal(msg, want);
}

/* Renders msg as compact JSON (caller frees). */
static char *
render(const ProtobufCMessage *msg)
{
	cJSON *j = ta_message_to_json(msg);
	char *s = cJSON_PrintUnformatted(j);

	cJSON_Delete(j);
	assert_non_null(s);
	return s;
}

static void
assert_render(const ProtobufCMessage *msg, const char *want)
{
	char *s = render(msg);

	assert_string_equal(s, want);
	free(s);
}

/* Fills a fresh message of d from json; returns it and the status. */
static ProtobufCMessage *
fill(const ProtobufCMessageDescriptor *d, const char *json, const char *mask,
    ta_violations *errs, ta_status *st)
{
	ProtobufCMessage *m = ta_message_new(d);
	cJSON *j = parse(json);

	*st = ta_json_to_message(j, m, mask, errs);
	cJSON_Delete(j);
	return m;
}

/* Expects exactly one violation, field and message given. */
static void
expect_one(const ProtobufCMessageDescriptor *d, const char *json,
    const char *field, const char *message)
{
	ta_violations errs = {0};
	ta_status st;
	ProtobufCMessage *m = fill(d, json, NULL, &errs, &st);

	assert_int_equal(st, TA_INVALID_ARGUMENT);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.items[0].field, field);
	assert_string_equal(errs.items[0].message, message);
	ta_violations_fini(&errs);
	protobuf_c_message_free_unpacked(m, NULL);
}

static ProtobufCMessage *
fill_ok(const ProtobufCMessageDescriptor *d, const char *json)
{
	ta_violations errs = {0};
	ta_status st;
	ProtobufCMessage *m = fill(d, json, NULL, &errs, &st);

	if (st != TA_OK)
		print_error(
		    "unexpected violation: %s\n", errs.items[0].message);
	assert_int_equal(st, TA_OK);
	assert_int_equal(errs.n, 0);
	return m;
}

static Google__Protobuf__Timestamp *
ts_new(int64_t s, int32_t ns)
{
	Google__Protobuf__Timestamp *t =
	    (Google__Protobuf__Timestamp *)ta_message_new(
	        &google__protobuf__timestamp__descriptor);

	t->seconds = s;
	t->nanos = ns;
	return t;
}

/* ------------------------------------------------------------------ */
/* ta_json_parse_strict */

static void
test_parse_strict_accepts(void **state)
{
	const char buf[] = "{\"a\":1}XXXX"; /* not NUL-terminated at len */
	cJSON *j = NULL;

	(void)state;
	j = parse("{\"a\":1} \n\t\r ");
	assert_true(cJSON_IsObject(j));
	cJSON_Delete(j);
	assert_int_equal(ta_json_parse_strict(buf, 7, &j, NULL, 0), TA_OK);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "a")->valueint, 1);
	cJSON_Delete(j);
	/* Arrays and scalars at top level are JSON; callers decide. */
	j = parse("[1,2]");
	assert_true(cJSON_IsArray(j));
	cJSON_Delete(j);
	j = parse(" 42 ");
	assert_true(cJSON_IsNumber(j));
	cJSON_Delete(j);
	j = parse("\"s\"");
	assert_true(cJSON_IsString(j));
	cJSON_Delete(j);
	j = parse("null");
	assert_true(cJSON_IsNull(j));
	cJSON_Delete(j);
	/* An escaped backslash followed by u0000 is not a NUL escape. */
	j = parse("{\"t\":\"\\\\u0000\"}");
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(j, "t")->valuestring, "\\u0000");
	cJSON_Delete(j);
	j = parse("{\"t\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \\ud83d\\ude00\"}");
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(j, "t")->valuestring,
	    "caf\xc3\xa9 \xf0\x9f\x98\x80 \xf0\x9f\x98\x80");
	cJSON_Delete(j);
}

static void
test_parse_strict_rejects(void **state)
{
	static const char mal[] = "Malformed JSON in request body";
	static const char utf[] = "Request body is not valid UTF-8";
	static const char nul[] =
	    "Request body must not contain NUL characters";
	const char with_nul[] = "{\"t\":\"a\0b\"}";
	cJSON *j = NULL;

	(void)state;
	parse_fails("{\"a\":1} trailing", 16, mal);
	parse_fails("{} {}", 5, mal);
	parse_fails("", 0, mal);
	parse_fails("   ", 3, mal);
	parse_fails("{\"a\":1,}", 8, mal);
	parse_fails("{'a':1}", 7, mal);
	parse_fails("{\"a\":", 5, mal);
	parse_fails("{\"t\":\"\\ud800\"}", 14, mal); /* lone surrogate */
	parse_fails("{\"t\":\"\xff\"}", 9, utf);
	parse_fails("{\"t\":\"\xc0\xaf\"}", 10, utf);         /* overlong '/' */
	parse_fails("{\"t\":\"\xed\xa0\x80\"}", 11, utf);     /* surrogate */
	parse_fails("{\"t\":\"\xf4\x90\x80\x80\"}", 12, utf); /* > U+10FFFF */
	parse_fails("{\"t\":\"\xe2\x82", 8, utf);             /* cut sequence */
	parse_fails("{\"t\":\"\x80\"}", 9, utf); /* lone continuation */
	parse_fails(with_nul, sizeof with_nul - 1, nul);
	parse_fails("{\"t\":\"a\\u0000b\"}", 16, nul);
	assert_int_equal(
	    ta_json_parse_strict(NULL, 0, &j, NULL, 0), TA_INVALID_ARGUMENT);
}

static void
test_parse_strict_depth(void **state)
{
	char buf[2 * 1001 + 1];
	cJSON *j = NULL;

	(void)state;
	/* cJSON's nesting limit: 1000 levels parse, 1001 do not. */
	memset(buf, '[', 1000);
	memset(buf + 1000, ']', 1000);
	assert_int_equal(ta_json_parse_strict(buf, 2000, &j, NULL, 0), TA_OK);
	cJSON_Delete(j);
	j = NULL;
	memset(buf, '[', 1001);
	memset(buf + 1001, ']', 1001);
	parse_fails(buf, 2002, "Malformed JSON in request body");
}

/* ------------------------------------------------------------------ */
/* Rendering */

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
	assert_render(&r.base, "{\"tasks\":[],\"count\":0,\"truncated\":false}");
	a.id = 3;
	a.title = "x";
	r.n_tasks = 1;
	r.tasks = tasks;
	r.count = 1;
	assert_render(&r.base,
	    "{\"tasks\":[{\"id\":3,\"user_id\":0,\"title\":\"x\","
	    "\"description\":null,\"status\":null,\"priority\":null,"
	    "\"due_date\":null,\"created_at\":null,\"updated_at\":null}],"
	    "\"count\":1,\"truncated\":false}");
	rr.message = "User registered successfully";
	assert_render(&rr.base,
	    "{\"message\":\"User registered successfully\",\"user\":null}");
	assert_render(&v.base, "{\"valid\":false,\"user\":null}");
}

/* ------------------------------------------------------------------ */
/* Parsing into messages */

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
	parse_fails("{\"title\":\"a\",\"title\":\"b\"}", 25,
	    TA_JSON_MSG_DUPLICATE);
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
	    "\"due_date\":null,\"update_mask\":null}");
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
	assert_render(
	    &lr->base, "{\"tasks\":[],\"count\":-2147483648,\"truncated\":false}");
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
	    "\"update_mask\":\"title,description,due_date\"}");
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

/* ------------------------------------------------------------------ */
/* RFC 3339 */

static void
ts_ok(const char *s, int64_t secs, int32_t ns)
{
	int64_t gs = -7;
	int32_t gn = -7;

	if (!ta_rfc3339_parse(s, &gs, &gn))
		fail_msg("rejected %s", s);
	assert_true(gs == secs);
	assert_int_equal(gn, ns);
}

static void
test_rfc3339_parse(void **state)
{
	static const char *bad[] = {"", "2023-02-29", "2023-02-29T00:00:00Z",
	    "2100-02-29", "2024-13-01", "2024-00-10", "2024-04-31",
	    "2024-01-00", "2024-01-01T24:00:00Z", "2024-01-01T23:60:00Z",
	    "2024-01-01T23:59:61Z", "0000-01-01", "2025-03-02T10:15:04",
	    "2025-03-02T10:15:04+05:3", "2025-03-02T10:15:04+0530",
	    "2025-03-02T10:15:04+24:00", "2025-03-02T10:15:04Zx", "2025-3-2",
	    "2025-03-02T", "2025-03-02T10:15Z", "2025-03-02T10:15:04.Z",
	    "2025-03-02T10:15:04.1234567890Z", "2025-03-02x10:15:04Z",
	    " 2025-03-02", "2025-03-02 ", "0001-01-01T00:00:00+00:01",
	    "+2025-03-02", "yesterday"};
	int64_t s;
	int32_t n;

	(void)state;
	ts_ok("1970-01-01T00:00:00Z", 0, 0);
	ts_ok("2024-02-29", 1709164800, 0);
	ts_ok("2024-02-29T00:00:00Z", 1709164800, 0);
	ts_ok("2000-02-29T00:00:00Z", 951782400, 0);
	ts_ok("2025-03-02T10:15:04.221+05:30", 1740890704, 221000000);
	ts_ok("2025-03-02t04:45:04z", 1740890704, 0);
	ts_ok("2025-03-02 04:45:04Z", 1740890704, 0);
	ts_ok("2025-03-02T04:45:04.123456789Z", 1740890704, 123456789);
	ts_ok("2025-03-02T04:45:04.5Z", 1740890704, 500000000);
	ts_ok("2024-12-31T23:00:00-02:00", 1735693200, 0);
	ts_ok("2016-12-31T23:59:60Z", 1483228800, 0);
	ts_ok("0001-01-01T00:00:00Z", -62135596800LL, 0);
	ts_ok("9999-12-31T23:59:59.999999999Z", 253402300799LL, 999999999);
	ts_ok("1969-12-31T23:59:59Z", -1, 0);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (ta_rfc3339_parse(bad[i], &s, &n))
			fail_msg("accepted %s", bad[i]);
	assert_false(ta_rfc3339_parse(NULL, &s, &n));
}

static void
test_rfc3339_format(void **state)
{
	char buf[32];

	(void)state;
	ta_rfc3339_format(0, 0, buf, sizeof buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	ta_rfc3339_format(1740890704, 221999999, buf, sizeof buf);
	assert_string_equal(buf, "2025-03-02T04:45:04.221Z");
	ta_rfc3339_format(951868800, 999999999, buf, sizeof buf);
	assert_string_equal(buf, "2000-03-01T00:00:00.999Z");
	ta_rfc3339_format(-1, 0, buf, sizeof buf);
	assert_string_equal(buf, "1969-12-31T23:59:59.000Z");
	ta_rfc3339_format(-62135596800LL, 0, buf, sizeof buf);
	assert_string_equal(buf, "0001-01-01T00:00:00.000Z");
	ta_rfc3339_format(253402300799LL, 0, buf, sizeof buf);
	assert_string_equal(buf, "9999-12-31T23:59:59.000Z");
	/* Out-of-range values from a peer are clamped, not undefined. */
	ta_rfc3339_format(INT64_MAX, -5, buf, sizeof buf);
	assert_string_equal(buf, "9999-12-31T23:59:59.000Z");
	ta_rfc3339_format(INT64_MIN, 0, buf, sizeof buf);
	assert_string_equal(buf, "0001-01-01T00:00:00.000Z");
	ta_rfc3339_format(0, 0, buf, 5);
	assert_string_equal(buf, "1970");
	/* Every day of 1999..2001 survives format -> parse. */
	for (int64_t t = 915148800; t < 1009843200; t += 86400 + 3601) {
		int64_t s;
		int32_t n;

		ta_rfc3339_format(t, 7000000, buf, sizeof buf);
		assert_true(ta_rfc3339_parse(buf, &s, &n));
		assert_true(s == t);
		assert_int_equal(n, 7000000);
	}
}

/* ------------------------------------------------------------------ */
/* ta_message_set_text */

static void
set_text_fails(ProtobufCMessage *m, const char *field, const char *text,
    const char *message)
{
	ta_violations errs = {0};

	assert_int_equal(
	    ta_message_set_text(m, field, text, &errs), TA_INVALID_ARGUMENT);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.items[0].field, field);
	assert_string_equal(errs.items[0].message, message);
	ta_violations_fini(&errs);
}

static void
test_set_text(void **state)
{
	Taskapi__V1__GetTaskRequest g = TASKAPI__V1__GET_TASK_REQUEST__INIT;
	Taskapi__V1__CreateTaskRequest *c =
	    (Taskapi__V1__CreateTaskRequest *)ta_message_new(
	        &taskapi__v1__create_task_request__descriptor);
	Taskapi__V1__ListTasksReply l = TASKAPI__V1__LIST_TASKS_REPLY__INIT;
	Taskapi__V1__ValidateTokenReply v =
	    TASKAPI__V1__VALIDATE_TOKEN_REPLY__INIT;
	ta_violations errs = {0};

	(void)state;
	assert_int_equal(
	    ta_message_set_text(&g.base, "id", "-1", &errs), TA_OK);
	assert_true(g.id == -1);
	assert_int_equal(
	    ta_message_set_text(&g.base, "id", "9223372036854775807", &errs),
	    TA_OK);
	assert_true(g.id == INT64_MAX);
	assert_int_equal(
	    ta_message_set_text(&g.base, "id", "42", &errs), TA_OK);
	assert_true(g.id == 42);
	set_text_fails(&g.base, "id", "abc", "id must be an integer");
	set_text_fails(&g.base, "id", "", "id must be an integer");
	set_text_fails(&g.base, "id", "12x", "id must be an integer");
	set_text_fails(&g.base, "id", " 12", "id must be an integer");
	set_text_fails(&g.base, "id", "+12", "id must be an integer");
	set_text_fails(&g.base, "id", "1.0", "id must be an integer");
	set_text_fails(
	    &g.base, "id", "99999999999999999999", "id is out of range");
	set_text_fails(
	    &g.base, "id", "-99999999999999999999", "id is out of range");
	assert_true(g.id == 42); /* unchanged by the failures */
	assert_int_equal(
	    ta_message_set_text(&g.base, "nope", "1", &errs), TA_NOT_FOUND);
	assert_int_equal(errs.n, 0);
	set_text_fails(&l.base, "count", "2147483648", "count is out of range");
	assert_int_equal(
	    ta_message_set_text(&l.base, "count", "-2147483648", &errs), TA_OK);
	assert_int_equal(l.count, INT32_MIN);
	assert_int_equal(
	    ta_message_set_text(&l.base, "tasks", "1", &errs), TA_NOT_FOUND);
	assert_int_equal(
	    ta_message_set_text(&v.base, "valid", "true", &errs), TA_OK);
	assert_true(v.valid);
	set_text_fails(&v.base, "valid", "yes", "valid must be a boolean");
	assert_int_equal(
	    ta_message_set_text(&v.base, "user", "x", &errs), TA_NOT_FOUND);
	/* Strings, enums, wrappers and timestamps, replacing old values. */
	assert_int_equal(
	    ta_message_set_text(&c->base, "title", "a", &errs), TA_OK);
	assert_int_equal(
	    ta_message_set_text(&c->base, "title", "b", &errs), TA_OK);
	assert_string_equal(c->title, "b");
	assert_int_equal(
	    ta_message_set_text(&c->base, "status", "completed", &errs), TA_OK);
	assert_int_equal(
	    c->status, TASKAPI__V1__TASK_STATUS__TASK_STATUS_COMPLETED);
	assert_int_equal(
	    ta_message_set_text(&c->base, "status", "done", &errs), TA_OK);
	assert_int_equal((int)c->status, TA_ENUM_UNRECOGNIZED);
	assert_int_equal(
	    ta_message_set_text(&c->base, "description", "d1", &errs), TA_OK);
	assert_int_equal(
	    ta_message_set_text(&c->base, "description", "d2", &errs), TA_OK);
	assert_string_equal(c->description->value, "d2");
	assert_int_equal(
	    ta_message_set_text(&c->base, "due_date", "2024-02-29", &errs),
	    TA_OK);
	assert_int_equal(c->due_date->seconds, 1709164800);
	set_text_fails(&c->base, "due_date", "2023-02-29",
	    "due_date must be an RFC 3339 date-time");
	assert_int_equal(c->due_date->seconds, 1709164800);
	assert_int_equal(errs.n, 0);
	protobuf_c_message_free_unpacked(&c->base, NULL);
}

/* ------------------------------------------------------------------ */
/* The hand-built message: every other kind */

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

static void
test_kitchen_set_text_unsigned(void **state)
{
	kitchen *k = (kitchen *)ta_message_new(&kitchen_descriptor);
	ta_violations errs = {0};

	(void)state;
	assert_int_equal(
	    ta_message_set_text(&k->base, "u32", "4294967295", &errs), TA_OK);
	assert_true(k->u32 == UINT32_MAX);
	set_text_fails(&k->base, "u32", "4294967296", "u32 is out of range");
	assert_int_equal(
	    ta_message_set_text(&k->base, "u64", "18446744073709551615", &errs),
	    TA_OK);
	assert_true(k->u64 == UINT64_MAX);
	assert_render(&k->base,
	    "{\"i32\":0,\"u32\":4294967295,"
	    "\"u64\":18446744073709551615,\"flag\":false,\"ratio\":0,"
	    "\"blob\":\"\",\"tags\":[],\"nums\":[],\"states\":[],"
	    "\"count\":null,\"on\":null,\"mask\":null,\"name\":null,"
	    "\"num\":null,\"children\":[]}");
	assert_int_equal(
	    ta_message_set_text(&k->base, "ratio", "2.5", &errs), TA_OK);
	assert_true(k->ratio == 2.5);
	set_text_fails(&k->base, "ratio", "inf", "ratio must be a number");
	assert_int_equal(
	    ta_message_set_text(&k->base, "count", "-3", &errs), TA_OK);
	assert_true(k->count->value == -3);
	assert_int_equal(
	    ta_message_set_text(&k->base, "mask", "a,b", &errs), TA_OK);
	assert_int_equal(k->mask->n_paths, 2);
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
	    cmocka_unit_test(test_parse_strict_accepts),
	    cmocka_unit_test(test_parse_strict_rejects),
	    cmocka_unit_test(test_parse_strict_depth),
	    cmocka_unit_test(test_task_full_renders),
	    cmocka_unit_test(test_task_empty_renders),
	    cmocka_unit_test(test_nested_and_repeated_render),
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
	    cmocka_unit_test(test_rfc3339_parse),
	    cmocka_unit_test(test_rfc3339_format),
	    cmocka_unit_test(test_set_text),
	    cmocka_unit_test(test_kitchen_round_trip),
	    cmocka_unit_test(test_kitchen_violations),
	    cmocka_unit_test(test_kitchen_set_text_unsigned),
	    cmocka_unit_test(test_render_repairs_utf8),
	};

	return cmocka_run_group_tests_name("transcode", tests, NULL, NULL);
}
