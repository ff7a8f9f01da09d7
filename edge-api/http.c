/*
 * The libmicrohttpd glue of the edge: one request context per HTTP request,
 * driven through match -> body -> bearer -> transcode -> RPC -> render.
 * The request message is built and the reply rendered by the call builder
 * (request_build.c, fed by request_in.c), answers queued in respond.c,
 * the server's start and stop live in daemon.c.
 *
 * Design notes.
 * - Threads: each of the HTTP_THREADS front threads runs its own
 *   libmicrohttpd daemon (daemon.c), which calls handle() and completed();
 *   rpc_done() runs on an nng task thread. A request's context is touched
 *   by one thread at a time: its front thread's until the connection is
 *   suspended, then nng's until MHD_resume_connection (and the wake of the
 *   front thread), then the front thread's again.
 * - Ownership: the request context (edge_req) is created on the first
 *   handler call and owns the body, the cJSON tree, the request message,
 *   the claims and the RPC call (with its reply); completed() frees it
 *   whole. Responses are built from heap strings MHD frees (MUST_FREE).
 * - Suspension: the connection is suspended BEFORE ta_rpc_start, because
 *   rpc_done may fire before the handler returns; rpc_done then resumes it
 *   and MHD calls handle() again, which renders. A suspended connection
 *   never times out in MHD: the RPC deadline (RPC_TIMEOUT_MS, enforced by
 *   the nng aio) is what bounds it.
 * - Bounds: at most EDGE_MAX_INFLIGHT RPCs wait at once; beyond that a
 *   request is answered 503 + Retry-After at once. Every 503 carries
 *   Retry-After (render.c).
 * - Failover: calls of idempotent methods, and of creating methods and
 *   conditional changes (If-Match), which always carry an idempotency key
 *   (the client's Idempotency-Key header or one generated here), are
 *   marked retry-safe: when the instance holding one dies, the RPC client
 *   sends it to another (rpc_client.c).
 * - Drain: edge_http_drain (SIGTERM) turns GET /health to 503 at once and
 *   keeps serving; main.c waits DRAIN_DELAY_S, then closes.
 * - Front: libmicrohttpd has no listening socket. The front (front.h)
 *   accepts, checks every request's framing and limits, and hands each
 *   connection over through a socket pair once its first head passed.
 * - Shutdown: edge_http_close stops accepting (edge_front_quiesce), waits
 *   until no connection is suspended (the RPC deadline bounds that) and the
 *   requests in progress are answered (bounded by wait_ms), then closes
 *   the front, whose threads stop their daemons; every suspended
 *   connection is resumed before MHD_stop_daemon, and rpc_done counts a
 *   connection out only after its resume and wake.
 */
#include "http_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "alloc.h"
#include "bearer.h"
#include "clock.h"
#include "log.h"
#include "openapi.h"
#include "render.h"
#include "request_build.h"

/*
 * Resumes r's connection and wakes its front thread, which runs the
 * daemon after reading its eventfd. libmicrohttpd's own wake-up is not
 * enough in external mode: a resume from an nng thread can have its
 * signal consumed by an MHD_run that already passed its resume check, and
 * a resume made inside the handler itself was measured waiting for the
 * front's next tick (200 ms); MHD_get_timeout sees neither. Last touch of
 * r: MHD may complete and free it once resumed.
 */
static void
req_resume(edge_req *r)
{
	int wake = r->wake;
	uint64_t one = 1;
	ssize_t k;

	MHD_resume_connection(r->conn);
	k = write(wake, &one, sizeof one);
	(void)k; // a full counter still wakes the thread
}

static void
rpc_done(void *arg, ta_rpc_call *call)
{
	edge_req *r = arg;
	edge_http *h = r->h;

	(void)call;
	atomic_store(&r->state, REQ_DONE);
	req_resume(r);
	/*
	 * Only now: edge_http_close stops the daemon once nothing is
	 * suspended, so counting down first would let it free the daemon
	 * (and this connection) before the resume above.
	 */
	atomic_fetch_sub(&h->suspended, 1);
}

