/*
 * Unit tests of common/transcode_scalar.c: one JSON value into one scalar
 * field, and the violation each wrong value gets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "transcode_scalar.h"

#include "taskapi/v1/task.pb-c.h"

/* Reads json into field name of t; returns the result, errs filled. */
static bool
read_into(Taskapi__V1__Task *t, const char *name, const char *json,
    ta_violations *errs)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(
	        &taskapi__v1__task__descriptor, name);
	ta_field_path p = {NULL, name, 0};
	cJSON *v = cJSON_Parse(json);
	bool ok;

	assert_non_null(f);
	assert_non_null(v);
	ok = ta_scalar_from_json(f, v, (char *)t + f->offset, false, &p, errs);
	cJSON_Delete(v);
	return ok;
}

static void
test_values(void **state)
{
	Taskapi__V1__Task t = TASKAPI__V1__TASK__INIT;
	ta_violations errs = {0};

	(void)state;
	assert_true(read_into(&t, "id", "9007199254740991", &errs));
	assert_true(t.id == 9007199254740991LL);
	assert_true(read_into(&t, "status", "\"in_progress\"", &errs));
	assert_int_equal(
	    t.status, TASKAPI__V1__TASK_STATUS__TASK_STATUS_IN_PROGRESS);
	assert_true(read_into(&t, "status", "\"urgent\"", &errs));
	assert_true((int)t.status == TA_ENUM_UNRECOGNIZED);
	assert_true(read_into(&t, "title", "\"caf\\u00e9\"", &errs));
	assert_string_equal(t.title, "caf\xC3\xA9");
	assert_true(read_into(&t, "title", "\"again\"", &errs)); /* frees */
	assert_string_equal(t.title, "again");
	assert_int_equal(errs.n, 0);
	free(t.title);
}

static void
test_violations(void **state)
{
	Taskapi__V1__Task t = TASKAPI__V1__TASK__INIT;
	ta_violations errs = {0};

	(void)state;
	assert_false(read_into(&t, "id", "1.5", &errs));
	assert_false(read_into(&t, "id", "9007199254740992", &errs));
	assert_false(read_into(&t, "title", "7", &errs));
	assert_false(read_into(&t, "status", "2", &errs));
	assert_int_equal(errs.n, 4);
	assert_string_equal(errs.items[0].message, "id must be an integer");
	assert_string_equal(errs.items[1].message, "id is out of range");
	assert_string_equal(errs.items[2].message, "title must be a string");
	assert_string_equal(errs.items[3].field, "status");
	assert_string_equal(errs.items[3].message,
	    "status must be one of: pending, in_progress, completed");
	assert_true(t.id == 0);
	ta_violations_fini(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_violations),
	};

	return cmocka_run_group_tests_name(
	    "transcode_scalar", tests, NULL, NULL);
}
