/*
 * Usernames as identifiers (RFC 8265 PRECIS, after its UsernameCaseMapped
 * profile as far as fits; docs/identifiers.md): the UTF-8 scan of a text
 * field, the NFC form used for storage and lookup, and the rules a new
 * username must pass. Pure: no SQL, no sockets.
 */
#ifndef TA_AUTH_IDENTIFIER_H
#define TA_AUTH_IDENTIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "violations.h"

/* Longest username, in code points of its NFC form (users.username). */
#define AUTH_USERNAME_MAX_CHARS 50

/* What the text of a field is made of. */
typedef struct auth_text_scan {
	bool is_utf8;     /* well-formed UTF-8 (no overlongs, surrogates) */
	bool has_control; /* C0, DEL or C1 control characters */
	bool has_space;   /* any white space */
	size_t chars;     /* code points (valid only when is_utf8) */
} auth_text_scan;

/* Scans text (NUL-terminated, borrowed). */
auth_text_scan auth_text_scan_of(const char *text);

/*
 * The NFC form of s (NUL-terminated UTF-8, borrowed) in a new string the
 * caller frees; NULL when s is not well-formed UTF-8.
 */
char *auth_identifier_nfc(const char *s);

/*
 * Checks a username offered for registration and, when it passes, sets
 * *nfc to its NFC form (caller frees). Otherwise adds one violation on
 * "username" to v and leaves *nfc NULL. Refused: empty, not UTF-8, longer
 * than AUTH_USERNAME_MAX_CHARS, leading or trailing space, controls,
 * format and other default-ignorable characters (zero-width, BOM, bidi
 * controls), spaces other than U+0020, unassigned and private-use code
 * points, compatibility characters (fullwidth, ligatures, styled letters),
 * and letters of more than one of Latin, Greek and Cyrillic.
 */
void auth_username_prepare(const char *username, char **nfc, ta_violations *v);

#endif
