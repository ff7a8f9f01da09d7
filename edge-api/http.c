/*
 * The libmicrohttpd glue of the edge: one request context per HTTP request,
 * driven through match -> body -> bearer -> transcode -> RPC -> render.
 *
 * Design notes.
 * - Threads: MHD's HTTP_THREADS epoll threads call handle() and
 *   completed(); rpc_done() runs on an nng task thread. A request's context
 *   is touched by one thread at a time: MHD's until the connection is
 *   suspended, then nng's until MHD_resume_connection, then MHD's again.
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
 * - Failover: calls of idempotent methods, and of creating methods (which
 *   always carry an idempotency key: the client's Idempotency-Key header
 *   or one generated here), are marked retry-safe: when the instance
 *   holding one dies, the RPC client sends it to another (rpc_client.c).
 * - Drain: edge_http_drain (SIGTERM) turns GET /health to 503 at once and
 *   keeps serving; main.c waits DRAIN_DELAY_S, then closes.
 * - Front: libmicrohttpd has no listening socket. The front (front.h)
 *   accepts, checks every request's framing and limits, and hands each
 *   connection over through a socket pair once its first head passed.
 * - Shutdown: edge_http_close stops accepting (edge_front_quiesce), waits
 *   until no connection is suspended (the RPC deadline bounds that) and the
 *   requests in progress are answered (bounded by wait_ms), then stops the
 *   daemon; every suspended connection is resumed before MHD_stop_daemon,
 *   and rpc_done counts a connection out only after its resume.
 */
#include "http.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "access.h"
#include "alloc.h"
#include "bearer.h"
#include "front.h"
#include "headers.h"
#include "idempotency.h"
#include "jwt.h"
#include "log.h"
#include "openapi.h"
#include "render.h"
#include "request.h"
#include "transcode.h"
#include "google/protobuf/field_mask.pb-c.h"

/* libmicrohttpd's memory per connection (MHD_OPTION_CONNECTION_MEMORY_LIMIT). */
#define EDGE_MHD_POOL_BYTES (64 * 1024)

struct edge_http {
	const edge_app *app; /* borrowed: outlives the server */
	struct MHD_Daemon *daemon;
	edge_front *front;
	pthread_mutex_t add_mu; /* hand_over against MHD_stop_daemon */
	bool is_stopped;        /* under add_mu */
	atomic_long active;    /* requests not yet completed */
	atomic_long suspended; /* connections waiting on an RPC */
	atomic_bool is_draining;
};

enum req_state { REQ_NEW, REQ_WAITING, REQ_DONE, REQ_ANSWERED };

typedef struct edge_req {
	edge_http *h;                /* borrowed */
	struct MHD_Connection *conn; /* borrowed: MHD's */
	const char *method;          /* borrowed: MHD's, lives as the request */
	int64_t start_us;
	char request_id[EDGE_REQUEST_ID_MAX + 1];
	ta_status match_status;
	edge_match match; /* borrows the URL and the router */
	char *body;       /* owned; NUL-terminated */
	size_t len, cap;
	size_t received; /* body bytes seen, kept or not */
	bool is_too_big;
	cJSON *json;               /* owned */
	ProtobufCMessage *request; /* owned: free_unpacked */
	ta_claims claims;          /* owned when has_claims */
	bool has_claims;
	bool is_noop; /* an update naming no field: the route's noop RPC */
	ta_rpc_call *call;                             /* owned */
	char idempotency_key[EDGE_IDEMPOTENCY_KEY_MAX + 1]; /* "" when none */
	atomic_int state;
	int http_status; /* the status answered, for the log */
} edge_req;

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *
header_of(const edge_req *r, const char *name)
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
static bool
is_https(const edge_req *r)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
	    r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const char *proto = header_of(r, "X-Forwarded-Proto");

	return proto && strcmp(proto, "https") == 0 && ci &&
	       ci->client_addr &&
	       edge_cidrs_contain(r->h->app->trusted, ci->client_addr);
}

