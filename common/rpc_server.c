/*
 * The REP side of the internal RPC: a pool of serving threads that unpack
 * request envelopes, dispatch them through protobuf-c service descriptors
 * and answer with reply envelopes.
 *
 * Design notes.
 * - Threads: ta_rpc_server_open starts cfg->nthreads threads (nng "pattern
 *   A"). Each owns one nng_ctx and one nng_aio and loops blocking on
 *   recv -> handle -> send, so a handler may block (libpq) without stalling
 *   nng's shared task threads. thread_init/thread_fini run on the serving
 *   thread itself; their result (the thread's ta_pg) is never shared.
 * - Ownership: the request nng_msg, the unpacked envelope and input, and
 *   the ta_rpc_reply all live on one thread for one call and are freed
 *   before the next receive. The handler's reply message is borrowed: it
 *   is packed inside the closure, so it may live on the handler's stack.
 * - Deadline: a call whose envelope deadline has passed is answered
 *   DEADLINE_EXCEEDED without running the handler. A handler that runs
 *   past the deadline still replies; the client has stopped waiting and
 *   nng drops the late reply.
 * - Shutdown: ta_rpc_server_close sets is_stopping and cancels the receive
 *   of every idle thread (under the server lock, so a thread that already
 *   holds a call is never cancelled). A busy thread finishes its call,
 *   sends the reply, sees the flag and leaves; then the threads are joined
 *   and the socket is closed. Requests still queued in nng are dropped and
 *   their clients see UNAVAILABLE.
 */
#include "rpc.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "alloc.h"
#include "log.h"
#include "violations.h"

/* Longest method name written to the access log (clients send anything). */
#define METHOD_LOG_MAX 200

/* The outcome of one call, filled by the closure and ta_rpc_fail. */
struct ta_rpc_reply {
	const ProtobufCMethodDescriptor *md; /* NULL until dispatched */
	size_t max_bytes;
	ta_status status;
	char *message; /* owned; NULL: the status name */
	ta_violations violations;
	bool has_replied; /* the closure ran */
	uint8_t *payload; /* owned packed output */
	size_t payload_len;
};

typedef struct srv_thread {
	struct ta_rpc_server *srv; /* borrowed: the owner */
	int index;
	pthread_t tid;
	bool is_started;
	bool is_ctx_open;
	nng_ctx ctx;
	nng_aio *aio;
	void *state;  /* from thread_init; this thread only */
	bool is_busy; /* guarded by srv->mu */
} srv_thread;

struct ta_rpc_server {
	const ta_rpc_server_cfg *cfg; /* borrowed: outlives the server */
	size_t max_bytes;
	nng_socket sock;
	pthread_mutex_t mu;
	bool is_stopping; /* guarded by mu */
	int nthreads;
	srv_thread *threads;
};

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

ta_rpc_ctx *
ta_rpc_ctx_of(void *closure_data)
{
	return closure_data;
}

void
ta_rpc_fail(ta_rpc_ctx *ctx, ta_status status, const char *message)
{
	struct ta_rpc_reply *r = ctx->reply;

	assert(status != TA_OK);
	r->status = status;
	free(r->message);
	r->message = message ? ta_xstrdup(message) : NULL;
}

void
ta_rpc_violation(ta_rpc_ctx *ctx, const char *field, const char *message)
{
	struct ta_rpc_reply *r = ctx->reply;

	ta_violations_add(&r->violations, field, message);
	if (r->status == TA_OK)
		ta_rpc_fail(ctx, TA_INVALID_ARGUMENT, "Validation failed");
}

int
ta_rpc_has_violations(const ta_rpc_ctx *ctx)
{
	return ctx->reply->violations.n > 0;
}

/* The ProtobufCClosure every handler gets; closure_data is the ta_rpc_ctx. */
static void
reply_closure(const ProtobufCMessage *out, void *closure_data)
{
	ta_rpc_ctx *ctx = closure_data;
	struct ta_rpc_reply *r = ctx->reply;
	size_t n;

	if (r->has_replied) {
		ta_log(TA_LOG_WARN, "rpc_double_reply",
		    "handler called its closure twice; ignored",
		    TA_S("request_id", ctx->request_id),
		    TA_S("method", ctx->method));
		return;
	}
	r->has_replied = true;
	if (r->status != TA_OK)
		return; /* a failure set by the handler wins */
	if (!out) {
		ta_log(TA_LOG_WARN, "rpc_handler_no_status",
		    "handler replied NULL without a failure status",
		    TA_S("request_id", ctx->request_id),
		    TA_S("method", ctx->method));
		ta_rpc_fail(ctx, TA_INTERNAL, "internal error");
		return;
	}
	if (out->descriptor != r->md->output) {
		ta_log(TA_LOG_ERROR, "rpc_reply_type_mismatch",
		    "handler replied with the wrong message type",
		    TA_S("request_id", ctx->request_id),
		    TA_S("method", ctx->method),
		    TA_S("type", out->descriptor->name));
		ta_rpc_fail(ctx, TA_INTERNAL, "internal error");
		return;
	}
	n = protobuf_c_message_get_packed_size(out);
	if (n > r->max_bytes) {
		ta_log(TA_LOG_WARN, "rpc_reply_too_large",
		    "reply exceeds the message size cap",
		    TA_S("request_id", ctx->request_id),
		    TA_S("method", ctx->method), TA_I("bytes", n));
		ta_rpc_fail(ctx, TA_RESOURCE_EXHAUSTED, "reply too large");
		return;
	}
	r->payload = ta_xmalloc(n);
	r->payload_len = protobuf_c_message_pack(out, r->payload);
}

