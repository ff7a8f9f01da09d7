/*
 * Complete HTTP/1.1 error responses the edge's front writes itself, for
 * requests that never reach libmicrohttpd (refused framing, limits,
 * deadlines). Same JSON error shape and headers as every other answer.
 * Pure: builds bytes, touches no socket.
 */
#ifndef EDGE_API_REPLY_H
#define EDGE_API_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "cors.h"

/*
 * Returns a heap string (the caller frees it; *len its length, the
 * terminating NUL not counted) holding
 * "HTTP/1.1 <status> <reason>", Content-Type: application/json,
 * Content-Length, X-Request-Id: request_id, the security headers,
 * Retry-After on 503 and 429, extra[0..nextra) (borrowed; e.g. CORS),
 * Connection: close, and the body of edge_error_json(status, message)
 * unless is_head.
 */
char *edge_reply_error(int status, const char *message, const char *request_id,
    const edge_header *extra, size_t nextra, bool is_head, size_t *len);

#endif
