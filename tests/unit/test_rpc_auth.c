/*
 * Caller authentication of the internal RPC: the caller_mac trailer of
 * common/rpc_auth.c (sign, verify, rotation, tampering, key rules) and the
 * worker's check in ta_rpc_serve_packed (no handler runs for an
 * unauthenticated call; Health stays open).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "health.h"
#include "rpc.h"
#include "rpc_auth.h"
#include "rpc_serve.h"
#include "taskapi/v1/health.pb-c.h"
#include "taskapi/v1/task.pb-c.h"

#define KEY "rpc-auth-unit-test-key-0123456789abcdef"
#define OTHER "rpc-auth-unit-test-other-key-0123456789ab"
#define OLD "rpc-auth-unit-test-previous-key-012345678"

/* A packed GetTask envelope as the edge builds it (before signing). */
static size_t
envelope(uint8_t *buf, size_t cap, int64_t user_id, const char *method)
{
	Taskapi__V1__RequestEnvelope env = TASKAPI__V1__REQUEST_ENVELOPE__INIT;
	Taskapi__V1__Principal who = TASKAPI__V1__PRINCIPAL__INIT;
	Taskapi__V1__GetTaskRequest g = TASKAPI__V1__GET_TASK_REQUEST__INIT;
	uint8_t payload[32];

	g.id = 42;
	who.user_id = user_id;
	who.username = "alice";
	who.email = "alice@example.test";
	who.role = "user";
	env.method = (char *)method;
	env.request_id = "unit-rpc-auth";
	env.principal = &who;
	env.payload.data = payload;
	env.payload.len = taskapi__v1__get_task_request__pack(&g, payload);
	assert_true(taskapi__v1__request_envelope__get_packed_size(&env) +
	                TA_RPC_AUTH_TRAILER_BYTES <=
	            cap);
	return taskapi__v1__request_envelope__pack(&env, buf);
}

static ta_rpc_auth *
auth_of(const char *key, const char *previous)
{
	ta_rpc_auth *a = NULL;

	assert_int_equal(ta_rpc_auth_new(key, previous, &a), TA_OK);
	return a;
}

static size_t
signed_envelope(const ta_rpc_auth *a, uint8_t *buf, size_t cap, int64_t user_id,
    const char *method)
{
	size_t n = envelope(buf, cap, user_id, method);

	ta_rpc_auth_sign(a, buf, n, buf + n);
	return n + TA_RPC_AUTH_TRAILER_BYTES;
}

static void
test_signed_verifies_and_decodes(void **state)
{
	ta_rpc_auth *a = auth_of(KEY, NULL);
	uint8_t buf[512];
	size_t n = signed_envelope(
	    a, buf, sizeof buf, 2, "/taskapi.v1.TaskService/GetTask");
	Taskapi__V1__RequestEnvelope *env;

	(void)state;
	assert_true(ta_rpc_auth_verify(a, buf, n));
	/* The trailer is field 8: the signed bytes are an envelope. */
	env = taskapi__v1__request_envelope__unpack(NULL, n, buf);
	assert_non_null(env);
	assert_int_equal(env->caller_mac.len, TA_RPC_AUTH_MAC_BYTES);
	assert_memory_equal(env->caller_mac.data, buf + n - 32, 32);
	assert_int_equal(env->principal->user_id, 2);
	assert_string_equal(env->method, "/taskapi.v1.TaskService/GetTask");
	taskapi__v1__request_envelope__free_unpacked(env, NULL);
	ta_rpc_auth_free(a);
}

static void
test_every_flipped_byte_fails(void **state)
{
	ta_rpc_auth *a = auth_of(KEY, NULL);
	uint8_t buf[512];
	size_t n = signed_envelope(
	    a, buf, sizeof buf, 2, "/taskapi.v1.TaskService/GetTask");

	(void)state;
	for (size_t i = 0; i < n; i++) {
		buf[i] ^= 0x01;
		if (ta_rpc_auth_verify(a, buf, n))
			fail_msg("byte %zu flipped still verifies", i);
		buf[i] ^= 0x01;
	}
	assert_true(ta_rpc_auth_verify(a, buf, n));
	ta_rpc_auth_free(a);
}

