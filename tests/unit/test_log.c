/*
 * The JSON-lines logger: every line parses as JSON (checked with cJSON),
 * fixed keys come first in order, values are escaped (quotes, control
 * characters, invalid UTF-8), levels filter, and threads never interleave.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "log.h"

/* What fd 1 received while capturing; static so tests can parse it. */
static char captured[4 << 20];
static FILE *cap_file;
static int cap_saved = -1;

static void
capture_begin(void)
{
	cap_file = tmpfile();
	assert_non_null(cap_file);
	fflush(stdout);
	cap_saved = dup(STDOUT_FILENO);
	assert_true(cap_saved >= 0);
	assert_true(dup2(fileno(cap_file), STDOUT_FILENO) >= 0);
}

/* Ends the capture; returns the bytes written meanwhile. */
static const char *
capture_end(void)
{
	size_t n;

	fflush(stdout);
	dup2(cap_saved, STDOUT_FILENO);
	close(cap_saved);
	rewind(cap_file);
	n = fread(captured, 1, sizeof captured - 1, cap_file);
	captured[n] = '\0';
	assert_true(n < sizeof captured - 1); /* nothing cut off */
	fclose(cap_file);
	return captured;
}

/* Parses out as exactly one JSON line; the caller cJSON_Deletes it. */
static cJSON *
one_line(const char *out)
{
	size_t len = strlen(out);
	cJSON *j;

	assert_true(len > 0);
	assert_int_equal(out[len - 1], '\n');
	assert_ptr_equal(strchr(out, '\n'), out + len - 1);
	j = cJSON_ParseWithLength(out, len - 1);
	assert_non_null(j);
	assert_true(cJSON_IsObject(j));
	return j;
}

static const char *
str_of(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	assert_non_null(v);
	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static int
setup(void **state)
{
	(void)state;
	ta_log_init("unit-log", TA_LOG_INFO);
	return 0;
}

static void
test_line_shape_and_key_order(void **state)
{
	static const char *const keys[] = {"time", "level", "service", "event",
	    "msg", "request_id", "user_id", "ratio", "ok", "missing"};
	const char *out;
	const cJSON *v;
	cJSON *j;
	size_t i = 0;

	(void)state;
	capture_begin();
	ta_log(TA_LOG_INFO, "task_created", "created",
	    TA_S("request_id", "9f2c41d0"), TA_I("user_id", 9007199254740993),
	    TA_F("ratio", 1.25), TA_B("ok", 1), TA_S("missing", NULL));
	out = capture_end();
	j = one_line(out);
	cJSON_ArrayForEach(v, j)
	{
		assert_true(i < sizeof keys / sizeof keys[0]);
		assert_string_equal(v->string, keys[i]);
		i++;
	}
	assert_int_equal(i, sizeof keys / sizeof keys[0]);
	assert_string_equal(str_of(j, "level"), "info");
	assert_string_equal(str_of(j, "service"), "unit-log");
	assert_string_equal(str_of(j, "event"), "task_created");
	assert_string_equal(str_of(j, "msg"), "created");
	assert_string_equal(str_of(j, "request_id"), "9f2c41d0");
	/* 2^53 + 1 survives as text; cJSON's double would round it. */
	assert_non_null(strstr(out, "\"user_id\":9007199254740993,"));
	assert_non_null(strstr(out, "\"ratio\":1.250,"));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")));
	assert_true(
	    cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "missing")));
	/* "2025-03-02T10:15:04.221Z": UTC with milliseconds. */
	const char *t = str_of(j, "time");

	assert_int_equal(strlen(t), 24);
	assert_int_equal(t[4], '-');
	assert_int_equal(t[10], 'T');
	assert_int_equal(t[19], '.');
	assert_int_equal(t[23], 'Z');
	cJSON_Delete(j);
}