/*
 * Finds "/<package.Service>/<Method>" among the configured services. On
 * TA_OK *svc_out and *md_out are set.
 */
static ta_status
find_method(const ta_rpc_server_cfg *cfg, const char *method,
    ProtobufCService **svc_out, const ProtobufCMethodDescriptor **md_out)
{
	const char *slash;
	size_t svc_len;

	if (method[0] != '/' || !(slash = strrchr(method, '/')) ||
	    slash == method)
		return TA_UNIMPLEMENTED;
	svc_len = (size_t)(slash - method - 1);
	for (size_t i = 0; i < cfg->nservices; i++) {
		ProtobufCService *svc = cfg->services[i];
		const char *name = svc->descriptor->name;
		const ProtobufCMethodDescriptor *md;

		if (strlen(name) != svc_len ||
		    memcmp(name, method + 1, svc_len) != 0)
			continue;
		md = protobuf_c_service_descriptor_get_method_by_name(
		    svc->descriptor, slash + 1);
		if (!md)
			return TA_UNIMPLEMENTED;
		*svc_out = svc;
		*md_out = md;
		return TA_OK;
	}
	return TA_UNIMPLEMENTED;
}

static int64_t
deadline_ms_of(const Taskapi__V1__RequestEnvelope *env)
{
	if (!env->deadline)
		return 0;
	return env->deadline->seconds * 1000 + env->deadline->nanos / 1000000;
}

/* Runs the call described by env; the outcome is left in ctx->reply. */
static void
dispatch(
    ta_rpc_server *s, const Taskapi__V1__RequestEnvelope *env, ta_rpc_ctx *ctx)
{
	struct ta_rpc_reply *r = ctx->reply;
	ProtobufCService *svc = NULL;
	const ProtobufCMethodDescriptor *md = NULL;
	ProtobufCMessage *input;

	if (ctx->deadline_ms != 0 && ta_now_ms() >= ctx->deadline_ms) {
		ta_rpc_fail(ctx, TA_DEADLINE_EXCEEDED, "deadline exceeded");
		return;
	}
	if (find_method(s->cfg, ctx->method, &svc, &md) != TA_OK) {
		ta_rpc_fail(ctx, TA_UNIMPLEMENTED, "unknown method");
		return;
	}
	input = protobuf_c_message_unpack(
	    md->input, NULL, env->payload.len, env->payload.data);
	if (!input) {
		ta_rpc_fail(
		    ctx, TA_INVALID_ARGUMENT, "malformed request message");
		return;
	}
	r->md = md;
	svc->invoke(svc, (unsigned)(md - svc->descriptor->methods), input,
	    reply_closure, ctx);
	protobuf_c_message_free_unpacked(input, NULL);
	if (!r->has_replied) {
		ta_log(TA_LOG_WARN, "rpc_handler_no_reply",
		    "handler returned without calling its closure",
		    TA_S("request_id", ctx->request_id),
		    TA_S("method", ctx->method));
		if (r->status == TA_OK)
			ta_rpc_fail(ctx, TA_INTERNAL, "internal error");
	}
}

