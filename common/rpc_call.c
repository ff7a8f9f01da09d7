/*
 * The REQ side's call state machine: a call is packed (rpc_envelope.c),
 * sent on its own context of the client's socket (rpc_client.c), received
 * and finished, and sent again when its instance drops a retry-safe call.
 *
 * Design notes.
 * - Threads: ta_rpc_start may be called from any thread. The call then
 *   advances on nng's task threads (send done -> receive -> reply), and
 *   done(arg, call) runs exactly once on one of them; it must not block.
 * - Ownership: the caller owns the ta_rpc_call throughout. The call owns
 *   its packed envelope and the unpacked reply, and borrows a lane (an nng
 *   context and its aio, rpc_lanes.h) from the client's pool from start
 *   to free. ta_rpc_call_free gives the lane back, so it is safe inside
 *   done(), which runs on that aio's own callback; the lane is lent again
 *   only once that callback has returned. A lane is reused for many calls:
 *   starting a send on a REQ context abandons anything earlier on it, so
 *   a late reply to an old call is dropped by nng, never delivered.
 * - Deadline: the aio timeout is the time left to the envelope deadline,
 *   set again before the receive; expiry is DEADLINE_EXCEEDED. A call whose
 *   deadline has already passed is not sent.
 * - No instance connected (circuit open): after TA_RPC_START_GRACE_MS from
 *   open (the first dials), a call finding no connected pipe fails
 *   UNAVAILABLE at once, without waiting; it closes again by itself as
 *   soon as a pipe connects. A send that no pipe takes within
 *   TA_RPC_SEND_GRACE_MS (until the start grace ends: until then) is
 *   UNAVAILABLE too (never ran), not a deadline.
 * - Delivery is at most once per send: re-sending is off on every context
 *   (NNG_OPT_REQ_RESENDTIME infinite, set when rpc_lanes.c opens it: nng's
 *   REQ would otherwise re-send after 60 s and at once when the pipe
 *   holding the request dies, so a CreateTask could run twice; with it off
 *   a lost pipe surfaces as NNG_ECONNRESET or NNG_ECLOSED). When the instance holding a call drops it
 *   (ECONNRESET: killed, or its dialer closed by discovery), a call marked
 *   is_retry_safe is sent again on the same context, so to another pipe,
 *   up to TA_RPC_MAX_ATTEMPTS sends within its deadline; others end
 *   UNAVAILABLE.
 * - Shutdown: calls in flight when the client closes end UNAVAILABLE.
 */
#include "rpc.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>

#include "alloc.h"
#include "clock.h"
#include "log.h"
#include "rpc_auth.h"
#include "rpc_client.h"
#include "rpc_envelope.h"
#include "rpc_lanes.h"

/*
 * How long a request may wait for a pipe to take it before UNAVAILABLE: a
 * connected pipe takes it within microseconds, so the wait is short, but
 * at start (TA_RPC_START_GRACE_MS after open) calls may wait for the first
 * connections a little longer.
 */
#define TA_RPC_SEND_GRACE_MS 250
#define TA_RPC_START_GRACE_MS 1000
/* Sends of one retry-safe call, the first included. */
#define TA_RPC_MAX_ATTEMPTS 3

enum call_state { CALL_NEW, CALL_SENDING, CALL_RECEIVING, CALL_DONE };

struct ta_rpc_call_priv {
	uint8_t *buf; /* owned packed request envelope */
	size_t len;
	char *method; /* owned copies, for the failure log line */
	char *request_id;
	int64_t deadline_ms;
	int64_t start_us;
	ta_rpc_client *client; /* borrowed: set by ta_rpc_start */
	enum call_state state;
	ta_rpc_lane *lane; /* lent by the client's pool while the call lives */
	nng_aio *aio;      /* borrowed: lane->aio */
	void (*done)(void *arg, ta_rpc_call *call);
	void *arg;
};

ta_rpc_call *
ta_rpc_call_new(const char *method, const char *request_id, int64_t timeout_ms,
    const Taskapi__V1__Principal *principal, const char *idempotency_key,
    const ProtobufCMessage *request)
{
	return ta_rpc_call_new_from(method, request_id, timeout_ms, principal,
	    idempotency_key, NULL, request);
}

ta_rpc_call *
ta_rpc_call_new_from(const char *method, const char *request_id,
    int64_t timeout_ms, const Taskapi__V1__Principal *principal,
    const char *idempotency_key, const char *client_addr,
    const ProtobufCMessage *request)
{
	ta_rpc_call *call = ta_xcalloc(1, sizeof *call);
	struct ta_rpc_call_priv *p = ta_xcalloc(1, sizeof *p);

	call->priv = p;
	call->status = TA_UNKNOWN;
	call->message = "";
	p->method = ta_xstrdup(method);
	p->request_id = ta_xstrdup(request_id ? request_id : "");
	p->deadline_ms = ta_now_ms() + timeout_ms;
	p->buf = ta_rpc_request_pack(p->method, p->request_id, p->deadline_ms,
	    principal, idempotency_key, client_addr, request, &p->len);
	if (idempotency_key && *idempotency_key)
		call->is_retry_safe = true; // the worker answers a repeat once
	return call;
}

