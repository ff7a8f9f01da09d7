/*
 * One HTTP/1.1 request head checked and rewritten in canonical form
 * (RFC 9112 §2-§3, §5-§6; RFC 9110 §5.5). Everything a lenient parser
 * might read two ways is refused, so libmicrohttpd only ever sees heads
 * that mean one thing.
 */
#include "framing.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "render.h"

static bool
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* field-vchar, SP or HTAB; obs-text (0x80-0xFF) is allowed as opaque. */
static bool
is_value_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static const char *
find_crlf(const char *p, const char *end)
{
	for (; p + 1 < end; p++)
		if (p[0] == '\r' && p[1] == '\n')
			return p;
	return NULL;
}

static bool
name_is(const char *name, size_t len, const char *want)
{
	return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

/* Copies [s, s+n) into dst (cap bytes) when it fits; else leaves "". */
static void
copy_if_fits(char *dst, size_t cap, const char *s, size_t n)
{
	if (n < cap) {
		memcpy(dst, s, n);
		dst[n] = '\0';
	}
}

typedef struct fields_seen {
	int host, length, coding;
	bool expect_100; /* Expect: 100-continue (written after the fields) */
} fields_seen;

/* One field line [p, e): checks it, notes what it says, writes it out. */
static bool
field_line(const char *p, const char *e, edge_head *h, fields_seen *seen,
    edge_buf *out, edge_rejection *why)
{
	const char *colon = p, *v, *ve;
	size_t nlen;

	if (*p == ' ' || *p == '\t') {
		*why = EDGE_REJECT_OBS_FOLD;
		return false;
	}
	while (colon < e && is_tchar((unsigned char)*colon))
		colon++;
	if (colon == e || *colon != ':' || colon == p) {
		*why = (colon < e && (*colon == ' ' || *colon == '\t'))
		           ? EDGE_REJECT_SPACE_BEFORE_COLON
		           : EDGE_REJECT_BAD_FIELD;
		return false;
	}
	nlen = (size_t)(colon - p);
	for (v = colon + 1; v < e; v++)
		if (!is_value_char((unsigned char)*v)) {
			*why = EDGE_REJECT_FIELD_CHAR;
			return false;
		}
	v = colon + 1;
	ve = e;
	while (v < ve && (*v == ' ' || *v == '\t'))
		v++;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	if (name_is(p, nlen, "Host")) {
		seen->host++;
	} else if (name_is(p, nlen, "Content-Length")) {
		uint64_t n = 0;

		if (++seen->length > 1) {
			*why = EDGE_REJECT_DUP_LENGTH;
			return false;
		}
		if (v == ve || (size_t)(ve - v) > 19) {
			*why = v == ve || strspn(v, "0123456789") <
			                      (size_t)(ve - v)
			           ? EDGE_REJECT_BAD_LENGTH
			           : EDGE_REJECT_LENGTH_TOO_LONG;
			return false;
		}
		for (const char *q = v; q < ve; q++) {
			if (*q < '0' || *q > '9') {
				*why = EDGE_REJECT_BAD_LENGTH;
				return false;
			}
			n = n * 10 + (uint64_t)(*q - '0');
		}
		h->content_length = n;
	} else if (name_is(p, nlen, "Transfer-Encoding")) {
		if (++seen->coding > 1) {
			*why = EDGE_REJECT_DUP_CODING;
			return false;
		}
		if (!name_is(v, (size_t)(ve - v), "chunked")) {
			*why = EDGE_REJECT_CODING;
			return false;
		}
		h->is_chunked = true;
	} else if (name_is(p, nlen, "X-Request-Id")) {
		char id[EDGE_REQUEST_ID_MAX + 1] = "";

		copy_if_fits(id, sizeof id, v, (size_t)(ve - v));
		if (edge_request_id_is_valid(id))
			memcpy(h->request_id, id, sizeof id);
	} else if (name_is(p, nlen, "Origin")) {
		copy_if_fits(h->origin, sizeof h->origin, v, (size_t)(ve - v));
	} else if (name_is(p, nlen, "Expect")) {
		/*
		 * Passed on only for a request with a body (head_parse): given
		 * one without, libmicrohttpd 0.9.75 answers 100 Continue and
		 * then never serves it (tests/fuzz/fuzz_mhd.c found it). Other
		 * expectations are ignored (RFC 9110 section 10.1.1 allows it).
		 */
		seen->expect_100 |= name_is(v, (size_t)(ve - v), "100-continue");
		return true;
	}
	edge_buf_append(out, p, nlen);
	edge_buf_append(out, ": ", 2);
	edge_buf_append(out, v, (size_t)(ve - v));
	edge_buf_append(out, "\r\n", 2);
	return true;
}

/*
 * The request target [t, te): origin-form, "*" (OPTIONS only) or
 * absolute-form with an http(s) scheme, which is rewritten to origin-form.
 */
static bool
target(const char *t, const char *te, const edge_frame_limits *lim,
    const edge_head *h, edge_buf *out, edge_rejection *why)
{
	const char *q;
	size_t params = 0;

	if ((size_t)(te - t) > lim->max_target) {
		*why = EDGE_REJECT_TARGET_TOO_LONG;
		return false;
	}
	for (q = t; q < te; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f) {
			*why = EDGE_REJECT_TARGET_CHAR;
			return false;
		}
	if (te - t > 8 && (strncasecmp(t, "http://", 7) == 0 ||
	                      strncasecmp(t, "https://", 8) == 0)) {
		t = memchr(t, '/', (size_t)(te - t)) + 2;
		while (t < te && *t != '/' && *t != '?')
			t++;
		if (t == te || *t == '?')
			edge_buf_append(out, "/", 1);
	} else if (!(*t == '/' || (te - t == 1 && *t == '*' &&
	                              strcmp(h->method, "OPTIONS") == 0))) {
		*why = EDGE_REJECT_BAD_TARGET;
		return false;
	}
	q = memchr(t, '?', (size_t)(te - t));
	for (; q && q < te; q++)
		params += (*q == '&' || *q == '?' || *q == ';');
	if (params > lim->max_params) {
		*why = EDGE_REJECT_TOO_MANY_PARAMS;
		return false;
	}
	edge_buf_append(out, t, (size_t)(te - t));
	return true;
}

/* "METHOD SP target SP HTTP/1.x" in [p, e). */
static bool
request_line(const char *p, const char *e, const edge_frame_limits *lim,
    edge_head *h, edge_buf *out, int *minor, edge_rejection *why)
{
	const char *m = p, *t, *te, *v;

	while (p < e && is_tchar((unsigned char)*p))
		p++;
	te =
	    p < e && *p == ' ' ? memchr(p + 1, ' ', (size_t)(e - p - 1)) : NULL;
	if (p == m || (size_t)(p - m) >= sizeof h->method || !te) {
		*why = e - m > (long)lim->max_target
		           ? EDGE_REJECT_REQUEST_LINE_TOO_LONG
		           : EDGE_REJECT_BAD_REQUEST_LINE;
		return false;
	}
	memcpy(h->method, m, (size_t)(p - m));
	h->method[p - m] = '\0';
	t = p + 1;
	v = te + 1;
	if (te == t || e - v != 8 || strncmp(v, "HTTP/", 5) != 0 ||
	    v[5] < '0' || v[5] > '9' || v[6] != '.' || v[7] < '0' ||
	    v[7] > '9') {
		*why = EDGE_REJECT_BAD_REQUEST_LINE;
		return false;
	}
	if (v[5] != '1' || v[7] > '1') {
		*why = EDGE_REJECT_VERSION;
		return false;
	}
	*minor = v[7] - '0';
	edge_buf_append(out, m, (size_t)(t - m));
	if (!target(t, te, lim, h, out, why))
		return false;
	edge_buf_append(out, " ", 1);
	edge_buf_append(out, v, 8);
	edge_buf_append(out, "\r\n", 2);
	return true;
}

static bool
head_parse(const char *buf, size_t len, const edge_frame_limits *lim,
    edge_head *h, edge_buf *out, edge_rejection *why)
{
	const char *p = buf, *end = buf + len, *e;
	fields_seen seen = {0};
	size_t nfields = 0;
	int minor = 1;

	memset(h, 0, sizeof *h);
	if (len > lim->max_head) {
		*why = EDGE_REJECT_HEAD_FIELDS_TOO_LARGE;
		return false;
	}
	if (memchr(buf, '\0', len)) {
		*why = EDGE_REJECT_NUL;
		return false;
	}
	if (!(e = find_crlf(p, end)))
		goto malformed;
	if (memchr(p, '\r', (size_t)(e - p)) ||
	    memchr(p, '\n', (size_t)(e - p)))
		goto malformed;
	if (!request_line(p, e, lim, h, out, &minor, why))
		return false;
	for (p = e + 2; (e = find_crlf(p, end)) != NULL && e > p; p = e + 2) {
		if (memchr(p, '\r', (size_t)(e - p)) ||
		    memchr(p, '\n', (size_t)(e - p))) {
			*why = EDGE_REJECT_FIELD_CHAR;
			return false;
		}
		if (++nfields > lim->max_fields) {
			*why = EDGE_REJECT_TOO_MANY_FIELDS;
			return false;
		}
		if (!field_line(p, e, h, &seen, out, why))
			return false;
	}
	if (!e || e + 2 != end)
		goto malformed;
	h->has_body = h->is_chunked || h->content_length > 0;
	if (seen.expect_100 && h->has_body)
		edge_buf_append(out, "Expect: 100-continue\r\n", 22);
	edge_buf_append(out, "\r\n", 2);
	if (seen.host > 1 || (minor == 1 && seen.host == 0)) {
		*why = seen.host ? EDGE_REJECT_DUP_HOST : EDGE_REJECT_NO_HOST;
		return false;
	}
	if (seen.coding && (seen.length || minor == 0)) {
		*why = EDGE_REJECT_LENGTH_AND_CODING;
		return false;
	}
	if (h->content_length > lim->max_body) {
		*why = EDGE_REJECT_BODY_TOO_LARGE;
		return false;
	}
	return true;
malformed:
	*why = EDGE_REJECT_BAD_HEAD;
	return false;
}

int
edge_head_parse(const char *buf, size_t len, const edge_frame_limits *lim,
    edge_head *h, edge_buf *out, const char **reason)
{
	size_t mark = out->len;
	edge_rejection why;

	if (head_parse(buf, len, lim, h, out, &why))
		return 0;
	out->len = mark; // nothing of a refused head is forwarded
	*reason = edge_rejection_message(why);
	return edge_rejection_status(why);
}
