/*
 * The edge's call builder, in plain data: a matched route, the headers it
 * reads and the body bytes in, the request message (or the answer that
 * refuses it) out; and a worker's reply message out as the JSON body, the
 * ETag taken out of it, or the status that replaces it (204, 304, 412).
 * No libmicrohttpd: request_in.c fills the inputs from a connection, and
 * unit tests fill them by hand.
 */
#ifndef EDGE_API_REQUEST_BUILD_H
#define EDGE_API_REQUEST_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "conditional.h"
#include "query.h"
#include "render.h"
#include "routes.h"
#include "violations.h"

/* What the builder reads of one request; every pointer borrowed. */
typedef struct edge_build_in {
	const edge_resolved_route *route;
	const edge_param *params; /* the path parameters (edge_match) */
	size_t nparams;
	const char *content_type;  /* Content-Type; NULL when absent */
	const char *authorization; /* Authorization; NULL when absent */
	const char *if_match;      /* edge_cond_if_match's; NULL when none */
	const char *body; /* len bytes, NUL-terminated; NULL for none */
	size_t len;
	const edge_query_param *query; /* in order (EDGE_ROUTE_QUERY) */
	size_t nquery;
	const char *request_id; /* for the log line of a broken route */
} edge_build_in;

/* How edge_request_build ended. */
typedef enum edge_build_result {
	EDGE_BUILD_OK,       /* out->request is the message to send */
	EDGE_BUILD_REJECTED, /* answer out->why (render.h) */
	EDGE_BUILD_INVALID,  /* answer 400 out->message with out->details */
	EDGE_BUILD_INTERNAL, /* answer 500 (a route row is broken; logged) */
} edge_build_result;

typedef struct edge_build_out {
	ProtobufCMessage *request; /* owned on EDGE_BUILD_OK, else NULL */
	bool is_noop; /* an update naming no field: the route's noop RPC */
	edge_rejection why;    /* on EDGE_BUILD_REJECTED */
	const char *message;   /* on EDGE_BUILD_INVALID; static */
	ta_violations details; /* on EDGE_BUILD_INVALID; caller finishes */
} edge_build_out;

/*
 * Builds the request message of in->route (its input, or its noop's for
 * an update naming no field) from the JSON body (EDGE_ROUTE_BODY), the
 * query (EDGE_ROUTE_QUERY), the path parameters, If-Match and the bearer
 * token (EDGE_ROUTE_TOKEN). The path wins: a body key named like a path
 * parameter is dropped, so it neither overrides the id nor enters the
 * update mask. *out (caller's storage) is zeroed first; the caller frees
 * out->request with protobuf_c_message_free_unpacked and finishes
 * out->details whatever the result.
 */
edge_build_result edge_request_build(
    const edge_build_in *in, edge_build_out *out);

/* What the reply renderer reads besides the reply message. */
typedef struct edge_render_in {
	const edge_resolved_route *route;
	bool is_noop;              /* the call was the route's noop RPC */
	const char *method;        /* "GET", ... */
	const char *if_none_match; /* NULL when absent */
	const char *if_match;      /* NULL when none */
} edge_render_in;

typedef struct edge_rendered {
	int status; /* the HTTP status to answer */
	char *body; /* heap JSON the caller frees; NULL: no body or 500 */
	bool is_conditional; /* status is edge_cond_status's (304 or 412) */
	char etag[EDGE_ETAG_MAX]; /* taken out of the reply; "" for none */
} edge_rendered;

/*
 * Renders reply (a message of the RPC's output, borrowed) into *out:
 * the route's success status with no body for 204; 304 or 412 with
 * is_conditional when the ETag answers the request's conditions; else the
 * success status and the JSON body without its etag key, with the noop's
 * "message" added for a noop. TA_INTERNAL (status 500, no body) when the
 * JSON cannot be made.
 */
ta_status edge_reply_render(const ProtobufCMessage *reply,
    const edge_render_in *in, edge_rendered *out);

#endif
