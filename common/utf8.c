/*
 * The UTF-8 decoder shared by the JSON scanner, the log writer, the
 * transcoder and the workers' text rules (utf8.h), and the repair of a
 * peer's strings with U+FFFD.
 */
#include "utf8.h"

#include <string.h>

#include "alloc.h"

size_t
ta_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t k;
	uint32_t c;

	if (s[0] < 0x80) {
		k = 1;
		c = s[0];
		goto out;
	}
	/* C0 and C1 could only start overlong forms; F5..FF nothing. */
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		k = 2;
		c = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		k = 3;
		c = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		k = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (k > n)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	/* Overlong forms, UTF-16 surrogates, beyond U+10FFFF. */
	if ((k == 3 && c < 0x800) || (k == 4 && c < 0x10000) ||
	    (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
		return 0;
out:
	if (cp)
		*cp = c;
	return k;
}

char *
ta_utf8_repaired(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), at = 0, k, bad = 0;
	char *out, *o;

	while (at < len) {
		k = ta_utf8_next(u + at, len - at, NULL);
		bad += k == 0;
		at += k ? k : 1;
	}
	if (bad == 0)
		return NULL;
	o = out = ta_xmalloc(len + 2 * bad + 1); /* 1 byte -> 3 (U+FFFD) */
	for (at = 0; at < len; at += k ? k : 1) {
		k = ta_utf8_next(u + at, len - at, NULL);
		if (k) {
			memcpy(o, s + at, k);
			o += k;
		} else {
			memcpy(o, "\xEF\xBF\xBD", 3);
			o += 3;
		}
	}
	*o = '\0';
	return out;
}
