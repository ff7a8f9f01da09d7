/*
 * Calendar arithmetic on unix days and RFC 3339 parsing and formatting
 * (civil_time.h). Pure: no libc time zones, no globals.
 */
#include "civil_time.h"

#include <stdio.h>

int64_t
ta_civil_to_days(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
ta_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
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

int
ta_civil_days_in_month(int64_t y, int m)
{
	static const int dim[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool is_leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && is_leap ? 29 : dim[m - 1];
}

/* n decimal digits at s, or -1; stops at the first non-digit (or NUL). */
static int
digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

bool
ta_rfc3339_parse(const char *s, int64_t *seconds, int32_t *nanos)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
	int32_t ns = 0;
	const char *p;
	int64_t t;

	if (!s)
		return false;
	if ((y = digits(s, 4)) < 0 || s[4] != '-' ||
	    (mo = digits(s + 5, 2)) < 0 || s[7] != '-' ||
	    (d = digits(s + 8, 2)) < 0)
		return false;
	p = s + 10;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if ((h = digits(p + 1, 2)) < 0 || p[3] != ':' ||
		    (mi = digits(p + 4, 2)) < 0 || p[6] != ':' ||
		    (sec = digits(p + 7, 2)) < 0)
			return false;
		p += 9;
		if (*p == '.') {
			int nd = 0;

			for (p++; *p >= '0' && *p <= '9'; p++, nd++) {
				if (nd == 9)
					return false;
				ns = ns * 10 + (*p - '0');
			}
			if (nd == 0)
				return false;
			for (; nd < 9; nd++)
				ns *= 10;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int oh = digits(p + 1, 2), om;

			if (oh < 0 || p[3] != ':' ||
			    (om = digits(p + 4, 2)) < 0 || oh > 23 || om > 59)
				return false;
			off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
			p += 6;
		} else {
			return false;
		}
	}
	if (*p != '\0')
		return false;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 ||
	    d > ta_civil_days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
		return false;
	t = ta_civil_to_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	if (t < TA_CIVIL_SECONDS_MIN || t > TA_CIVIL_SECONDS_MAX)
		return false;
	*seconds = t;
	*nanos = ns;
	return true;
}

static char *
put_digits(char *o, int v, int n)
{
	for (int i = n - 1; i >= 0; i--, v /= 10)
		o[i] = (char)('0' + v % 10);
	return o + n;
}

void
ta_rfc3339_format(int64_t seconds, int32_t nanos, char *buf, size_t cap)
{
	char tmp[32], *o = tmp;
	int64_t days, rem, y;
	int m, d;

	/* Out-of-range input (a peer's bug) is clamped, never undefined. */
	if (seconds < TA_CIVIL_SECONDS_MIN)
		seconds = TA_CIVIL_SECONDS_MIN;
	if (seconds > TA_CIVIL_SECONDS_MAX)
		seconds = TA_CIVIL_SECONDS_MAX;
	if (nanos < 0 || nanos > 999999999)
		nanos = 0;
	days = seconds / 86400;
	rem = seconds % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	ta_civil_from_days(days, &y, &m, &d);
	o = put_digits(o, (int)y, 4);
	*o++ = '-';
	o = put_digits(o, m, 2);
	*o++ = '-';
	o = put_digits(o, d, 2);
	*o++ = 'T';
	o = put_digits(o, (int)(rem / 3600), 2);
	*o++ = ':';
	o = put_digits(o, (int)(rem / 60 % 60), 2);
	*o++ = ':';
	o = put_digits(o, (int)(rem % 60), 2);
	*o++ = '.';
	o = put_digits(o, nanos / 1000000, 3);
	*o++ = 'Z';
	*o = '\0';
	if (cap > 0)
		snprintf(buf, cap, "%s", tmp);
}
