/* Request id acceptance/generation and the JSON media type check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "request.h"

static void
test_request_id_valid(void **state)
{
	char long_ok[EDGE_REQUEST_ID_MAX + 1],
	    too_long[EDGE_REQUEST_ID_MAX + 2];

	(void)state;
	memset(long_ok, 'a', EDGE_REQUEST_ID_MAX);
	long_ok[EDGE_REQUEST_ID_MAX] = '\0';
	memset(too_long, 'a', EDGE_REQUEST_ID_MAX + 1);
	too_long[EDGE_REQUEST_ID_MAX + 1] = '\0';

	assert_true(edge_request_id_is_valid("a"));
	assert_true(edge_request_id_is_valid("9f2c41d0"));
	assert_true(edge_request_id_is_valid("Root-1-65f0:abc.DEF_x-y"));
	assert_true(edge_request_id_is_valid("a_b"));
	assert_false(edge_request_id_is_valid("a=b"));
	assert_true(edge_request_id_is_valid(long_ok));
	assert_false(edge_request_id_is_valid(too_long));
	assert_false(edge_request_id_is_valid(NULL));
	assert_false(edge_request_id_is_valid(""));
	assert_false(edge_request_id_is_valid("has space"));
	assert_false(edge_request_id_is_valid("quote\""));
	assert_false(edge_request_id_is_valid("new\nline"));
	assert_false(edge_request_id_is_valid("slash/"));
	assert_false(edge_request_id_is_valid("caf\xc3\xa9"));
}

static bool
is_hex16(const char *s)
{
	return strlen(s) == 16 && strspn(s, "0123456789abcdef") == 16;
}

static void
test_request_id_pick(void **state)
{
	char a[EDGE_REQUEST_ID_MAX + 1], b[EDGE_REQUEST_ID_MAX + 1];

	(void)state;
	assert_string_equal(edge_request_id_pick("abc-123", a), "abc-123");
	edge_request_id_pick(NULL, a);
	assert_true(is_hex16(a));
	edge_request_id_pick("bad id", b);
	assert_true(is_hex16(b));
	assert_string_not_equal(a, b);
	edge_request_id_pick("", a);
	assert_true(is_hex16(a));
}

static void
test_content_type(void **state)
{
	(void)state;
	assert_true(edge_content_type_is_json(NULL));
	assert_true(edge_content_type_is_json("application/json"));
	assert_true(edge_content_type_is_json("Application/JSON"));
	assert_true(
	    edge_content_type_is_json("application/json; charset=utf-8"));
	assert_true(
	    edge_content_type_is_json("application/json;charset=UTF-8"));
	assert_true(edge_content_type_is_json(" application/json ; x=y"));
	assert_false(edge_content_type_is_json(""));
	assert_false(edge_content_type_is_json("text/plain"));
	assert_false(
	    edge_content_type_is_json("application/x-www-form-urlencoded"));
	assert_false(edge_content_type_is_json("application/jsonx"));
	assert_false(edge_content_type_is_json("application/json-patch+json"));
	assert_false(
	    edge_content_type_is_json("multipart/form-data; boundary=x"));
}

static void
test_merge_patch_type(void **state)
{
	(void)state;
	assert_true(edge_content_type_is_merge_patch(
	    "application/merge-patch+json"));
	assert_true(edge_content_type_is_merge_patch(
	    " Application/Merge-Patch+JSON ; charset=utf-8"));
	assert_false(edge_content_type_is_merge_patch(NULL));
	assert_false(edge_content_type_is_merge_patch(""));
	assert_false(edge_content_type_is_merge_patch("application/json"));
	assert_false(
	    edge_content_type_is_merge_patch("application/json-patch+json"));
	assert_false(
	    edge_content_type_is_merge_patch("application/merge-patch+jsonx"));
	/* Not JSON for routes that do not take a merge patch. */
	assert_false(edge_content_type_is_json("application/merge-patch+json"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_id_valid),
	    cmocka_unit_test(test_request_id_pick),
	    cmocka_unit_test(test_content_type),
	    cmocka_unit_test(test_merge_patch_type),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("edge_request", tests, NULL, NULL);
}