static void
test_forgeries_fail(void **state)
{
	ta_rpc_auth *a = auth_of(KEY, NULL), *other = auth_of(OTHER, NULL);
	uint8_t buf[512], forged[512];
	size_t n =
	    envelope(buf, sizeof buf, 2, "/taskapi.v1.TaskService/GetTask");
	size_t m;

	(void)state;
	/* No trailer at all, and lengths below one trailer. */
	assert_false(ta_rpc_auth_verify(a, buf, n));
	assert_false(ta_rpc_auth_verify(a, buf, 0));
	assert_false(ta_rpc_auth_verify(a, buf, TA_RPC_AUTH_TRAILER_BYTES - 1));
	/* Signed with another key. */
	ta_rpc_auth_sign(other, buf, n, buf + n);
	assert_false(ta_rpc_auth_verify(a, buf, n + TA_RPC_AUTH_TRAILER_BYTES));
	/* A real MAC moved onto another principal's envelope. */
	ta_rpc_auth_sign(a, buf, n, buf + n);
	m = envelope(
	    forged, sizeof forged, 3, "/taskapi.v1.TaskService/GetTask");
	memcpy(forged + m, buf + n, TA_RPC_AUTH_TRAILER_BYTES);
	assert_false(
	    ta_rpc_auth_verify(a, forged, m + TA_RPC_AUTH_TRAILER_BYTES));
	/* A valid signed envelope with bytes appended after its MAC. */
	buf[n + TA_RPC_AUTH_TRAILER_BYTES] = 0x08;
	buf[n + TA_RPC_AUTH_TRAILER_BYTES + 1] = 0x01;
	assert_false(
	    ta_rpc_auth_verify(a, buf, n + TA_RPC_AUTH_TRAILER_BYTES + 2));
	/* The right MAC under another tag (field 9) or length byte. */
	buf[n] = 0x4a;
	assert_false(ta_rpc_auth_verify(a, buf, n + TA_RPC_AUTH_TRAILER_BYTES));
	ta_rpc_auth_free(other);
	ta_rpc_auth_free(a);
}

static void
test_rotation(void **state)
{
	ta_rpc_auth *old = auth_of(OLD, NULL), *now = auth_of(KEY, OLD);
	ta_rpc_auth *next = auth_of(OTHER, KEY);
	uint8_t buf[512];
	size_t n;

	(void)state;
	/* An edge still on the old key, a worker already rotated. */
	n = signed_envelope(
	    old, buf, sizeof buf, 2, "/taskapi.v1.TaskService/GetTask");
	assert_true(ta_rpc_auth_verify(now, buf, n));
	assert_false(ta_rpc_auth_verify(next, buf, n)); // two rotations ago
	/* The rotated side signs with its current key only. */
	n = signed_envelope(
	    now, buf, sizeof buf, 2, "/taskapi.v1.TaskService/GetTask");
	assert_false(ta_rpc_auth_verify(old, buf, n));
	assert_true(ta_rpc_auth_verify(next, buf, n));
	ta_rpc_auth_free(old);
	ta_rpc_auth_free(now);
	ta_rpc_auth_free(next);
}

static void
test_key_rules(void **state)
{
	ta_rpc_auth *a = NULL;
	char k31[32];

	(void)state;
	memset(k31, 'k', 31);
	k31[31] = '\0';
	assert_int_equal(ta_rpc_auth_new(k31, NULL, &a), TA_INVALID_ARGUMENT);
	assert_int_equal(ta_rpc_auth_new("", NULL, &a), TA_INVALID_ARGUMENT);
	assert_int_equal(ta_rpc_auth_new(NULL, NULL, &a), TA_INVALID_ARGUMENT);
	assert_int_equal(ta_rpc_auth_new(KEY, k31, &a), TA_INVALID_ARGUMENT);
	assert_null(a);
	assert_int_equal(ta_rpc_auth_new(KEY, "", &a), TA_OK); // "": none
	ta_rpc_auth_free(a);
	ta_rpc_auth_free(NULL);
}

