/* Field violation lists (common/violations.h): copies, order, reuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "violations.h"

static void
test_add_copies_in_order(void **state)
{
	ta_violations v = {0};
	char field[16] = "title", message[32] = "title is required";

	(void)state;
	ta_violations_add(&v, field, message);
	/* The list holds copies: the caller's buffers may change. */
	strcpy(field, "xxxxx");
	strcpy(message, "changed");
	ta_violations_add(&v, "status", "status is invalid");
	assert_int_equal(v.n, 2);
	assert_string_equal(v.items[0].field, "title");
	assert_string_equal(v.items[0].message, "title is required");
	assert_string_equal(v.items[1].field, "status");
	assert_string_equal(v.items[1].message, "status is invalid");
	ta_violations_fini(&v);
}

static void
test_grows_and_is_reusable(void **state)
{
	ta_violations v = {0};
	char name[16];

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "f%d", i);
		ta_violations_add(&v, name, "bad");
	}
	assert_int_equal(v.n, 100);
	assert_string_equal(v.items[99].field, "f99");
	ta_violations_fini(&v);
	assert_int_equal(v.n, 0);
	assert_null(v.items);
	/* Empty again, and usable again. */
	ta_violations_add(&v, "a", "b");
	assert_int_equal(v.n, 1);
	ta_violations_fini(&v);
	ta_violations_fini(&v); // twice is harmless
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_copies_in_order),
	    cmocka_unit_test(test_grows_and_is_reusable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
