/*
 * What a request body must be to count as JSON: RFC 8259 text, checked
 * byte by byte before cJSON sees it (json_scan.h: cJSON 1.7.15 accepts raw
 * control characters in strings, leading zeros, "1." and "-.5", invalid
 * UTF-8), then parsed by cJSON and checked for duplicate keys at every
 * level (cJSON keeps both and its lookups find the first). Also the size
 * of a string as cJSON prints it (response budgets). Pure: no sockets.
 * The charset rule is media_type.h's.
 */
#ifndef TA_COMMON_JSON_STRICT_H
#define TA_COMMON_JSON_STRICT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "json_scan.h"
#include "status.h"
#include "violations.h"

/* Besides json_scan.h's TA_JSON_MSG_*: a duplicate key. */
#define TA_JSON_MSG_DUPLICATE "Duplicate key in request body"

/*
 * Parses body (len bytes, need not be NUL-terminated) as exactly one
 * RFC 8259 JSON text: no unescaped control character in a string, numbers
 * only in JSON's grammar, valid UTF-8, no \u0000 and no unpaired surrogate
 * escape, nothing but whitespace after the value, no object with the same
 * key twice (compared after unescaping), at most TA_JSON_MAX_DEPTH levels.
 * On TA_OK *out is set (caller cJSON_Deletes it). Otherwise
 * TA_INVALID_ARGUMENT, *message is one of the TA_JSON_MSG_* sentences
 * (static), and one violation is appended to details: field "body" and
 * where the text breaks the grammar ("unescaped control character U+0001
 * in a string at byte 7"), or field the duplicate key's path ("status",
 * "user.email", "tags[2].name") and "status appears more than once".
 * details may be NULL.
 */
ta_status ta_json_parse_body(const char *body, size_t len, cJSON **out,
    const char **message, ta_violations *details);

/*
 * ta_json_parse_body with the top-level sentence written to msg (msgcap
 * bytes, may be 0) instead of details.
 */
ta_status ta_json_parse_strict(
    const char *body, size_t len, cJSON **out, char *msg, size_t msgcap);

/*
 * Bytes cJSON_PrintUnformatted writes for the string s, quotes included:
 * '"', '\\' and \b \f \n \r \t take 2, other bytes below 0x20 take 6
 * (\u00XX), every other byte 1. NULL counts as "" (2).
 */
size_t ta_json_string_size(const char *s);

#endif