/* ---- the worker's check, through ta_rpc_serve_packed ---- */

static int handler_runs;

#define STUB(fn, In, Out, OUT_INIT)                                            \
	static void fn(Taskapi__V1__TaskService_Service *s, const In *in,      \
	    Out##_Closure closure, void *closure_data)                         \
	{                                                                      \
		Out reply = OUT_INIT;                                          \
		(void)s;                                                       \
		(void)in;                                                      \
		handler_runs++;                                                \
		closure(&reply, closure_data);                                 \
	}
STUB(stub_create_task, Taskapi__V1__CreateTaskRequest,
    Taskapi__V1__CreateTaskReply, TASKAPI__V1__CREATE_TASK_REPLY__INIT)
STUB(stub_list_tasks, Taskapi__V1__ListTasksRequest,
    Taskapi__V1__ListTasksReply, TASKAPI__V1__LIST_TASKS_REPLY__INIT)
STUB(stub_get_task, Taskapi__V1__GetTaskRequest, Taskapi__V1__GetTaskReply,
    TASKAPI__V1__GET_TASK_REPLY__INIT)
STUB(stub_update_task, Taskapi__V1__UpdateTaskRequest,
    Taskapi__V1__UpdateTaskReply, TASKAPI__V1__UPDATE_TASK_REPLY__INIT)
STUB(stub_delete_task, Taskapi__V1__DeleteTaskRequest,
    Taskapi__V1__DeleteTaskReply, TASKAPI__V1__DELETE_TASK_REPLY__INIT)

static Taskapi__V1__TaskService_Service stub_service =
    TASKAPI__V1__TASK_SERVICE__INIT(stub_);

static uint8_t reply_buf[4096];

/* arg: where the packed reply's length is written. */
static void *
reply_alloc(void *arg, size_t n)
{
	*(size_t *)arg = n;
	return n <= sizeof reply_buf ? reply_buf : NULL;
}

/* Serves req[0..len) and returns the reply code (and its message). */
static int32_t
serve(
    const ta_rpc_auth *a, const uint8_t *req, size_t len, char *msg, size_t cap)
{
	ProtobufCService *services[2] = {
	    &stub_service.base, ta_health_service("unit")};
	ta_rpc_server_cfg cfg = {
	    .services = services, .nservices = 2, .auth = a};
	Taskapi__V1__ReplyEnvelope *r;
	int32_t code;
	size_t n = 0;

	assert_true(ta_rpc_serve_packed(
	    &cfg, 1u << 20, NULL, req, len, reply_alloc, &n));
	r = taskapi__v1__reply_envelope__unpack(NULL, n, reply_buf);
	assert_non_null(r);
	code = r->code;
	if (msg)
		snprintf(msg, cap, "%s", r->message);
	taskapi__v1__reply_envelope__free_unpacked(r, NULL);
	return code;
}

static void
test_worker_refuses_unauthenticated(void **state)
{
	ta_rpc_auth *a = auth_of(KEY, NULL), *other = auth_of(OTHER, NULL);
	uint8_t buf[512];
	char msg[128];
	size_t n;

	(void)state;
	handler_runs = 0;
	n = envelope(buf, sizeof buf, 2, "/taskapi.v1.TaskService/GetTask");
	assert_int_equal(serve(a, buf, n, msg, sizeof msg), TA_UNAUTHENTICATED);
	assert_string_equal(msg, TA_RPC_AUTH_FAILED_MESSAGE);
	n = signed_envelope(
	    other, buf, sizeof buf, 2, "/taskapi.v1.TaskService/GetTask");
	assert_int_equal(serve(a, buf, n, NULL, 0), TA_UNAUTHENTICATED);
	/* Undeclared methods too: nothing is revealed without the key. */
	n = envelope(buf, sizeof buf, 2, "/taskapi.v1.TaskService/Nope");
	assert_int_equal(serve(a, buf, n, NULL, 0), TA_UNAUTHENTICATED);
	assert_int_equal(handler_runs, 0);

	n = signed_envelope(
	    a, buf, sizeof buf, 2, "/taskapi.v1.TaskService/GetTask");
	assert_int_equal(serve(a, buf, n, NULL, 0), TA_OK);
	assert_int_equal(handler_runs, 1);
	/* Without keys configured the worker does not check (RPC_AUTH=off). */
	n = envelope(buf, sizeof buf, 2, "/taskapi.v1.TaskService/GetTask");
	assert_int_equal(serve(NULL, buf, n, NULL, 0), TA_OK);
	assert_int_equal(handler_runs, 2);
	ta_rpc_auth_free(other);
	ta_rpc_auth_free(a);
}

static void
test_health_stays_open(void **state)
{
	ta_rpc_auth *a = auth_of(KEY, NULL);
	Taskapi__V1__RequestEnvelope env = TASKAPI__V1__REQUEST_ENVELOPE__INIT;
	Taskapi__V1__HealthCheckRequest hc =
	    TASKAPI__V1__HEALTH_CHECK_REQUEST__INIT;
	uint8_t buf[256], payload[16];

	(void)state;
	hc.liveness = 1;
	env.method = "/taskapi.v1.Health/Check";
	env.payload.data = payload;
	env.payload.len = taskapi__v1__health_check_request__pack(&hc, payload);
	assert_int_equal(
	    serve(a, buf, taskapi__v1__request_envelope__pack(&env, buf), NULL,
	        0),
	    TA_OK);
	/* A look-alike service name is not Health. */
	env.method = "/taskapi.v1.HealthX/Check";
	assert_int_equal(
	    serve(a, buf, taskapi__v1__request_envelope__pack(&env, buf), NULL,
	        0),
	    TA_UNAUTHENTICATED);
	ta_rpc_auth_free(a);
}

static void
test_transition_serves_unsigned_only(void **state)
{
	ta_rpc_auth_cfg cfg = {
	    .mode = "transition", .key = KEY, .previous = ""};
	ta_rpc_auth *a = ta_rpc_auth_from_cfg_or_exit(&cfg);
	ta_rpc_auth *other = auth_of(OTHER, NULL);
	uint8_t buf[512];
	size_t n;

	(void)state;
	assert_true(ta_rpc_auth_accepts_unsigned(a));
	handler_runs = 0;
	/* An edge of the previous release: no caller_mac at all. */
	n = envelope(buf, sizeof buf, 2, "/taskapi.v1.TaskService/GetTask");
	assert_int_equal(serve(a, buf, n, NULL, 0), TA_OK);
	/* A caller_mac is still checked when there is one. */
	n = signed_envelope(
	    other, buf, sizeof buf, 2, "/taskapi.v1.TaskService/GetTask");
	assert_int_equal(serve(a, buf, n, NULL, 0), TA_UNAUTHENTICATED);
	n = signed_envelope(
	    a, buf, sizeof buf, 2, "/taskapi.v1.TaskService/GetTask");
	assert_int_equal(serve(a, buf, n, NULL, 0), TA_OK);
	assert_int_equal(handler_runs, 2);
	ta_rpc_auth_free(other);
	ta_rpc_auth_free(a);

	/* "required" (the default) does not. */
	cfg.mode = "required";
	a = ta_rpc_auth_from_cfg_or_exit(&cfg);
	assert_false(ta_rpc_auth_accepts_unsigned(a));
	ta_rpc_auth_free(a);
	cfg.mode = "off";
	assert_null(ta_rpc_auth_from_cfg_or_exit(&cfg));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_signed_verifies_and_decodes),
	    cmocka_unit_test(test_every_flipped_byte_fails),
	    cmocka_unit_test(test_forgeries_fail),
	    cmocka_unit_test(test_rotation),
	    cmocka_unit_test(test_key_rules),
	    cmocka_unit_test(test_worker_refuses_unauthenticated),
	    cmocka_unit_test(test_health_stays_open),
	    cmocka_unit_test(test_transition_serves_unsigned_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
