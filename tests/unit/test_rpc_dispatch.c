/*
 * The RPC dispatcher without sockets (common/rpc_serve.h): packed request
 * envelopes in, packed reply envelopes out, through a stub TaskService.
 * No nng here: the runtime over loopback is test_rpc.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "clock.h"
#include "log.h"
#include "rpc.h"
#include "rpc_auth.h"
#include "rpc_envelope.h"
#include "rpc_serve.h"
#include "taskapi/v1/task.pb-c.h"

#define CAP (64u * 1024u)
#define KEY "0123456789abcdef0123456789abcdef-dispatch"

static int calls;		/* handler runs */
static int thread_state;	/* what ctx->thread_state must point to */
static int app;			/* what ctx->app must point to */

static void
stub_seen(ta_rpc_ctx *ctx)
{
	assert_ptr_equal(ctx->thread_state, &thread_state);
	assert_ptr_equal(ctx->app, &app);
	calls++;
}

#define STUB_BIG CAP
#include "task_service_stub.h"

/* Refused by the caller's own limit. */
static void
tsvc_update_task(Taskapi__V1__TaskService_Service *service,
    const Taskapi__V1__UpdateTaskRequest *input,
    Taskapi__V1__UpdateTaskReply_Closure closure, void *closure_data)
{
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	Taskapi__V1__RateLimit rl = TASKAPI__V1__RATE_LIMIT__INIT;

	(void)service;
	(void)input;
	stub_seen(ctx);
	rl.policy = "updates";
	rl.quota = 5;
	rl.window_s = 60;
	rl.retry_after_s = 7;
	ta_rpc_fail_limited(ctx, "slow down", &rl);
	closure(NULL, closure_data);
}

static Taskapi__V1__TaskService_Service test_service =
    TASKAPI__V1__TASK_SERVICE__INIT(tsvc_);
static ProtobufCService *services[] = {&test_service.base};

static ta_rpc_server_cfg
cfg_new(const ta_rpc_auth *auth)
{
	return (ta_rpc_server_cfg){.services = services,
	    .nservices = 1,
	    .app = &app,
	    .auth = auth};
}

/* Reply memory: malloc'd, kept with its length. */
typedef struct out_buf {
	uint8_t *data;
	size_t len;
} out_buf;

static void *
heap_alloc(void *arg, size_t n)
{
	out_buf *o = arg;

	o->data = ta_xmalloc(n ? n : 1);
	o->len = n;
	return o->data;
}

static void *
no_alloc(void *arg, size_t n)
{
	(void)arg;
	(void)n;
	return NULL;
}

/* Serves req[0..len) (freed) and returns the unpacked reply envelope. */
static Taskapi__V1__ReplyEnvelope *
serve_bytes(const ta_rpc_server_cfg *cfg, size_t cap, uint8_t *req,
    size_t len)
{
	out_buf o = {0};
	Taskapi__V1__ReplyEnvelope *re;

	assert_true(ta_rpc_serve_packed(
	    cfg, cap, &thread_state, req, len, heap_alloc, &o));
	free(req);
	re = taskapi__v1__reply_envelope__unpack(NULL, o.len, o.data);
	free(o.data);
	assert_non_null(re);
	return re;
}

/* Packs a call of method with request and serves it under cfg. */
static Taskapi__V1__ReplyEnvelope *
serve(const ta_rpc_server_cfg *cfg, size_t cap, const char *method,
    int64_t deadline_ms, const ProtobufCMessage *request)
{
	Taskapi__V1__Principal who = TASKAPI__V1__PRINCIPAL__INIT;
	size_t len;
	uint8_t *req;

	who.user_id = 42;
	who.username = "alice";
	req = ta_rpc_request_pack(method, "req-1", deadline_ms, &who, "key-1",
	    "10.0.0.1", request, &len);
	return serve_bytes(cfg, cap, req, len);
}

