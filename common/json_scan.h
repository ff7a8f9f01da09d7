/*
 * An RFC 8259 syntax check of a whole request body, without building
 * anything: what cJSON 1.7.15 lets through (raw control characters in
 * strings, "01", "1.", "-.5", invalid UTF-8, \u0000, unpaired surrogate
 * escapes, trailing bytes when given a length) is refused here. Also the
 * UTF-8 rules themselves, and the repair of a peer's string for output.
 */
#ifndef TA_COMMON_JSON_SCAN_H
#define TA_COMMON_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

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

/* Length of the valid UTF-8 sequence at s[0..n) (n > 0), or 0 (RFC 3629:
 * no overlong form, no surrogate, nothing beyond U+10FFFF). */
size_t ta_utf8_seq(const unsigned char *s, size_t n);

/*
 * NULL when the string s is valid UTF-8; otherwise a copy (caller frees)
 * with U+FFFD for every byte that starts no valid sequence, as Go's
 * encoding/json does: for text from a peer that JSON output must carry.
 */
char *ta_utf8_repaired(const char *s);

#endif
