/*
 * Unit tests of common/civil_time.c: RFC 3339 parsing and formatting over
 * the calendar arithmetic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "civil_time.h"

static void
ts_ok(const char *s, int64_t secs, int32_t ns)
{
	int64_t gs = -7;
	int32_t gn = -7;

	if (!ta_rfc3339_parse(s, &gs, &gn))
		fail_msg("rejected %s", s);
	assert_true(gs == secs);
	assert_int_equal(gn, ns);
}

static void
test_rfc3339_parse(void **state)
{
	static const char *bad[] = {"", "2023-02-29", "2023-02-29T00:00:00Z",
	    "2100-02-29", "2024-13-01", "2024-00-10", "2024-04-31",
	    "2024-01-00", "2024-01-01T24:00:00Z", "2024-01-01T23:60:00Z",
	    "2024-01-01T23:59:61Z", "0000-01-01", "2025-03-02T10:15:04",
	    "2025-03-02T10:15:04+05:3", "2025-03-02T10:15:04+0530",
	    "2025-03-02T10:15:04+24:00", "2025-03-02T10:15:04Zx", "2025-3-2",
	    "2025-03-02T", "2025-03-02T10:15Z", "2025-03-02T10:15:04.Z",
	    "2025-03-02T10:15:04.1234567890Z", "2025-03-02x10:15:04Z",
	    " 2025-03-02", "2025-03-02 ", "0001-01-01T00:00:00+00:01",
	    "+2025-03-02", "yesterday"};
	int64_t s;
	int32_t n;

	(void)state;
	ts_ok("1970-01-01T00:00:00Z", 0, 0);
	ts_ok("2024-02-29", 1709164800, 0);
	ts_ok("2024-02-29T00:00:00Z", 1709164800, 0);
	ts_ok("2000-02-29T00:00:00Z", 951782400, 0);
	ts_ok("2025-03-02T10:15:04.221+05:30", 1740890704, 221000000);
	ts_ok("2025-03-02t04:45:04z", 1740890704, 0);
	ts_ok("2025-03-02 04:45:04Z", 1740890704, 0);
	ts_ok("2025-03-02T04:45:04.123456789Z", 1740890704, 123456789);
	ts_ok("2025-03-02T04:45:04.5Z", 1740890704, 500000000);
	ts_ok("2024-12-31T23:00:00-02:00", 1735693200, 0);
	ts_ok("2016-12-31T23:59:60Z", 1483228800, 0);
	ts_ok("0001-01-01T00:00:00Z", -62135596800LL, 0);
	ts_ok("9999-12-31T23:59:59.999999999Z", 253402300799LL, 999999999);
	ts_ok("1969-12-31T23:59:59Z", -1, 0);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (ta_rfc3339_parse(bad[i], &s, &n))
			fail_msg("accepted %s", bad[i]);
	assert_false(ta_rfc3339_parse(NULL, &s, &n));
}

static void
test_rfc3339_format(void **state)
{
	char buf[32];

	(void)state;
	ta_rfc3339_format(0, 0, buf, sizeof buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	ta_rfc3339_format(1740890704, 221999999, buf, sizeof buf);
	assert_string_equal(buf, "2025-03-02T04:45:04.221Z");
	ta_rfc3339_format(951868800, 999999999, buf, sizeof buf);
	assert_string_equal(buf, "2000-03-01T00:00:00.999Z");
	ta_rfc3339_format(-1, 0, buf, sizeof buf);
	assert_string_equal(buf, "1969-12-31T23:59:59.000Z");
	ta_rfc3339_format(-62135596800LL, 0, buf, sizeof buf);
	assert_string_equal(buf, "0001-01-01T00:00:00.000Z");
	ta_rfc3339_format(253402300799LL, 0, buf, sizeof buf);
	assert_string_equal(buf, "9999-12-31T23:59:59.000Z");
	/* Out-of-range values from a peer are clamped, not undefined. */
	ta_rfc3339_format(INT64_MAX, -5, buf, sizeof buf);
	assert_string_equal(buf, "9999-12-31T23:59:59.000Z");
	ta_rfc3339_format(INT64_MIN, 0, buf, sizeof buf);
	assert_string_equal(buf, "0001-01-01T00:00:00.000Z");
	ta_rfc3339_format(0, 0, buf, 5);
	assert_string_equal(buf, "1970");
	/* Every day of 1999..2001 survives format -> parse. */
	for (int64_t t = 915148800; t < 1009843200; t += 86400 + 3601) {
		int64_t s;
		int32_t n;

		ta_rfc3339_format(t, 7000000, buf, sizeof buf);
		assert_true(ta_rfc3339_parse(buf, &s, &n));
		assert_true(s == t);
		assert_int_equal(n, 7000000);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc3339_parse),
	    cmocka_unit_test(test_rfc3339_format),
	};

	return cmocka_run_group_tests_name("civil_time", tests, NULL, NULL);
}
