/*
 * Unit tests of common/field_path.c: violation names from nested fields
 * and array elements.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "field_path.h"

static void
test_names(void **state)
{
	ta_field_path body = {NULL, "body", 0};
	ta_field_path tasks = {NULL, "tasks", 0};
	ta_field_path second = {&tasks, NULL, 2};
	ta_field_path title = {&second, "title", 0};
	ta_field_path user = {NULL, "user", 0};
	ta_field_path email = {&user, "email", 0};
	ta_violations errs = {0};

	(void)state;
	ta_field_path_violate(&errs, &body, "must be a JSON object");
	ta_field_path_violate(&errs, &title, "must be a string");
	ta_field_path_violate(&errs, &email, "is out of range");
	assert_int_equal(errs.n, 3);
	assert_string_equal(errs.items[0].field, "body");
	assert_string_equal(
	    errs.items[0].message, "body must be a JSON object");
	assert_string_equal(errs.items[1].field, "tasks[2].title");
	assert_string_equal(
	    errs.items[1].message, "tasks[2].title must be a string");
	assert_string_equal(errs.items[2].field, "user.email");
	assert_string_equal(
	    errs.items[2].message, "user.email is out of range");
	ta_violations_fini(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("field_path", tests, NULL, NULL);
}