/* Packs the reply envelope of r; NULL when nng cannot allocate. */
static nng_msg *
reply_msg(struct ta_rpc_reply *r)
{
	Taskapi__V1__ReplyEnvelope re = TASKAPI__V1__REPLY_ENVELOPE__INIT;
	Taskapi__V1__FieldViolation *fv = NULL, **fvp = NULL;
	nng_msg *m = NULL;
	size_t n;

	re.code = (int32_t)r->status;
	if (r->status == TA_OK) {
		re.payload.data = r->payload;
		re.payload.len = r->payload_len;
	} else {
		re.message =
		    r->message ? r->message : (char *)ta_status_name(r->status);
		if (r->violations.n) {
			fv = ta_xcalloc(r->violations.n, sizeof *fv);
			fvp = ta_xcalloc(r->violations.n, sizeof *fvp);
			for (size_t i = 0; i < r->violations.n; i++) {
				taskapi__v1__field_violation__init(&fv[i]);
				fv[i].field = r->violations.items[i].field;
				fv[i].message = r->violations.items[i].message;
				fvp[i] = &fv[i];
			}
			re.n_details = r->violations.n;
			re.details = fvp;
		}
	}
	n = taskapi__v1__reply_envelope__get_packed_size(&re);
	if (n > r->max_bytes) {
		/* Only a huge list of violations gets here: drop it. */
		re.code = TA_RESOURCE_EXHAUSTED;
		re.message = "reply too large";
		re.payload.len = 0;
		re.n_details = 0;
		n = taskapi__v1__reply_envelope__get_packed_size(&re);
	}
	if (nng_msg_alloc(&m, n) == 0)
		taskapi__v1__reply_envelope__pack(&re, nng_msg_body(m));
	else
		m = NULL;
	free(fv);
	free(fvp);
	return m;
}

static void
log_access(const ta_rpc_ctx *ctx, ta_status status, int64_t t0_us)
{
	char method[METHOD_LOG_MAX + 1];
	ta_kv kvs[6];
	size_t n = 0;

	/* ctx->method comes from the wire: bound what reaches the log. */
	snprintf(method, sizeof method, "%s", ctx->method);
	kvs[n++] = TA_S("request_id", ctx->request_id);
	if (ctx->principal)
		kvs[n++] = TA_I("user_id", ctx->principal->user_id);
	kvs[n++] = TA_S("method", method);
	kvs[n++] = TA_S("code", ta_status_name(status));
	kvs[n++] = TA_F("latency_ms", (double)(mono_us() - t0_us) / 1000.0);
	kvs[n].type = TA_KV_END;
	ta_log_kv(TA_LOG_INFO, "rpc_call", "rpc call", kvs);
}

/* Handles one request message (consumed) and returns the reply message. */
static nng_msg *
serve_one(srv_thread *t, nng_msg *req)
{
	ta_rpc_server *s = t->srv;
	int64_t t0 = mono_us();
	struct ta_rpc_reply r = {.max_bytes = s->max_bytes};
	ta_rpc_ctx ctx = {.method = "",
	    .request_id = "",
	    .idempotency_key = "",
	    .thread_state = t->state,
	    .app = s->cfg->app,
	    .reply = &r};
	Taskapi__V1__RequestEnvelope *env;
	nng_msg *rep;

	env = taskapi__v1__request_envelope__unpack(
	    NULL, nng_msg_len(req), nng_msg_body(req));
	nng_msg_free(req);
	if (!env) {
		ta_rpc_fail(
		    &ctx, TA_INVALID_ARGUMENT, "malformed request envelope");
	} else {
		ctx.method = env->method;
		ctx.request_id = env->request_id;
		ctx.idempotency_key = env->idempotency_key;
		ctx.principal = env->principal;
		ctx.deadline_ms = deadline_ms_of(env);
		dispatch(s, env, &ctx);
	}
	rep = reply_msg(&r);
	if (!rep)
		ta_log(TA_LOG_ERROR, "rpc_reply_alloc_failed",
		    "could not allocate the reply; the client will time out",
		    TA_S("request_id", ctx.request_id));
	log_access(&ctx, rep ? r.status : TA_INTERNAL, t0);
	if (env)
		taskapi__v1__request_envelope__free_unpacked(env, NULL);
	free(r.message);
	free(r.payload);
	ta_violations_fini(&r.violations);
	return rep;
}

static void *
serve_thread(void *arg)
{
	srv_thread *t = arg;
	ta_rpc_server *s = t->srv;
	const ta_rpc_server_cfg *cfg = s->cfg;

	if (cfg->thread_init)
		t->state = cfg->thread_init(cfg->app, t->index);
	for (;;) {
		nng_msg *m;
		int rv;

		/*
		 * The receive starts under the lock with is_busy false, so
		 * ta_rpc_server_close either sees this thread idle and cancels
		 * the receive, or finds is_stopping already set here.
		 */
		pthread_mutex_lock(&s->mu);
		if (s->is_stopping) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		t->is_busy = false;
		nng_aio_set_timeout(t->aio, NNG_DURATION_INFINITE);
		nng_ctx_recv(t->ctx, t->aio);
		pthread_mutex_unlock(&s->mu);
		nng_aio_wait(t->aio);

		pthread_mutex_lock(&s->mu);
		t->is_busy = true;
		pthread_mutex_unlock(&s->mu);
		rv = nng_aio_result(t->aio);
		if (rv == NNG_ECLOSED)
			break;
		if (rv != 0)
			continue; /* cancelled by close: the loop ends */
		if (!(m = serve_one(t, nng_aio_get_msg(t->aio))))
			continue;
		/* A client that stops reading must not pin this thread. */
		nng_aio_set_timeout(t->aio, 5000);
		nng_aio_set_msg(t->aio, m);
		nng_ctx_send(t->ctx, t->aio);
		nng_aio_wait(t->aio);
		if (nng_aio_result(t->aio) != 0)
			nng_msg_free(nng_aio_get_msg(t->aio)); /* still ours */
	}
	if (cfg->thread_fini)
		cfg->thread_fini(t->state);
	return NULL;
}

