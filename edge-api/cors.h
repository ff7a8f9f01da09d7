/*
 * CORS decisions for CORS_ALLOWED_ORIGINS (a comma-separated list of
 * origins, or "*"). Pure: returns the headers to add, touches no socket.
 */
#ifndef EDGE_API_CORS_H
#define EDGE_API_CORS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct edge_cors edge_cors;

/* One response header; name and value are borrowed. */
typedef struct edge_header {
	const char *name;
	const char *value;
} edge_header;

/* The most headers edge_cors_headers writes. */
#define EDGE_CORS_MAX_HEADERS 8

#define EDGE_CORS_METHODS "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
#define EDGE_CORS_ALLOW_HEADERS                                                \
	"Authorization, Content-Type, Idempotency-Key, If-Match, "             \
	"If-None-Match, X-Request-Id"
#define EDGE_CORS_EXPOSE_HEADERS                                               \
	"X-Request-Id, Idempotency-Key, Retry-After, ETag, RateLimit, "        \
	"RateLimit-Policy"

/*
 * Parses list (borrowed only during the call): origins separated by commas,
 * spaces around them ignored, "*" allowing any origin; empty or NULL turns
 * CORS off. Never fails.
 */
edge_cors *edge_cors_new(const char *list);
void edge_cors_free(edge_cors *c);

/* Whether CORS is configured at all. */
bool edge_cors_is_enabled(const edge_cors *c);

/* Whether origin (the Origin header, may be NULL) is allowed. */
bool edge_cors_is_allowed(const edge_cors *c, const char *origin);

/*
 * Fills out (room for EDGE_CORS_MAX_HEADERS) with the CORS headers of a
 * response to a request from origin, and returns how many. An origin
 * listed by name gets Allow-Origin (echoed) and Allow-Credentials: true;
 * one allowed only by "*" gets Allow-Origin: * and never credentials (the
 * API takes bearer headers; no cookie mode is needed). Either also gets
 * Expose-Headers or, for a preflight, Allow-Methods, Allow-Headers and
 * Max-Age. With origins listed by name, every response carries
 * "Vary: Origin". Values borrow origin.
 */
size_t edge_cors_headers(const edge_cors *c, const char *origin,
    bool is_preflight, edge_header *out);

#endif
