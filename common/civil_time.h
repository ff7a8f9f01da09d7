/*
 * Proleptic Gregorian calendar arithmetic on unix days, and RFC 3339
 * timestamps built on it: shared by the transcoder and pg_time.c, so no
 * module needs libc's time zone machinery.
 */
#ifndef TA_COMMON_CIVIL_TIME_H
#define TA_COMMON_CIVIL_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What RFC 3339 can write: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z. */
#define TA_CIVIL_SECONDS_MIN (-62135596800LL)
#define TA_CIVIL_SECONDS_MAX 253402300799LL

/* Days since 1970-01-01 of year y, month m (1..12), day d (H. Hinnant). */
int64_t ta_civil_to_days(int64_t y, int m, int d);

/* The date of day z since 1970-01-01 (the inverse of ta_civil_to_days). */
void ta_civil_from_days(int64_t z, int64_t *y, int *m, int *d);

/* Days in month m (1..12) of year y. */
int ta_civil_days_in_month(int64_t y, int m);

/* Formats RFC 3339 UTC with milliseconds into buf (at least 32 bytes);
 * seconds outside the range above are clamped, bad nanos read as 0. */
void ta_rfc3339_format(int64_t seconds, int32_t nanos, char *buf, size_t cap);

/* Parses an RFC 3339 date-time or a plain date; false when malformed. */
bool ta_rfc3339_parse(const char *s, int64_t *seconds, int32_t *nanos);

#endif
