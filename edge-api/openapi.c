/*
 * Access to the embedded OpenAPI document. The bytes come from a C file
 * that edge-api/CMakeLists.txt generates from docs/openapi.json in the
 * build tree (embed_json.cmake), so the binary and the document it serves
 * cannot drift apart.
 */
#include "openapi.h"

/* Defined in the generated openapi_doc.c. */
extern const unsigned char edge_openapi_doc[];
extern const size_t edge_openapi_doc_len;

const char *
edge_openapi_json(size_t *len)
{
	if (len)
		*len = edge_openapi_doc_len;
	return (const char *)edge_openapi_doc;
}
