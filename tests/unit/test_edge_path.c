/* Raw path segments (path.h): decoding after matching, literal equality,
 * dot segments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "path.h"

static void
expect_decoded(const char *raw, const char *want, size_t want_len)
{
	char out[64];
	size_t n = 99;

	assert_true(edge_path_segment_decode(raw, strlen(raw), out, &n));
	assert_int_equal(n, want_len);
	assert_memory_equal(out, want, want_len);
}

static void
test_decode(void **state)
{
	static const char *const bad[] = {
	    "1%00", "%0a", "%7F", "%1f", "%", "%4", "a%zz", "%%41", "\x01"};
	char out[64];
	size_t n;

	(void)state;
	expect_decoded("12", "12", 2);
	expect_decoded("%31%32", "12", 2);
	expect_decoded("a%2Fb", "a/b", 3);
	expect_decoded("1%3F", "1?", 2);
	expect_decoded("%e2%82%ac", "\xe2\x82\xac", 3);
	expect_decoded("", "", 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(
		    edge_path_segment_decode(bad[i], strlen(bad[i]), out, &n));
}

static void
test_equals(void **state)
{
	(void)state;
	assert_true(edge_path_segment_equals("tasks", 5, "tasks", 5));
	assert_true(edge_path_segment_equals("t%61sks", 7, "tasks", 5));
	assert_true(edge_path_segment_equals("%74%41", 6, "tA", 2));
	assert_false(edge_path_segment_equals("tasks", 5, "task", 4));
	assert_false(edge_path_segment_equals("task", 4, "tasks", 5));
	assert_false(edge_path_segment_equals("Tasks", 5, "tasks", 5));
	/* An escaped reserved character never equals a literal. */
	assert_false(edge_path_segment_equals("a%2Fb", 5, "a/b", 3));
	assert_false(edge_path_segment_equals("%2", 2, "%2", 2));
}

static void
test_dot(void **state)
{
	static const char *const dots[] = {".", "..", "%2e", "%2E%2e", ".%2E"};
	static const char *const not_dots[] = {"...", ".a", "a.", "", "%2e%2f"};

	(void)state;
	for (size_t i = 0; i < sizeof dots / sizeof dots[0]; i++)
		assert_true(edge_path_segment_is_dot(dots[i], strlen(dots[i])));
	for (size_t i = 0; i < sizeof not_dots / sizeof not_dots[0]; i++)
		assert_false(
		    edge_path_segment_is_dot(not_dots[i], strlen(not_dots[i])));
}

static void
test_hex_value(void **state)
{
	(void)state;
	assert_int_equal(edge_path_hex_value('0'), 0);
	assert_int_equal(edge_path_hex_value('9'), 9);
	assert_int_equal(edge_path_hex_value('a'), 10);
	assert_int_equal(edge_path_hex_value('F'), 15);
	assert_int_equal(edge_path_hex_value('g'), -1);
	assert_int_equal(edge_path_hex_value('%'), -1);
	assert_int_equal(edge_path_hex_value('\0'), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode),
	    cmocka_unit_test(test_equals),
	    cmocka_unit_test(test_dot),
	    cmocka_unit_test(test_hex_value),
	};

	return cmocka_run_group_tests_name("edge_path", tests, NULL, NULL);
}
