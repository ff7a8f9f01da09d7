/*
 * The edge's route table: one row per public route, mapping METHOD and a
 * path pattern with {param} segments to a worker RPC. Pure: matching
 * touches no socket, so unit tests reach it directly.
 */
#ifndef EDGE_API_ROUTES_H
#define EDGE_API_ROUTES_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "status.h"

/* Which worker serves a route; EDGE_BACKEND_NONE: the edge answers. */
typedef enum edge_backend {
	EDGE_BACKEND_NONE = 0,
	EDGE_BACKEND_AUTH,
	EDGE_BACKEND_TASK,
} edge_backend;

/* Route flags. */
enum {
	EDGE_ROUTE_AUTH = 1u << 0,    /* requires a valid bearer token */
	EDGE_ROUTE_BODY = 1u << 1,    /* takes a JSON object body */
	EDGE_ROUTE_MASK = 1u << 2,    /* body keys fill "update_mask" */
	EDGE_ROUTE_TOKEN = 1u << 3,   /* bearer token fills "token" */
	EDGE_ROUTE_HEALTH = 1u << 4,  /* any failure answers 503 */
	EDGE_ROUTE_OPENAPI = 1u << 5, /* the edge serves docs/openapi.json */
	EDGE_ROUTE_LIMIT_LOGIN = 1u << 6,    /* per-address login bucket */
	EDGE_ROUTE_LIMIT_REGISTER = 1u << 7, /* per-address register bucket */
	EDGE_ROUTE_QUERY = 1u << 8, /* query parameters fill request fields
	                               (query.h); without: ignored */
	/* If-Match fills "if_match" (conditional.h); a conditional update
	 * carries an idempotency key. */
	EDGE_ROUTE_CONDITIONAL = 1u << 9,
	/* The body may also be application/merge-patch+json (RFC 7396). */
	EDGE_ROUTE_MERGE_PATCH = 1u << 10,
};

/* One row of the table (plain data). */
typedef struct edge_route {
	const char *method;  /* "GET" */
	const char *pattern; /* "/tasks/{id}" */
	edge_backend backend;
	const ProtobufCServiceDescriptor *service; /* NULL for the edge's own */
	const char *rpc; /* method name in service: "GetTask" */
	unsigned flags;
	int success; /* HTTP status on OK: 200, 201, or 204 (no body) */
} edge_route;

/* A route row resolved against its service descriptor at start. */
typedef struct edge_resolved_route {
	const edge_route *row; /* borrowed: from the caller's table */
	const ProtobufCMethodDescriptor *md; /* NULL for the edge's own */
	char full_method[128]; /* "/taskapi.v1.TaskService/GetTask" */
	/*
	 * For an update RPC listed in routes.c's noop table: the RPC (same
	 * service, same path parameters) called instead when the body names
	 * no field to change, and the "message" added to its reply. An empty
	 * update reads, as the old service answered 200 with the task
	 * unchanged. NULL otherwise.
	 */
	const ProtobufCMethodDescriptor *noop_md;
	const char *noop_message;
	char noop_full_method[128];
} edge_resolved_route;

typedef struct edge_router edge_router;

/* The project's route table (static storage); *n gets its length. */
const edge_route *edge_route_table(size_t *n);

/*
 * Resolves every row of rows (borrowed: must outlive the router) against
 * its service descriptor. TA_INVALID_ARGUMENT with a one-line reason in err
 * when a method name is not in its service, a pattern is malformed or a
 * row repeats METHOD+pattern; *out is set only on TA_OK.
 */
ta_status edge_router_new(const edge_route *rows, size_t n, edge_router **out,
    char *err, size_t errcap);
void edge_router_free(edge_router *r);

#define EDGE_MAX_PARAMS 4
#define EDGE_PARAM_MAX 255 /* a longer parameter fits no route */

/* A path parameter; name points into the pattern, value (decoded) into
 * the match. */
typedef struct edge_param {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
} edge_param;

/* The outcome of edge_route_match. */
typedef struct edge_match {
	const edge_resolved_route *route; /* set on TA_OK */
	const char *pattern;              /* the matched pattern, also on 405 */
	edge_param params[EDGE_MAX_PARAMS];
	size_t nparams;
	char values[EDGE_MAX_PARAMS][EDGE_PARAM_MAX + 1]; /* decoded */
	char allow[96]; /* "GET, HEAD, PUT, PATCH, DELETE, OPTIONS" */
} edge_match;

/*
 * Matches method and the raw (still escaped) path: a query string, if
 * any, is ignored; one trailing slash is dropped; segments split on "/"
 * as sent, so "%2F" never splits one; a literal segment matches with
 * escapes of unreserved characters decoded; a path with a "." or ".."
 * segment fits nothing. Each parameter is then decoded into m->values (a
 * malformed escape, a control character or more than EDGE_PARAM_MAX bytes
 * fit nothing). HEAD matches the GET rows. Among patterns that fit the
 * path, literal segments beat {param} ones, leftmost first. TA_OK with
 * m->route set; TA_NOT_FOUND when no pattern fits the path;
 * TA_UNIMPLEMENTED when a pattern fits but no row has that method
 * (m->pattern and m->allow set: the 405 case). m borrows from the router.
 */
ta_status edge_route_match(
    const edge_router *r, const char *method, const char *path, edge_match *m);

#endif
