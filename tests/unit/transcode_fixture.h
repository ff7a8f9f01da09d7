/*
 * Shared by the transcoder's unit tests (test_transcode_in.c, _out.c,
 * _text.c): a hand-built message with the field kinds taskapi's protos do
 * not have yet (oneof, repeated scalars, bytes), and fill/render helpers.
 */
#ifndef TA_TESTS_UNIT_TRANSCODE_FIXTURE_H
#define TA_TESTS_UNIT_TRANSCODE_FIXTURE_H

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

static inline cJSON *
parse(const char *s)
{
	cJSON *j = NULL;
	char msg[128];

	assert_int_equal(
	    ta_json_parse_strict(s, strlen(s), &j, msg, sizeof msg), TA_OK);
	return j;
}

/* Renders msg as compact JSON (caller frees). */
static inline char *
render(const ProtobufCMessage *msg)
{
	cJSON *j = ta_message_to_json(msg);
	char *s = cJSON_PrintUnformatted(j);

	cJSON_Delete(j);
	assert_non_null(s);
	return s;
}

static inline void
assert_render(const ProtobufCMessage *msg, const char *want)
{
	char *s = render(msg);

	assert_string_equal(s, want);
	free(s);
}

/* Fills a fresh message of d from json; returns it and the status. */
static inline ProtobufCMessage *
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
static inline void
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

static inline ProtobufCMessage *
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

static inline Google__Protobuf__Timestamp *
ts_new(int64_t s, int32_t ns)
{
	Google__Protobuf__Timestamp *t =
	    (Google__Protobuf__Timestamp *)ta_message_new(
	        &google__protobuf__timestamp__descriptor);

	t->seconds = s;
	t->nanos = ns;
	return t;
}

static inline void
parse_fails(const char *s, size_t len, const char *want)
{
	cJSON *j = NULL;
	char msg[128] = "";

	assert_int_equal(ta_json_parse_strict(s, len, &j, msg, sizeof msg),
	    TA_INVALID_ARGUMENT);
	assert_null(j);
	assert_string_equal(msg, want);
}

static inline void
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

#endif
