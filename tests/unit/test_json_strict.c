/*
 * Strict request JSON (issue 9): RFC 8259 syntax that cJSON lets through
 * (raw control characters, "01", "1.", "-.5", trailing bytes), duplicate
 * keys at any level, the charset rule of a Content-Type, and the printed
 * size of a string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "json_strict.h"
#include "media_type.h"

static void
ok(const char *s)
{
	cJSON *j = NULL;
	char msg[128] = "";

	if (ta_json_parse_strict(s, strlen(s), &j, msg, sizeof msg) != TA_OK)
		fail_msg("refused (%s): %s", msg, s);
	assert_non_null(j);
	cJSON_Delete(j);
}

/* Refused with message; the one detail is field and contains want. */
static void
bad_n(const char *s, size_t len, const char *message, const char *field,
    const char *want)
{
	ta_violations v = {0};
	const char *m = NULL;
	cJSON *j = NULL;

	if (ta_json_parse_body(s, len, &j, &m, &v) != TA_INVALID_ARGUMENT)
		fail_msg("accepted: %.*s", (int)len, s);
	assert_null(j);
	assert_string_equal(m, message);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.items[0].field, field);
	if (!strstr(v.items[0].message, want))
		fail_msg("detail \"%s\" lacks \"%s\" (body %.*s)",
		    v.items[0].message, want, (int)len, s);
	ta_violations_fini(&v);
}

static void
bad(const char *s, const char *message, const char *want)
{
	bad_n(s, strlen(s), message, "body", want);
}

static void
test_accepts_rfc8259(void **state)
{
	(void)state;
	ok("{}");
	ok(" [ ] ");
	ok("{\"a\":[1,-0,0.5,-0.0e-0,1E+2,12e3,2e-7,123456789]}");
	ok("{\"a\":{\"b\":{\"c\":[true,false,null,\"\"]}}}");
	ok("{\"t\":\"\\\"\\\\\\/"
	   "\\b\\f\\n\\r\\t\\u0001\\u00e9\\ud83d\\ude00\"}");
	ok("{\"t\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \x7f\"}");
	ok("\t\r\n{\"a\" : 1 , \"A\" : 2}\n");   /* keys are case-sensitive */
	ok("{\"a\":{\"x\":1},\"b\":{\"x\":1}}"); /* same key, two objects */
	ok("[{\"x\":1},{\"x\":2}]");
}

static void
test_control_characters(void **state)
{
	char buf[64];

	(void)state;
	/* The attack: raw 0x01 bytes inside a description. */
	bad("{\"description\":\"\x01\x01\"}", TA_JSON_MSG_MALFORMED,
	    "unescaped control character U+0001 in a string at byte 16");
	bad("{\"t\":\"a\tb\"}", TA_JSON_MSG_MALFORMED, "U+0009");
	bad("{\"t\":\"a\nb\"}", TA_JSON_MSG_MALFORMED, "U+000A");
	bad("{\"t\":\"\x1f\"}", TA_JSON_MSG_MALFORMED, "U+001F");
	bad("{\"t\x02\":1}", TA_JSON_MSG_MALFORMED, "U+0002");
	bad_n("{\"t\":\"a\0b\"}", 11, TA_JSON_MSG_NUL, "body", "NUL");
	bad("{\"t\":\"a\\u0000b\"}", TA_JSON_MSG_NUL, "\\u0000");
	/* Every control byte, in turn. */
	for (int b = 1; b < 0x20; b++) {
		snprintf(buf, sizeof buf, "[\"%c\"]", b);
		bad(buf, TA_JSON_MSG_MALFORMED, "control character");
	}
}

static void
test_numbers(void **state)
{
	static const char *const bad_numbers[] = {"01", "00", "-01", "1.",
	    "-.5", ".5", "+1", "-", "1e", "1e+", "1.e5", "0x10", "1_000",
	    "Infinity", "-Infinity", "NaN", "1..2", "--1", "0.5.1"};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof bad_numbers / sizeof *bad_numbers; i++) {
		snprintf(buf, sizeof buf, "{\"n\":%s}", bad_numbers[i]);
		bad(buf, TA_JSON_MSG_MALFORMED, "at byte");
		snprintf(buf, sizeof buf, "%s", bad_numbers[i]);
		bad(buf, TA_JSON_MSG_MALFORMED, "at byte");
	}
	bad("{\"n\":01}", TA_JSON_MSG_MALFORMED, "leading zero at byte 6");
	bad("{\"n\":1.}", TA_JSON_MSG_MALFORMED, "digit after '.' at byte 7");
	bad("{\"n\":-.5}", TA_JSON_MSG_MALFORMED, "start with a digit");
}

