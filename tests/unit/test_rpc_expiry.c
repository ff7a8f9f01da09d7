/*
 * nng 1.5.2's expiry race, played through the RPC client's lane pool
 * (common/aio_expiry.h): a call whose reply arrives just after its
 * deadline, then the next call on the same lane. ctest runs this with
 * nng_expire_shim.c preloaded, which holds nng's expire thread between
 * reading an expired aio's cancel function and calling it, so the race
 * happens on every run: without the fix the second call ends
 * DEADLINE_EXCEEDED long before its own deadline (it did once in CI, as
 * integration.auth_rpc's health check right after a queue of timeouts).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "log.h"
#include "rpc.h"
#include "status.h"
#include "taskapi/v1/envelope.pb-c.h"
#include "taskapi/v1/health.pb-c.h"

/* The shim's hold on the expire thread (TA_SHIM_EXPIRE_DELAY_MS, set by
 * tests/CMakeLists.txt) must be longer than LATE_REPLY_MS - CALL_MS. */
#define CALL_MS 100
#define LATE_REPLY_MS 400 /* the first call's reply: after its deadline */
#define NEXT_REPLY_MS 1200 /* the next call's: still pending when the
                              expire thread lets go */
#define METHOD "/taskapi.v1.Health/Check"

typedef struct server {
	nng_socket sock;
	pthread_t tid;
	char url[64];
} server;

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Answers each request OK after a delay chosen by its request id. */
static void *
serve(void *arg)
{
	server *s = arg;
	nng_msg *m;

	while (nng_recvmsg(s->sock, &m, 0) == 0) {
		Taskapi__V1__RequestEnvelope *env =
		    taskapi__v1__request_envelope__unpack(
		        NULL, nng_msg_len(m), nng_msg_body(m));
		Taskapi__V1__ReplyEnvelope rep =
		    TASKAPI__V1__REPLY_ENVELOPE__INIT;
		uint8_t buf[64];
		size_t len;

		sleep_ms(env && strcmp(env->request_id, "late") == 0
		             ? LATE_REPLY_MS
		             : NEXT_REPLY_MS);
		taskapi__v1__request_envelope__free_unpacked(env, NULL);
		rep.code = TA_OK;
		len = taskapi__v1__reply_envelope__pack(&rep, buf);
		nng_msg_clear(m);
		if (nng_msg_append(m, buf, len) != 0 ||
		    nng_sendmsg(s->sock, m, 0) != 0)
			nng_msg_free(m);
	}
	return NULL;
}

static long
shim_delays(void)
{
	atomic_long *n = dlsym(RTLD_DEFAULT, "ta_shim_expire_delays");

	if (!n)
		fail_msg("nng_expire_shim is not preloaded: run through ctest");
	return atomic_load(n);
}

static void
test_reply_after_deadline_then_next_call(void **state)
{
	(void)state;
	Taskapi__V1__HealthCheckRequest req =
	    TASKAPI__V1__HEALTH_CHECK_REQUEST__INIT;
	server s;
	ta_rpc_client *client = NULL;
	ta_rpc_call *call;
	nng_listener l;
	int port;

	assert_int_equal(nng_rep0_open(&s.sock), 0);
	assert_int_equal(
	    nng_listen(s.sock, "tcp://127.0.0.1:0", &l, 0), 0);
	assert_int_equal(
	    nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
	snprintf(s.url, sizeof s.url, "tcp://127.0.0.1:%d", port);
	assert_int_equal(pthread_create(&s.tid, NULL, serve, &s), 0);
	assert_int_equal(ta_rpc_client_open(s.url, 0, &client), TA_OK);
	assert_int_equal(shim_delays(), 0);

	/* Expires at CALL_MS; the expire thread takes the aio and is held
	 * before cancelling it, and the reply completes the call first. */
	call = ta_rpc_call_new(METHOD, "late", CALL_MS, NULL, NULL, &req.base);
	assert_int_equal(ta_rpc_call_sync(client, call), TA_OK);
	assert_true(call->latency_us >= LATE_REPLY_MS * 1000);
	/* done() ran inside the lane's callback; once that has returned
	 * (microseconds), the lane goes straight back to the pool. */
	sleep_ms(50);
	ta_rpc_call_free(call);
	/* The window was open: the expire thread held that aio. */
	assert_true(shim_delays() >= 1);

	/* One call at a time: this one gets the same lane. The held cancel
	 * must not end it; it waits for its reply. */
	call = ta_rpc_call_new(METHOD, "next", 10000, NULL, NULL, &req.base);
	ta_rpc_call_sync(client, call);
	assert_string_equal(
	    ta_status_name(call->status), ta_status_name(TA_OK));
	assert_true(call->latency_us >= NEXT_REPLY_MS * 1000);
	ta_rpc_call_free(call);

	ta_rpc_client_close(client);
	nng_close(s.sock);
	pthread_join(s.tid, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reply_after_deadline_then_next_call),
	};
	int rc;

	ta_log_init("unit-rpc-expiry", TA_LOG_INFO);
	rc = cmocka_run_group_tests_name("unit.rpc_expiry", tests, NULL, NULL);
	nng_fini();
	return rc;
}
