/*
 * Conditional requests at the edge (RFC 9110 section 13): the If-Match a
 * route passes to its worker, the ETag a reply carries, and the answers
 * the edge gives from a reply's tag (304 for If-None-Match, 412 for an
 * If-Match on an update that changes nothing). Pure: no MHD, no sockets.
 */
#ifndef EDGE_API_CONDITIONAL_H
#define EDGE_API_CONDITIONAL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "etag.h"
#include "status.h"

/* The field of a reply (top level) that becomes the ETag header. */
#define EDGE_ETAG_FIELD "etag"
#define EDGE_ETAG_MAX TA_ETAG_MAX
/* The request field If-Match fills on EDGE_ROUTE_CONDITIONAL routes. */
#define EDGE_IF_MATCH_FIELD "if_match"

/* The message of a failed If-Match (412), as task-svc words it. */
#define EDGE_IF_MATCH_FAILED                                                   \
	"The task has changed: If-Match does not match its current ETag"

/* The message of a malformed If-Match (400, details name the header). */
#define EDGE_IF_MATCH_MALFORMED "If-Match must be * or a list of entity tags"

/*
 * The If-Match of a request (header, borrowed, NULL when absent) on a
 * route with flags: *value is header on a route with
 * EDGE_ROUTE_CONDITIONAL, NULL otherwise (the header is ignored there).
 * TA_INVALID_ARGUMENT (*value untouched) when the route takes it and the
 * value is malformed (etag.h).
 */
ta_status edge_cond_if_match(
    unsigned flags, const char *header, const char **value);

/*
 * Takes the top-level EDGE_ETAG_FIELD string out of json (a reply as JSON)
 * into buf (cap bytes): the header carries it, never the body. Returns
 * whether there was one that fits (a longer one is dropped all the same).
 */
bool edge_cond_take_etag(cJSON *json, char *buf, size_t cap);

/*
 * The status to answer instead of a successful reply whose tag is etag:
 * 304 when method is GET or HEAD and if_none_match (NULL when absent; a
 * malformed one is ignored) matches etag by weak comparison; 412 when the
 * call was an update naming no field (is_noop, answered by a read) and
 * if_match (NULL when absent) does not match by strong comparison; 0
 * otherwise, and always 0 for an empty etag.
 */
int edge_cond_status(const char *method, const char *if_none_match,
    const char *if_match, bool is_noop, const char *etag);

#endif
