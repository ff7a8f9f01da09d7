/* Authorization header parsing of the edge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bearer.h"

static void
expect_token(const char *header, const char *want)
{
	char *tok = NULL;
	const char *reason = NULL;

	assert_int_equal(edge_bearer_parse(header, &tok, &reason), TA_OK);
	assert_string_equal(tok, want);
	free(tok);
}

static void
expect_reject(const char *header, const char *want_reason)
{
	char *tok = NULL;
	const char *reason = NULL;

	assert_int_equal(
	    edge_bearer_parse(header, &tok, &reason), TA_UNAUTHENTICATED);
	assert_null(tok);
	assert_string_equal(reason, want_reason);
}

static void
test_accepts(void **state)
{
	(void)state;
	expect_token("Bearer abc.def.ghi", "abc.def.ghi");
	expect_token("bearer abc.def.ghi", "abc.def.ghi");
	expect_token("BEARER abc", "abc");
	expect_token("Bearer   abc  ", "abc");
	expect_token("  Bearer\tabc", "abc");
	expect_token("Bearer eyJhbGciOiJIUzI1NiJ9.e30.x-_y",
	    "eyJhbGciOiJIUzI1NiJ9.e30.x-_y");
}

static void
test_missing(void **state)
{
	(void)state;
	expect_reject(NULL, "No authentication token provided");
	expect_reject("", "No authentication token provided");
	expect_reject("   ", "No authentication token provided");
	expect_reject("Bearer", "No authentication token provided");
	expect_reject("Bearer    ", "No authentication token provided");
}

static void
test_invalid(void **state)
{
	(void)state;
	expect_reject("Basic dXNlcjpwdw==", "Invalid token");
	expect_reject("Bearerabc", "Invalid token");
	expect_reject("Token abc", "Invalid token");
	expect_reject("abc.def.ghi", "Invalid token");
	expect_reject("Bearer abc def", "Invalid token");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts),
	    cmocka_unit_test(test_missing),
	    cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests_name("edge_bearer", tests, NULL, NULL);
}
