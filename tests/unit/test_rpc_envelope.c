/*
 * The envelope codec (common/rpc_envelope.h): request envelopes packed,
 * signed and unpacked; reply envelopes packed and read; method names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "rpc.h"
#include "rpc_auth.h"
#include "rpc_envelope.h"
#include "taskapi/v1/task.pb-c.h"

#define KEY "0123456789abcdef0123456789abcdef-envelope"

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

static void
test_request_round_trip(void **state)
{
	Taskapi__V1__Principal who = TASKAPI__V1__PRINCIPAL__INIT;
	Taskapi__V1__GetTaskRequest get = TASKAPI__V1__GET_TASK_REQUEST__INIT;
	Taskapi__V1__GetTaskRequest *got;
	Taskapi__V1__RequestEnvelope *env;
	ta_rpc_ctx ctx = {0};
	size_t len;
	uint8_t *buf;

	(void)state;
	who.user_id = 9;
	who.username = "bob";
	get.id = 77;
	buf = ta_rpc_request_pack("/taskapi.v1.TaskService/GetTask", "r-1",
	    1740910504221LL, &who, "idem", "10.1.2.3", &get.base, &len);
	env = ta_rpc_request_unpack(buf, len, &ctx);
	assert_non_null(env);
	assert_string_equal(ctx.method, "/taskapi.v1.TaskService/GetTask");
	assert_string_equal(ctx.request_id, "r-1");
	assert_string_equal(ctx.idempotency_key, "idem");
	assert_string_equal(ctx.client_addr, "10.1.2.3");
	assert_int_equal(ctx.principal->user_id, 9);
	assert_string_equal(ctx.principal->username, "bob");
	assert_true(ctx.deadline_ms == 1740910504221LL);
	got = taskapi__v1__get_task_request__unpack(
	    NULL, env->payload.len, env->payload.data);
	assert_int_equal(got->id, 77);
	taskapi__v1__get_task_request__free_unpacked(got, NULL);
	taskapi__v1__request_envelope__free_unpacked(env, NULL);
	free(buf);

	/* Optional parts left out: empty strings, no principal. */
	buf = ta_rpc_request_pack("/m/x", NULL, 5, NULL, "", NULL, NULL, &len);
	env = ta_rpc_request_unpack(buf, len, &ctx);
	assert_string_equal(ctx.request_id, "");
	assert_string_equal(ctx.idempotency_key, "");
	assert_string_equal(ctx.client_addr, "");
	assert_null(ctx.principal);
	assert_int_equal(env->payload.len, 0);
	taskapi__v1__request_envelope__free_unpacked(env, NULL);
	free(buf);

	memset(&ctx, 0, sizeof ctx);
	assert_null(ta_rpc_request_unpack((const uint8_t *)"\xff\xff", 2, &ctx));
	assert_null(ctx.method);
}

static void
test_request_sign(void **state)
{
	ta_rpc_auth *auth = NULL;
	Taskapi__V1__RequestEnvelope *env;
	ta_rpc_ctx ctx = {0};
	size_t len, unsigned_len;
	uint8_t *buf;

	(void)state;
	assert_int_equal(ta_rpc_auth_new(KEY, NULL, &auth), TA_OK);
	buf = ta_rpc_request_pack("/m/x", "r", 5, NULL, NULL, NULL, NULL, &len);
	unsigned_len = len;
	assert_false(ta_rpc_auth_verify(auth, buf, len));
	ta_rpc_request_sign(auth, &buf, &len);
	assert_int_equal(len, unsigned_len + TA_RPC_AUTH_TRAILER_BYTES);
	assert_true(ta_rpc_auth_verify(auth, buf, len));
	/* The trailer is a field of the envelope: it still decodes. */
	env = ta_rpc_request_unpack(buf, len, &ctx);
	assert_non_null(env);
	assert_string_equal(ctx.method, "/m/x");
	assert_true(env->caller_mac.len > 0);
	taskapi__v1__request_envelope__free_unpacked(env, NULL);
	free(buf);
	ta_rpc_auth_free(auth);
}

static void
test_reply_pack(void **state)
{
	struct ta_rpc_reply r = {.max_bytes = 1024,
	    .status = TA_INVALID_ARGUMENT};
	Taskapi__V1__ReplyEnvelope *re;
	const char *message;
	out_buf o = {0};

	(void)state;
	ta_violations_add(&r.violations, "title", "title is required");
	assert_true(ta_rpc_reply_pack(&r, heap_alloc, &o));
	re = taskapi__v1__reply_envelope__unpack(NULL, o.len, o.data);
	assert_int_equal(re->code, TA_INVALID_ARGUMENT);
	/* No message of its own: the status name. */
	assert_string_equal(re->message, ta_status_name(TA_INVALID_ARGUMENT));
	assert_int_equal(re->n_details, 1);
	assert_string_equal(re->details[0]->field, "title");
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);
	free(o.data);

	/* Over the cap: the violations are dropped. */
	r.max_bytes = 8;
	assert_true(ta_rpc_reply_pack(&r, heap_alloc, &o));
	re = taskapi__v1__reply_envelope__unpack(NULL, o.len, o.data);
	assert_int_equal(re->code, TA_RESOURCE_EXHAUSTED);
	assert_string_equal(re->message, "reply too large");
	assert_int_equal(re->n_details, 0);
	assert_int_equal(ta_rpc_reply_status(re, &message),
	    TA_RESOURCE_EXHAUSTED);
	assert_string_equal(message, "reply too large");
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);
	free(o.data);
	ta_violations_fini(&r.violations);

	assert_true(ta_rpc_pack_reply(
	    1024, TA_OK, NULL, (const uint8_t *)"\x08\x01", 2, heap_alloc, &o));
	re = taskapi__v1__reply_envelope__unpack(NULL, o.len, o.data);
	assert_int_equal(ta_rpc_reply_status(re, &message), TA_OK);
	assert_string_equal(message, "");
	assert_int_equal(re->payload.len, 2);
	taskapi__v1__reply_envelope__free_unpacked(re, NULL);
	free(o.data);
}

static void
test_reply_status(void **state)
{
	Taskapi__V1__ReplyEnvelope re = TASKAPI__V1__REPLY_ENVELOPE__INIT;
	const char *message;

	(void)state;
	re.code = TA_NOT_FOUND;
	re.message = "";
	assert_int_equal(ta_rpc_reply_status(&re, &message), TA_NOT_FOUND);
	assert_string_equal(message, ta_status_name(TA_NOT_FOUND));
	re.message = "no such task";
	ta_rpc_reply_status(&re, &message);
	assert_string_equal(message, "no such task");
	re.code = 99;
	assert_int_equal(ta_rpc_reply_status(&re, &message), TA_UNKNOWN);
}

static void
test_method_name(void **state)
{
	char buf[128];

	(void)state;
	assert_string_equal(
	    ta_rpc_method_name(&taskapi__v1__task_service__descriptor, 0, buf,
	        sizeof buf),
	    "/taskapi.v1.TaskService/"
	    "CreateTask");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_round_trip),
	    cmocka_unit_test(test_request_sign),
	    cmocka_unit_test(test_reply_pack),
	    cmocka_unit_test(test_reply_status),
	    cmocka_unit_test(test_method_name),
	};

	return cmocka_run_group_tests_name("rpc_envelope", tests, NULL, NULL);
}