void
ta_rpc_call_free(ta_rpc_call *call)
{
	struct ta_rpc_call_priv *p;

	if (!call)
		return;
	p = call->priv;
	/* May run inside done(), on the lane's callback: the pool hands the
	 * lane on once that returns. */
	if (p->lane)
		ta_rpc_lane_put(p->lane, p->state == CALL_SENDING ||
		                             p->state == CALL_RECEIVING);
	if (call->reply)
		taskapi__v1__reply_envelope__free_unpacked(call->reply, NULL);
	free(p->buf);
	free(p->method);
	free(p->request_id);
	free(p);
	free(call);
}

/* Ends the call: sets its results and runs done (the last use of call). */
static void
call_finish(ta_rpc_call *call, ta_status status, const char *message)
{
	struct ta_rpc_call_priv *p = call->priv;

	call->status = status;
	call->message = message;
	call->latency_us = ta_mono_us() - p->start_us;
	p->state = CALL_DONE;
	p->done(p->arg, call);
}

/* Translates an nng error once (STYLE.md) and ends the call. */
static void
call_fail_nng(ta_rpc_call *call, int rv)
{
	struct ta_rpc_call_priv *p = call->priv;
	ta_status status =
	    rv == NNG_ETIMEDOUT ? TA_DEADLINE_EXCEEDED : TA_UNAVAILABLE;

	ta_log(TA_LOG_WARN, "rpc_call_failed", "RPC transport failure",
	    TA_S("request_id", p->request_id), TA_S("method", p->method),
	    TA_S("code", ta_status_name(status)),
	    TA_S("error", nng_strerror(rv)));
	call_finish(call, status,
	    status == TA_DEADLINE_EXCEEDED ? "upstream deadline exceeded"
	                                   : "service unavailable");
}

/*
 * Sends m (consumed) with the send grace (see above) as timeout, within
 * left ms. Returns false when the client is closing: nothing was sent.
 */
static bool
call_send(struct ta_rpc_call_priv *p, nng_msg *m, int64_t left)
{
	int64_t since_open_ms =
	    (ta_mono_us() - ta_rpc_client_open_us(p->client)) / 1000;
	int64_t grace = since_open_ms < TA_RPC_START_GRACE_MS
	                    ? TA_RPC_START_GRACE_MS - since_open_ms
	                    : 0;

	if (grace < TA_RPC_SEND_GRACE_MS)
		grace = TA_RPC_SEND_GRACE_MS;
	p->state = CALL_SENDING;
	nng_aio_set_msg(p->aio, m);
	if (ta_rpc_lane_start(
	        p->lane, false, (nng_duration)(left < grace ? left : grace)))
		return true;
	nng_aio_set_msg(p->aio, NULL);
	nng_msg_free(m);
	p->state = CALL_DONE;
	return false;
}

/*
 * The instance holding the call dropped its connection. A retry-safe call
 * with time and attempts left is sent again on the same context: the dead
 * pipe is gone, so REQ hands it to another instance. Returns whether it
 * was sent (then call_cb runs again).
 */
static bool
call_resend(ta_rpc_call *call)
{
	struct ta_rpc_call_priv *p = call->priv;
	ta_rpc_client *c = p->client;
	int64_t left = p->deadline_ms - ta_now_ms();
	nng_msg *m;

	if (!call->is_retry_safe || call->attempts >= TA_RPC_MAX_ATTEMPTS ||
	    left <= 0 || ta_rpc_client_is_closing(c) ||
	    ta_rpc_client_connected(c) == 0 || nng_msg_alloc(&m, p->len) != 0)
		return false;
	memcpy(nng_msg_body(m), p->buf, p->len);
	call->attempts++;
	ta_log(TA_LOG_INFO, "rpc_call_retried",
	    "instance dropped the call; sending it to another",
	    TA_S("request_id", p->request_id), TA_S("method", p->method),
	    TA_I("attempt", call->attempts));
	return call_send(p, m, left);
}

