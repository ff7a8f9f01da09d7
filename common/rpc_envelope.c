/*
 * The envelope codec (common/rpc_envelope.h): request and reply envelopes
 * to and from bytes, the caller_mac trailer, and method names. The client
 * (rpc_call.c) and the worker (rpc_serve.c, rpc_server.c) both use it, so
 * both sides agree on one wire format.
 */
#include "rpc_envelope.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "rpc_auth.h"

char *
ta_rpc_method_name(
    const ProtobufCServiceDescriptor *sd, unsigned i, char *buf, size_t cap)
{
	assert(i < sd->n_methods);
	snprintf(buf, cap, "/%s/%s", sd->name, sd->methods[i].name);
	return buf;
}

uint8_t *
ta_rpc_request_pack(const char *method, const char *request_id,
    int64_t deadline_ms, const Taskapi__V1__Principal *principal,
    const char *idempotency_key, const char *client_addr,
    const ProtobufCMessage *request, size_t *len)
{
	Taskapi__V1__RequestEnvelope env = TASKAPI__V1__REQUEST_ENVELOPE__INIT;
	Google__Protobuf__Timestamp deadline =
	    GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	uint8_t *payload = NULL, *buf;

	ta_rpc_deadline_to_timestamp(deadline_ms, &deadline);
	/* The envelope only borrows; packing never writes through these. */
	env.method = (char *)method;
	env.request_id = (char *)(request_id ? request_id : "");
	env.deadline = &deadline;
	env.principal = (Taskapi__V1__Principal *)principal;
	if (idempotency_key && *idempotency_key)
		env.idempotency_key = (char *)idempotency_key;
	if (client_addr && *client_addr)
		env.client_addr = (char *)client_addr;
	if (request) {
		payload =
		    ta_xmalloc(protobuf_c_message_get_packed_size(request));
		env.payload.len = protobuf_c_message_pack(request, payload);
		env.payload.data = payload;
	}
	*len = taskapi__v1__request_envelope__get_packed_size(&env);
	buf = ta_xmalloc(*len);
	taskapi__v1__request_envelope__pack(&env, buf);
	free(payload);
	return buf;
}

void
ta_rpc_request_sign(const ta_rpc_auth *auth, uint8_t **buf, size_t *len)
{
	*buf = ta_xrealloc(*buf, *len + TA_RPC_AUTH_TRAILER_BYTES);
	ta_rpc_auth_sign(auth, *buf, *len, *buf + *len);
	*len += TA_RPC_AUTH_TRAILER_BYTES;
}

Taskapi__V1__RequestEnvelope *
ta_rpc_request_unpack(const uint8_t *req, size_t len, ta_rpc_ctx *ctx)
{
	Taskapi__V1__RequestEnvelope *env =
	    taskapi__v1__request_envelope__unpack(NULL, len, req);

	if (!env)
		return NULL;
	ctx->method = env->method;
	ctx->request_id = env->request_id;
	ctx->idempotency_key = env->idempotency_key;
	ctx->client_addr = env->client_addr;
	ctx->principal = env->principal;
	ctx->deadline_ms = ta_rpc_deadline_ms(env->deadline);
	return env;
}

bool
ta_rpc_reply_pack(
    const struct ta_rpc_reply *r, ta_rpc_reply_alloc alloc, void *arg)
{
	Taskapi__V1__ReplyEnvelope re = TASKAPI__V1__REPLY_ENVELOPE__INIT;
	Taskapi__V1__FieldViolation *fv = NULL, **fvp = NULL;
	uint8_t *buf;
	size_t n;

	re.code = (int32_t)r->status;
	if (r->status == TA_OK) {
		re.payload.data = r->payload;
		re.payload.len = r->payload_len;
	} else {
		re.message =
		    r->message ? r->message : (char *)ta_status_name(r->status);
		if (r->is_limited && r->status == TA_RESOURCE_EXHAUSTED)
			re.rate_limit =
			    (Taskapi__V1__RateLimit *)&r->rate_limit;
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
		re.rate_limit = NULL;
		n = taskapi__v1__reply_envelope__get_packed_size(&re);
	}
	if ((buf = alloc(arg, n)) != NULL)
		taskapi__v1__reply_envelope__pack(&re, buf);
	free(fv);
	free(fvp);
	return buf != NULL;
}

bool
ta_rpc_pack_reply(size_t max_bytes, ta_status status, const char *message,
    const uint8_t *payload, size_t len, ta_rpc_reply_alloc alloc, void *arg)
{
	/* Only read: ta_rpc_reply_pack never frees or writes through r. */
	struct ta_rpc_reply r = {.max_bytes = max_bytes,
	    .status = status,
	    .message = (char *)message,
	    .payload = (uint8_t *)payload,
	    .payload_len = len};

	return ta_rpc_reply_pack(&r, alloc, arg);
}

ta_status
ta_rpc_reply_status(const Taskapi__V1__ReplyEnvelope *re, const char **message)
{
	ta_status status = ta_status_from_int(re->code);

	*message = re->code != 0 && !re->message[0] ? ta_status_name(status)
	                                            : re->message;
	return status;
}