/* Stops and joins the started threads, then frees everything of s. */
static void
server_teardown(ta_rpc_server *s)
{
	pthread_mutex_lock(&s->mu);
	s->is_stopping = true;
	for (int i = 0; i < s->nthreads; i++)
		if (s->threads[i].is_started && !s->threads[i].is_busy)
			nng_aio_cancel(s->threads[i].aio);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < s->nthreads; i++)
		if (s->threads[i].is_started)
			pthread_join(s->threads[i].tid, NULL);
	for (int i = 0; i < s->nthreads; i++) {
		if (s->threads[i].is_ctx_open)
			nng_ctx_close(s->threads[i].ctx);
		nng_aio_free(s->threads[i].aio);
	}
	nng_close(s->sock);
	pthread_mutex_destroy(&s->mu);
	free(s->threads);
	free(s);
}

ta_status
ta_rpc_server_open(const ta_rpc_server_cfg *cfg, ta_rpc_server **out)
{
	ta_rpc_server *s;
	ta_status status = TA_OK;
	int rv;

	if (!cfg->listen_url || cfg->nthreads < 1 || cfg->nthreads > 256) {
		ta_log(TA_LOG_ERROR, "rpc_listen_failed",
		    "bad listen URL or thread count",
		    TA_I("threads", cfg->nthreads));
		return TA_INVALID_ARGUMENT;
	}
	s = ta_xcalloc(1, sizeof *s);
	s->cfg = cfg;
	s->max_bytes =
	    cfg->max_msg_bytes ? cfg->max_msg_bytes : TA_RPC_MAX_MSG_DEFAULT;
	pthread_mutex_init(&s->mu, NULL);
	s->nthreads = cfg->nthreads;
	s->threads = ta_xcalloc((size_t)s->nthreads, sizeof *s->threads);
	if ((rv = nng_rep0_open(&s->sock)) != 0) {
		status = TA_INTERNAL;
		goto out;
	}
	/* nng's default is unlimited: an oversized request drops the pipe. */
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, s->max_bytes);
	if ((rv = nng_listen(s->sock, cfg->listen_url, NULL, 0)) != 0) {
		status = rv == NNG_EADDRINVAL || rv == NNG_EINVAL ||
		                 rv == NNG_ENOTSUP
		             ? TA_INVALID_ARGUMENT
		             : TA_UNAVAILABLE;
		goto out;
	}
	for (int i = 0; i < s->nthreads && rv == 0; i++) {
		srv_thread *t = &s->threads[i];

		t->srv = s;
		t->index = i;
		if ((rv = nng_ctx_open(&t->ctx, s->sock)) == 0) {
			t->is_ctx_open = true;
			rv = nng_aio_alloc(&t->aio, NULL, NULL);
		}
	}
	if (rv != 0) {
		status = TA_INTERNAL;
		goto out;
	}
	for (int i = 0; i < s->nthreads && status == TA_OK; i++) {
		if (pthread_create(&s->threads[i].tid, NULL, serve_thread,
		        &s->threads[i]) == 0)
			s->threads[i].is_started = true;
		else
			status = TA_INTERNAL;
	}
out:
	if (status != TA_OK) {
		ta_log(TA_LOG_ERROR, "rpc_listen_failed",
		    "could not start the RPC server",
		    TA_S("url", cfg->listen_url),
		    TA_S("error", rv ? nng_strerror(rv) : "thread start"));
		server_teardown(s);
		return status;
	}
	ta_log(TA_LOG_INFO, "rpc_listening", "serving RPC",
	    TA_S("url", cfg->listen_url), TA_I("threads", s->nthreads),
	    TA_I("max_msg_bytes", s->max_bytes));
	*out = s;
	return TA_OK;
}

void
ta_rpc_server_close(ta_rpc_server *s)
{
	if (s)
		server_teardown(s);
}
