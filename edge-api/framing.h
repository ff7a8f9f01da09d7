/*
 * HTTP/1.1 request framing for the edge's front (RFC 9112): an incremental
 * parser that checks every request head and body framing of a client's byte
 * stream and re-emits it in one canonical form for libmicrohttpd, or stops
 * with the status to answer. Pure: no sockets, so unit tests reach it.
 */
#ifndef EDGE_API_FRAMING_H
#define EDGE_API_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "request.h"

/* A growable byte buffer; bytes [off, len) are pending. */
typedef struct edge_buf {
	char *p; /* owned */
	size_t off, len, cap;
} edge_buf;

void edge_buf_append(edge_buf *b, const void *data, size_t n);
size_t edge_buf_pending(const edge_buf *b);
void edge_buf_consume(edge_buf *b, size_t n);
void edge_buf_fini(edge_buf *b);

/* What the framer enforces. */
typedef struct edge_frame_limits {
	size_t max_head;   /* request line + fields: 431 beyond */
	size_t max_target; /* request target: 414 beyond */
	size_t max_fields; /* header fields: 431 beyond */
	size_t max_params; /* query parameters: 414 beyond */
	uint64_t max_body; /* body bytes (MAX_BODY_BYTES): 413 beyond */
} edge_frame_limits;

/* The defaults the edge runs with (max_body from MAX_BODY_BYTES). */
#define EDGE_FRAME_MAX_HEAD 16384
#define EDGE_FRAME_MAX_TARGET 8192
#define EDGE_FRAME_MAX_FIELDS 100
#define EDGE_FRAME_MAX_PARAMS 100

/* What a parsed head says; strings are copies, "" when absent. */
typedef struct edge_head {
	char method[24];
	char request_id[EDGE_REQUEST_ID_MAX + 1]; /* only a valid one */
	char origin[256];                         /* "" when absent or long */
	bool is_chunked;
	bool has_body; /* chunked, or Content-Length > 0 */
	uint64_t content_length;
} edge_head;

/*
 * Parses one complete head (request line through the empty line, CRLFs
 * included) into h and appends its canonical form to out: origin-form
 * target, one "Name: value" per field with the value's outer whitespace
 * dropped. Returns 0, or the status to answer (400, 413, 414, 431, 501,
 * 505) with *reason a static sentence. Rejected: malformed request line,
 * control characters (NUL, CR, LF, ...) anywhere, obs-fold, whitespace
 * before a colon, HTTP/1.1 without exactly one Host, duplicate
 * Content-Length or Transfer-Encoding, both together, any coding but
 * "chunked", and the limits in lim.
 */
int edge_head_parse(const char *buf, size_t len, const edge_frame_limits *lim,
    edge_head *h, edge_buf *out, const char **reason);

/* What edge_framer_feed stopped for. */
typedef enum edge_frame_event {
	EDGE_FRAME_MORE,  /* all input used; feed more */
	EDGE_FRAME_HEAD,  /* a head was checked and written: see f->head */
	EDGE_FRAME_END,   /* the request's body (if any) ended */
	EDGE_FRAME_ERROR, /* f->status and f->reason say what to answer */
} edge_frame_event;

/* One client stream's parser state; plain data, edge_framer_fini frees. */
typedef struct edge_framer {
	edge_frame_limits lim;
	int state;
	edge_buf acc;       /* head or chunk line being collected */
	uint64_t left;      /* body or chunk bytes still to pass */
	uint64_t body_seen; /* decoded body bytes of this request */
	bool has_head;      /* head holds the current request's */
	bool after_cr;      /* skipped a CR before a request line */
	edge_head head;
	int status;         /* on EDGE_FRAME_ERROR */
	const char *reason; /* on EDGE_FRAME_ERROR; static */
} edge_framer;

void edge_framer_init(edge_framer *f, const edge_frame_limits *lim);
void edge_framer_fini(edge_framer *f);

/* Whether f waits for (the rest of) a request head. */
bool edge_framer_in_head(const edge_framer *f);

/* Whether every request fed so far is complete (none begun since). */
bool edge_framer_at_boundary(const edge_framer *f);

/*
 * Feeds in[0..n): appends what may be forwarded to out and sets *used to
 * the input consumed, then returns why it stopped. After EDGE_FRAME_ERROR
 * the stream is over: feed nothing more.
 */
edge_frame_event edge_framer_feed(
    edge_framer *f, const char *in, size_t n, size_t *used, edge_buf *out);

#endif
