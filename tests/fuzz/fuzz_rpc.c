/*
 * libFuzzer target for the RPC server's call path without sockets: the
 * input is a packed request envelope, served by ta_rpc_serve_packed (the
 * code rpc_slots.c runs for every received message) against stub
 * TaskService, AuthService and Health services. The stub's behaviour comes
 * from the envelope's request_id: reply, fail, add violations, reply
 * twice, never, NULL or with the wrong type. Every answer must be a
 * ReplyEnvelope within the size cap, with a known status; an OK one
 * carries the method's reply type and no error fields. A liveness
 * Health/Check goes the way rpc_slots.c's receive callback sends it
 * (rpc_liveness.h), answered healthy without a handler.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rpc_serve.h"

#include "rpc_liveness.h"

#include "alloc.h"
#include "log.h"
#include "taskapi/v1/auth.pb-c.h"
#include "taskapi/v1/envelope.pb-c.h"
#include "taskapi/v1/health.pb-c.h"
#include "taskapi/v1/task.pb-c.h"
#include "transcode.h"

/* Small, so that replies and violation lists overflow it. */
#define MAX_BYTES 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The first plain string field of m's type, or NULL. */
static const ProtobufCFieldDescriptor *
first_string(ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++)
		if (d->fields[i].type == PROTOBUF_C_TYPE_STRING &&
		    d->fields[i].label != PROTOBUF_C_LABEL_REPEATED &&
		    !(d->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			return &d->fields[i];
	return NULL;
}

/* A reply of md's output type whose first string is the key (borrowed). */
static void
reply_ok(const ProtobufCMethodDescriptor *md, ta_rpc_ctx *ctx,
    ProtobufCClosure closure, void *closure_data)
{
	ProtobufCMessage *out = ta_message_new(md->output);
	const ProtobufCFieldDescriptor *f = first_string(out);
	char **slot = f ? (char **)((char *)out + f->offset) : NULL;
	char *was = slot ? *slot : NULL;

	if (slot)
		*slot = (char *)ctx->idempotency_key;
	closure(out, closure_data);
	if (slot)
		*slot = was;
	protobuf_c_message_free_unpacked(out, NULL);
}

/* The one handler of every stub method; request_id[0] picks what it does. */
static void
stub_invoke(ProtobufCService *svc, unsigned index,
    const ProtobufCMessage *input, ProtobufCClosure closure, void *closure_data)
{
	const ProtobufCMethodDescriptor *md = &svc->descriptor->methods[index];
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	const char *how = ctx->request_id;

	if (input->descriptor != md->input)
		abort(); /* dispatch unpacked the wrong type */
	switch (how[0]) {
	case 'f': /* a failure status from the second byte (never OK) */
		/* Handlers never pass "" (the check below wants a message). */
		ta_rpc_fail(ctx, (ta_status)(1 + (uint8_t)how[1] % 16),
		    how[1] % 3 && *ctx->idempotency_key ? ctx->idempotency_key
		                                        : NULL);
		closure(NULL, closure_data);
		break;
	case 'v': /* one violation per byte of the key */
		for (const char *p = ctx->idempotency_key; *p; p++)
			ta_rpc_violation(ctx, p, ctx->method);
		if (!ta_rpc_has_violations(ctx) && *ctx->idempotency_key)
			abort();
		closure(NULL, closure_data);
		break;
	case 'd': /* twice: the second is ignored */
		reply_ok(md, ctx, closure, closure_data);
		reply_ok(md, ctx, closure, closure_data);
		break;
	case 'n': /* never: INTERNAL */
		break;
	case 'z': /* NULL without a status: INTERNAL */
		closure(NULL, closure_data);
		break;
	case 'w': /* the request as the reply: a type mismatch, mostly */
		closure(input, closure_data);
		break;
	default:
		reply_ok(md, ctx, closure, closure_data);
		break;
	}
}

static ProtobufCService task_svc = {
    &taskapi__v1__task_service__descriptor, stub_invoke, NULL};
static ProtobufCService auth_svc = {
    &taskapi__v1__auth_service__descriptor, stub_invoke, NULL};
static ProtobufCService health_svc = {
    &taskapi__v1__health__descriptor, stub_invoke, NULL};
static ProtobufCService *const services[] = {&task_svc, &auth_svc, &health_svc};
static const ta_rpc_server_cfg cfg = {
    .listen_url = "inproc://fuzz",
    .nthreads = 1,
    .services = services,
    .nservices = sizeof services / sizeof *services,
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd = open("/dev/null", O_WRONLY);

	(void)argc;
	(void)argv;
	/* Every log line is built and escaped, then thrown away. */
	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
		abort();
	close(fd);
	ta_log_init("fuzz-rpc", TA_LOG_DEBUG);
	return 0;
}

typedef struct reply_buf {
	uint8_t *data;
	size_t len;
} reply_buf;

static void *
buf_alloc(void *arg, size_t n)
{
	reply_buf *b = arg;

	b->data = ta_xmalloc(n ? n : 1);
	b->len = n;
	return b->data;
}

/* The reply type of the method env names, or NULL when there is none. */
static const ProtobufCMessageDescriptor *
output_of(const Taskapi__V1__RequestEnvelope *env)
{
	for (size_t i = 0; env && i < cfg.nservices; i++) {
		const ProtobufCServiceDescriptor *sd = services[i]->descriptor;

		for (unsigned k = 0; k < sd->n_methods; k++) {
			size_t n = strlen(sd->name);

			if (env->method[0] == '/' &&
			    strncmp(env->method + 1, sd->name, n) == 0 &&
			    env->method[n + 1] == '/' &&
			    strcmp(env->method + n + 2, sd->methods[k].name) ==
			        0)
				return sd->methods[k].output;
		}
	}
	return NULL;
}

/* An OK reply: the method's reply type, no message, no details. */
static void
check_ok(
    const Taskapi__V1__ReplyEnvelope *re, const ProtobufCMessageDescriptor *out)
{
	ProtobufCMessage *m;

	if (!out || re->n_details || (re->message && *re->message))
		abort();
	m = protobuf_c_message_unpack(
	    out, NULL, re->payload.len, re->payload.data);
	if (!m)
		abort();
	protobuf_c_message_free_unpacked(m, NULL);
}

/*
 * A liveness check is a Health/Check envelope whose request says
 * liveness; it is answered OK with {status: "healthy"} without a thread.
 */
static int
check_liveness(const uint8_t *data, size_t size)
{
	Taskapi__V1__RequestEnvelope *env =
	    taskapi__v1__request_envelope__unpack(NULL, size, data);
	Taskapi__V1__HealthCheckRequest *req;
	Taskapi__V1__HealthCheckReply *hr;
	Taskapi__V1__ReplyEnvelope *re;
	reply_buf b = {0};
	size_t len;
	uint8_t *payload = ta_rpc_liveness_reply(&len);

	if (!env || strcmp(env->method, "/taskapi.v1.Health/Check") != 0)
		abort();
	req = taskapi__v1__health_check_request__unpack(
	    NULL, env->payload.len, env->payload.data);
	if (!req || !req->liveness || !payload ||
	    !ta_rpc_pack_reply(
	        MAX_BYTES, TA_OK, NULL, payload, len, buf_alloc, &b))
		abort();
	re = taskapi__v1__reply_envelope__unpack(NULL, b.len, b.data);
	if (!re || re->code != TA_OK)
		abort();
	hr = taskapi__v1__health_check_reply__unpack(
	    NULL, re->payload.len, re->payload.data);
	if (!hr || strcmp(hr->status, "healthy") != 0)
		abort();
	taskapi__v1__health_check_reply__free_unpacked(hr, NULL);
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);
	taskapi__v1__health_check_request__free_unpacked(req, NULL);
	taskapi__v1__request_envelope__free_unpacked(env, NULL);
	free(payload);
	free(b.data);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	reply_buf b = {0};
	Taskapi__V1__RequestEnvelope *env;
	Taskapi__V1__ReplyEnvelope *re;

	/* As rpc_slots.c's receive callback: a liveness check first. */
	if (ta_rpc_is_liveness(data, size))
		return check_liveness(data, size);
	if (!ta_rpc_serve_packed(
	        &cfg, MAX_BYTES, NULL, data, size, buf_alloc, &b))
		abort(); /* buf_alloc never fails */
	if (b.len > MAX_BYTES)
		abort();
	re = taskapi__v1__reply_envelope__unpack(NULL, b.len, b.data);
	if (!re || re->code < 0 || re->code > 16)
		abort();
	env = taskapi__v1__request_envelope__unpack(NULL, size, data);
	if (!env && re->code != TA_INVALID_ARGUMENT)
		abort();
	if (re->code == TA_OK)
		check_ok(re, output_of(env));
	else if (!re->message || !*re->message || re->payload.len)
		abort();
	if (env)
		taskapi__v1__request_envelope__free_unpacked(env, NULL);
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);
	free(b.data);
	return 0;
}
