/*
 * Responses of the edge's HTTP server: the body plus the headers every
 * answer carries (X-Request-Id, security headers, CORS, Retry-After,
 * Idempotency-Key, Connection: close while draining).
 */
#include "http_internal.h"

#include <stdlib.h>
#include <string.h>

#include "headers.h"
#include "render.h"

const char *
edge_req_header(const edge_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static bool
add_header(struct MHD_Response *resp, const char *name, const char *value)
{
	return MHD_add_response_header(resp, name, value) == MHD_YES;
}

/*
 * Whether the client reached us over TLS: only a trusted proxy (the load
 * balancer, which terminates TLS) is believed on X-Forwarded-Proto.
 */
bool
edge_req_is_https(const edge_req *r)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
	    r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const char *proto = edge_req_header(r, "X-Forwarded-Proto");

	return proto && strcmp(proto, "https") == 0 && ci && ci->client_addr &&
	       edge_cidrs_contain(r->h->app->trusted, ci->client_addr);
}

enum MHD_Result
edge_respond(
    edge_req *r, int status, char *body, const char *allow, bool is_preflight)
{
	const edge_app *app = r->h->app;
	struct MHD_Response *resp;
	edge_header cors[EDGE_CORS_MAX_HEADERS];
	edge_header sec[EDGE_SECURITY_MAX_HEADERS];
	size_t ncors, nsec = edge_security_headers(edge_req_is_https(r), sec);
	bool ok = true;

	if (body)
		resp = MHD_create_response_from_buffer(
		    strlen(body), body, MHD_RESPMEM_MUST_FREE);
	else
		resp = MHD_create_response_from_buffer(
		    0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	if (status != MHD_HTTP_NO_CONTENT && status != MHD_HTTP_NOT_MODIFIED)
		ok = add_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    "application/json; charset=utf-8");
	if (r->etag[0])
		ok = ok && add_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
	ok = ok && add_header(resp, "X-Request-Id", r->request_id);
	for (size_t i = 0; i < nsec; i++)
		ok = ok && add_header(resp, sec[i].name, sec[i].value);
	if (allow)
		ok = ok && add_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	if (r->retry_after[0])
		ok = ok && add_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
		               r->retry_after);
	else if (edge_retry_after(status))
		ok = ok && add_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
		               edge_retry_after(status));
	if (r->rl_policy[0])
		ok = ok && add_header(resp, "RateLimit-Policy", r->rl_policy) &&
		     add_header(resp, "RateLimit", r->rl_state);
	if (r->idempotency_key[0])
		ok = ok &&
		     add_header(resp, "Idempotency-Key", r->idempotency_key);
	ncors = edge_cors_headers(
	    app->cors, edge_req_header(r, "Origin"), is_preflight, cors);
	for (size_t i = 0; i < ncors; i++)
		ok = ok && add_header(resp, cors[i].name, cors[i].value);
	return edge_queue(r, status, resp, ok);
}

enum MHD_Result
edge_queue(edge_req *r, int status, struct MHD_Response *resp, bool ok)
{
	enum MHD_Result ret;

	/* While draining, tell keep-alive clients to go elsewhere. */
	if (ok && atomic_load(&r->h->is_draining))
		ok = add_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	if (!ok) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	atomic_store(&r->state, REQ_ANSWERED);
	ret = MHD_queue_response(r->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES)
		r->http_status = status;
	return ret;
}

enum MHD_Result
edge_respond_error(edge_req *r, int status, const char *message,
    const ta_violations *details, const char *allow)
{
	return edge_respond(
	    r, status, edge_error_json(status, message, details), allow, false);
}

enum MHD_Result
edge_respond_rejection(edge_req *r, edge_rejection why, const char *allow)
{
	return edge_respond_error(r, edge_rejection_status(why),
	    edge_rejection_message(why), NULL, allow);
}

enum MHD_Result
edge_respond_conditional(edge_req *r, int http_status)
{
	if (http_status == MHD_HTTP_NOT_MODIFIED)
		return edge_respond(r, http_status, NULL, NULL, false);
	return edge_respond_error(r, http_status, EDGE_IF_MATCH_FAILED, NULL,
	    NULL);
}
