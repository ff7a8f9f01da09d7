/*
 * PostgreSQL's text timestamps to and from unix seconds, without libc's
 * time zone machinery (see pg.h; the calendar is civil_time.h's); values
 * RFC 3339 cannot write are clamped on request.
 */
#include "pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "civil_time.h"

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
	    d > ta_civil_days_in_month(y, mo) || h > 23 || mi > 59 || s > 59)
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
	    ta_civil_to_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off;
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
	ta_civil_from_days(days, &y, &m, &d);
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
