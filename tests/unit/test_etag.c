/*
 * Entity tags and the If-Match / If-None-Match lists (common/etag.h):
 * format, syntax, strong and weak comparison, versions for one id.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "etag.h"

static void
test_format(void **state)
{
	char buf[TA_ETAG_MAX];

	(void)state;
	ta_etag_format(42, 7, buf);
	assert_string_equal(buf, "\"42-7\"");
	ta_etag_format(INT64_MAX, INT64_MAX, buf);
	assert_string_equal(buf, "\"9223372036854775807-9223372036854775807\"");
}

static void
test_check_valid(void **state)
{
	static const char *const ok[] = {
	    "\"1-1\"",
	    "W/\"1-1\"",
	    "\"\"",
	    "\"a\", W/\"b\",\"c\"",
	    " \"1-2\" ,, \"1-3\" ",
	    ",\"x\",",
	    "\"\x80\xff\"",
	};
	bool is_any = true;

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		assert_int_equal(ta_etag_list_check(ok[i], &is_any), TA_OK);
		assert_false(is_any);
	}
	assert_int_equal(ta_etag_list_check("*", &is_any), TA_OK);
	assert_true(is_any);
	assert_int_equal(ta_etag_list_check(" * ", &is_any), TA_OK);
	assert_true(is_any);
}

static void
test_check_malformed(void **state)
{
	static const char *const bad[] = {
	    "",
	    " ",
	    ",",
	    "1-1",
	    "\"1-1",
	    "w/\"1-1\"",
	    "W/1-1",
	    "\"a\" \"b\"",
	    "\"a\"x",
	    "\"a\", *",
	    "*, \"a\"",
	    "**",
	    "\"a b\"",
	    "\"a\"b\"",
	    "\"\x7f\"",
	    "\"\x01\"",
	};
	char many[TA_ETAG_LIST_MAX * 4 + 8] = "";
	bool is_any;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(
		    ta_etag_list_check(bad[i], &is_any), TA_INVALID_ARGUMENT);
	assert_int_equal(
	    ta_etag_list_check(NULL, &is_any), TA_INVALID_ARGUMENT);
	for (int i = 0; i < TA_ETAG_LIST_MAX; i++)
		strcat(many, "\"\",");
	assert_int_equal(ta_etag_list_check(many, &is_any), TA_OK);
	strcat(many, "\"\"");
	assert_int_equal(
	    ta_etag_list_check(many, &is_any), TA_INVALID_ARGUMENT);
}

static void
test_strong_comparison(void **state)
{
	(void)state;
	assert_true(ta_etag_list_matches("\"5-2\"", "\"5-2\"", false));
	assert_true(ta_etag_list_matches("\"5-1\", \"5-2\"", "\"5-2\"", false));
	assert_true(ta_etag_list_matches("*", "\"5-2\"", false));
	/* A weak tag never matches If-Match (RFC 9110 section 13.1.1). */
	assert_false(ta_etag_list_matches("W/\"5-2\"", "\"5-2\"", false));
	assert_false(ta_etag_list_matches("\"5-3\"", "\"5-2\"", false));
	assert_false(ta_etag_list_matches("\"5-2 \"", "\"5-2\"", false));
	assert_false(ta_etag_list_matches("\"5-2", "\"5-2\"", false));
}

static void
test_weak_comparison(void **state)
{
	(void)state;
	assert_true(ta_etag_list_matches("W/\"5-2\"", "\"5-2\"", true));
	assert_true(ta_etag_list_matches("\"5-2\"", "\"5-2\"", true));
	assert_true(ta_etag_list_matches(" *", "\"5-2\"", true));
	assert_false(ta_etag_list_matches("W/\"5-1\"", "\"5-2\"", true));
}

static void
test_versions(void **state)
{
	int64_t v[4];

	(void)state;
	assert_int_equal(ta_etag_list_versions("\"5-2\"", 5, v, 4), 1);
	assert_int_equal(v[0], 2);
	/* Other ids, weak tags, non-canonical numbers: skipped. */
	assert_int_equal(ta_etag_list_versions("\"6-2\", W/\"5-3\", \"5-04\", "
	                                       "\"5-\", \"-5\", \"5-x\", "
	                                       "\"05-1\", \"5-9\"",
	                     5, v, 4),
	    1);
	assert_int_equal(v[0], 9);
	assert_int_equal(
	    ta_etag_list_versions("\"5-99999999999999999999\"", 5, v, 4), 0);
	assert_int_equal(
	    ta_etag_list_versions("\"5-1\",\"5-2\",\"5-3\"", 5, v, 2), 2);
	assert_int_equal(ta_etag_list_versions("*", 5, v, 4), 0);
	assert_int_equal(ta_etag_list_versions("5-1", 5, v, 4), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_check_valid),
	    cmocka_unit_test(test_check_malformed),
	    cmocka_unit_test(test_strong_comparison),
	    cmocka_unit_test(test_weak_comparison),
	    cmocka_unit_test(test_versions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
