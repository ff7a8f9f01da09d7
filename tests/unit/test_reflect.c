/*
 * Unit tests of common/reflect.c: well-known types, enum value spelling,
 * integer ranges and stores, and clearing a field with what it owns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "reflect.h"

#include "google/protobuf/field_mask.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"
#include "taskapi/v1/task.pb-c.h"

static void
test_wkt_of(void **state)
{
	(void)state;
	assert_int_equal(
	    ta_reflect_wkt_of(&google__protobuf__timestamp__descriptor),
	    TA_WKT_TIMESTAMP);
	assert_int_equal(
	    ta_reflect_wkt_of(&google__protobuf__field_mask__descriptor),
	    TA_WKT_FIELD_MASK);
	assert_int_equal(
	    ta_reflect_wkt_of(&google__protobuf__string_value__descriptor),
	    TA_WKT_WRAPPER);
	assert_int_equal(
	    ta_reflect_wkt_of(&google__protobuf__int64_value__descriptor),
	    TA_WKT_WRAPPER);
	assert_int_equal(
	    ta_reflect_wkt_of(&taskapi__v1__task__descriptor), TA_WKT_NONE);
}

static void
test_enum_names(void **state)
{
	const ProtobufCEnumDescriptor *ed =
	    &taskapi__v1__task_status__descriptor;

	(void)state;
	assert_int_equal(
	    ta_reflect_enum_prefix_len(ed, "TASK_STATUS_IN_PROGRESS"), 12);
	assert_int_equal(ta_reflect_enum_prefix_len(ed, "IN_PROGRESS"), 0);
	assert_int_equal(ta_reflect_enum_prefix_len(ed, "TASK_STATUSX"), 0);
	assert_true(ta_reflect_enum_name_is(
	    ed, "TASK_STATUS_IN_PROGRESS", "in_progress"));
	assert_false(ta_reflect_enum_name_is(
	    ed, "TASK_STATUS_IN_PROGRESS", "IN_PROGRESS"));
	assert_false(ta_reflect_enum_name_is(
	    ed, "TASK_STATUS_IN_PROGRESS", "in_progres"));
	assert_false(ta_reflect_enum_name_is(
	    ed, "TASK_STATUS_IN_PROGRESS", "in_progresss"));
}

static void
test_int_range_and_store(void **state)
{
	double lo, hi;
	int32_t i32 = 0;
	uint32_t u32 = 0;
	int64_t i64 = 0;
	uint64_t u64 = 0;

	(void)state;
	assert_true(ta_reflect_int_range(PROTOBUF_C_TYPE_INT32, &lo, &hi));
	assert_true(lo == -2147483648.0 && hi == 2147483647.0);
	assert_true(ta_reflect_int_range(PROTOBUF_C_TYPE_FIXED32, &lo, &hi));
	assert_true(lo == 0 && hi == 4294967295.0);
	assert_true(ta_reflect_int_range(PROTOBUF_C_TYPE_SINT64, &lo, &hi));
	assert_true(lo == -TA_INT53_MAX && hi == TA_INT53_MAX);
	assert_true(ta_reflect_int_range(PROTOBUF_C_TYPE_UINT64, &lo, &hi));
	assert_true(lo == 0 && hi == TA_INT53_MAX);
	assert_false(ta_reflect_int_range(PROTOBUF_C_TYPE_DOUBLE, &lo, &hi));
	assert_false(ta_reflect_int_range(PROTOBUF_C_TYPE_ENUM, &lo, &hi));
	ta_reflect_int_store(PROTOBUF_C_TYPE_INT32, &i32, -5, (uint64_t)-5);
	ta_reflect_int_store(PROTOBUF_C_TYPE_UINT32, &u32, 7, 4294967295u);
	ta_reflect_int_store(PROTOBUF_C_TYPE_INT64, &i64, -9, 0);
	ta_reflect_int_store(PROTOBUF_C_TYPE_FIXED64, &u64, -1, 42);
	assert_int_equal(i32, -5);
	assert_true(u32 == 4294967295u);
	assert_true(i64 == -9);
	assert_true(u64 == 42);
}

static void
test_field_clear(void **state)
{
	const ProtobufCMessageDescriptor *d = &taskapi__v1__task__descriptor;
	Taskapi__V1__Task t = TASKAPI__V1__TASK__INIT;
	const ProtobufCFieldDescriptor *title =
	    protobuf_c_message_descriptor_get_field_by_name(d, "title");
	const ProtobufCFieldDescriptor *due =
	    protobuf_c_message_descriptor_get_field_by_name(d, "due_date");
	Google__Protobuf__Timestamp *ts = ta_xmalloc(sizeof *ts);

	(void)state;
	google__protobuf__timestamp__init(ts);
	t.title = ta_xstrdup("owned");
	t.due_date = ts;
	ta_reflect_field_clear(&t.base, title);
	ta_reflect_field_clear(&t.base, due);
	/* The default again: the descriptor's empty string, no message. */
	assert_ptr_equal(t.title, title->default_value);
	assert_null(t.due_date);
	/* Clearing an unset field frees nothing (ASan would say). */
	ta_reflect_field_clear(&t.base, title);
	assert_int_equal(
	    ta_reflect_elem_size(PROTOBUF_C_TYPE_INT64), sizeof(int64_t));
	assert_int_equal(
	    ta_reflect_elem_size(PROTOBUF_C_TYPE_ENUM), sizeof(int32_t));
	assert_int_equal(ta_reflect_elem_size(PROTOBUF_C_TYPE_BYTES),
	    sizeof(ProtobufCBinaryData));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wkt_of),
	    cmocka_unit_test(test_enum_names),
	    cmocka_unit_test(test_int_range_and_store),
	    cmocka_unit_test(test_field_clear),
	};

	return cmocka_run_group_tests_name("reflect", tests, NULL, NULL);
}
