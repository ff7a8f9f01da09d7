/*
 * The one place that turns an outcome into an HTTP status and renders the
 * contract's error body {"error", "message", "details"?}: RPC failures and
 * the edge's own rejections (400, 404, 405, 408, 413, 414, 415, 431, 501,
 * 503, 505, ...) alike.
 */
#ifndef EDGE_API_RENDER_H
#define EDGE_API_RENDER_H

#include "status.h"
#include "violations.h"
#include "taskapi/v1/envelope.pb-c.h"

/*
 * The edge's own rejections: requests it answers without asking a worker.
 * Each has one row (HTTP status, message) in render.c; every caller names
 * the rejection, none spells its status.
 */
typedef enum edge_rejection {
	EDGE_REJECT_NO_ROUTE,             /* 404 */
	EDGE_REJECT_METHOD,               /* 405, with Allow */
	EDGE_REJECT_BODY_TOO_LARGE,       /* 413 */
	EDGE_REJECT_NOT_JSON,             /* 415 */
	EDGE_REJECT_CHARSET,              /* 415 */
	EDGE_REJECT_NOT_OBJECT,           /* 400 */
	EDGE_REJECT_IDEMPOTENCY_KEY,      /* 400 */
	EDGE_REJECT_INFLIGHT,             /* 503 */
	EDGE_REJECT_CONNECTIONS,          /* 503 */
	EDGE_REJECT_CONNECTIONS_PER_ADDR, /* 429 */
	EDGE_REJECT_BARE_CR,              /* 400 */
	EDGE_REJECT_BARE_LF,              /* 400 */
	EDGE_REJECT_NUL,                  /* 400 */
	EDGE_REJECT_HEADERS_TOO_LARGE,    /* 431 */
	EDGE_REJECT_URI_TOO_LONG,         /* 414 */
	EDGE_REJECT_TRAILERS_TOO_LARGE,   /* 431 */
	EDGE_REJECT_BAD_CHUNK,            /* 400 */
	EDGE_REJECT_MALFORMED,            /* 400 */
	/* The request head (head.c). */
	EDGE_REJECT_OBS_FOLD,              /* 400 */
	EDGE_REJECT_SPACE_BEFORE_COLON,    /* 400 */
	EDGE_REJECT_BAD_FIELD,             /* 400 */
	EDGE_REJECT_FIELD_CHAR,            /* 400 */
	EDGE_REJECT_DUP_LENGTH,            /* 400 */
	EDGE_REJECT_BAD_LENGTH,            /* 400 */
	EDGE_REJECT_LENGTH_TOO_LONG,       /* 413 */
	EDGE_REJECT_DUP_CODING,            /* 400 */
	EDGE_REJECT_CODING,                /* 501 */
	EDGE_REJECT_TARGET_TOO_LONG,       /* 414 */
	EDGE_REJECT_TARGET_CHAR,           /* 400 */
	EDGE_REJECT_BAD_TARGET,            /* 400 */
	EDGE_REJECT_TOO_MANY_PARAMS,       /* 414 */
	EDGE_REJECT_BAD_REQUEST_LINE,      /* 400 */
	EDGE_REJECT_REQUEST_LINE_TOO_LONG, /* 414 */
	EDGE_REJECT_VERSION,               /* 505 */
	EDGE_REJECT_HEAD_FIELDS_TOO_LARGE, /* 431 */
	EDGE_REJECT_TOO_MANY_FIELDS,       /* 431 */
	EDGE_REJECT_DUP_HOST,              /* 400 */
	EDGE_REJECT_NO_HOST,               /* 400 */
	EDGE_REJECT_LENGTH_AND_CODING,     /* 400 */
	EDGE_REJECT_BAD_HEAD,              /* 400 */
	/* The relay's clocks and shutdown (relay.c). */
	EDGE_REJECT_HEAD_TIMEOUT,          /* 408 */
	EDGE_REJECT_BODY_TIMEOUT,          /* 408 */
	EDGE_REJECT_SHUTTING_DOWN,         /* 503 */
} edge_rejection;

/* The HTTP status of a rejection. */
int edge_rejection_status(edge_rejection why);

/* The client-facing message of a rejection; static storage. */
const char *edge_rejection_message(edge_rejection why);

/*
 * The HTTP status of status on a route: success (200/201) for TA_OK; 503
 * for any failure of a health route (flags has EDGE_ROUTE_HEALTH: the
 * backend or its database is down); 503 for RESOURCE_EXHAUSTED (a worker
 * out of capacity); otherwise ta_status_to_http.
 */
int edge_http_status(ta_status status, unsigned flags, int success);

/*
 * edge_http_status for a worker's reply with its violations (v, borrowed):
 * an INVALID_ARGUMENT whose one violation is on TA_IDEM_REUSE_FIELD (an
 * Idempotency-Key first used for another request) is 422, as the IETF
 * Idempotency-Key draft has it; everything else as edge_http_status.
 */
int edge_reply_http_status(
    ta_status status, unsigned flags, int success, const ta_violations *v);

/*
 * The Retry-After value (seconds, a static string) to send with
 * http_status, or NULL for none: every 503 (no instance, overload,
 * draining) carries one.
 */
const char *edge_retry_after(int http_status);

/*
 * The body of GET /health while the edge drains after SIGTERM, in the
 * error shape plus "status":"draining"; a heap string the caller free()s.
 */
char *edge_draining_json(void);

/*
 * The error body for http_status, as a heap string the caller free()s.
 * "error" is the reason phrase; "message" is message, or the reason phrase
 * when message is NULL or empty; a 500 always says "Internal server error"
 * (never internals). "details" ([{"field","message"}...]) only when
 * details has items; details may be NULL.
 */
char *edge_error_json(
    int http_status, const char *message, const ta_violations *details);

/* Appends the field violations of a reply envelope to v (copies). */
void edge_violations_from_reply(
    const Taskapi__V1__ReplyEnvelope *reply, ta_violations *v);

#endif
