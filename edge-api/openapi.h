/*
 * The OpenAPI 3.1 document of the public API (docs/openapi.json), embedded
 * in the binary at build time and served by the edge at GET /openapi.json.
 */
#ifndef EDGE_API_OPENAPI_H
#define EDGE_API_OPENAPI_H

#include <stddef.h>

/*
 * The document's bytes, NUL-terminated, in static storage (never freed);
 * *len, when len is not NULL, gets their number without the NUL.
 */
const char *edge_openapi_json(size_t *len);

#endif
