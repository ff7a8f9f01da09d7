/*
 * The RFC 8259 syntax check of request bodies (common/json_scan.h): what
 * cJSON lets through is refused, with the message and the byte where the
 * text breaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_scan.h"

static bool
scan(const char *s, ta_json_fault *f)
{
	return ta_json_scan(s, strlen(s), f);
}

static void
test_accepts_json(void **state)
{
	static const char *ok[] = {
	    "{}",
	    " {\"a\": [1, -2.5e3, true, false, null]} ",
	    "\"\\u00e9\"",
	    "0",
	    "[\"\\ud83d\\ude00\"]",
	    "{\"k\":\"\xc3\xa9\"}",
	};
	ta_json_fault f;

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (!scan(ok[i], &f))
			fail_msg("refused %s: %s", ok[i], f.why);
}

static void
test_refuses_what_cjson_accepts(void **state)
{
	static const struct {
		const char *text;
		const char *message;
		size_t offset;
	} bad[] = {
	    {"01", TA_JSON_MSG_MALFORMED, 1},
	    {"1.", TA_JSON_MSG_MALFORMED, 2},
	    {"-.5", TA_JSON_MSG_MALFORMED, 1},
	    {"{\"a\":\"\x01\"}", TA_JSON_MSG_MALFORMED, 6},
	    {"{} x", TA_JSON_MSG_MALFORMED, 3},
	    /* Found where the pair should have followed. */
	    {"\"\\ud800\"", TA_JSON_MSG_MALFORMED, 7},
	    {"\"\xff\"", TA_JSON_MSG_UTF8, 1},
	};
	ta_json_fault f;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&f, 0, sizeof f);
		if (scan(bad[i].text, &f))
			fail_msg("accepted case %zu", i);
		assert_string_equal(f.message, bad[i].message);
		assert_true(f.why[0] != '\0');
		if (f.offset != bad[i].offset)
			fail_msg("case %zu: offset %zu, want %zu", i, f.offset,
			    bad[i].offset);
	}
}

static void
test_nul_empty_and_depth(void **state)
{
	ta_json_fault f;
	char *deep = malloc(2 * (TA_JSON_MAX_DEPTH + 1) + 1);

	(void)state;
	assert_false(ta_json_scan("\"a\0b\"", 5, &f));
	assert_string_equal(f.message, TA_JSON_MSG_NUL);
	assert_int_equal(f.offset, 2);
	assert_false(ta_json_scan("\"\\u0000\"", 8, &f));
	assert_string_equal(f.message, TA_JSON_MSG_NUL);
	assert_false(ta_json_scan(NULL, 0, &f));
	assert_false(scan("", &f));
	assert_false(scan("   ", &f));
	/* TA_JSON_MAX_DEPTH levels pass, one more does not. */
	memset(deep, '[', TA_JSON_MAX_DEPTH);
	memset(deep + TA_JSON_MAX_DEPTH, ']', TA_JSON_MAX_DEPTH);
	assert_true(ta_json_scan(deep, 2 * TA_JSON_MAX_DEPTH, &f));
	memset(deep, '[', TA_JSON_MAX_DEPTH + 1);
	memset(deep + TA_JSON_MAX_DEPTH + 1, ']', TA_JSON_MAX_DEPTH + 1);
	assert_false(ta_json_scan(deep, 2 * (TA_JSON_MAX_DEPTH + 1), &f));
	free(deep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts_json),
	    cmocka_unit_test(test_refuses_what_cjson_accepts),
	    cmocka_unit_test(test_nul_empty_and_depth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