/* Issue 9: a NaN latency was written as nan, which no JSON parser reads. */
static void
test_doubles_stay_json(void **state)
{
	const cJSON *v;
	const char *out;
	cJSON *j;

	(void)state;
	capture_begin();
	ta_log(TA_LOG_INFO, "odd_numbers", "doubles", TA_F("nan", NAN),
	    TA_F("neg_nan", -NAN), TA_F("inf", INFINITY),
	    TA_F("neg_inf", -INFINITY), TA_F("huge", 1e300),
	    TA_F("tiny", -1e-300), TA_F("big", 123456789012345.5),
	    TA_F("plain", 0.5));
	out = capture_end();
	j = one_line(out); /* parses: no nan, inf or cut-off digits */
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "nan")));
	assert_true(
	    cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "neg_nan")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "inf")));
	assert_true(
	    cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "neg_inf")));
	v = cJSON_GetObjectItemCaseSensitive(j, "huge");
	assert_true(cJSON_IsNumber(v));
	assert_true(v->valuedouble == 1e300);
	v = cJSON_GetObjectItemCaseSensitive(j, "tiny");
	assert_true(cJSON_IsNumber(v));
	assert_true(v->valuedouble < 1e-299 && v->valuedouble > -1e-299);
	assert_non_null(strstr(out, "\"big\":123456789012345.500,"));
	assert_non_null(strstr(out, "\"plain\":0.500}"));
	cJSON_Delete(j);
}

static void
test_no_kvs(void **state)
{
	cJSON *j;

	(void)state;
	capture_begin();
	ta_log(TA_LOG_ERROR, "boom", "only fixed keys");
	j = one_line(capture_end());
	assert_int_equal(cJSON_GetArraySize(j), 5);
	assert_string_equal(str_of(j, "level"), "error");
	cJSON_Delete(j);
}

/* Logs s as msg and as a value; returns what a JSON parser reads back. */
static void
expect_round_trip(const char *s, const char *expected)
{
	cJSON *j;

	capture_begin();
	ta_log(TA_LOG_INFO, "escape", s, TA_S("value", s));
	j = one_line(capture_end());
	assert_string_equal(str_of(j, "msg"), expected);
	assert_string_equal(str_of(j, "value"), expected);
	cJSON_Delete(j);
}

