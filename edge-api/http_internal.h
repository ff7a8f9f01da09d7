/*
 * Internal to the edge's HTTP server (http.c, daemon.c, respond.c,
 * request_in.c): the server and per-request state, and the functions
 * they share. Not for other modules.
 */
#ifndef EDGE_API_HTTP_INTERNAL_H
#define EDGE_API_HTTP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "client_addr.h"
#include "conditional.h"
#include "console.h"
#include "front.h"
#include "http.h"
#include "idempotency.h"
#include "jwt.h"
#include "render.h"
#include "request.h"
#include "transcode.h"

/*
 * libmicrohttpd's memory per connection (MHD_OPTION_CONNECTION_MEMORY_LIMIT):
 * a head of EDGE_FRAME_MAX_HEAD bytes with its parsed fields fits with room
 * to spare (tests/fuzz/fuzz_mhd.c checks that libmicrohttpd serves every
 * head the front passes).
 */
#define EDGE_MHD_POOL_BYTES (64 * 1024)

struct edge_http {
	const edge_app *app; /* borrowed: outlives the server */
	edge_front *front;   /* its threads run one daemon each (daemon.c) */
	atomic_long active;     /* requests not yet completed */
	atomic_long suspended;  /* connections waiting on an RPC */
	atomic_bool is_draining;
};

/*
 * One front thread's libmicrohttpd (daemon.c), the cls of its callbacks.
 * wake is that thread's eventfd: writing to it makes the thread run the
 * daemon, which then takes in connections resumed by other threads.
 */
typedef struct edge_server {
	edge_http *h; /* borrowed */
	struct MHD_Daemon *daemon;
	int wake; /* borrowed: the front thread's */
} edge_server;

enum req_state { REQ_NEW, REQ_WAITING, REQ_DONE, REQ_ANSWERED };

typedef struct edge_req {
	edge_http *h;                /* borrowed */
	int wake;                    /* borrowed: its edge_server's */
	struct MHD_Connection *conn; /* borrowed: MHD's */
	const char *method;          /* borrowed: MHD's, lives as the request */
	int64_t start_us;
	char request_id[EDGE_REQUEST_ID_MAX + 1];
	ta_status match_status;
	edge_match match; /* borrows the URL and the router */
	char *body;       /* owned; NUL-terminated */
	size_t len, cap;
	size_t received; /* body bytes seen, kept or not */
	bool is_too_big;
	ProtobufCMessage *request; /* owned: free_unpacked */
	ta_claims claims;          /* owned when has_claims */
	bool has_claims;
	bool is_noop;      /* an update naming no field: the route's noop RPC */
	const char *if_match;        /* borrowed: MHD's; NULL when none */
	char etag[EDGE_ETAG_MAX];    /* the reply's, sent as ETag; "" none */
	const edge_asset *asset; /* a console file at an API-less path */
	ta_rpc_call *call; /* owned */
	char idempotency_key[EDGE_IDEMPOTENCY_KEY_MAX + 1]; /* "" when none */
	atomic_int state;
	int http_status;                 /* the status answered, for the log */
	char client_addr[EDGE_ADDR_MAX]; /* client_addr.h; "" unknown */
	/* A 429's headers; "" when not answering one. */
	char retry_after[24];
	char rl_policy[EDGE_RL_HEADER_MAX];
	char rl_state[EDGE_RL_HEADER_MAX];
} edge_req;

/* The value of request header name, or NULL. */
const char *edge_req_header(const edge_req *r, const char *name);

/*
 * Queues status with body (owned, a heap string; NULL for none) plus the
 * headers every response carries: Content-Type (except 204), X-Request-Id,
 * the security headers (headers.h), and the CORS headers for the request's
 * Origin; allow, when given, as Allow.
 */
enum MHD_Result edge_respond(
    edge_req *r, int status, char *body, const char *allow, bool is_preflight);

/*
 * Queues resp (taken: destroyed here) as r's answer with status, adding
 * Connection: close while draining; ok false (a header failed) answers
 * MHD_NO instead. edge_respond and the console assets end here.
 */
enum MHD_Result edge_queue(
    edge_req *r, int status, struct MHD_Response *resp, bool ok);

/*
 * Whether the client reached us over TLS: only a trusted proxy (the load
 * balancer, which terminates TLS) is believed on X-Forwarded-Proto.
 */
bool edge_req_is_https(const edge_req *r);

/*
 * Answers r with its console file r->asset (console_respond.c): 200, or
 * 304 on a matching If-None-Match, for GET and HEAD; 405 otherwise.
 */
enum MHD_Result edge_respond_asset(edge_req *r);

/* Queues the JSON error of status (render.h), details may be NULL. */
enum MHD_Result edge_respond_error(edge_req *r, int status, const char *message,
    const ta_violations *details, const char *allow);

/* Queues one of the edge's own rejections (render.h); allow as above. */
enum MHD_Result edge_respond_rejection(
    edge_req *r, edge_rejection why, const char *allow);

/*
 * Queues the edge's conditional answer http_status (edge_cond_status):
 * 304 without a body, or 412; both with the ETag.
 */
enum MHD_Result edge_respond_conditional(edge_req *r, int http_status);

/* Whether Content-Length is above cap (answered before any body). */
bool edge_req_is_declared_too_big(const edge_req *r, long cap);

/* Adds body bytes; past cap the body is dropped and is_too_big set. */
void edge_req_body_append(edge_req *r, const char *data, size_t n, long cap);

/*
 * Fills r->request with the call builder (request_build.h) from r's body,
 * query, path parameters and headers (request_in.c). *is_ok false: an
 * answer was queued (or failed), return what it returned.
 */
enum MHD_Result edge_req_build(
    edge_req *r, const edge_resolved_route *rt, bool *is_ok);

/* libmicrohttpd's access handler and completion callback (http.c). */
enum MHD_Result edge_http_handle(void *cls, struct MHD_Connection *conn,
    const char *url, const char *method, const char *version,
    const char *upload, size_t *upload_size, void **con_cls);
void edge_http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe);

/* Sets r->client_addr from the peer and X-Forwarded-For (throttle.c). */
void edge_req_client_addr(edge_req *r);

/*
 * Takes a token from each per-address bucket of rt; true when one refused
 * and a 429 was queued (*ret is what queuing returned).
 */
bool edge_req_throttle(
    edge_req *r, const edge_resolved_route *rt, enum MHD_Result *ret);

/*
 * 429 when call failed on the client's own limit (a RateLimit in the
 * reply), with r's 429 headers set; 0 otherwise.
 */
int edge_req_limited_status(edge_req *r, const ta_rpc_call *call);

#endif
