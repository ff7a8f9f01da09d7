/*
 * Pure checks of an incoming request's headers: the request id
 * (X-Request-Id) and the body's media type (Content-Type).
 */
#ifndef EDGE_API_REQUEST_H
#define EDGE_API_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#define EDGE_REQUEST_ID_MAX 128

/* Whether s is 1..128 characters of [A-Za-z0-9._:-]. */
bool edge_request_id_is_valid(const char *s);

/*
 * Writes the request id into buf (EDGE_REQUEST_ID_MAX + 1 bytes): header
 * (the X-Request-Id value, may be NULL) when it is valid, else 16 random
 * lower-case hex characters. Returns buf.
 */
char *edge_request_id_pick(const char *header, char *buf);

/*
 * Whether a Content-Type value allows a JSON body: absent (NULL), or the
 * media type application/json in any case, with or without parameters
 * ("application/json; charset=utf-8").
 */
bool edge_content_type_is_json(const char *value);

/*
 * Whether a Content-Type value (not NULL) is the media type
 * application/merge-patch+json (RFC 7396) in any case, with or without
 * parameters.
 */
bool edge_content_type_is_merge_patch(const char *value);

#endif
