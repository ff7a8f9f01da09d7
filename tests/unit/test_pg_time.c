/* PostgreSQL text timestamps: parsing and formatting without libc time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pg.h"

static void
expect_ts(const char *text, int64_t want_s, int32_t want_ns)
{
	int64_t s = 12345;
	int32_t ns = 678;

	if (!ta_pg_parse_timestamp(text, &s, &ns))
		fail_msg("did not parse: \"%s\"", text);
	assert_int_equal(s, want_s);
	assert_int_equal(ns, want_ns);
}

static void
expect_bad(const char *text)
{
	int64_t s = 12345;
	int32_t ns = 678;

	if (ta_pg_parse_timestamp(text, &s, &ns))
		fail_msg("parsed but should not: \"%s\"", text);
	/* Out-parameters are untouched on failure. */
	assert_int_equal(s, 12345);
	assert_int_equal(ns, 678);
}

static void
test_parse_plain(void **state)
{
	(void)state;
	expect_ts("1970-01-01 00:00:00", 0, 0);
	expect_ts("1969-12-31 23:59:59", -1, 0);
	expect_ts("2025-03-02 10:15:04", 1740910504, 0);
	expect_ts("2025-03-02T10:15:04", 1740910504, 0);
	expect_ts("2000-02-29 12:00:00", 951825600, 0);
	expect_ts("1600-03-01 00:00:00", -11670912000LL, 0);
}

static void
test_parse_fraction(void **state)
{
	(void)state;
	expect_ts("2025-03-02 10:15:04.221312", 1740910504, 221312000);
	expect_ts("2025-03-02 10:15:04.5", 1740910504, 500000000);
	expect_ts("2025-03-02 10:15:04.000001", 1740910504, 1000);
	expect_ts("2025-03-02 10:15:04.123456789", 1740910504, 123456789);
	expect_ts("1969-12-31 23:59:59.75", -1, 750000000);
}

static void
test_parse_offsets(void **state)
{
	(void)state;
	expect_ts("2025-03-02 10:15:04+00", 1740910504, 0);
	expect_ts("2025-03-02 10:15:04Z", 1740910504, 0);
	expect_ts("2025-03-02 10:15:04.221312+00", 1740910504, 221312000);
	/* 10:15 at +05:30 is 04:45 UTC. */
	expect_ts("2025-03-02 10:15:04+05:30", 1740910504 - 19800, 0);
	expect_ts("2025-03-02 10:15:04.5-03", 1740910504 + 10800, 500000000);
	/* Local mean time offsets come with seconds. */
	expect_ts("1880-01-01 00:00:00+00:53:28", -2840140800LL - 3208, 0);
}

static void
test_parse_range(void **state)
{
	(void)state;
	expect_ts("0001-01-01 00:00:00", -62135596800LL, 0);
	expect_ts("9999-12-31 23:59:59.999999", 253402300799LL, 999999000);
	expect_bad("0000-12-31 00:00:00");
	expect_bad("10000-01-01 00:00:00");
	expect_bad("0044-03-15 12:00:00 BC");
	expect_bad("infinity");
	expect_bad("-infinity");
}

static void
test_parse_rejects(void **state)
{
	(void)state;
	expect_bad(NULL);
	expect_bad("");
	expect_bad("2025-03-02");
	expect_bad("2025-03-02 10:15");
	expect_bad("2025-3-02 10:15:04");
	expect_bad("2025-13-02 10:15:04");
	expect_bad("2025-00-02 10:15:04");
	expect_bad("2025-04-31 10:15:04");
	expect_bad("2023-02-29 10:15:04");
	expect_bad("1900-02-29 10:15:04");
	expect_bad("2025-03-02 24:00:00");
	expect_bad("2025-03-02 10:60:00");
	expect_bad("2025-03-02 10:15:60");
	expect_bad("2025-03-02 10:15:04.");
	expect_bad("2025-03-02 10:15:04.1234567890");
	expect_bad("2025-03-02 10:15:04+5");
	expect_bad("2025-03-02 10:15:04+05:3");
	expect_bad("2025-03-02 10:15:04+16");
	expect_bad("2025-03-02 10:15:04 ");
	expect_bad("2025-03-02 10:15:04+00x");
	expect_bad("2025-03-02x10:15:04");
}