static void
test_structure(void **state)
{
	(void)state;
	bad("{\"a\":1} x", TA_JSON_MSG_MALFORMED,
	    "characters after the JSON value at byte 8");
	bad("{} {}", TA_JSON_MSG_MALFORMED, "after the JSON value");
	bad("{\"a\":1}\x01", TA_JSON_MSG_MALFORMED, "after the JSON value");
	bad("", TA_JSON_MSG_MALFORMED, "unexpected end");
	bad("  ", TA_JSON_MSG_MALFORMED, "unexpected end");
	bad("{\"a\":1,}", TA_JSON_MSG_MALFORMED, "expected a key");
	bad("[1,]", TA_JSON_MSG_MALFORMED, "unexpected character");
	bad("[,1]", TA_JSON_MSG_MALFORMED, "unexpected character");
	bad("{,}", TA_JSON_MSG_MALFORMED, "expected a key");
	bad("{\"a\" 1}", TA_JSON_MSG_MALFORMED, "expected ':'");
	bad("{\"a\":1 \"b\":2}", TA_JSON_MSG_MALFORMED, "expected ',' or '}'");
	bad("[1 2]", TA_JSON_MSG_MALFORMED, "expected ',' or ']'");
	bad("{\"a\":[1}", TA_JSON_MSG_MALFORMED, "expected ',' or ']'");
	bad("{'a':1}", TA_JSON_MSG_MALFORMED, "expected a key");
	bad("{\"a\":tru}", TA_JSON_MSG_MALFORMED, "unexpected character");
	bad("{\"a\":\"x", TA_JSON_MSG_MALFORMED, "unterminated string");
	bad("{\"a\":\"\\x\"}", TA_JSON_MSG_MALFORMED, "invalid escape");
	bad("{\"a\":\"\\u12\"}", TA_JSON_MSG_MALFORMED, "four hex digits");
	bad("{\"a\":\"\\ud800\"}", TA_JSON_MSG_MALFORMED, "unpaired");
	bad("{\"a\":\"\\udc00\"}", TA_JSON_MSG_MALFORMED, "unpaired");
	bad("{\"a\":\"\\ud800\\u0041\"}", TA_JSON_MSG_MALFORMED, "unpaired");
	bad("\xef\xbb\xbf{}", TA_JSON_MSG_MALFORMED, "unexpected character");
	bad("\xff\xfe", TA_JSON_MSG_UTF8, "invalid UTF-8");
	bad("{\"t\":\"\xc0\xaf\"}", TA_JSON_MSG_UTF8,
	    "invalid UTF-8 at byte 6");
	bad("{\"t\":\"\xed\xa0\x80\"}", TA_JSON_MSG_UTF8, "invalid UTF-8");
	bad("{\"t\":\"\xf4\x90\x80\x80\"}", TA_JSON_MSG_UTF8, "invalid UTF-8");
	bad("{\"t\":\"\xe2\x82", TA_JSON_MSG_UTF8, "invalid UTF-8");
	bad_n(NULL, 0, TA_JSON_MSG_MALFORMED, "body", "no body");
}

static void
test_depth(void **state)
{
	char *buf = malloc(2 * TA_JSON_MAX_DEPTH + 2);
	cJSON *j = NULL;

	(void)state;
	memset(buf, '[', TA_JSON_MAX_DEPTH);
	memset(buf + TA_JSON_MAX_DEPTH, ']', TA_JSON_MAX_DEPTH);
	assert_int_equal(
	    ta_json_parse_strict(buf, 2 * TA_JSON_MAX_DEPTH, &j, NULL, 0),
	    TA_OK);
	cJSON_Delete(j);
	memset(buf, '[', TA_JSON_MAX_DEPTH + 1);
	memset(buf + TA_JSON_MAX_DEPTH + 1, ']', TA_JSON_MAX_DEPTH + 1);
	bad_n(buf, 2 * TA_JSON_MAX_DEPTH + 2, TA_JSON_MSG_MALFORMED, "body",
	    "nested too deeply at byte 1000");
	free(buf);
}

/* Refused as a duplicate of the key at path field. */
static void
dup(const char *s, const char *field, const char *want)
{
	bad_n(s, strlen(s), TA_JSON_MSG_DUPLICATE, field, want);
}

