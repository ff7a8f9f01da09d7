/* Raw path segments: decoding and comparison (see path.h). */
#include "path.h"

#include <string.h>

int
edge_path_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The byte at s[*i] (an escape decoded), advancing *i; -1 if malformed. */
static int
next_byte(const char *s, size_t n, size_t *i)
{
	int hi, lo;

	if (s[*i] != '%')
		return (unsigned char)s[(*i)++];
	if (*i + 2 >= n)
		return -1;
	hi = edge_path_hex_value(s[*i + 1]);
	lo = edge_path_hex_value(s[*i + 2]);
	if (hi < 0 || lo < 0)
		return -1;
	*i += 3;
	return hi * 16 + lo;
}

static bool
is_unreserved(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

bool
edge_path_segment_decode(const char *s, size_t n, char *out, size_t *outlen)
{
	size_t i = 0, w = 0;

	while (i < n) {
		int c = next_byte(s, n, &i);

		if (c < 0x20 || c == 0x7f)
			return false; // also -1: a malformed escape
		out[w++] = (char)c;
	}
	out[w] = '\0';
	*outlen = w;
	return true;
}

bool
edge_path_segment_equals(
    const char *s, size_t n, const char *lit, size_t lit_len)
{
	size_t i = 0, k = 0;

	while (i < n && k < lit_len) {
		bool is_escaped = s[i] == '%';
		int c = next_byte(s, n, &i);

		/* An escaped reserved character is data, never a literal. */
		if (c < 0 || (is_escaped && !is_unreserved(c)) ||
		    c != (unsigned char)lit[k])
			return false;
		k++;
	}
	return i == n && k == lit_len;
}

bool
edge_path_segment_is_dot(const char *s, size_t n)
{
	return edge_path_segment_equals(s, n, ".", 1) ||
	       edge_path_segment_equals(s, n, "..", 2);
}
