/*
 * Answers with one of the browser console's embedded files (console.h):
 * its media type, strong ETag, Cache-Control: no-cache and the console's
 * strict Content-Security-Policy in place of the API's, plus the other
 * security headers and X-Request-Id every answer carries.
 */
#include "http_internal.h"

#include <string.h>
#include <strings.h>

#include "headers.h"
#include "render.h"

static bool
add_header(struct MHD_Response *resp, const char *name, const char *value)
{
	return MHD_add_response_header(resp, name, value) == MHD_YES;
}

/* The API's security headers, with the console's cache and CSP values. */
static bool
add_security_headers(const edge_req *r, struct MHD_Response *resp)
{
	edge_header sec[EDGE_SECURITY_MAX_HEADERS];
	size_t n = edge_security_headers(edge_req_is_https(r), sec);
	bool ok = true;

	for (size_t i = 0; i < n && ok; i++) {
		const char *value = sec[i].value;

		if (strcasecmp(sec[i].name, "Cache-Control") == 0)
			value = EDGE_CONSOLE_CACHE;
		else if (strcasecmp(sec[i].name, "Content-Security-Policy") ==
		         0)
			value = EDGE_CONSOLE_CSP;
		ok = add_header(resp, sec[i].name, value);
	}
	return ok;
}

enum MHD_Result
edge_respond_asset(edge_req *r)
{
	const edge_asset *a = r->asset;
	struct MHD_Response *resp;
	int status = MHD_HTTP_OK;
	bool ok;

	if (strcmp(r->method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(r->method, MHD_HTTP_METHOD_HEAD) != 0)
		return edge_respond_rejection(
		    r, EDGE_REJECT_METHOD, EDGE_CONSOLE_ALLOW);
	if (edge_cond_status(MHD_HTTP_METHOD_GET,
	        edge_req_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH), NULL, false,
	        a->etag) == MHD_HTTP_NOT_MODIFIED)
		status = MHD_HTTP_NOT_MODIFIED;
	/* The bytes are static: MHD sends them in place (HEAD: none). */
	resp =
	    MHD_create_response_from_buffer(status == MHD_HTTP_OK ? a->len : 0,
	        (void *)a->data, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	ok = add_header(resp, MHD_HTTP_HEADER_ETAG, a->etag) &&
	     add_header(resp, "X-Request-Id", r->request_id) &&
	     add_security_headers(r, resp);
	if (ok && status == MHD_HTTP_OK)
		ok = add_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->type);
	return edge_queue(r, status, resp, ok);
}