static void
test_duplicate_keys(void **state)
{
	(void)state;
	/* The case: which status wins must not be a guess. */
	dup("{\"status\":\"completed\",\"status\":\"bogus\"}", "status",
	    "status appears more than once");
	dup("{\"a\":1,\"b\":2,\"a\":3}", "a", "a appears");
	dup("{\"user\":{\"email\":\"x\",\"email\":\"y\"}}", "user.email",
	    "user.email appears more than once");
	dup("{\"tags\":[{\"n\":1},{\"n\":1,\"n\":2}]}", "tags[1].n", "appears");
	dup("[{},{\"x\":1,\"x\":1}]", "[1].x", "appears");
	/* Equal after unescaping is equal. */
	dup("{\"a\":1,\"\\u0061\":2}", "a", "appears");
	dup("{\"\xc3\xa9\":1,\"\\u00e9\":2}", "\xc3\xa9", "appears");
	/* null does not make a key absent. */
	dup("{\"title\":null,\"title\":\"x\"}", "title", "appears");
}

static void
test_many_keys_fast(void **state)
{
	enum { N = 100000 };
	char *buf = malloc((size_t)N * 16 + 16), *o = buf;
	struct timespec t0, t1;
	cJSON *j = NULL;
	double ms;

	(void)state;
	*o++ = '{';
	for (int i = 0; i < N; i++)
		o += sprintf(o, "%s\"k%d\":%d", i ? "," : "", i, i);
	*o++ = '}';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(
	    ta_json_parse_strict(buf, (size_t)(o - buf), &j, NULL, 0), TA_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cJSON_Delete(j);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	/* Sorted, not pairwise: ~10^6 compares, not 5 * 10^9. Generous
	 * for a loaded machine and the sanitizer build. */
	assert_true(ms < 2000);
	free(buf);
}

static void
test_charset(void **state)
{
	(void)state;
	assert_true(ta_media_charset_is_utf8(NULL));
	assert_true(ta_media_charset_is_utf8("application/json"));
	assert_true(
	    ta_media_charset_is_utf8("application/json; charset=utf-8"));
	assert_true(ta_media_charset_is_utf8("application/json;charset=UTF-8"));
	assert_true(
	    ta_media_charset_is_utf8("application/json; charset=\"utf-8\""));
	assert_true(ta_media_charset_is_utf8(
	    "application/json; v=1; Charset=Utf-8 ; x=\"a;charset=utf-16\""));
	assert_false(
	    ta_media_charset_is_utf8("application/json; charset=utf-16"));
	assert_false(
	    ta_media_charset_is_utf8("application/json;charset=UTF-16LE"));
	assert_false(
	    ta_media_charset_is_utf8("application/json; charset=iso-8859-1"));
	assert_false(
	    ta_media_charset_is_utf8("application/json; charset=utf8"));
	assert_false(ta_media_charset_is_utf8("application/json; charset="));
	assert_false(
	    ta_media_charset_is_utf8("application/json; charset=\"utf-16\""));
	assert_false(ta_media_charset_is_utf8(
	    "application/json; charset=utf-8; charset=utf-16"));
	assert_false(ta_media_charset_is_utf8(
	    "application/json; charset=utf-8-and-then-a-very-long-tail"));
}

static void
test_string_size(void **state)
{
	char s[2] = {0, 0};

	(void)state;
	/* Exactly what cJSON prints, byte by byte. */
	for (int b = 1; b < 256; b++) {
		cJSON *j;
		char *out;

		s[0] = (char)b;
		j = cJSON_CreateString(s);
		out = cJSON_PrintUnformatted(j);
		assert_int_equal(ta_json_string_size(s), strlen(out));
		free(out);
		cJSON_Delete(j);
	}
	assert_int_equal(ta_json_string_size(""), 2);
	assert_int_equal(ta_json_string_size(NULL), 2);
	assert_int_equal(ta_json_string_size("a\"b\x01"), 12);
}

/* ------------------------------------------------------------------ */
/* ta_json_parse_strict */

static cJSON *
parse(const char *s)
{
	cJSON *j = NULL;
	char msg[128];

	assert_int_equal(
	    ta_json_parse_strict(s, strlen(s), &j, msg, sizeof msg), TA_OK);
	return j;
}

static void
parse_fails(const char *s, size_t len, const char *want)
{
	cJSON *j = NULL;
	char msg[128] = "";

	assert_int_equal(ta_json_parse_strict(s, len, &j, msg, sizeof msg),
	    TA_INVALID_ARGUMENT);
	assert_null(j);
	assert_string_equal(msg, want);
}

static void
test_parse_strict_accepts(void **state)
{
	const char buf[] = "{\"a\":1}XXXX"; /* not NUL-terminated at len */
	cJSON *j = NULL;

	(void)state;
	j = parse("{\"a\":1} \n\t\r ");
	assert_true(cJSON_IsObject(j));
	cJSON_Delete(j);
	assert_int_equal(ta_json_parse_strict(buf, 7, &j, NULL, 0), TA_OK);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(j, "a")->valueint, 1);
	cJSON_Delete(j);
	/* Arrays and scalars at top level are JSON; callers decide. */
	j = parse("[1,2]");
	assert_true(cJSON_IsArray(j));
	cJSON_Delete(j);
	j = parse(" 42 ");
	assert_true(cJSON_IsNumber(j));
	cJSON_Delete(j);
	j = parse("\"s\"");
	assert_true(cJSON_IsString(j));
	cJSON_Delete(j);
	j = parse("null");
	assert_true(cJSON_IsNull(j));
	cJSON_Delete(j);
	/* An escaped backslash followed by u0000 is not a NUL escape. */
	j = parse("{\"t\":\"\\\\u0000\"}");
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(j, "t")->valuestring, "\\u0000");
	cJSON_Delete(j);
	j = parse("{\"t\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \\ud83d\\ude00\"}");
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(j, "t")->valuestring,
	    "caf\xc3\xa9 \xf0\x9f\x98\x80 \xf0\x9f\x98\x80");
	cJSON_Delete(j);
}