static Taskapi__V1__ReplyEnvelope *
get_task(int64_t id, size_t cap)
{
	ta_rpc_server_cfg cfg = cfg_new(NULL);
	Taskapi__V1__GetTaskRequest req = TASKAPI__V1__GET_TASK_REQUEST__INIT;

	req.id = id;
	return serve(&cfg, cap, "/taskapi.v1.TaskService/GetTask",
	    ta_now_ms() + 5000, &req.base);
}

static void
test_round_trip(void **state)
{
	Taskapi__V1__ReplyEnvelope *re;
	Taskapi__V1__GetTaskReply *reply;

	(void)state;
	calls = 0;
	re = get_task(7, CAP);
	assert_int_equal(re->code, TA_OK);
	assert_string_equal(re->message, "");
	assert_int_equal(re->n_details, 0);
	reply = taskapi__v1__get_task_reply__unpack(
	    NULL, re->payload.len, re->payload.data);
	assert_non_null(reply);
	assert_int_equal(reply->task->id, 7);
	assert_int_equal(reply->task->user_id, 42);
	assert_string_equal(reply->task->title, "alice");
	assert_string_equal(reply->task->description->value, "req-1");
	assert_int_equal(calls, 1);
	taskapi__v1__get_task_reply__free_unpacked(reply, NULL);
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);
}

static void
test_violations_and_failures(void **state)
{
	ta_rpc_server_cfg cfg = cfg_new(NULL);
	Taskapi__V1__CreateTaskRequest create =
	    TASKAPI__V1__CREATE_TASK_REQUEST__INIT;
	Taskapi__V1__ListTasksRequest list =
	    TASKAPI__V1__LIST_TASKS_REQUEST__INIT;
	Taskapi__V1__UpdateTaskRequest update =
	    TASKAPI__V1__UPDATE_TASK_REQUEST__INIT;
	Taskapi__V1__CreateTaskReply *created;
	Taskapi__V1__ReplyEnvelope *re;
	int64_t dl = ta_now_ms() + 5000;

	(void)state;
	create.title = "";
	re = serve(&cfg, CAP, "/taskapi.v1.TaskService/CreateTask", dl,
	    &create.base);
	assert_int_equal(re->code, TA_INVALID_ARGUMENT);
	assert_string_equal(re->message, "Validation failed");
	assert_int_equal(re->n_details, 2);
	assert_string_equal(re->details[0]->field, "title");
	assert_string_equal(re->details[1]->message, "status is invalid");
	assert_int_equal(re->payload.len, 0);
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);

	create.title = "write tests";
	re = serve(&cfg, CAP, "/taskapi.v1.TaskService/CreateTask", dl,
	    &create.base);
	assert_int_equal(re->code, TA_OK);
	created = taskapi__v1__create_task_reply__unpack(
	    NULL, re->payload.len, re->payload.data);
	assert_string_equal(created->message, "key-1");
	taskapi__v1__create_task_reply__free_unpacked(created, NULL);
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);

	re = serve(&cfg, CAP, "/taskapi.v1.TaskService/ListTasks", dl,
	    &list.base);
	assert_int_equal(re->code, TA_PERMISSION_DENIED);
	assert_string_equal(re->message, "not yours");
	assert_null(re->rate_limit);
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);

	re = serve(&cfg, CAP, "/taskapi.v1.TaskService/UpdateTask", dl,
	    &update.base);
	assert_int_equal(re->code, TA_RESOURCE_EXHAUSTED);
	assert_string_equal(re->message, "slow down");
	assert_non_null(re->rate_limit);
	assert_string_equal(re->rate_limit->policy, "updates");
	assert_int_equal(re->rate_limit->quota, 5);
	assert_int_equal(re->rate_limit->window_s, 60);
	assert_int_equal(re->rate_limit->retry_after_s, 7);
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);
}

