/*
 * The one UTF-8 decoder (RFC 3629) that every module uses, and the repair
 * of a peer's string for JSON output.
 */
#ifndef TA_COMMON_UTF8_H
#define TA_COMMON_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decodes the sequence at s[0..n) (n > 0): its length in bytes, with *cp
 * (when cp is non-NULL) set to the code point, or 0 when it is not valid
 * UTF-8 (an overlong form, a UTF-16 surrogate, beyond U+10FFFF, a stray or
 * missing continuation byte, or cut short by n). ASCII, NUL included, is
 * one byte. For a NUL-terminated string n may be SIZE_MAX: a NUL is never
 * a continuation byte, so decoding stops there.
 */
size_t ta_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

/*
 * NULL when the string s is valid UTF-8; otherwise a copy (caller frees)
 * with U+FFFD for every byte that starts no valid sequence, as Go's
 * encoding/json does: for text from a peer that JSON output must carry.
 */
char *ta_utf8_repaired(const char *s);

#endif
