/*
 * The dispatcher: one call of the REP side without sockets. A packed
 * request envelope (decoded by rpc_envelope.c) has its caller checked
 * (rpc_auth.c), its deadline and method looked at, and runs through the
 * protobuf-c service descriptors; the outcome is packed as a reply
 * envelope and logged. rpc_server.c moves the bytes; the unit tests
 * (test_rpc_dispatch.c) and tests/fuzz/fuzz_rpc.c call it directly. Runs
 * on the serving thread that took the call; everything of a call lives
 * on that thread.
 */
#include "rpc_serve.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "log.h"
#include "rpc_auth.h"
#include "taskapi/v1/health.pb-c.h"
#include "violations.h"

/* Longest method name written to the access log (clients send anything). */
#define METHOD_LOG_MAX 200

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
ta_rpc_fail_limited(
    ta_rpc_ctx *ctx, const char *message, const Taskapi__V1__RateLimit *rl)
{
	struct ta_rpc_reply *r = ctx->reply;

	ta_rpc_fail(ctx, TA_RESOURCE_EXHAUSTED, message);
	if (r->is_limited)
		free(r->rate_limit.policy);
	taskapi__v1__rate_limit__init(&r->rate_limit);
	r->rate_limit.policy = ta_xstrdup(rl->policy ? rl->policy : "");
	r->rate_limit.quota = rl->quota;
	r->rate_limit.window_s = rl->window_s;
	r->rate_limit.retry_after_s = rl->retry_after_s;
	r->is_limited = true;
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

/*
 * Whether method needs an authenticated caller: every service's but
 * Health's, whose Check reveals nothing and runs no principal's query (the
 * container health checks call it without the key).
 */
static bool
needs_caller_auth(const char *method)
{
	const char *svc = taskapi__v1__health__descriptor.name;
	size_t n = strlen(svc);

	return !(method[0] == '/' && strncmp(method + 1, svc, n) == 0 &&
	         method[n + 1] == '/');
}

/*
 * The caller check: false (and ctx answered UNAUTHENTICATED, its forged
 * principal dropped) when cfg wants authenticated callers and req[0..len)
 * carries no caller_mac that verifies (RPC_AUTH=transition: a caller_mac
 * that does not verify). Logs the refusal, never the MAC.
 */
static bool
caller_check(const ta_rpc_server_cfg *cfg, const uint8_t *req, size_t len,
    const Taskapi__V1__RequestEnvelope *env, ta_rpc_ctx *ctx)
{
	char method[METHOD_LOG_MAX + 1];

	if (!cfg->auth || !needs_caller_auth(ctx->method))
		return true;
	if (ta_rpc_auth_verify(cfg->auth, req, len)) {
		ctx->is_caller_verified = true;
		return true;
	}
	snprintf(method, sizeof method, "%s", ctx->method);
	if (env->caller_mac.len == 0 &&
	    ta_rpc_auth_accepts_unsigned(cfg->auth)) {
		/* Watched during the rollout: zero once every edge signs. */
		ta_log(TA_LOG_WARN, "rpc_caller_unsigned",
		    "served a call without caller_mac (RPC_AUTH=transition)",
		    TA_S("request_id", ctx->request_id),
		    TA_S("method", method));
		return true;
	}
	ctx->principal = NULL;
	ta_log(TA_LOG_WARN, "rpc_caller_unauthenticated",
	    env->caller_mac.len ? "caller_mac does not verify"
	                        : "request carries no caller_mac",
	    TA_S("request_id", ctx->request_id), TA_S("method", method));
	ta_rpc_fail(ctx, TA_UNAUTHENTICATED, TA_RPC_AUTH_FAILED_MESSAGE);
	return false;
}

/* Runs the call described by env; the outcome is left in ctx->reply. */
static void
dispatch(const ta_rpc_server_cfg *cfg, const Taskapi__V1__RequestEnvelope *env,
    ta_rpc_ctx *ctx)
{
	struct ta_rpc_reply *r = ctx->reply;
	ProtobufCService *svc = NULL;
	const ProtobufCMethodDescriptor *md = NULL;
	ProtobufCMessage *input;

	if (ctx->deadline_ms != 0 && ta_now_ms() >= ctx->deadline_ms) {
		ta_rpc_fail(ctx, TA_DEADLINE_EXCEEDED, "deadline exceeded");
		return;
	}
	if (find_method(cfg, ctx->method, &svc, &md) != TA_OK) {
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

ta_log_level
ta_rpc_call_level(int slow_call_ms, ta_status status, int64_t us)
{
	int slow_ms =
	    slow_call_ms > 0 ? slow_call_ms : TA_RPC_SLOW_CALL_MS_DEFAULT;

	switch (status) {
	case TA_INTERNAL:
	case TA_UNKNOWN:
	case TA_DATA_LOSS:
	case TA_UNIMPLEMENTED:
	case TA_UNAVAILABLE:
	case TA_DEADLINE_EXCEEDED:
		return TA_LOG_WARN;
	default:
		return us >= (int64_t)slow_ms * 1000 ? TA_LOG_INFO
		                                     : TA_LOG_DEBUG;
	}
}

static void
log_access(const ta_rpc_server_cfg *cfg, const ta_rpc_ctx *ctx,
    ta_status status, int64_t t0_us)
{
	char method[METHOD_LOG_MAX + 1];
	ta_kv kvs[6];
	size_t n = 0;
	int64_t us = ta_mono_us() - t0_us;
	ta_log_level level = ta_rpc_call_level(cfg->slow_call_ms, status, us);

	if (!ta_log_enabled(level))
		return;
	/* ctx->method comes from the wire: bound what reaches the log. */
	snprintf(method, sizeof method, "%s", ctx->method);
	kvs[n++] = TA_S("request_id", ctx->request_id);
	if (ctx->principal)
		kvs[n++] = TA_I("user_id", ctx->principal->user_id);
	kvs[n++] = TA_S("method", method);
	kvs[n++] = TA_S("code", ta_status_name(status));
	kvs[n++] = TA_F("latency_ms", (double)us / 1000.0);
	kvs[n].type = TA_KV_END;
	ta_log_kv(level, "rpc_call", "rpc call", kvs);
}

bool
ta_rpc_serve_packed(const ta_rpc_server_cfg *cfg, size_t max_bytes,
    void *thread_state, const uint8_t *req, size_t len,
    ta_rpc_reply_alloc alloc, void *arg)
{
	int64_t t0 = ta_mono_us();
	struct ta_rpc_reply r = {.max_bytes = max_bytes};
	ta_rpc_ctx ctx = {.method = "",
	    .request_id = "",
	    .idempotency_key = "",
	    .client_addr = "",
	    .thread_state = thread_state,
	    .app = cfg->app,
	    .reply = &r};
	Taskapi__V1__RequestEnvelope *env;
	bool is_packed;

	if (!(env = ta_rpc_request_unpack(req, len, &ctx)))
		ta_rpc_fail(
		    &ctx, TA_INVALID_ARGUMENT, "malformed request envelope");
	else if (caller_check(cfg, req, len, env, &ctx))
		dispatch(cfg, env, &ctx);
	is_packed = ta_rpc_reply_pack(&r, alloc, arg);
	if (!is_packed)
		ta_log(TA_LOG_ERROR, "rpc_reply_alloc_failed",
		    "could not allocate the reply; the client will time out",
		    TA_S("request_id", ctx.request_id));
	log_access(cfg, &ctx, is_packed ? r.status : TA_INTERNAL, t0);
	if (env)
		taskapi__v1__request_envelope__free_unpacked(env, NULL);
	free(r.message);
	free(r.payload);
	if (r.is_limited)
		free(r.rate_limit.policy);
	ta_violations_fini(&r.violations);
	return is_packed;
}
