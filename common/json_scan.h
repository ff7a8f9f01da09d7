/*
 * An RFC 8259 syntax check of a whole request body, without building
 * anything: what cJSON 1.7.15 lets through (raw control characters in
 * strings, "01", "1.", "-.5", invalid UTF-8, \u0000, unpaired surrogate
 * escapes, trailing bytes when given a length) is refused here. The UTF-8
 * rules themselves are utf8.h's.
 */
#ifndef TA_COMMON_JSON_SCAN_H
#define TA_COMMON_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "utf8.h" /* ta_utf8_repaired, for the edge's renderer */

/* Arrays and objects nested deeper than this are refused (cJSON's limit). */
#define TA_JSON_MAX_DEPTH 1000

/* Top-level messages of a refused body (the error body's "message"). */
#define TA_JSON_MSG_MALFORMED "Malformed JSON in request body"
#define TA_JSON_MSG_UTF8 "Request body is not valid UTF-8"
#define TA_JSON_MSG_NUL "Request body must not contain NUL characters"

/* Why and where a text is not JSON. */
typedef struct ta_json_fault {
	const char *message; /* TA_JSON_MSG_*: static */
	size_t offset;       /* byte where the text breaks the grammar */
	char why[96];        /* "unescaped control character U+0001 in a
	                        string" */
} ta_json_fault;

/*
 * True when text[0..len) is exactly one JSON value with optional
 * whitespace around it (RFC 8259), valid UTF-8 throughout, no \u0000 and
 * no unpaired surrogate escape, nested at most TA_JSON_MAX_DEPTH deep.
 * Otherwise false with *f filled. text need not be NUL-terminated; NULL
 * is an empty text (false).
 */
bool ta_json_scan(const char *text, size_t len, ta_json_fault *f);

#endif
