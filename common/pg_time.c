/*
 * PostgreSQL's text timestamps to and from unix seconds, without libc's
 * time zone machinery (see pg.h); values RFC 3339 cannot write are
 * clamped on request.
 */
#include "pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Reads exactly n digits at *p into *v and advances *p. */
static bool
digits(const char **p, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		x = x * 10 + (c - '0');
	}
	*p += n;
	*v = x;
	return true;
}

bool
ta_pg_parse_timestamp(const char *text, int64_t *seconds, int32_t *nanos)
{
	static const int mdays[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p = text;
	int y, mo, d, h, mi, s, ns = 0, off = 0;

	if (!p)
		return false;
	/* Four-digit years only: PostgreSQL writes 5+ digits past 9999 and
	 * appends " BC" before year 1; both fail below. */
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) ||
	    *p++ != '-' || !digits(&p, 2, &d) || (*p != ' ' && *p != 'T'))
		return false;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) ||
	    *p++ != ':' || !digits(&p, 2, &s))
		return false;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && is_leap(y)) || h > 23 || mi > 59 ||
	    s > 59)
		return false;
	if (*p == '.') {
		int n = 0, scale = 100000000;

		p++;
		while (*p >= '0' && *p <= '9') {
			if (++n > 9)
				return false;
			ns += (*p++ - '0') * scale;
			scale /= 10;
		}
		if (n == 0)
			return false;
	}
	if (*p == '+' || *p == '-' || *p == 'Z') {
		/* "+05:30" or "-03" (hours, optional minutes and seconds). */
		int sign = *p == '-' ? -1 : 1, oh = 0, om = 0, os = 0;

		if (*p++ != 'Z') {
			if (!digits(&p, 2, &oh))
				return false;
			if (*p == ':' && (p++, !digits(&p, 2, &om)))
				return false;
			if (*p == ':' && (p++, !digits(&p, 2, &os)))
				return false;
			if (oh > 15 || om > 59 || os > 59)
				return false;
		}
		off = sign * (oh * 3600 + om * 60 + os);
	}
	if (*p != '\0')
		return false;
	*seconds =
	    days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off;
	*nanos = ns;
	return true;
}

void
ta_pg_format_timestamp(int64_t seconds, int32_t nanos, char *buf, size_t cap)
{
	int64_t days = seconds / 86400, rem = seconds % 86400, y;
	int m, d;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	if (nanos < 0)
		nanos = 0;
	else if (nanos > 999999999)
		nanos = 999999999;
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, cap, "%04" PRId64 "-%02d-%02d %02d:%02d:%02d.%06d+00", y,
	    m, d, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60),
	    (int)(nanos / 1000));
}

/*
 * Which end the text PostgreSQL writes for a value beyond 9999 or before
 * year 1 lies at: 1 the far future, -1 the far past, 0 neither.
 */
static int
beyond_range(const char *text)
{
	size_t n = strlen(text), digits_run = strspn(text, "0123456789");

	/* Years BC first: "0044-03-15 12:00:00 BC" (PostgreSQL stops at
	 * 4713 BC, but a five-digit year BC would still be the past). */
	if (strcmp(text, "-infinity") == 0 ||
	    (n > 3 && strcmp(text + n - 3, " BC") == 0))
		return -1;
	if (strcmp(text, "infinity") == 0 ||
	    (digits_run >= 5 && text[digits_run] == '-'))
		return 1;
	return 0;
}

ta_pg_ts_fit
ta_pg_timestamp_clamped(const char *text, int64_t *seconds, int32_t *nanos)
{
	int side;

	if (ta_pg_parse_timestamp(text, seconds, nanos))
		return TA_PG_TS_EXACT;
	side = text ? beyond_range(text) : 0;
	if (side == 0)
		return TA_PG_TS_INVALID;
	*seconds = side > 0 ? TA_PG_TS_MAX : TA_PG_TS_MIN;
	*nanos = side > 0 ? 999999000 : 0;
	return TA_PG_TS_CLAMPED;
}