static void
test_format(void **state)
{
	char buf[64];

	(void)state;
	ta_pg_format_timestamp(0, 0, buf, sizeof buf);
	assert_string_equal(buf, "1970-01-01 00:00:00.000000+00");
	ta_pg_format_timestamp(1740910504, 221312999, buf, sizeof buf);
	assert_string_equal(buf, "2025-03-02 10:15:04.221312+00");
	ta_pg_format_timestamp(-1, 750000000, buf, sizeof buf);
	assert_string_equal(buf, "1969-12-31 23:59:59.750000+00");
	ta_pg_format_timestamp(-62135596800LL, 0, buf, sizeof buf);
	assert_string_equal(buf, "0001-01-01 00:00:00.000000+00");
	ta_pg_format_timestamp(253402300799LL, 999999999, buf, sizeof buf);
	assert_string_equal(buf, "9999-12-31 23:59:59.999999+00");
	ta_pg_format_timestamp(951825600, 0, buf, sizeof buf);
	assert_string_equal(buf, "2000-02-29 12:00:00.000000+00");
	/* A short buffer is truncated, never overrun. */
	ta_pg_format_timestamp(0, 0, buf, 11);
	assert_string_equal(buf, "1970-01-01");
}

/* format then parse gives the same instant (to the microsecond). */
static void
test_round_trip(void **state)
{
	const int64_t lo = -62135596800LL, hi = 253402300799LL;
	char buf[64];

	(void)state;
	for (int64_t s = lo; s <= hi; s += 86399 * 37 + 13) {
		int32_t ns = (int32_t)((s & 0xFFFFF) * 953) % 1000000000;
		int64_t got_s;
		int32_t got_ns;

		if (ns < 0)
			ns = -ns;
		ta_pg_format_timestamp(s, ns, buf, sizeof buf);
		if (!ta_pg_parse_timestamp(buf, &got_s, &got_ns))
			fail_msg("did not parse back: %s", buf);
		assert_int_equal(got_s, s);
		assert_int_equal(got_ns, ns / 1000 * 1000);
	}
}

/* Issue 9: values PostgreSQL holds but RFC 3339 cannot write. */
static void
test_clamped(void **state)
{
	static const struct {
		const char *text;
		ta_pg_ts_fit fit;
		int64_t s;
		int32_t ns;
	} cases[] = {
	    {"2025-03-02 10:15:04.5", TA_PG_TS_EXACT, 1740910504, 500000000},
	    {"9999-12-31 23:59:59.999999", TA_PG_TS_EXACT, TA_PG_TS_MAX,
	        999999000},
	    {"infinity", TA_PG_TS_CLAMPED, TA_PG_TS_MAX, 999999000},
	    {"10000-01-01 00:00:00", TA_PG_TS_CLAMPED, TA_PG_TS_MAX,
	        999999000},
	    {"294276-12-31 23:59:59.999999+00", TA_PG_TS_CLAMPED, TA_PG_TS_MAX,
	        999999000},
	    {"-infinity", TA_PG_TS_CLAMPED, TA_PG_TS_MIN, 0},
	    {"0001-12-31 00:00:00 BC", TA_PG_TS_CLAMPED, TA_PG_TS_MIN, 0},
	    {"4713-01-01 00:00:00+00 BC", TA_PG_TS_CLAMPED, TA_PG_TS_MIN, 0},
	    {"10000-01-01 00:00:00 BC", TA_PG_TS_CLAMPED, TA_PG_TS_MIN, 0},
	    {"", TA_PG_TS_INVALID, 7, 7},
	    {"12345", TA_PG_TS_INVALID, 7, 7},
	    {"Sun Mar 02 10:15:04 2025", TA_PG_TS_INVALID, 7, 7},
	    {"infinityx", TA_PG_TS_INVALID, 7, 7},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t s = 7;
		int32_t ns = 7;

		assert_int_equal(
		    ta_pg_timestamp_clamped(cases[i].text, &s, &ns),
		    cases[i].fit);
		assert_int_equal(s, cases[i].s);
		assert_int_equal(ns, cases[i].ns);
	}
	assert_int_equal(ta_pg_timestamp_clamped(NULL, NULL, NULL),
	    TA_PG_TS_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clamped),
	    cmocka_unit_test(test_parse_plain),
	    cmocka_unit_test(test_parse_fraction),
	    cmocka_unit_test(test_parse_offsets),
	    cmocka_unit_test(test_parse_range),
	    cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests_name("pg_time", tests, NULL, NULL);
}
