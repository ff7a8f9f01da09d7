/*
 * Query parameters -> request message, for routes flagged EDGE_ROUTE_QUERY:
 * each parameter fills the request field of the same name, driven by the
 * message descriptor (the transcoder's text rules). Pure: no MHD, so unit
 * tests reach it directly; http glue collects the pairs.
 */
#ifndef EDGE_API_QUERY_H
#define EDGE_API_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "routes.h"
#include "status.h"
#include "violations.h"

/* Longest parameter name quoted back in a violation. */
#define EDGE_QUERY_NAME_MAX 64

/*
 * One parameter as libmicrohttpd hands it over: key and value still
 * %-escaped (the edge keeps libmicrohttpd from unescaping, see daemon.c),
 * with their lengths; value NULL for a bare "?key" without "=". Both
 * borrowed.
 */
typedef struct edge_query_param {
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
} edge_query_param;

/*
 * Sets the fields of msg (fresh, of the route's input descriptor) named by
 * params[0..n), each name and value decoded as
 * application/x-www-form-urlencoded ("+" a space, "%HH" a byte): scalars,
 * wrappers and google.protobuf.Timestamp from their text (transcode.h,
 * ta_message_set_text: integers, enum names without prefix, RFC 3339); a
 * repeated enum or string field from a comma list. Refused with a violation
 * naming the parameter: a name that is no field of msg, a field of another
 * type, a path parameter's field (path[0..npath), borrowed), a parameter given
 * twice, one without "=", and text that is not UTF-8 or holds a control
 * character (NUL included), or a malformed escape. TA_OK, or
 * TA_INVALID_ARGUMENT with every violation in errs (msg stays freeable).
 */
ta_status edge_query_fill(ProtobufCMessage *msg, const edge_query_param *params,
    size_t n, const edge_param *path, size_t npath, ta_violations *errs);

#endif
