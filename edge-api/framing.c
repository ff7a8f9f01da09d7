/*
 * The stream side of request framing: collects each head (head.c checks
 * it), then passes the body by its Content-Length or re-chunks a chunked
 * one (RFC 9112 §7.1: sizes in hex without extensions, trailers dropped),
 * counting it against MAX_BODY_BYTES as it arrives.
 */
#include "framing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "render.h"

#define CHUNK_LINE_MAX 1024 /* chunk size plus extensions */

enum {
	ST_HEAD,       /* collecting a head */
	ST_BODY_START, /* head reported; body framing next */
	ST_LENGTH,     /* Content-Length body */
	ST_CHUNK_SIZE, /* collecting a chunk-size line */
	ST_CHUNK_DATA,
	ST_CHUNK_CRLF, /* the CRLF after chunk data */
	ST_TRAILER,    /* collecting trailer lines up to the empty one */
	ST_FAILED,
};

void
edge_buf_append(edge_buf *b, const void *data, size_t n)
{
	if (b->off > 0 && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + n > b->cap) {
		size_t want = b->cap ? b->cap : 256;

		if (b->off > 0) { // reclaim the consumed front first
			memmove(b->p, b->p + b->off, b->len - b->off);
			b->len -= b->off;
			b->off = 0;
		}
		while (want < b->len + n)
			want *= 2;
		if (want > b->cap) {
			b->p = ta_xrealloc(b->p, want);
			b->cap = want;
		}
	}
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

size_t
edge_buf_pending(const edge_buf *b)
{
	return b->len - b->off;
}

void
edge_buf_consume(edge_buf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		b->off = b->len = 0;
}

void
edge_buf_fini(edge_buf *b)
{
	free(b->p);
	*b = (edge_buf){0};
}

void
edge_framer_init(edge_framer *f, const edge_frame_limits *lim)
{
	*f = (edge_framer){.lim = *lim, .state = ST_HEAD};
}

void
edge_framer_fini(edge_framer *f)
{
	edge_buf_fini(&f->acc);
}

bool
edge_framer_in_head(const edge_framer *f)
{
	return f->state == ST_HEAD;
}

bool
edge_framer_at_boundary(const edge_framer *f)
{
	return (f->state == ST_HEAD && f->acc.len == 0 && !f->after_cr) ||
	       (f->state == ST_BODY_START && !f->head.has_body);
}

static edge_frame_event
fail(edge_framer *f, int status, const char *reason)
{
	f->state = ST_FAILED;
	f->status = status;
	f->reason = reason;
	return EDGE_FRAME_ERROR;
}

/* fail with one of the edge's own rejections (render.h). */
static edge_frame_event
reject(edge_framer *f, edge_rejection why)
{
	return fail(f, edge_rejection_status(why), edge_rejection_message(why));
}

/*
 * Collects head bytes; on the empty line parses the head. A bare LF or a
 * NUL fails at once rather than when a slow client finally ends the head.
 */
static edge_frame_event
feed_head(edge_framer *f, const char *in, size_t n, size_t *used, edge_buf *out)
{
	edge_buf *a = &f->acc;
	size_t i;

	for (i = 0; i < n; i++) {
		char c = in[i];
		size_t len = a->len;

		/* Empty lines before a request line are skipped (§2.2). */
		if (len == 0 && !f->after_cr && c == '\r') {
			f->after_cr = true;
			continue;
		}
		if (len == 0 && f->after_cr && c == '\n') {
			f->after_cr = false;
			continue;
		}
		if (len == 0 && f->after_cr) { // a CR not followed by LF
			*used = i + 1;
			return reject(f, EDGE_REJECT_BARE_CR);
		}
		if (c == '\0' ||
		    (c == '\n' && (len == 0 || a->p[len - 1] != '\r'))) {
			*used = i + 1;
			return reject(
			    f, c ? EDGE_REJECT_BARE_LF : EDGE_REJECT_NUL);
		}
		edge_buf_append(a, &c, 1);
		if (c == '\n' && a->len >= 4 &&
		    memcmp(a->p + a->len - 4, "\r\n\r\n", 4) == 0) {
			const char *reason;
			int st = edge_head_parse(
			    a->p, a->len, &f->lim, &f->head, out, &reason);

			*used = i + 1;
			a->len = 0;
			f->has_head = true;
			if (st != 0)
				return fail(f, st, reason);
			f->state = ST_BODY_START;
			return EDGE_FRAME_HEAD;
		}
		if (a->len > f->lim.max_head) {
			*used = i + 1;
			/* Still on the request line: the target is too long. */
			return reject(f, memchr(a->p, '\n', a->len)
			                     ? EDGE_REJECT_HEADERS_TOO_LARGE
			                     : EDGE_REJECT_URI_TOO_LONG);
		}
	}
	*used = n;
	return EDGE_FRAME_MORE;
}

static edge_frame_event
chunk_size_line(edge_framer *f, edge_buf *out)
{
	const char *p = f->acc.p, *e = p + f->acc.len - 2; // CRLF excluded
	uint64_t size = 0;
	size_t digits = 0;
	char hex[24];

	for (; p < e && strchr("0123456789abcdefABCDEF", *p) && *p; p++) {
		int d = *p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10;

		if (++digits > 15)
			return reject(f, EDGE_REJECT_BODY_TOO_LARGE);
		size = size * 16 + (uint64_t)d;
	}
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	if (digits == 0 || (p < e && *p != ';'))
		return reject(f, EDGE_REJECT_BAD_CHUNK);
	for (; p < e; p++) // extensions are dropped, but must be text
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return reject(f, EDGE_REJECT_BAD_CHUNK);
	f->acc.len = 0;
	if (size == 0) {
		f->state = ST_TRAILER;
		return EDGE_FRAME_MORE;
	}
	if (size > f->lim.max_body - f->body_seen)
		return reject(f, EDGE_REJECT_BODY_TOO_LARGE);
	f->body_seen += size;
	f->left = size;
	f->state = ST_CHUNK_DATA;
	snprintf(hex, sizeof hex, "%llx\r\n", (unsigned long long)size);
	edge_buf_append(out, hex, strlen(hex));
	return EDGE_FRAME_MORE;
}

/* Collects one CRLF-terminated line of at most max bytes into f->acc. */
static bool
collect_line(edge_framer *f, const char *in, size_t n, size_t *i, size_t max,
    bool *is_bad)
{
	while (*i < n) {
		char c = in[(*i)++];
		size_t len = f->acc.len;

		if (c == '\0' ||
		    (c == '\n' && (len == 0 || f->acc.p[len - 1] != '\r')) ||
		    (len > 0 && f->acc.p[len - 1] == '\r' && c != '\n') ||
		    len + 1 > max) {
			*is_bad = true;
			return false;
		}
		edge_buf_append(&f->acc, &c, 1);
		if (c == '\n')
			return true;
	}
	return false;
}

static edge_frame_event
feed_body(edge_framer *f, const char *in, size_t n, size_t *used, edge_buf *out)
{
	size_t i = 0;
	bool is_bad = false;
	edge_frame_event ev = EDGE_FRAME_MORE;

	while (ev == EDGE_FRAME_MORE && (i < n || f->state == ST_BODY_START)) {
		switch (f->state) {
		case ST_BODY_START:
			f->body_seen = 0;
			if (f->head.is_chunked) {
				f->state = ST_CHUNK_SIZE;
			} else if (f->head.content_length > 0) {
				f->left = f->head.content_length;
				f->state = ST_LENGTH;
			} else {
				f->state = ST_HEAD;
				ev = EDGE_FRAME_END;
			}
			break;
		case ST_LENGTH:
		case ST_CHUNK_DATA: {
			size_t k = n - i < f->left ? n - i : (size_t)f->left;

			edge_buf_append(out, in + i, k);
			i += k;
			f->left -= k;
			if (f->left == 0 && f->state == ST_LENGTH) {
				f->state = ST_HEAD;
				ev = EDGE_FRAME_END;
			} else if (f->left == 0) {
				f->state =
				    ST_CHUNK_CRLF; // left now counts CR, LF
			}
			break;
		}
		case ST_CHUNK_CRLF: // exactly CRLF; left counts its bytes
			if (in[i++] != "\r\n"[f->left]) {
				ev = reject(f, EDGE_REJECT_BAD_CHUNK);
			} else if (++f->left == 2) {
				edge_buf_append(out, "\r\n", 2);
				f->state = ST_CHUNK_SIZE;
			}
			break;
		case ST_CHUNK_SIZE:
			if (collect_line(f, in, n, &i, CHUNK_LINE_MAX, &is_bad))
				ev = chunk_size_line(f, out);
			else if (is_bad)
				ev = reject(f, EDGE_REJECT_BAD_CHUNK);
			break;
		case ST_TRAILER:
			/* Trailer fields are read and dropped; the end is
			 * "\r\n". */
			if (!collect_line(
			        f, in, n, &i, f->lim.max_head, &is_bad)) {
				if (is_bad)
					ev = reject(
					    f, EDGE_REJECT_TRAILERS_TOO_LARGE);
				break;
			}
			if (f->acc.len == 2) {
				f->acc.len = 0;
				edge_buf_append(out, "0\r\n\r\n", 5);
				f->state = ST_HEAD;
				ev = EDGE_FRAME_END;
			} else if (!memchr(f->acc.p, ':', f->acc.len) ||
			           f->acc.p[0] == ' ' || f->acc.p[0] == '\t') {
				ev = reject(f, EDGE_REJECT_BAD_CHUNK);
			} else {
				f->acc.len = 0;
			}
			break;
		default:
			ev = reject(f, EDGE_REJECT_MALFORMED);
		}
	}
	*used = i;
	return ev;
}

edge_frame_event
edge_framer_feed(
    edge_framer *f, const char *in, size_t n, size_t *used, edge_buf *out)
{
	*used = 0;
	if (f->state == ST_FAILED)
		return EDGE_FRAME_ERROR;
	if (f->state == ST_HEAD) {
		f->has_head = false;
		return feed_head(f, in, n, used, out);
	}
	return feed_body(f, in, n, used, out);
}