static enum MHD_Result
start_call(edge_req *r, const edge_resolved_route *rt)
{
	const edge_app *app = r->h->app;
	Taskapi__V1__Principal principal = TASKAPI__V1__PRINCIPAL__INIT;

	/* Reserve a slot first: the bound holds however many race here. */
	if (atomic_fetch_add(&r->h->suspended, 1) >= app->cfg->max_inflight) {
		atomic_fetch_sub(&r->h->suspended, 1);
		return edge_respond_rejection(r, EDGE_REJECT_INFLIGHT, NULL);
	}

	if (r->has_claims) {
		/* Borrowed by ta_rpc_call_new, which packs at once. */
		principal.user_id = r->claims.user_id;
		principal.username =
		    r->claims.username ? r->claims.username : "";
		principal.email = r->claims.email ? r->claims.email : "";
		principal.role = r->claims.role ? r->claims.role : "";
	}
	r->call = ta_rpc_call_new_from(
	    r->is_noop ? rt->noop_full_method : rt->full_method, r->request_id,
	    app->cfg->rpc_timeout_ms, r->has_claims ? &principal : NULL,
	    r->idempotency_key[0] ? r->idempotency_key : NULL, r->client_addr,
	    r->request);
	if (edge_route_is_idempotent(rt))
		r->call->is_retry_safe = true;
	atomic_store(&r->state, REQ_WAITING);
	/* Before ta_rpc_start: rpc_done may run before we return. */
	MHD_suspend_connection(r->conn);
	if (ta_rpc_start(app->backends[rt->row->backend], r->call, rpc_done,
	        r) != TA_OK) {
		/* Nothing was sent; call->status says why. Render it. */
		edge_http *h = r->h;

		atomic_store(&r->state, REQ_DONE);
		req_resume(r);
		atomic_fetch_sub(&h->suspended, 1);
	}
	return MHD_YES;
}

static enum MHD_Result
render_call(edge_req *r)
{
	const edge_resolved_route *rt = r->match.route;
	const ta_rpc_call *call = r->call;
	ta_violations v = {0};
	ProtobufCMessage *out = NULL;
	enum MHD_Result ret;
	int status;

	if (call->status == TA_OK &&
	    ta_rpc_call_unpack(call,
	        r->is_noop ? rt->noop_md->output : rt->md->output,
	        &out) == TA_OK) {
		edge_render_in in = {
		    .route = rt,
		    .is_noop = r->is_noop,
		    .method = r->method,
		    .if_none_match =
		        edge_req_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH),
		    .if_match = r->if_match,
		};
		edge_rendered done;

		edge_reply_render(out, &in, &done);
		protobuf_c_message_free_unpacked(out, NULL);
		memcpy(r->etag, done.etag, sizeof r->etag);
		if (done.is_conditional)
			return edge_respond_conditional(r, done.status);
		if (done.status == 500)
			return edge_respond_error(r, 500, NULL, NULL, NULL);
		return edge_respond(r, done.status, done.body, NULL, false);
	}
	if (call->status == TA_OK) // payload did not decode
		return edge_respond_error(r, 500, NULL, NULL, NULL);
	if (call->reply)
		edge_violations_from_reply(call->reply, &v);
	status = edge_req_limited_status(r, call);
	if (!status)
		status = edge_reply_http_status(
		    call->status, rt->row->flags, rt->row->success, &v);
	/* Transport failures: the reason phrase, not nng's wording. */
	ret = edge_respond_error(
	    r, status, call->reply ? call->message : NULL, &v, NULL);
	ta_violations_fini(&v);
	return ret;
}

/* The final handler call of a fresh request: decide and answer or call. */
static enum MHD_Result
dispatch(edge_req *r)
{
	const edge_app *app = r->h->app;
	const edge_resolved_route *rt;
	enum MHD_Result ret;
	bool is_ok;

	if (r->asset)
		return edge_respond_asset(r);
	if (strcmp(r->method, MHD_HTTP_METHOD_OPTIONS) == 0 &&
	    r->match_status != TA_NOT_FOUND)
		return edge_respond(r, MHD_HTTP_NO_CONTENT, NULL, NULL, true);
	if (r->match_status == TA_NOT_FOUND)
		return edge_respond_rejection(r, EDGE_REJECT_NO_ROUTE, NULL);
	if (r->match_status != TA_OK)
		return edge_respond_rejection(
		    r, EDGE_REJECT_METHOD, r->match.allow);
	if (r->is_too_big)
		return edge_respond_rejection(
		    r, EDGE_REJECT_BODY_TOO_LARGE, NULL);
	rt = r->match.route;
	if (rt->row->flags & EDGE_ROUTE_OPENAPI)
		return edge_respond(r, rt->row->success,
		    ta_xstrdup(edge_openapi_json(NULL)), NULL, false);
	if (rt->row->backend == EDGE_BACKEND_NONE) {
		char *body;

		/* Draining: tell the load balancer first, serve the rest. */
		if (atomic_load(&r->h->is_draining))
			return edge_respond(
			    r, 503, edge_draining_json(), NULL, false);
		body = ta_xstrdup(
		    "{\"status\":\"healthy\",\"service\":\"edge-api\"}");
		return edge_respond(r, rt->row->success, body, NULL, false);
	}
	if (edge_req_throttle(r, rt, &ret))
		return ret;
	if (rt->row->flags & EDGE_ROUTE_AUTH) {
		const char *reason;
		char *tok = NULL;
		ta_status st = edge_bearer_parse(
		    edge_req_header(r, MHD_HTTP_HEADER_AUTHORIZATION), &tok,
		    &reason);

		if (st == TA_OK)
			st = edge_token_verify(app->tokens, app->jwt, tok,
			    time(NULL), &r->claims, &reason);
		free(tok);
		if (st != TA_OK)
			return edge_respond_error(r, 401, reason, NULL, NULL);
		r->has_claims = true;
		/* Sessions ended since it was issued (docs/sessions.md). */
		if (edge_revocations_is_revoked(app->revocations,
		        r->claims.user_id, r->claims.generation))
			return edge_respond_error(
			    r, 401, "Invalid token", NULL, NULL);
	}
	if (edge_cond_if_match(rt->row->flags,
	        edge_req_header(r, MHD_HTTP_HEADER_IF_MATCH),
	        &r->if_match) != TA_OK) {
		ta_violations v = {0};

		ta_violations_add(&v, "If-Match", EDGE_IF_MATCH_MALFORMED);
		ret = edge_respond_error(
		    r, 400, "Invalid If-Match header", &v, NULL);
		ta_violations_fini(&v);
		return ret;
	}
	/* A conditional change runs once per key: a re-send of one that
	 * succeeded would fail its own precondition (task_store_update). */
	if ((!edge_route_is_idempotent(rt) || r->if_match) &&
	    !edge_idempotency_key_pick(
	        edge_req_header(r, "Idempotency-Key"), r->idempotency_key))
		return edge_respond_rejection(
		    r, EDGE_REJECT_IDEMPOTENCY_KEY, NULL);
	ret = edge_req_build(r, rt, &is_ok);
	if (!is_ok)
		return ret;
	return start_call(r, rt);
}

