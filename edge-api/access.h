/*
 * The per-request access line (event "http_request") on stdout; each
 * request is also counted in the per-route metrics (metrics.h).
 */
#ifndef EDGE_API_ACCESS_H
#define EDGE_API_ACCESS_H

#include <stdbool.h>
#include <stdint.h>

/* One finished request; strings borrowed. */
typedef struct edge_access {
	const char *request_id;
	const char *method;       /* as the client sent it */
	const char *route_method; /* the route's method; NULL: unmatched */
	const char *pattern;      /* "/tasks/{id}"; NULL: unmatched */
	int status;               /* 0: no response was sent */
	int64_t latency_us;
	bool has_user;
	int64_t user_id;
	const char *client_addr; /* NULL or "": not known */
} edge_access;

/*
 * Writes the access line (at level info) and counts the request in the
 * metrics (at any level). Thread-safe.
 */
void edge_access_log(const edge_access *a);

#endif
