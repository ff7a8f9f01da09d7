/* Refresh token values, digests and derivations (refresh_token.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "refresh_token.h"

static void
test_new_tokens_are_43_urlsafe_characters(void **state)
{
	char a[AUTH_REFRESH_MAX], b[AUTH_REFRESH_MAX];
	char fam[AUTH_REFRESH_FAMILY];

	(void)state;
	auth_refresh_new(a);
	auth_refresh_new(b);
	assert_int_equal(strlen(a), 43);
	assert_true(auth_refresh_is_well_formed(a));
	assert_true(auth_refresh_is_well_formed(b));
	assert_string_not_equal(a, b);
	auth_refresh_family_new(fam);
	assert_int_equal(strlen(fam), 32);
	assert_int_equal(strspn(fam, "0123456789abcdef"), 32);
}

static void
test_shape(void **state)
{
	char long44[45], short42[43];

	(void)state;
	memset(long44, 'A', 44);
	long44[44] = '\0';
	memset(short42, 'A', 42);
	short42[42] = '\0';
	assert_true(auth_refresh_is_well_formed(
	    "R8Yh0H5yL6wT3q8u0Kc9bXvN2sP4mZ1aJ7eQ5dW3fGk"));
	assert_true(auth_refresh_is_well_formed(
	    "-_Yh0H5yL6wT3q8u0Kc9bXvN2sP4mZ1aJ7eQ5dW3fGk"));
	assert_false(auth_refresh_is_well_formed(NULL));
	assert_false(auth_refresh_is_well_formed(""));
	assert_false(auth_refresh_is_well_formed(long44));
	assert_false(auth_refresh_is_well_formed(short42));
	/* '+' and '/' are the other alphabet; '=' padding is not written. */
	assert_false(auth_refresh_is_well_formed(
	    "+8Yh0H5yL6wT3q8u0Kc9bXvN2sP4mZ1aJ7eQ5dW3fGk"));
	assert_false(auth_refresh_is_well_formed(
	    "/8Yh0H5yL6wT3q8u0Kc9bXvN2sP4mZ1aJ7eQ5dW3fGk"));
	assert_false(auth_refresh_is_well_formed(
	    "R8Yh0H5yL6wT3q8u0Kc9bXvN2sP4mZ1aJ7eQ5dW3fG="));
	assert_false(auth_refresh_is_well_formed(
	    "R8Yh0H5yL6wT3q8u0Kc9bXvN2sP4mZ1aJ7eQ5dW3f\xc3\xa9"));
}

static void
test_hash_is_blake2b_256(void **state)
{
	char hex[AUTH_REFRESH_HEX];

	(void)state;
	/* hashlib.blake2b(b"abc", digest_size=32).hexdigest() */
	auth_refresh_hash("abc", hex);
	assert_string_equal(hex, "bddd813c634239723171ef3fee98579b"
	                         "94964e3bb1cb3e427262c8c068d52319");
}

static void
test_call_keys(void **state)
{
	char a[AUTH_REFRESH_HEX], b[AUTH_REFRESH_HEX];

	(void)state;
	auth_refresh_call_key("rid", "key", 1000, a);
	auth_refresh_call_key("rid", "key", 1000, b);
	assert_string_equal(a, b); // an nng re-send: the same envelope
	auth_refresh_call_key("rid", "key", 1001, b);
	assert_string_not_equal(a, b);
	auth_refresh_call_key("rid2", "key", 1000, b);
	assert_string_not_equal(a, b);
	/* The parts are length-prefixed: moving a byte across changes it. */
	auth_refresh_call_key("ridk", "ey", 1000, b);
	assert_string_not_equal(a, b);
	auth_refresh_call_key("", "", 0, b);
	assert_int_equal(strlen(b), 64);
}

static void
test_next_is_keyed_and_deterministic(void **state)
{
	unsigned char k1[AUTH_REFRESH_KEY_BYTES], k2[AUTH_REFRESH_KEY_BYTES];
	char h[AUTH_REFRESH_HEX], c[AUTH_REFRESH_HEX];
	char a[AUTH_REFRESH_MAX], b[AUTH_REFRESH_MAX];

	(void)state;
	auth_refresh_key_derive("a secret of at least 32 bytes....", 33, k1);
	auth_refresh_key_derive("another secret of 32 bytes......", 32, k2);
	assert_memory_not_equal(k1, k2, sizeof k1);
	auth_refresh_hash("R8Yh0H5yL6wT3q8u0Kc9bXvN2sP4mZ1aJ7eQ5dW3fGk", h);
	auth_refresh_call_key("rid", "", 5, c);
	auth_refresh_next(k1, h, c, a);
	auth_refresh_next(k1, h, c, b);
	assert_string_equal(a, b);
	assert_true(auth_refresh_is_well_formed(a));
	auth_refresh_next(k2, h, c, b);
	assert_string_not_equal(a, b);
	auth_refresh_call_key("rid", "", 6, c);
	auth_refresh_next(k1, h, c, b);
	assert_string_not_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_tokens_are_43_urlsafe_characters),
	    cmocka_unit_test(test_shape),
	    cmocka_unit_test(test_hash_is_blake2b_256),
	    cmocka_unit_test(test_call_keys),
	    cmocka_unit_test(test_next_is_keyed_and_deterministic),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name(
	    "auth_refresh_token", tests, NULL, NULL);
}