static void
test_parse_strict_rejects(void **state)
{
	static const char mal[] = "Malformed JSON in request body";
	static const char utf[] = "Request body is not valid UTF-8";
	static const char nul[] =
	    "Request body must not contain NUL characters";
	const char with_nul[] = "{\"t\":\"a\0b\"}";
	cJSON *j = NULL;

	(void)state;
	parse_fails("{\"a\":1} trailing", 16, mal);
	parse_fails("{} {}", 5, mal);
	parse_fails("", 0, mal);
	parse_fails("   ", 3, mal);
	parse_fails("{\"a\":1,}", 8, mal);
	parse_fails("{'a':1}", 7, mal);
	parse_fails("{\"a\":", 5, mal);
	parse_fails("{\"t\":\"\\ud800\"}", 14, mal); /* lone surrogate */
	parse_fails("{\"t\":\"\xff\"}", 9, utf);
	parse_fails("{\"t\":\"\xc0\xaf\"}", 10, utf);         /* overlong '/' */
	parse_fails("{\"t\":\"\xed\xa0\x80\"}", 11, utf);     /* surrogate */
	parse_fails("{\"t\":\"\xf4\x90\x80\x80\"}", 12, utf); /* > U+10FFFF */
	parse_fails("{\"t\":\"\xe2\x82", 8, utf);             /* cut sequence */
	parse_fails("{\"t\":\"\x80\"}", 9, utf); /* lone continuation */
	parse_fails(with_nul, sizeof with_nul - 1, nul);
	parse_fails("{\"t\":\"a\\u0000b\"}", 16, nul);
	assert_int_equal(
	    ta_json_parse_strict(NULL, 0, &j, NULL, 0), TA_INVALID_ARGUMENT);
}

static void
test_parse_strict_depth(void **state)
{
	char buf[2 * 1001 + 1];
	cJSON *j = NULL;

	(void)state;
	/* cJSON's nesting limit: 1000 levels parse, 1001 do not. */
	memset(buf, '[', 1000);
	memset(buf + 1000, ']', 1000);
	assert_int_equal(ta_json_parse_strict(buf, 2000, &j, NULL, 0), TA_OK);
	cJSON_Delete(j);
	j = NULL;
	memset(buf, '[', 1001);
	memset(buf + 1001, ']', 1001);
	parse_fails(buf, 2002, "Malformed JSON in request body");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts_rfc8259),
	    cmocka_unit_test(test_control_characters),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_structure),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_duplicate_keys),
	    cmocka_unit_test(test_many_keys_fast),
	    cmocka_unit_test(test_charset),
	    cmocka_unit_test(test_string_size),
	    cmocka_unit_test(test_parse_strict_accepts),
	    cmocka_unit_test(test_parse_strict_rejects),
	    cmocka_unit_test(test_parse_strict_depth),
	};

	return cmocka_run_group_tests_name("json_strict", tests, NULL, NULL);
}