/* Answered without running a handler. */
static void
test_refused_before_the_handler(void **state)
{
	static const char *unknown[] = {"/taskapi.v1.TaskService/Nope",
	    "/taskapi.v1.NoService/GetTask", "GetTask", "/", "//", ""};
	ta_rpc_server_cfg cfg = cfg_new(NULL);
	Taskapi__V1__GetTaskRequest get = TASKAPI__V1__GET_TASK_REQUEST__INIT;
	Taskapi__V1__ReplyEnvelope *re;
	uint8_t *req;
	size_t len;

	(void)state;
	calls = 0;
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		re = serve(&cfg, CAP, unknown[i], ta_now_ms() + 5000,
		    &get.base);
		assert_int_equal(re->code, TA_UNIMPLEMENTED);
		assert_string_equal(re->message, "unknown method");
		taskapi__v1__reply_envelope__free_unpacked(re, NULL);
	}
	re = serve(&cfg, CAP, "/taskapi.v1.TaskService/GetTask",
	    ta_now_ms() - 1, &get.base);
	assert_int_equal(re->code, TA_DEADLINE_EXCEEDED);
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);

	req = ta_xmalloc(4);
	memcpy(req, "\xff\xff\xff\xff", 4);
	re = serve_bytes(&cfg, CAP, req, 4);
	assert_int_equal(re->code, TA_INVALID_ARGUMENT);
	assert_string_equal(re->message, "malformed request envelope");
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);

	/* A payload that is not a GetTaskRequest (field 1 as a string). */
	{
		Taskapi__V1__CreateTaskRequest bad =
		    TASKAPI__V1__CREATE_TASK_REQUEST__INIT;

		bad.title = "x";
		req = ta_rpc_request_pack("/taskapi.v1.TaskService/GetTask",
		    NULL, ta_now_ms() + 5000, NULL, NULL, NULL, &bad.base,
		    &len);
	}
	re = serve_bytes(&cfg, CAP, req, len);
	assert_int_equal(re->code, TA_INVALID_ARGUMENT);
	assert_string_equal(re->message, "malformed request message");
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);
	assert_int_equal(calls, 0);
}

static void
test_handler_misbehaves(void **state)
{
	ta_rpc_server_cfg cfg = cfg_new(NULL);
	Taskapi__V1__DeleteTaskRequest del =
	    TASKAPI__V1__DELETE_TASK_REQUEST__INIT;
	Taskapi__V1__ReplyEnvelope *re;

	(void)state;
	for (int64_t id = -3; id <= -2; id++) {
		re = get_task(id, CAP);
		assert_int_equal(re->code, TA_INTERNAL);
		assert_string_equal(re->message, "internal error");
		taskapi__v1__reply_envelope__free_unpacked(re, NULL);
	}
	re = serve(&cfg, CAP, "/taskapi.v1.TaskService/DeleteTask",
	    ta_now_ms() + 5000, &del.base);
	assert_int_equal(re->code, TA_INTERNAL);
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);

	re = get_task(-5, CAP); /* replied twice: the first one counts */
	assert_int_equal(re->code, TA_OK);
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);

	re = get_task(-4, CAP);
	assert_int_equal(re->code, TA_RESOURCE_EXHAUSTED);
	assert_string_equal(re->message, "reply too large");
	assert_int_equal(re->payload.len, 0);
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);
}

static void
test_alloc_fails(void **state)
{
	ta_rpc_server_cfg cfg = cfg_new(NULL);
	Taskapi__V1__GetTaskRequest get = TASKAPI__V1__GET_TASK_REQUEST__INIT;
	size_t len;
	uint8_t *req = ta_rpc_request_pack("/taskapi.v1.TaskService/GetTask",
	    NULL, ta_now_ms() + 5000, NULL, NULL, NULL, &get.base, &len);

	(void)state;
	assert_false(ta_rpc_serve_packed(
	    &cfg, CAP, &thread_state, req, len, no_alloc, NULL));
	free(req);
}