/*
 * Queues status with body (owned, a heap string; NULL for none) plus the
 * headers every response carries: Content-Type (except 204), X-Request-Id,
 * the security headers (headers.h), and the CORS headers for the request's
 * Origin.
 */
static enum MHD_Result
respond(
    edge_req *r, int status, char *body, const char *allow, bool is_preflight)
{
	const edge_app *app = r->h->app;
	struct MHD_Response *resp;
	edge_header cors[EDGE_CORS_MAX_HEADERS];
	edge_header sec[EDGE_SECURITY_MAX_HEADERS];
	size_t ncors, nsec = edge_security_headers(is_https(r), sec);
	enum MHD_Result ret;
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
	if (status != MHD_HTTP_NO_CONTENT)
		ok = add_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    "application/json; charset=utf-8");
	ok = ok && add_header(resp, "X-Request-Id", r->request_id);
	for (size_t i = 0; i < nsec; i++)
		ok = ok && add_header(resp, sec[i].name, sec[i].value);
	if (allow)
		ok = ok && add_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	if (edge_retry_after(status))
		ok = ok && add_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
		               edge_retry_after(status));
	if (r->idempotency_key[0])
		ok = ok &&
		     add_header(resp, "Idempotency-Key", r->idempotency_key);
	ncors = edge_cors_headers(
	    app->cors, header_of(r, "Origin"), is_preflight, cors);
	for (size_t i = 0; i < ncors; i++)
		ok = ok && add_header(resp, cors[i].name, cors[i].value);
	/* While draining, tell keep-alive clients to go elsewhere. */
	if (atomic_load(&r->h->is_draining))
		ok =
		    ok && add_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
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

static enum MHD_Result
respond_error(edge_req *r, int status, const char *message,
    const ta_violations *details, const char *allow)
{
	return respond(
	    r, status, edge_error_json(status, message, details), allow, false);
}

static enum MHD_Result
respond_violations(edge_req *r, ta_violations *v)
{
	enum MHD_Result ret =
	    respond_error(r, 400, "Validation failed", v, NULL);

	ta_violations_fini(v);
	return ret;
}

