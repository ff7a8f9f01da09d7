/*
 * The RFC 8259 scanner of request bodies (see json_scan.h). It never
 * allocates and never recurses: the open containers are a byte stack of
 * TA_JSON_MAX_DEPTH, so no input can exhaust the thread's stack.
 */
#include "json_scan.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

/* Where the scan stands and, once it fails, why and where. */
typedef struct scan {
	const uint8_t *s;
	size_t len, at;
	ta_json_fault *f;
} scan;

static bool
fail(scan *c, const char *message, const char *why)
{
	c->f->message = message;
	c->f->offset = c->at;
	snprintf(c->f->why, sizeof c->f->why, "%s", why);
	return false;
}

static void
skip_ws(scan *c)
{
	while (
	    c->at < c->len && (c->s[c->at] == ' ' || c->s[c->at] == '\t' ||
	                          c->s[c->at] == '\n' || c->s[c->at] == '\r'))
		c->at++;
}

static int
peek(const scan *c)
{
	return c->at < c->len ? c->s[c->at] : -1;
}

/* Four hex digits at c->at into *v; advances past them. */
static bool
hex4(scan *c, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++, c->at++) {
		int h = peek(c);

		if (h >= '0' && h <= '9')
			h -= '0';
		else if (h >= 'a' && h <= 'f')
			h -= 'a' - 10;
		else if (h >= 'A' && h <= 'F')
			h -= 'A' - 10;
		else
			return fail(c, TA_JSON_MSG_MALFORMED,
			    "\\u needs four hex digits");
		*v = *v << 4 | (unsigned)h;
	}
	return true;
}

/* The escape after a backslash (c->at is on the backslash). */
static bool
escape(scan *c)
{
	unsigned u, lo;

	c->at++;
	switch (peek(c)) {
	case '"':
	case '\\':
	case '/':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
		c->at++;
		return true;
	case 'u':
		c->at++;
		break;
	default:
		return fail(c, TA_JSON_MSG_MALFORMED, "invalid escape");
	}
	if (!hex4(c, &u))
		return false;
	/* cJSON would end the C string at U+0000 and drop the rest. */
	if (u == 0)
		return fail(c, TA_JSON_MSG_NUL, "\\u0000 in a string");
	if (u >= 0xDC00 && u <= 0xDFFF)
		return fail(c, TA_JSON_MSG_MALFORMED, "unpaired surrogate");
	if (u < 0xD800 || u > 0xDBFF)
		return true;
	if (c->at + 1 >= c->len || c->s[c->at] != '\\' ||
	    c->s[c->at + 1] != 'u')
		return fail(c, TA_JSON_MSG_MALFORMED, "unpaired surrogate");
	c->at += 2;
	if (!hex4(c, &lo))
		return false;
	if (lo < 0xDC00 || lo > 0xDFFF)
		return fail(c, TA_JSON_MSG_MALFORMED, "unpaired surrogate");
	return true;
}

/* A string; c->at is on its opening quote. */
static bool
string(scan *c)
{
	c->at++;
	for (;;) {
		int b = peek(c);
		size_t n;

		if (b < 0)
			return fail(
			    c, TA_JSON_MSG_MALFORMED, "unterminated string");
		if (b == '"') {
			c->at++;
			return true;
		}
		if (b == 0)
			return fail(c, TA_JSON_MSG_NUL, "NUL byte in a string");
		if (b < 0x20) {
			char why[64];

			snprintf(why, sizeof why,
			    "unescaped control character U+%04X in a string",
			    (unsigned)b);
			return fail(c, TA_JSON_MSG_MALFORMED, why);
		}
		if (b == '\\') {
			if (!escape(c))
				return false;
			continue;
		}
		if (b < 0x80) {
			c->at++;
			continue;
		}
		if (!(n = ta_utf8_next(c->s + c->at, c->len - c->at, NULL)))
			return fail(c, TA_JSON_MSG_UTF8, "invalid UTF-8");
		c->at += n;
	}
}

static bool
is_digit(int b)
{
	return b >= '0' && b <= '9';
}