static void
call_cb(void *arg)
{
	ta_rpc_call *call = arg;
	struct ta_rpc_call_priv *p = call->priv;
	int rv = nng_aio_result(p->aio);
	const char *message;
	ta_status status;
	int64_t left;
	nng_msg *m;

	if (p->state == CALL_SENDING) {
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(p->aio)); /* still ours */
			/* No instance took it within the grace: it never ran.
			 */
			call_fail_nng(
			    call, rv == NNG_ETIMEDOUT ? NNG_ECONNREFUSED : rv);
			return;
		}
		if ((left = p->deadline_ms - ta_now_ms()) <= 0) {
			call_fail_nng(call, NNG_ETIMEDOUT);
			return;
		}
		p->state = CALL_RECEIVING;
		if (!ta_rpc_lane_start(p->lane, true, (nng_duration)left))
			call_fail_nng(call, NNG_ECLOSED); /* client closing */
		return;
	}
	if (rv == NNG_ECONNRESET && call_resend(call))
		return;
	if (rv != 0) {
		call_fail_nng(call, rv);
		return;
	}
	m = nng_aio_get_msg(p->aio);
	call->reply = taskapi__v1__reply_envelope__unpack(
	    NULL, nng_msg_len(m), nng_msg_body(m));
	nng_msg_free(m);
	if (!call->reply) {
		ta_log(TA_LOG_ERROR, "rpc_malformed_reply",
		    "reply envelope does not decode",
		    TA_S("request_id", p->request_id),
		    TA_S("method", p->method));
		call_finish(call, TA_INTERNAL, "malformed reply");
		return;
	}
	if (ta_rpc_client_auth(p->client) &&
	    call->reply->code == TA_UNAUTHENTICATED &&
	    strcmp(call->reply->message, TA_RPC_AUTH_FAILED_MESSAGE) == 0) {
		/* Our own key was refused: a deployment fault, not the end
		 * user's; a 401 would send clients to log in again. */
		ta_log(TA_LOG_ERROR, "rpc_caller_rejected",
		    "the worker refused this caller's caller_mac: RPC_AUTH_KEY "
		    "differs between caller and worker",
		    TA_S("request_id", p->request_id),
		    TA_S("method", p->method));
		call_finish(call, TA_INTERNAL, "internal error");
		return;
	}
	status = ta_rpc_reply_status(call->reply, &message);
	call_finish(call, status, message);
}

ta_status
ta_rpc_start(ta_rpc_client *c, ta_rpc_call *call,
    void (*done)(void *arg, ta_rpc_call *call), void *arg)
{
	struct ta_rpc_call_priv *p = call->priv;
	nng_msg *m = NULL;
	int64_t left;
	int rv;

	assert(p->state == CALL_NEW);
	p->start_us = ta_mono_us();
	p->client = c;
	p->state = CALL_DONE; /* unless sent below: a call starts once */
	/* Signed once: a call starts once, and a re-send copies the bytes. */
	if (ta_rpc_client_auth(c))
		ta_rpc_request_sign(ta_rpc_client_auth(c), &p->buf, &p->len);
	if (p->len > ta_rpc_client_max_bytes(c)) {
		call->status = TA_RESOURCE_EXHAUSTED;
		call->message = "request too large";
		return call->status;
	}
	if ((left = p->deadline_ms - ta_now_ms()) <= 0) {
		call->status = TA_DEADLINE_EXCEEDED;
		call->message = "upstream deadline exceeded";
		return call->status;
	}
	/* Circuit open: no instance to take it, and waiting would not help. */
	if (ta_rpc_client_connected(c) == 0 &&
	    p->start_us - ta_rpc_client_open_us(c) >
	        TA_RPC_START_GRACE_MS * 1000) {
		call->status = TA_UNAVAILABLE;
		call->message = "service unavailable";
		return call->status;
	}
	if ((rv = ta_rpc_lane_get(ta_rpc_client_lanes(c), call_cb, call,
	         &p->lane)) != 0 ||
	    (rv = nng_msg_alloc(&m, p->len)) != 0) {
		ta_log(TA_LOG_WARN, "rpc_call_failed", "cannot start RPC",
		    TA_S("request_id", p->request_id),
		    TA_S("method", p->method), TA_S("error", nng_strerror(rv)));
		call->status = TA_UNAVAILABLE;
		call->message = "service unavailable";
		return call->status; /* call_free gives the lane back */
	}
	p->aio = p->lane->aio;
	memcpy(nng_msg_body(m), p->buf, p->len);
	p->done = done;
	p->arg = arg;
	call->attempts = 1;
	if (!call_send(p, m, left)) {
		call->status = TA_UNAVAILABLE; /* the client is closing */
		call->message = "service unavailable";
		return call->status;
	}
	return TA_OK;
}

typedef struct sync_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool is_done;
} sync_wait;

static void
sync_done(void *arg, ta_rpc_call *call)
{
	sync_wait *w = arg;

	(void)call;
	pthread_mutex_lock(&w->mu);
	w->is_done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

ta_status
ta_rpc_call_sync(ta_rpc_client *c, ta_rpc_call *call)
{
	sync_wait w = {.is_done = false};
	ta_status status;

	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	if ((status = ta_rpc_start(c, call, sync_done, &w)) == TA_OK) {
		pthread_mutex_lock(&w.mu);
		while (!w.is_done)
			pthread_cond_wait(&w.cv, &w.mu);
		pthread_mutex_unlock(&w.mu);
		status = call->status;
	}
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	return status;
}

ta_status
ta_rpc_call_unpack(const ta_rpc_call *call, const ProtobufCMessageDescriptor *d,
    ProtobufCMessage **out)
{
	ProtobufCMessage *m;

	if (call->status != TA_OK)
		return call->status;
	if (!call->reply)
		return TA_INTERNAL;
	m = protobuf_c_message_unpack(
	    d, NULL, call->reply->payload.len, call->reply->payload.data);
	if (!m) {
		ta_log(TA_LOG_ERROR, "rpc_malformed_reply",
		    "reply payload does not decode", TA_S("type", d->name));
		return TA_INTERNAL;
	}
	*out = m;
	return TA_OK;
}