static edge_req *
req_new(const edge_server *srv, struct MHD_Connection *conn, const char *url,
    const char *method)
{
	edge_req *r = ta_xcalloc(1, sizeof *r);
	edge_http *h = srv->h;

	r->h = h;
	r->wake = srv->wake;
	r->conn = conn;
	r->method = method;
	r->start_us = ta_mono_us();
	atomic_init(&r->state, REQ_NEW);
	edge_request_id_pick(edge_req_header(r, "X-Request-Id"), r->request_id);
	edge_req_client_addr(r);
	r->match_status =
	    edge_route_match(h->app->router, method, url, &r->match);
	/* The console's files live where no API route does. */
	if (r->match_status == TA_NOT_FOUND)
		r->asset = edge_console_find(url);
	atomic_fetch_add(&h->active, 1);
	return r;
}

enum MHD_Result
edge_http_handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	const edge_server *srv = cls;
	edge_http *h = srv->h;
	edge_req *r = *con_cls;

	(void)version;
	if (!r) {
		/* First call: headers only. */
		r = req_new(srv, conn, url, method);
		*con_cls = r;
		if (edge_req_is_declared_too_big(
		        r, h->app->cfg->max_body_bytes))
			return edge_respond_rejection(
			    r, EDGE_REJECT_BODY_TOO_LARGE, NULL);
		return MHD_YES;
	}
	if (*upload_size) {
		r->received += *upload_size;
		edge_req_body_append(
		    r, upload, *upload_size, h->app->cfg->max_body_bytes);
		*upload_size = 0;
		/*
		 * The front answers 413 before a body passes the cap; this is
		 * the second wall (MHD 0.9.75 cannot queue a response while a
		 * body arrives, so all it could do is hang up).
		 */
		if (r->received / 2 > (size_t)h->app->cfg->max_body_bytes)
			return MHD_NO;
		return MHD_YES;
	}
	switch (atomic_load(&r->state)) {
	case REQ_NEW:
		return dispatch(r);
	case REQ_DONE:
		return render_call(r);
	default:
		/* Already answered, or still waiting on the RPC. */
		return MHD_YES;
	}
}

void
edge_http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	const edge_server *srv = cls;
	edge_http *h = srv->h;
	edge_req *r = *con_cls;
	edge_access a;

	(void)conn;
	(void)toe;
	if (!r)
		return;
	a = (edge_access){
	    .request_id = r->request_id,
	    .method = r->method,
	    .route_method = r->match.route ? r->match.route->row->method : NULL,
	    .pattern = r->match.route ? r->match.route->row->pattern : NULL,
	    .status = r->http_status,
	    .latency_us = ta_mono_us() - r->start_us,
	    .has_user = r->has_claims,
	    .user_id = r->claims.user_id,
	    .client_addr = r->client_addr,
	};
	edge_access_log(&a);
	if (r->request)
		protobuf_c_message_free_unpacked(r->request, NULL);
	if (r->has_claims)
		ta_claims_fini(&r->claims);
	ta_rpc_call_free(r->call);
	free(r->body);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&h->active, 1);
}