static void
test_escaping(void **state)
{
	(void)state;
	expect_round_trip("say \"hi\"", "say \"hi\"");
	expect_round_trip("back\\slash", "back\\slash");
	expect_round_trip("line\nbreak\r\ttab", "line\nbreak\r\ttab");
	expect_round_trip(
	    "bell\x07 esc\x1b del\x7f", "bell\x07 esc\x1b del\x7f");
	/* A forged second line stays inside the string. */
	expect_round_trip(
	    "x\"}\n{\"level\":\"error\"", "x\"}\n{\"level\":\"error\"");
	/* Valid UTF-8 passes through. */
	expect_round_trip("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

static void
test_invalid_utf8(void **state)
{
#define FFFD "\xef\xbf\xbd"
	(void)state;
	expect_round_trip("a\xff"
	                  "b",
	    "a" FFFD "b");
	/* Truncated sequence at the end. */
	expect_round_trip("end\xe2\x82", "end" FFFD FFFD);
	/* Overlong "/" and an encoded surrogate are invalid too. */
	expect_round_trip("\xc0\xaf", FFFD FFFD);
	expect_round_trip("\xed\xa0\x80", FFFD FFFD FFFD);
	/* Past U+10FFFF. */
	expect_round_trip("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
	/* A lone continuation byte. */
	expect_round_trip("\x80x", FFFD "x");
#undef FFFD
}

static void
test_level_filtering(void **state)
{
	const char *out;
	ta_log_level lv;

	(void)state;
	ta_log_init("unit-log", TA_LOG_WARN);
	assert_false(ta_log_enabled(TA_LOG_DEBUG));
	assert_false(ta_log_enabled(TA_LOG_INFO));
	assert_true(ta_log_enabled(TA_LOG_WARN));
	assert_true(ta_log_enabled(TA_LOG_ERROR));
	capture_begin();
	ta_log(TA_LOG_DEBUG, "d", "dropped");
	ta_log(TA_LOG_INFO, "i", "dropped");
	ta_log(TA_LOG_WARN, "w", "kept");
	out = capture_end();
	assert_null(strstr(out, "dropped"));
	cJSON_Delete(one_line(out));
	assert_non_null(strstr(out, "\"level\":\"warn\""));

	ta_log_init("unit-log", TA_LOG_DEBUG);
	capture_begin();
	ta_log(TA_LOG_DEBUG, "d", "shown");
	out = capture_end();
	assert_non_null(strstr(out, "\"level\":\"debug\""));
	ta_log_init("unit-log", TA_LOG_INFO);

	assert_true(ta_log_level_parse("debug", &lv) && lv == TA_LOG_DEBUG);
	assert_true(ta_log_level_parse("info", &lv) && lv == TA_LOG_INFO);
	assert_true(ta_log_level_parse("warn", &lv) && lv == TA_LOG_WARN);
	assert_true(ta_log_level_parse("error", &lv) && lv == TA_LOG_ERROR);
	assert_false(ta_log_level_parse("INFO", &lv));
	assert_false(ta_log_level_parse("warning", &lv));
	assert_false(ta_log_level_parse("", &lv));
}

static void
test_long_line(void **state)
{
	enum { N = 20000 };
	char *big = malloc(N + 1);
	cJSON *j;

	(void)state;
	assert_non_null(big);
	memset(big, 'q', N);
	big[N] = '\0';
	big[100] = '"'; /* escapes past the stack buffer too */
	capture_begin();
	ta_log(TA_LOG_INFO, "long", "long value", TA_S("v", big),
	    TA_I("after", 1));
	j = one_line(capture_end());
	assert_string_equal(str_of(j, "v"), big);
	assert_int_equal(
	    cJSON_GetObjectItemCaseSensitive(j, "after")->valueint, 1);
	cJSON_Delete(j);
	free(big);
}

static void
test_json_quote(void **state)
{
	char buf[8];

	(void)state;
	/* Returns the needed length like snprintf, and always terminates. */
	assert_int_equal(ta_json_quote(NULL, 0, "abc"), 5);
	assert_int_equal(ta_json_quote(buf, sizeof buf, "a\"b"), 6);
	assert_string_equal(buf, "\"a\\\"b\"");
	assert_int_equal(ta_json_quote(buf, 4, "abcdef"), 8);
	assert_string_equal(buf, "\"ab");
	assert_int_equal(ta_json_quote(buf, sizeof buf, "\x01"), 8);
	assert_string_equal(buf, "\"\\u0001");
}

enum { THREADS = 4, PER_THREAD = 200 };

static void *
spam(void *arg)
{
	char msg[3000];

	memset(msg, 'a' + (int)(intptr_t)arg, sizeof msg - 1);
	msg[sizeof msg - 1] = '\0';
	for (int i = 0; i < PER_THREAD; i++)
		ta_log(TA_LOG_INFO, "spam", msg, TA_I("i", i));
	return NULL;
}

static void
test_threads_do_not_interleave(void **state)
{
	pthread_t t[THREADS];
	char *line, *save = NULL, *out;
	int lines = 0;

	(void)state;
	capture_begin();
	for (intptr_t i = 0; i < THREADS; i++)
		assert_int_equal(
		    pthread_create(&t[i], NULL, spam, (void *)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	out = (char *)capture_end();
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		cJSON *j = cJSON_Parse(line);

		assert_non_null(j);
		assert_int_equal(strlen(str_of(j, "msg")), 2999);
		cJSON_Delete(j);
		lines++;
	}
	assert_int_equal(lines, THREADS * PER_THREAD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_line_shape_and_key_order),
	    cmocka_unit_test(test_doubles_stay_json),
	    cmocka_unit_test(test_no_kvs),
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_level_filtering),
	    cmocka_unit_test(test_long_line),
	    cmocka_unit_test(test_json_quote),
	    cmocka_unit_test(test_threads_do_not_interleave),
	};

	return cmocka_run_group_tests_name(
	    "unit.common.log", tests, setup, NULL);
}