/* With keys configured, only signed calls reach a handler (but Health). */
static void
test_caller_auth(void **state)
{
	ta_rpc_auth *auth = NULL;
	ta_rpc_server_cfg cfg;
	Taskapi__V1__GetTaskRequest get = TASKAPI__V1__GET_TASK_REQUEST__INIT;
	Taskapi__V1__ReplyEnvelope *re;
	uint8_t *req;
	size_t len;

	(void)state;
	assert_int_equal(ta_rpc_auth_new(KEY, NULL, &auth), TA_OK);
	cfg = cfg_new(auth);
	calls = 0;
	re = serve(&cfg, CAP, "/taskapi.v1.TaskService/GetTask",
	    ta_now_ms() + 5000, &get.base);
	assert_int_equal(re->code, TA_UNAUTHENTICATED);
	assert_string_equal(re->message, TA_RPC_AUTH_FAILED_MESSAGE);
	assert_int_equal(calls, 0);
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);

	req = ta_rpc_request_pack("/taskapi.v1.TaskService/GetTask", NULL,
	    ta_now_ms() + 5000, NULL, NULL, NULL, &get.base, &len);
	ta_rpc_request_sign(auth, &req, &len);
	re = serve_bytes(&cfg, CAP, req, len);
	assert_int_equal(re->code, TA_OK);
	assert_int_equal(calls, 1);
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);

	/* Health needs no key: this one is merely not configured here. */
	re = serve(&cfg, CAP, "/taskapi.v1.Health/Check", ta_now_ms() + 5000,
	    NULL);
	assert_int_equal(re->code, TA_UNIMPLEMENTED);
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);
	ta_rpc_auth_free(auth);
}

/* The level of a call's rpc_call line: warn, info when slow, else debug. */
static void
test_call_log_level(void **state)
{
	static const ta_status failed[] = {TA_INTERNAL, TA_UNKNOWN,
	    TA_DATA_LOSS, TA_UNIMPLEMENTED, TA_UNAVAILABLE,
	    TA_DEADLINE_EXCEEDED};
	static const ta_status answered[] = {TA_OK, TA_NOT_FOUND,
	    TA_INVALID_ARGUMENT, TA_PERMISSION_DENIED, TA_UNAUTHENTICATED,
	    TA_ALREADY_EXISTS, TA_FAILED_PRECONDITION, TA_RESOURCE_EXHAUSTED};

	(void)state;
	for (size_t i = 0; i < sizeof failed / sizeof failed[0]; i++) {
		assert_int_equal(
		    ta_rpc_call_level(0, failed[i], 10), TA_LOG_WARN);
		assert_int_equal(
		    ta_rpc_call_level(5, failed[i], 9000000), TA_LOG_WARN);
	}
	for (size_t i = 0; i < sizeof answered / sizeof answered[0]; i++) {
		/* The default threshold, 250 ms, and one set to 5 ms. */
		assert_int_equal(ta_rpc_call_level(0, answered[i], 249999),
		    TA_LOG_DEBUG);
		assert_int_equal(
		    ta_rpc_call_level(0, answered[i], 250000), TA_LOG_INFO);
		assert_int_equal(
		    ta_rpc_call_level(5, answered[i], 4999), TA_LOG_DEBUG);
		assert_int_equal(
		    ta_rpc_call_level(5, answered[i], 5000), TA_LOG_INFO);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_violations_and_failures),
	    cmocka_unit_test(test_refused_before_the_handler),
	    cmocka_unit_test(test_handler_misbehaves),
	    cmocka_unit_test(test_alloc_fails),
	    cmocka_unit_test(test_caller_auth),
	    cmocka_unit_test(test_call_log_level),
	};

	ta_log_init("unit-rpc-dispatch", TA_LOG_INFO);
	return cmocka_run_group_tests_name("rpc_dispatch", tests, NULL, NULL);
}
