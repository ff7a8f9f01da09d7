/* List cursors (cursor.h): round trip, binding to the list, tampering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "cursor.h"

static uint8_t key[TASK_CURSOR_KEY_BYTES], fp[TASK_CURSOR_FP_BYTES];

static int
setup(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	task_cursor_key_derive(
	    "an RPC_AUTH_KEY of at least 32 bytes.....", key);
	memset(fp, 7, sizeof fp);
	return 0;
}

static void
encode(const char *sort_key, int64_t id, char *out)
{
	task_cursor c = {.id = id};

	strcpy(c.sort_key, sort_key);
	assert_int_equal(
	    task_cursor_encode(key, fp, &c, out, TASK_CURSOR_TEXT_MAX + 1),
	    TA_OK);
}

static void
test_round_trip(void **state)
{
	static const char *const keys[] = {"2026-12-07 03:28:08.123456",
	    "-infinity", "3", "", "Caf\xc3\xa9 | ; '\"\\"};
	char text[TASK_CURSOR_TEXT_MAX + 1];
	task_cursor c;
	task_cursor_error why;

	(void)state;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		encode(keys[i], 2147483647 - (int64_t)i, text);
		for (const char *p = text; *p; p++)
			assert_non_null(
			    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh"
			           "ijklmnopqrstuvwxyz0123456789-_",
			        *p));
		assert_int_equal(
		    task_cursor_decode(key, fp, text, &c, &why), TA_OK);
		assert_string_equal(c.sort_key, keys[i]);
		assert_int_equal(c.id, 2147483647 - (int64_t)i);
	}
}

/* A title of 200 four-byte characters still fits. */
static void
test_longest_key(void **state)
{
	char big[801], text[TASK_CURSOR_TEXT_MAX + 1];
	task_cursor c = {.id = 1}, back;
	task_cursor_error why;

	(void)state;
	for (int i = 0; i < 200; i++)
		memcpy(big + 4 * i, "\xf0\x9f\x98\x80", 4);
	big[800] = '\0';
	encode(big, 1, text);
	assert_int_equal(task_cursor_decode(key, fp, text, &back, &why), TA_OK);
	assert_string_equal(back.sort_key, big);
	memset(c.sort_key, 'x', TASK_CURSOR_SORT_KEY_MAX + 1);
	c.sort_key[TASK_CURSOR_SORT_KEY_MAX] = '\0';
	assert_int_equal(
	    task_cursor_encode(key, fp, &c, text, sizeof text), TA_OK);
}

static void
test_other_list_and_key(void **state)
{
	char text[TASK_CURSOR_TEXT_MAX + 1];
	uint8_t other_fp[TASK_CURSOR_FP_BYTES],
	    other_key[TASK_CURSOR_KEY_BYTES];
	task_cursor c;
	task_cursor_error why;

	(void)state;
	encode("3", 9, text);
	memset(other_fp, 8, sizeof other_fp);
	assert_int_equal(task_cursor_decode(key, other_fp, text, &c, &why),
	    TA_INVALID_ARGUMENT);
	assert_int_equal(why, TASK_CURSOR_OTHER_LIST);
	/* A rotated RPC_AUTH_KEY: every cursor is void. */
	task_cursor_key_derive(
	    "another RPC_AUTH_KEY of 32 bytes or more", other_key);
	assert_int_equal(task_cursor_decode(other_key, fp, text, &c, &why),
	    TA_INVALID_ARGUMENT);
	assert_int_equal(why, TASK_CURSOR_MALFORMED);
}

static void
test_tampered_and_garbage(void **state)
{
	static const char *const garbage[] = {
	    "", "x", "AAAA", "!!!!", "AQ==", "AQ", "////"};
	char text[TASK_CURSOR_TEXT_MAX + 1], bad[TASK_CURSOR_TEXT_MAX + 8];
	char huge[TASK_CURSOR_TEXT_MAX + 2];
	task_cursor c;
	task_cursor_error why;

	(void)state;
	encode("2026-01-01 00:00:00", 5, text);
	for (size_t i = 0; text[i]; i++) {
		strcpy(bad, text);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		assert_int_equal(task_cursor_decode(key, fp, bad, &c, &why),
		    TA_INVALID_ARGUMENT);
		assert_int_equal(why, TASK_CURSOR_MALFORMED);
	}
	strcpy(bad, text);
	strcat(bad, "A");
	assert_int_equal(
	    task_cursor_decode(key, fp, bad, &c, &why), TA_INVALID_ARGUMENT);
	bad[strlen(text) - 1] = '\0';
	assert_int_equal(
	    task_cursor_decode(key, fp, bad, &c, &why), TA_INVALID_ARGUMENT);
	strcpy(bad, text);
	strcat(bad, "=");
	assert_int_equal(
	    task_cursor_decode(key, fp, bad, &c, &why), TA_INVALID_ARGUMENT);
	for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
		assert_int_equal(
		    task_cursor_decode(key, fp, garbage[i], &c, &why),
		    TA_INVALID_ARGUMENT);
	memset(huge, 'A', sizeof huge - 1);
	huge[sizeof huge - 1] = '\0';
	assert_int_equal(
	    task_cursor_decode(key, fp, huge, &c, &why), TA_INVALID_ARGUMENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_longest_key),
	    cmocka_unit_test(test_other_list_and_key),
	    cmocka_unit_test(test_tampered_and_garbage),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