/* number = [ minus ] int [ frac ] [ exp ] (RFC 8259 section 6). */
static bool
number(scan *c)
{
	if (peek(c) == '-')
		c->at++;
	if (peek(c) == '0') {
		c->at++;
		if (is_digit(peek(c)))
			return fail(c, TA_JSON_MSG_MALFORMED,
			    "a number must not have a leading zero");
	} else if (is_digit(peek(c))) {
		while (is_digit(peek(c)))
			c->at++;
	} else {
		return fail(c, TA_JSON_MSG_MALFORMED,
		    "a number must start with a digit");
	}
	if (peek(c) == '.') {
		c->at++;
		if (!is_digit(peek(c)))
			return fail(c, TA_JSON_MSG_MALFORMED,
			    "a number needs a digit after '.'");
		while (is_digit(peek(c)))
			c->at++;
	}
	if (peek(c) == 'e' || peek(c) == 'E') {
		c->at++;
		if (peek(c) == '+' || peek(c) == '-')
			c->at++;
		if (!is_digit(peek(c)))
			return fail(c, TA_JSON_MSG_MALFORMED,
			    "a number needs a digit in its exponent");
		while (is_digit(peek(c)))
			c->at++;
	}
	return true;
}

static bool
word(scan *c, const char *w)
{
	size_t n = strlen(w);

	if (c->len - c->at < n || memcmp(c->s + c->at, w, n) != 0)
		return fail(c, TA_JSON_MSG_MALFORMED, "unexpected character");
	c->at += n;
	return true;
}

/*
 * A scalar value, or the opening of a container (pushed on stack, and
 * *opened set so the caller expects a first member or the closing).
 */
static bool
value(scan *c, char *stack, size_t *depth, bool *opened)
{
	int b = peek(c);

	*opened = false;
	switch (b) {
	case '{':
	case '[':
		if (*depth == TA_JSON_MAX_DEPTH)
			return fail(
			    c, TA_JSON_MSG_MALFORMED, "nested too deeply");
		stack[(*depth)++] = (char)b;
		c->at++;
		*opened = true;
		return true;
	case '"':
		return string(c);
	case 't':
		return word(c, "true");
	case 'f':
		return word(c, "false");
	case 'n':
		return word(c, "null");
	case -1:
		return fail(c, TA_JSON_MSG_MALFORMED, "unexpected end");
	default:
		if (b == '-' || is_digit(b))
			return number(c);
		if (b == 0)
			return fail(c, TA_JSON_MSG_NUL, "NUL byte");
		if (b >= 0x80 &&
		    !ta_utf8_next(c->s + c->at, c->len - c->at, NULL))
			return fail(c, TA_JSON_MSG_UTF8, "invalid UTF-8");
		return fail(c, TA_JSON_MSG_MALFORMED, "unexpected character");
	}
}

/* A member's key and colon; c->at is where the key should start. */
static bool
key(scan *c)
{
	if (peek(c) != '"')
		return fail(c, TA_JSON_MSG_MALFORMED, "expected a key");
	if (!string(c))
		return false;
	skip_ws(c);
	if (peek(c) != ':')
		return fail(c, TA_JSON_MSG_MALFORMED, "expected ':'");
	c->at++;
	skip_ws(c);
	return true;
}

bool
ta_json_scan(const char *text, size_t len, ta_json_fault *f)
{
	scan s = {.s = (const uint8_t *)text, .len = text ? len : 0, .f = f};
	scan *c = &s;
	char stack[TA_JSON_MAX_DEPTH];
	size_t depth = 0;
	bool opened;

	skip_ws(c);
	if (!value(c, stack, &depth, &opened))
		return false;
	for (;;) {
		char close;

		skip_ws(c);
		if (depth == 0)
			break;
		close = stack[depth - 1] == '{' ? '}' : ']';
		if (peek(c) == close) {
			/* An empty container, or the end of a full one. */
			c->at++;
			depth--;
			opened = false;
			continue;
		}
		if (!opened) {
			if (peek(c) != ',')
				return fail(c, TA_JSON_MSG_MALFORMED,
				    close == '}' ? "expected ',' or '}'"
				                 : "expected ',' or ']'");
			c->at++;
			skip_ws(c);
		}
		if (close == '}' && !key(c))
			return false;
		if (!value(c, stack, &depth, &opened))
			return false;
	}
	if (c->at != c->len)
		return fail(c, TA_JSON_MSG_MALFORMED,
		    "characters after the JSON value");
	return true;
}
