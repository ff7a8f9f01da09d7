/*
 * Unit tests of common/utf8.c: the one decoder (RFC 3629 rules, lengths
 * and code points, cut sequences) and the U+FFFD repair.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "utf8.h"

/* Decodes s (NUL-terminated, n bytes given) and checks length and cp. */
static void
next_is(const char *s, size_t n, size_t want_len, uint32_t want_cp)
{
	uint32_t cp = 0xFFFFFFFF;

	assert_int_equal(
	    ta_utf8_next((const unsigned char *)s, n, &cp), want_len);
	if (want_len)
		assert_int_equal(cp, want_cp);
}

static void
test_next_valid(void **state)
{
	(void)state;
	next_is("A", 1, 1, 'A');
	next_is("", 1, 1, 0); /* NUL is ASCII: callers stop on it */
	next_is("\xC2\x80", 2, 2, 0x80);
	next_is("\xC3\xA9", 2, 2, 0xE9);
	next_is("\xE2\x82\xAC", 3, 3, 0x20AC);
	next_is("\xED\x9F\xBF", 3, 3, 0xD7FF);
	next_is("\xEE\x80\x80", 3, 3, 0xE000);
	next_is("\xF0\x9F\x98\x80", 4, 4, 0x1F600);
	next_is("\xF4\x8F\xBF\xBF", 4, 4, 0x10FFFF);
	/* A NUL-terminated string may be read with an unbounded n. */
	next_is("\xE2\x82\xAC", SIZE_MAX, 3, 0x20AC);
	assert_int_equal(
	    ta_utf8_next((const unsigned char *)"\xC3\xA9", 2, NULL), 2);
}

static void
test_next_invalid(void **state)
{
	(void)state;
	next_is("\x80", 1, 0, 0);             /* lone continuation */
	next_is("\xC0\xAF", 2, 0, 0);         /* overlong '/' */
	next_is("\xC1\xBF", 2, 0, 0);         /* overlong */
	next_is("\xE0\x80\xAF", 3, 0, 0);     /* overlong */
	next_is("\xF0\x80\x80\xAF", 4, 0, 0); /* overlong */
	next_is("\xED\xA0\x80", 3, 0, 0);     /* surrogate */
	next_is("\xF4\x90\x80\x80", 4, 0, 0); /* > U+10FFFF */
	next_is("\xF5\x80\x80\x80", 4, 0, 0);
	next_is("\xFF", 1, 0, 0);
	next_is("\xE2\x82", 2, 0, 0);        /* cut by n */
	next_is("\xE2\x82\xAC", 2, 0, 0);    /* cut by n */
	next_is("\xE2\x82", SIZE_MAX, 0, 0); /* cut by the NUL */
	next_is("\xC3\x28", SIZE_MAX, 0, 0); /* not a continuation */
}

static void
test_repaired(void **state)
{
	char *s;

	(void)state;
	assert_null(ta_utf8_repaired(""));
	assert_null(ta_utf8_repaired("valid \xE2\x82\xAC \xF0\x9F\x98\x80"));
	s = ta_utf8_repaired("a\xC3\x28\xFF\xED\xA0\x80z\xC3\xA9");
	assert_non_null(s);
	assert_string_equal(s, "a\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD"
	                       "\xEF\xBF\xBD\xEF\xBF\xBDz\xC3\xA9");
	free(s);
	s = ta_utf8_repaired("\xE2\x82");
	assert_string_equal(s, "\xEF\xBF\xBD\xEF\xBF\xBD");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_next_valid),
	    cmocka_unit_test(test_next_invalid),
	    cmocka_unit_test(test_repaired),
	};

	return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
