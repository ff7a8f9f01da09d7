/*
 * Entity tags (RFC 9110 section 8.8.3) of the project and the lists that
 * If-Match and If-None-Match carry (section 13.1): formatting a task's
 * tag, checking a header value, and comparing it with a tag. Pure text:
 * no sockets, no SQL.
 */
#ifndef TA_COMMON_ETAG_H
#define TA_COMMON_ETAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* "\"" id "-" version "\"" with two int64s, plus NUL. */
#define TA_ETAG_MAX 48
/* More entity tags than this in one header value are refused. */
#define TA_ETAG_LIST_MAX 32

/*
 * Writes the strong tag of a row into buf: "\"<id>-<version>\"", quotes
 * included. The id is part of it, so a tag never names another row even
 * where versions repeat.
 */
void ta_etag_format(int64_t id, int64_t version, char buf[TA_ETAG_MAX]);

/*
 * Checks an If-Match or If-None-Match value (borrowed): "*", or a
 * comma-separated list of 1 to TA_ETAG_LIST_MAX entity tags (strong
 * "\"...\"" or weak W/"..."), optional whitespace and empty elements
 * around commas allowed. TA_INVALID_ARGUMENT when malformed (an empty
 * value, "*" within a list, a tag without its quotes, too many tags); on
 * TA_OK *is_any tells "*".
 */
ta_status ta_etag_list_check(const char *value, bool *is_any);

/*
 * Whether the list value (valid for ta_etag_list_check) names tag (a
 * strong tag, quotes included): "*" matches any tag. With is_weak the
 * weak comparison (If-None-Match): W/ prefixes are ignored. Without, the
 * strong comparison (If-Match): a weak tag in the list matches nothing.
 */
bool ta_etag_list_matches(const char *value, const char *tag, bool is_weak);

/*
 * Collects into versions (room for cap) the versions of the strong tags
 * in value (valid, not "*") that have the form ta_etag_format gives for
 * id; other tags cannot match a row of id and are skipped. Returns how
 * many were written.
 */
size_t ta_etag_list_versions(
    const char *value, int64_t id, int64_t *versions, size_t cap);

#endif
