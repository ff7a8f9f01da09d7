/*
 * The REQ side of the internal RPC: one nng REQ socket per backend, dialled
 * to every address, and one nng context + callback aio per call.
 *
 * Design notes.
 * - Threads: ta_rpc_start may be called from any thread. The call then
 *   advances on nng's task threads (send done -> receive -> reply), and
 *   done(arg, call) runs exactly once on one of them; it must not block.
 * - Ownership: the caller owns the ta_rpc_call throughout. The call owns
 *   its packed envelope, its nng context and aio, and the unpacked reply.
 *   ta_rpc_call_free closes the context and hands the aio to nng's reaper,
 *   so it is safe inside done(), which runs on that aio's own callback.
 * - Deadline: the aio timeout is the time left to the envelope deadline,
 *   set again before the receive; expiry is DEADLINE_EXCEEDED. A call whose
 *   deadline has already passed is not sent.
 * - No instance connected: REQ holds a request until some pipe can take
 *   it, so the send phase gets at most TA_RPC_SEND_GRACE_MS (enough for a
 *   redial after a restart). Timing out there means no instance took the
 *   request: UNAVAILABLE (503), not a deadline (504), and it never ran.
 * - Delivery is at most once: re-sending is off on every context (see
 *   call_ctx_open). A lost connection is UNAVAILABLE, and the caller
 *   decides whether the method is safe to try again.
 * - Shutdown: ta_rpc_client_close closes the socket; calls in flight end
 *   with UNAVAILABLE and their done() runs. Free them afterwards.
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
#include <nng/protocol/reqrep0/req.h>

#include "alloc.h"
#include "log.h"

struct ta_rpc_client {
	nng_socket sock;
	nng_dialer *dialers; /* kept open: they redial in the background */
	size_t ndialers;
	size_t max_bytes;
};

/* How long a request may wait for a connected instance before UNAVAILABLE. */
#define TA_RPC_SEND_GRACE_MS 1000

enum call_state { CALL_NEW, CALL_SENDING, CALL_RECEIVING, CALL_DONE };

struct ta_rpc_call_priv {
	uint8_t *buf; /* owned packed request envelope */
	size_t len;
	char *method; /* owned copies, for the failure log line */
	char *request_id;
	int64_t deadline_ms;
	int64_t start_us;
	enum call_state state;
	bool is_ctx_open;
	nng_ctx ctx;
	nng_aio *aio;
	void (*done)(void *arg, ta_rpc_call *call);
	void *arg;
};

int64_t
ta_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *
ta_rpc_method_name(
    const ProtobufCServiceDescriptor *sd, unsigned i, char *buf, size_t cap)
{
	assert(i < sd->n_methods);
	snprintf(buf, cap, "/%s/%s", sd->name, sd->methods[i].name);
	return buf;
}

ta_status
ta_rpc_client_open(const char *urls, size_t max_msg_bytes, ta_rpc_client **out)
{
	ta_rpc_client *c = ta_xcalloc(1, sizeof *c);
	char *list = ta_xstrdup(urls ? urls : ""), *save = NULL, *url;
	ta_status status = TA_OK;
	int rv;

	c->max_bytes = max_msg_bytes ? max_msg_bytes : TA_RPC_MAX_MSG_DEFAULT;
	if ((rv = nng_req0_open(&c->sock)) != 0) {
		ta_log(TA_LOG_ERROR, "rpc_client_open_failed",
		    "could not open a REQ socket",
		    TA_S("error", nng_strerror(rv)));
		free(list);
		free(c);
		return TA_INTERNAL;
	}
	/* Set before dialling: the dialers copy them. */
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, c->max_bytes);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 100);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 2000);
	for (url = strtok_r(list, ",", &save); url && status == TA_OK;
	     url = strtok_r(NULL, ",", &save)) {
		char *end;

		while (*url == ' ')
			url++;
		for (end = url + strlen(url); end > url && end[-1] == ' ';)
			*--end = '\0';
		c->dialers = ta_xrealloc(
		    c->dialers, (c->ndialers + 1) * sizeof *c->dialers);
		/* Non-blocking: an absent server is redialled in background. */
		rv = nng_dial(
		    c->sock, url, &c->dialers[c->ndialers], NNG_FLAG_NONBLOCK);
		if (rv != 0) {
			ta_log(TA_LOG_ERROR, "rpc_dial_failed",
			    "cannot dial RPC URL", TA_S("url", url),
			    TA_S("error", nng_strerror(rv)));
			status = TA_INVALID_ARGUMENT;
		} else {
			c->ndialers++;
		}
	}
	if (status == TA_OK && c->ndialers == 0) {
		ta_log(TA_LOG_ERROR, "rpc_dial_failed", "no RPC URL given");
		status = TA_INVALID_ARGUMENT;
	}
	free(list);
	if (status != TA_OK) {
		ta_rpc_client_close(c);
		return status;
	}
	*out = c;
	return TA_OK;
}

void
ta_rpc_client_close(ta_rpc_client *c)
{
	if (!c)
		return;
	nng_close(c->sock); /* closes the dialers and every context */
	free(c->dialers);
	free(c);
}

