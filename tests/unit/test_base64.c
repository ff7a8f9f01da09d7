/*
 * Unit tests of common/base64.c: protojson's bytes encoding, written with
 * the standard alphabet and padding, read in either alphabet with or
 * without padding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"

static void
encodes(const char *in, const char *want)
{
	char *s = ta_base64_encode((const uint8_t *)in, strlen(in));

	assert_string_equal(s, want);
	free(s);
}

static void
decodes(const char *s, const void *want, size_t want_len)
{
	uint8_t *out = NULL;
	size_t len = 0;

	assert_true(ta_base64_decode(s, &out, &len));
	assert_int_equal(len, want_len);
	assert_non_null(out);
	if (want_len)
		assert_memory_equal(out, want, want_len);
	free(out);
}

static void
test_encode(void **state)
{
	(void)state;
	encodes("", "");
	encodes("f", "Zg==");
	encodes("fo", "Zm8=");
	encodes("foo", "Zm9v");
	encodes("foob", "Zm9vYg==");
	encodes("\xfb\xff", "+/8=");
}

static void
test_decode(void **state)
{
	(void)state;
	decodes("", "\0", 0);
	decodes("Zg==", "f", 1);
	decodes("Zg", "f", 1);
	decodes("Zm8=", "fo", 2);
	decodes("Zm9v", "foo", 3);
	decodes("+/8=", "\xfb\xff", 2);
	decodes("-_8", "\xfb\xff", 2); /* URL-safe, unpadded */
	decodes("Zh==", "f", 1);       /* trailing bits are ignored */
}

static void
test_decode_refuses(void **state)
{
	static const char *bad[] = {"Z", "Zg===", "Zm9v!", "Zm 9v", "====="};
	uint8_t *out = (uint8_t *)"untouched";
	size_t len = 7;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (ta_base64_decode(bad[i], &out, &len))
			fail_msg("accepted %s", bad[i]);
	assert_string_equal((const char *)out, "untouched");
	assert_int_equal(len, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode),
	    cmocka_unit_test(test_decode),
	    cmocka_unit_test(test_decode_refuses),
	};

	return cmocka_run_group_tests_name("base64", tests, NULL, NULL);
}