/* Content-Length above the cap: answered before any body is read. */
static bool
is_declared_too_big(const edge_req *r, long cap)
{
	const char *cl = header_of(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n;
	char *end;

	if (!cl)
		return false;
	errno = 0;
	n = strtoull(cl, &end, 10);
	/* MHD itself rejects a malformed length; overflow counts as large. */
	return errno == ERANGE || (end != cl && n > (unsigned long long)cap);
}

static void
body_append(edge_req *r, const char *data, size_t n, long cap)
{
	if (r->is_too_big)
		return;
	if (r->len + n > (size_t)cap) {
		/* Chunked uploads are counted as they arrive. */
		r->is_too_big = true;
		free(r->body);
		r->body = NULL;
		r->len = r->cap = 0;
		return;
	}
	if (r->len + n + 1 > r->cap) {
		size_t want = r->cap ? r->cap * 2 : 1024;

		while (want < r->len + n + 1)
			want *= 2;
		r->body = ta_xrealloc(r->body, want);
		r->cap = want;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
}

/* Parses the body into r->json: an object, {} when empty. */
static enum MHD_Result
parse_body(edge_req *r, bool *is_ok)
{
	const char *ct = header_of(r, MHD_HTTP_HEADER_CONTENT_TYPE);
	char msg[128];

	*is_ok = false;
	/* Like the old service: a body without Content-Type is not JSON. */
	if (!edge_content_type_is_json(ct) || (!ct && r->len > 0))
		return respond_error(r, 415,
		    "Content-Type must be application/json", NULL, NULL);
	if (r->len == 0) {
		/* Like the old service: the worker reports missing fields. */
		r->json = cJSON_CreateObject();
	} else if (ta_json_parse_strict(
	               r->body, r->len, &r->json, msg, sizeof msg) != TA_OK) {
		return respond_error(
		    r, 400, "Malformed JSON in request body", NULL, NULL);
	}
	if (!r->json)
		return respond_error(r, 500, NULL, NULL, NULL);
	if (!cJSON_IsObject(r->json))
		return respond_error(
		    r, 400, "Request body must be a JSON object", NULL, NULL);
	*is_ok = true;
	return MHD_YES;
}

/* Whether m's update_mask names no field (or m has none). */
static bool
mask_is_empty(const ProtobufCMessage *m)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(
	        m->descriptor, "update_mask");
	const Google__Protobuf__FieldMask *fm =
	    f ? *(Google__Protobuf__FieldMask *const *)(const void *)((
	            const char *)m + f->offset)
	      : NULL;

	return !fm || fm->n_paths == 0;
}

/*
 * Fills r->request from the body and the path parameters. The path wins:
 * a body key named like a path parameter is dropped, so it neither
 * overrides the id nor enters the update mask.
 */
static enum MHD_Result
build_request(edge_req *r, const edge_resolved_route *rt, bool *is_ok)
{
	ta_violations v = {0};
	enum MHD_Result ret = MHD_YES;

	*is_ok = false;
	r->request = ta_message_new(rt->md->input);
	if (rt->row->flags & EDGE_ROUTE_BODY) {
		bool parsed;

		ret = parse_body(r, &parsed);
		if (!parsed)
			return ret;
		for (size_t i = 0; i < r->match.nparams; i++) {
			char *name = ta_xstrndup(r->match.params[i].name,
			    r->match.params[i].name_len);

			cJSON_DeleteItemFromObjectCaseSensitive(r->json, name);
			free(name);
		}
		if (ta_json_to_message(r->json, r->request,
		        (rt->row->flags & EDGE_ROUTE_MASK) ? "update_mask"
		                                           : NULL,
		        &v) != TA_OK)
			return respond_violations(r, &v);
		if (rt->noop_md && mask_is_empty(r->request)) {
			/* Nothing to change: read instead (routes.h). */
			protobuf_c_message_free_unpacked(r->request, NULL);
			r->request = ta_message_new(rt->noop_md->input);
			r->is_noop = true;
		}
	}
	for (size_t i = 0; i < r->match.nparams; i++) {
		const edge_param *p = &r->match.params[i];
		char *name = ta_xstrndup(p->name, p->name_len);
		char *value = ta_xstrndup(p->value, p->value_len);
		ta_status st = ta_message_set_text(r->request, name, value, &v);

		free(name);
		free(value);
		if (st == TA_INVALID_ARGUMENT)
			return respond_violations(r, &v);
		if (st != TA_OK) {
			ta_violations_fini(&v);
			ta_log(TA_LOG_ERROR, "route_param_unknown",
			    "route parameter is not a request field",
			    TA_S("request_id", r->request_id),
			    TA_S("route", rt->row->pattern));
			return respond_error(r, 500, NULL, NULL, NULL);
		}
	}
	if (rt->row->flags & EDGE_ROUTE_TOKEN) {
		char *tok = NULL;
		const char *reason;
		ta_status st;

		/* auth-svc judges the token, also a missing one (""). */
		if (edge_bearer_parse(
		        header_of(r, MHD_HTTP_HEADER_AUTHORIZATION), &tok,
		        &reason) != TA_OK)
			tok = ta_xstrdup("");
		st = ta_message_set_text(r->request, "token", tok, &v);
		free(tok);
		ta_violations_fini(&v);
		if (st != TA_OK)
			return respond_error(r, 500, NULL, NULL, NULL);
	}
	*is_ok = true;
	return ret;
}

static void
rpc_done(void *arg, ta_rpc_call *call)
{
	edge_req *r = arg;
	edge_http *h = r->h;

	(void)call;
	atomic_store(&r->state, REQ_DONE);
	/* Last touch of r: MHD may complete and free it from here on. */
	MHD_resume_connection(r->conn);
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
		return respond_error(
		    r, 503, "Too many requests in flight", NULL, NULL);
	}

	if (r->has_claims) {
		/* Borrowed by ta_rpc_call_new, which packs at once. */
		principal.user_id = r->claims.user_id;
		principal.username =
		    r->claims.username ? r->claims.username : "";
		principal.email = r->claims.email ? r->claims.email : "";
		principal.role = r->claims.role ? r->claims.role : "";
	}
	r->call = ta_rpc_call_new(
	    r->is_noop ? rt->noop_full_method : rt->full_method, r->request_id,
	    app->cfg->rpc_timeout_ms, r->has_claims ? &principal : NULL,
	    r->idempotency_key[0] ? r->idempotency_key : NULL, r->request);
	if (edge_route_is_idempotent(rt))
		r->call->is_retry_safe = true;
	atomic_store(&r->state, REQ_WAITING);
	/* Before ta_rpc_start: rpc_done may run before we return. */
	MHD_suspend_connection(r->conn);
	if (ta_rpc_start(app->backends[rt->row->backend], r->call, rpc_done,
	        r) != TA_OK) {
		/* Nothing was sent; call->status says why. Render it. */
		atomic_store(&r->state, REQ_DONE);
		MHD_resume_connection(r->conn);
		atomic_fetch_sub(&r->h->suspended, 1);
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
	cJSON *json;
	char *body;
	int status;

	if (call->status == TA_OK &&
	    ta_rpc_call_unpack(call,
	        r->is_noop ? rt->noop_md->output : rt->md->output,
	        &out) == TA_OK) {
		json = ta_message_to_json(out);
		if (json && r->is_noop)
			cJSON_AddStringToObject(
			    json, "message", rt->noop_message);
		body = json ? cJSON_PrintUnformatted(json) : NULL;
		cJSON_Delete(json);
		protobuf_c_message_free_unpacked(out, NULL);
		if (body)
			return respond(r, rt->row->success, body, NULL, false);
		return respond_error(r, 500, NULL, NULL, NULL);
	}
	if (call->status == TA_OK) // payload did not decode
		return respond_error(r, 500, NULL, NULL, NULL);
	status =
	    edge_http_status(call->status, rt->row->flags, rt->row->success);
	if (call->reply)
		edge_violations_from_reply(call->reply, &v);
	/* Transport failures: the reason phrase, not nng's wording. */
	ret = respond_error(
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

	if (strcmp(r->method, MHD_HTTP_METHOD_OPTIONS) == 0 &&
	    r->match_status != TA_NOT_FOUND)
		return respond(r, MHD_HTTP_NO_CONTENT, NULL, NULL, true);
	if (r->match_status == TA_NOT_FOUND)
		return respond_error(r, 404, "Route not found", NULL, NULL);
	if (r->match_status != TA_OK)
		return respond_error(
		    r, 405, "Method not allowed", NULL, r->match.allow);
	if (r->is_too_big)
		return respond_error(
		    r, 413, "Request body too large", NULL, NULL);
	rt = r->match.route;
	if (rt->row->flags & EDGE_ROUTE_OPENAPI)
		return respond(r, rt->row->success,
		    ta_xstrdup(edge_openapi_json(NULL)), NULL, false);
	if (rt->row->backend == EDGE_BACKEND_NONE) {
		char *body;

		/* Draining: tell the load balancer first, serve the rest. */
		if (atomic_load(&r->h->is_draining))
			return respond(
			    r, 503, edge_draining_json(), NULL, false);
		body = ta_xstrdup(
		    "{\"status\":\"healthy\",\"service\":\"edge-api\"}");
		return respond(r, rt->row->success, body, NULL, false);
	}
	if (rt->row->flags & EDGE_ROUTE_AUTH) {
		const char *reason;
		char *tok = NULL;
		ta_status st = edge_bearer_parse(
		    header_of(r, MHD_HTTP_HEADER_AUTHORIZATION), &tok, &reason);

		if (st == TA_OK)
			st = ta_jwt_verify(app->cfg->jwt_secret,
			    strlen(app->cfg->jwt_secret), tok, time(NULL),
			    &r->claims, &reason);
		free(tok);
		if (st != TA_OK)
			return respond_error(r, 401, reason, NULL, NULL);
		r->has_claims = true;
	}
	if (!edge_route_is_idempotent(rt) &&
	    !edge_idempotency_key_pick(
	        header_of(r, "Idempotency-Key"), r->idempotency_key))
		return respond_error(r, 400,
		    "Idempotency-Key must be 1 to 128 characters of "
		    "A-Z a-z 0-9 . _ : -",
		    NULL, NULL);
	ret = build_request(r, rt, &is_ok);
	if (!is_ok)
		return ret;
	return start_call(r, rt);
}

static edge_req *
req_new(edge_http *h, struct MHD_Connection *conn, const char *url,
    const char *method)
{
	edge_req *r = ta_xcalloc(1, sizeof *r);

	r->h = h;
	r->conn = conn;
	r->method = method;
	r->start_us = mono_us();
	atomic_init(&r->state, REQ_NEW);
	edge_request_id_pick(header_of(r, "X-Request-Id"), r->request_id);
	r->match_status =
	    edge_route_match(h->app->router, method, url, &r->match);
	atomic_fetch_add(&h->active, 1);
	return r;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	edge_http *h = cls;
	edge_req *r = *con_cls;

	(void)version;
	if (!r) {
		/* First call: headers only. */
		r = req_new(h, conn, url, method);
		*con_cls = r;
		if (is_declared_too_big(r, h->app->cfg->max_body_bytes))
			return respond_error(
			    r, 413, "Request body too large", NULL, NULL);
		return MHD_YES;
	}
	if (*upload_size) {
		r->received += *upload_size;
		body_append(
		    r, upload, *upload_size, h->app->cfg->max_body_bytes);
		*upload_size = 0;
		/*
		 * MHD 0.9.75 cannot queue a response while a body arrives: an
		 * over-long chunked body is discarded and answered 413 at its
		 * end, unless it runs on past twice the cap: then hang up.
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

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	edge_http *h = cls;
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
	    .latency_us = mono_us() - r->start_us,
	    .has_user = r->has_claims,
	    .user_id = r->claims.user_id,
	};
	edge_access_log(&a);
	cJSON_Delete(r->json);
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

static const char *const mhd_noise[] = {
    "Setting TCP_NODELAY option",
    "Setting TCP_CORK option",
    "Failed to push the data from buffers",
};

__attribute__((format(printf, 2, 0))) static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof buf, fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	/*
	 * The front's socket pairs are AF_UNIX: MHD 0.9.75 tries TCP_NODELAY
	 * and TCP_CORK on them, gets EOPNOTSUPP and says so on every answer.
	 * There is no Nagle on a socket pair, so nothing is delayed.
	 */
	for (size_t i = 0; i < sizeof mhd_noise / sizeof mhd_noise[0]; i++)
		if (strncmp(buf, mhd_noise[i], strlen(mhd_noise[i])) == 0)
			return;
	ta_log(TA_LOG_WARN, "mhd_error", buf);
}

/*
 * libmicrohttpd's unescape callback: leaves the path raw. The router
 * matches raw segments and decodes each parameter after matching, so %2F
 * never splits a segment (routes.h).
 */
static size_t
keep_raw(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/* The front's hand-over: see edge_front_cfg. */
static bool
hand_over(void *arg, int fd, const struct sockaddr *sa, socklen_t len)
{
	edge_http *h = arg;
	bool ok = false;

	pthread_mutex_lock(&h->add_mu);
	if (!h->is_stopped)
		ok = MHD_add_connection(h->daemon, fd, sa, len) == MHD_YES;
	else
		close(fd);
	pthread_mutex_unlock(&h->add_mu);
	return ok;
}

ta_status
edge_http_open(const edge_app *app, edge_http **out)
{
	edge_http *h = ta_xcalloc(1, sizeof *h);
	const edge_cfg *cfg = app->cfg;
	edge_front_cfg fc = {.port = cfg->port,
	    .threads = cfg->http_threads,
	    .connection_limit = app->connection_limit,
	    .per_ip_limit = cfg->http_per_ip_limit,
	    .trusted = app->trusted,
	    .header_timeout_s = cfg->http_header_timeout_s,
	    .body_timeout_s = cfg->http_body_timeout_s,
	    .limits = {.max_head = EDGE_FRAME_MAX_HEAD,
	        .max_target = EDGE_FRAME_MAX_TARGET,
	        .max_fields = EDGE_FRAME_MAX_FIELDS,
	        .max_params = EDGE_FRAME_MAX_PARAMS,
	        .max_body = (uint64_t)cfg->max_body_bytes},
	    .cors = app->cors,
	    .hand_over = hand_over,
	    .arg = h};

	h->app = app;
	atomic_init(&h->active, 0);
	atomic_init(&h->suspended, 0);
	atomic_init(&h->is_draining, false);
	pthread_mutex_init(&h->add_mu, NULL);
	/*
	 * No listening socket: the front accepts and hands over checked
	 * connections. The pool holds a head of at most EDGE_FRAME_MAX_HEAD
	 * bytes plus its parsed fields and parameters with room to spare, so
	 * libmicrohttpd never answers 431/414 (in HTML) on its own.
	 * EXTERNAL_LOGGER first, or MHD warns about it on its own stderr.
	 */
	h->daemon = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD |
	                                 MHD_ALLOW_SUSPEND_RESUME |
	                                 MHD_USE_NO_LISTEN_SOCKET |
	                                 MHD_USE_ERROR_LOG,
	    0, NULL, NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->http_threads,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->http_timeout_s,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)app->connection_limit,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)EDGE_MHD_POOL_BYTES,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, h,
	    MHD_OPTION_UNESCAPE_CALLBACK, keep_raw, NULL, MHD_OPTION_END);
	if (!h->daemon || edge_front_open(&fc, &h->front) != TA_OK) {
		ta_log(TA_LOG_ERROR, "http_start_failed",
		    "cannot start the HTTP server", TA_I("port", cfg->port));
		if (h->daemon)
			MHD_stop_daemon(h->daemon);
		pthread_mutex_destroy(&h->add_mu);
		free(h);
		return TA_UNAVAILABLE;
	}
	*out = h;
	return TA_OK;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

void
edge_http_drain(edge_http *h)
{
	atomic_store(&h->is_draining, true);
}

void
edge_http_close(edge_http *h, int64_t wait_ms)
{
	int64_t until;

	if (!h)
		return;
	atomic_store(&h->is_draining, true);
	edge_front_quiesce(h->front);
	until = mono_us() + wait_ms * 1000;
	while (atomic_load(&h->active) > 0 &&
	       (mono_us() < until || atomic_load(&h->suspended) > 0))
		sleep_ms(10);
	if (atomic_load(&h->active) > 0)
		ta_log(TA_LOG_WARN, "http_drain_timeout",
		    "stopping with requests still in progress",
		    TA_I("requests", atomic_load(&h->active)));
	pthread_mutex_lock(&h->add_mu);
	h->is_stopped = true;
	pthread_mutex_unlock(&h->add_mu);
	MHD_stop_daemon(h->daemon);
	edge_front_close(h->front);
	pthread_mutex_destroy(&h->add_mu);
	free(h);
}