ta_rpc_call *
ta_rpc_call_new(const char *method, const char *request_id, int64_t timeout_ms,
    const Taskapi__V1__Principal *principal, const char *idempotency_key,
    const ProtobufCMessage *request)
{
	Taskapi__V1__RequestEnvelope env = TASKAPI__V1__REQUEST_ENVELOPE__INIT;
	Google__Protobuf__Timestamp deadline =
	    GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	ta_rpc_call *call = ta_xcalloc(1, sizeof *call);
	struct ta_rpc_call_priv *p = ta_xcalloc(1, sizeof *p);
	uint8_t *payload = NULL;

	call->priv = p;
	call->status = TA_UNKNOWN;
	call->message = "";
	p->method = ta_xstrdup(method);
	p->request_id = ta_xstrdup(request_id ? request_id : "");
	p->deadline_ms = ta_now_ms() + timeout_ms;
	deadline.seconds = p->deadline_ms / 1000;
	deadline.nanos = (int32_t)(p->deadline_ms % 1000) * 1000000;

	/* The envelope only borrows; packing never writes through these. */
	env.method = p->method;
	env.request_id = p->request_id;
	env.deadline = &deadline;
	env.principal = (Taskapi__V1__Principal *)principal;
	if (idempotency_key)
		env.idempotency_key = (char *)idempotency_key;
	if (request) {
		payload =
		    ta_xmalloc(protobuf_c_message_get_packed_size(request));
		env.payload.len = protobuf_c_message_pack(request, payload);
		env.payload.data = payload;
	}
	p->len = taskapi__v1__request_envelope__get_packed_size(&env);
	p->buf = ta_xmalloc(p->len);
	taskapi__v1__request_envelope__pack(&env, p->buf);
	free(payload);
	return call;
}

void
ta_rpc_call_free(ta_rpc_call *call)
{
	struct ta_rpc_call_priv *p;

	if (!call)
		return;
	p = call->priv;
	if (p->is_ctx_open)
		nng_ctx_close(p->ctx);
	/* May run inside done(), on this aio's callback: never free it here. */
	if (p->aio)
		nng_aio_reap(p->aio);
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
	call->latency_us = mono_us() - p->start_us;
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

static void
call_cb(void *arg)
{
	ta_rpc_call *call = arg;
	struct ta_rpc_call_priv *p = call->priv;
	int rv = nng_aio_result(p->aio);
	int64_t left;
	nng_msg *m;

	if (p->state == CALL_SENDING) {
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(p->aio)); /* still ours */
			/* No instance took it within the grace: it never ran. */
			call_fail_nng(call, rv == NNG_ETIMEDOUT ? NNG_ECONNREFUSED
			                                        : rv);
			return;
		}
		if ((left = p->deadline_ms - ta_now_ms()) <= 0) {
			call_fail_nng(call, NNG_ETIMEDOUT);
			return;
		}
		p->state = CALL_RECEIVING;
		nng_aio_set_timeout(p->aio, (nng_duration)left);
		nng_ctx_recv(p->ctx, p->aio);
		return;
	}
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
	call_finish(call, ta_status_from_int(call->reply->code),
	    call->reply->code != 0 && !call->reply->message[0]
	        ? ta_status_name(ta_status_from_int(call->reply->code))
	        : call->reply->message);
}

/*
 * nng's REQ re-sends a request after NNG_OPT_REQ_RESENDTIME (60 s by
 * default) and at once when the pipe holding it dies, so delivery would be
 * at-least-once and a CreateTask or RegisterUser could run twice. With
 * re-sending off a lost pipe surfaces as NNG_ECONNRESET (or NNG_ECLOSED):
 * the call ends UNAVAILABLE and the caller decides whether to retry.
 */
static int
call_ctx_open(ta_rpc_client *c, struct ta_rpc_call_priv *p)
{
	int rv;

	if ((rv = nng_ctx_open(&p->ctx, c->sock)) != 0)
		return rv;
	p->is_ctx_open = true;
	return nng_ctx_set_ms(
	    p->ctx, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
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
	p->start_us = mono_us();
	p->state = CALL_DONE; /* unless sent below: a call starts once */
	if (p->len > c->max_bytes) {
		call->status = TA_RESOURCE_EXHAUSTED;
		call->message = "request too large";
		return call->status;
	}
	if ((left = p->deadline_ms - ta_now_ms()) <= 0) {
		call->status = TA_DEADLINE_EXCEEDED;
		call->message = "upstream deadline exceeded";
		return call->status;
	}
	if ((rv = call_ctx_open(c, p)) != 0 ||
	    (rv = nng_aio_alloc(&p->aio, call_cb, call)) != 0 ||
	    (rv = nng_msg_alloc(&m, p->len)) != 0) {
		ta_log(TA_LOG_WARN, "rpc_call_failed", "cannot start RPC",
		    TA_S("request_id", p->request_id),
		    TA_S("method", p->method), TA_S("error", nng_strerror(rv)));
		call->status = TA_UNAVAILABLE;
		call->message = "service unavailable";
		return call->status; /* call_free releases ctx and aio */
	}
	memcpy(nng_msg_body(m), p->buf, p->len);
	p->done = done;
	p->arg = arg;
	p->state = CALL_SENDING;
	nng_aio_set_timeout(p->aio, (nng_duration)(left < TA_RPC_SEND_GRACE_MS
	                                               ? left
	                                               : TA_RPC_SEND_GRACE_MS));
	nng_aio_set_msg(p->aio, m);
	nng_ctx_send(p->ctx, p->aio);
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
