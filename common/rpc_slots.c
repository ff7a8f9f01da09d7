/*
 * The slot scheduler of the RPC server (design notes: rpc_server.c): what
 * happens to each call a context receives (answered at once as a liveness
 * check or as overload, or queued), and the serving threads' loop that
 * takes queued calls, runs them through the dispatcher (rpc_serve.c) and
 * sends the replies.
 */
#include "rpc_slots.h"

#include <assert.h>
#include <stdlib.h>

#include "clock.h"
#include "log.h"
#include "rpc_liveness.h"
#include "rpc_serve.h"

/* How long a reply may take to leave before the call is given up. */
#define SEND_TIMEOUT_MS 5000

/* Memory for a reply of n bytes: a new nng message, left in *arg. */
static void *
msg_alloc(void *arg, size_t n)
{
	nng_msg **m = arg;

	if (nng_msg_alloc(m, n) != 0) {
		*m = NULL;
		return NULL;
	}
	return nng_msg_body(*m);
}

/* Handles one request message (consumed) and returns the reply message. */
static nng_msg *
serve_one(srv_thread *t, nng_msg *req)
{
	ta_rpc_server *s = t->srv;
	nng_msg *rep = NULL;

	ta_rpc_serve_packed(s->cfg, s->max_bytes, t->state, nng_msg_body(req),
	    nng_msg_len(req), msg_alloc, &rep);
	nng_msg_free(req);
	return rep;
}

/* Starts a receive on slot; the caller holds srv->mu. */
void
ta_rpc_slot_recv(srv_slot *slot)
{
	slot->state = SLOT_RECV;
	nng_aio_set_timeout(slot->aio, NNG_DURATION_INFINITE);
	nng_ctx_recv(slot->ctx, slot->aio);
}

/* Appends slot to the FIFO [*head, *tail]; the caller holds srv->mu. */
static void
fifo_push(srv_slot **head, srv_slot **tail, srv_slot *slot)
{
	slot->next = NULL;
	if (*tail)
		(*tail)->next = slot;
	else
		*head = slot;
	*tail = slot;
}

/* Takes the first slot of the FIFO, or NULL; the caller holds srv->mu. */
static srv_slot *
fifo_pop(srv_slot **head, srv_slot **tail)
{
	srv_slot *slot = *head;

	if (slot && !(*head = slot->next))
		*tail = NULL;
	return slot;
}

/*
 * A send of slot has ended (rv: its result); the caller holds srv->mu.
 * A message nng did not take is still ours. A send that ended past its
 * expiry may still be held by nng's expire thread, which would cancel
 * the slot's next reply (aio_expiry.h): the slot sends on a new aio.
 */
static void
send_ended(srv_slot *slot, int rv)
{
	ta_rpc_server *s = slot->srv;

	if (rv != 0)
		nng_msg_free(nng_aio_get_msg(slot->saio));
	nng_aio_set_msg(slot->saio, NULL);
	if (ta_aio_expiry_ended_late(&slot->sexpiry) &&
	    ta_aio_renew(&slot->saio, NULL, NULL) == 0)
		slot->sexpiry.at_us = INT64_MAX;
	s->nsending--;
	s->nserved++;
	pthread_cond_broadcast(&s->is_sent);
	if (s->is_stopping)
		slot->state = SLOT_IDLE;
	else
		ta_rpc_slot_recv(slot);
}

/*
 * Starts sending m (consumed) on slot; the caller holds srv->mu.
 *
 * The send aio has no callback, so nng completes it without handing a
 * task to one of its threads (an aio with a callback costs a thread
 * wake-up per completion: docs/perf.md). When the pipe is free, nng's REP
 * takes the message and completes the aio inside nng_ctx_send, having
 * cleared its message: the slot receives again at once. Otherwise the
 * reply waits behind another on that pipe (or was refused, its message
 * still on the aio): the sender thread waits for it.
 */
static void
slot_send(srv_slot *slot, nng_msg *m)
{
	ta_rpc_server *s = slot->srv;

	s->nsending++;
	/* A client that stops reading must not pin this slot. */
	ta_aio_expiry_set(&slot->sexpiry, slot->saio, SEND_TIMEOUT_MS);
	nng_aio_set_msg(slot->saio, m);
	nng_ctx_send(slot->ctx, slot->saio);
	if (!nng_aio_get_msg(slot->saio)) {
		/* Taken. The pipe may clear the message just before it ends
		 * the aio on another thread: wait for that (no callback,
		 * nothing of ours runs there). */
		nng_aio_wait(slot->saio);
		send_ended(slot, nng_aio_result(slot->saio));
		return;
	}
	slot->state = SLOT_SENDING;
	fifo_push(&s->send_head, &s->send_tail, slot);
	pthread_cond_signal(&s->has_send);
}

void *
ta_rpc_sender_thread(void *arg)
{
	ta_rpc_server *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		srv_slot *slot;

		while (!s->send_head && !s->is_sender_done)
			pthread_cond_wait(&s->has_send, &s->mu);
		if (!(slot = fifo_pop(&s->send_head, &s->send_tail)))
			break;
		pthread_mutex_unlock(&s->mu);
		nng_aio_wait(slot->saio);
		pthread_mutex_lock(&s->mu);
		send_ended(slot, nng_aio_result(slot->saio));
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* The answer to a call refused because the queue is full. */
static nng_msg *
overload_msg(const ta_rpc_server *s)
{
	nng_msg *m = NULL;

	ta_rpc_pack_reply(s->max_bytes, TA_RESOURCE_EXHAUSTED,
	    "server overloaded", NULL, 0, msg_alloc, &m);
	return m;
}

/*
 * Alive: no serving thread is inside a call, or one took or ended a call
 * within LIVENESS_STALL_US. Threads all stuck in calls for longer (a hung
 * database call, a deadlock) are not alive: the check then queues like
 * any call, misses its deadline, and the orchestrator replaces the task.
 */
#define LIVENESS_STALL_US (10 * 1000000LL)

static bool
is_progressing(const ta_rpc_server *s)
{
	return s->nbusy == 0 ||
	       ta_mono_us() - s->progress_us < LIVENESS_STALL_US;
}

/* The answer to a liveness check, sent from the receive callback. */
static nng_msg *
liveness_msg(const ta_rpc_server *s)
{
	size_t len;
	uint8_t *payload = ta_rpc_liveness_reply(&len);
	nng_msg *m = NULL;

	if (!payload)
		return NULL;
	ta_rpc_pack_reply(
	    s->max_bytes, TA_OK, NULL, payload, len, msg_alloc, &m);
	free(payload);
	return m;
}

/* A receive finished; the caller holds srv->mu. */
static void
slot_received(srv_slot *slot, int rv)
{
	ta_rpc_server *s = slot->srv;
	nng_msg *m;

	if (rv != 0) {
		/* Cancelled or closed by shutdown; anything else is transient
		 * (the pipe of the call went away). */
		if (s->is_stopping || rv == NNG_ECLOSED)
			slot->state = SLOT_IDLE;
		else
			ta_rpc_slot_recv(slot);
		return;
	}
	m = nng_aio_get_msg(slot->aio);
	nng_aio_set_msg(slot->aio, NULL);
	if (s->is_stopping) {
		/* Unanswered: the client re-sends it when the pipe closes. */
		nng_msg_free(m);
		slot->state = SLOT_IDLE;
		return;
	}
	if (is_progressing(s) &&
	    ta_rpc_is_liveness(nng_msg_body(m), nng_msg_len(m))) {
		/* Alive whatever the threads are doing (rpc_liveness.h). */
		nng_msg *live = liveness_msg(s);

		nng_msg_free(m);
		if (live)
			slot_send(slot, live);
		else
			ta_rpc_slot_recv(slot);
		return;
	}
	if (s->nqueued >= s->queue_limit) {
		nng_msg *over = overload_msg(s);

		nng_msg_free(m);
		if (!s->is_shedding) {
			s->is_shedding = true;
			s->nshed = 0;
			ta_log(TA_LOG_WARN, "rpc_overloaded",
			    "every serving thread is busy and the queue is "
			    "full; refusing calls",
			    TA_I("threads", s->nthreads),
			    TA_I("queue_limit", s->queue_limit));
		}
		s->nshed++;
		if (over)
			slot_send(slot, over);
		else
			ta_rpc_slot_recv(slot);
		return;
	}
	if (s->is_shedding) {
		s->is_shedding = false;
		ta_log(TA_LOG_INFO, "rpc_overload_ended", "taking calls again",
		    TA_I("refused", s->nshed));
	}
	slot->req = m;
	slot->state = SLOT_QUEUED;
	fifo_push(&s->head, &s->tail, slot);
	s->nqueued++;
	pthread_cond_signal(&s->has_work);
}

void
ta_rpc_slot_cb(void *arg)
{
	srv_slot *slot = arg;
	ta_rpc_server *s = slot->srv;
	int rv = nng_aio_result(slot->aio);

	pthread_mutex_lock(&s->mu);
	assert(slot->state == SLOT_RECV); /* the only operation of aio */
	slot_received(slot, rv);
	pthread_mutex_unlock(&s->mu);
}

void *
ta_rpc_serve_thread(void *arg)
{
	srv_thread *t = arg;
	ta_rpc_server *s = t->srv;
	const ta_rpc_server_cfg *cfg = s->cfg;

	if (cfg->thread_init)
		t->state = cfg->thread_init(cfg->app, t->index);
	pthread_mutex_lock(&s->mu);
	for (;;) {
		srv_slot *slot;
		nng_msg *rep;

		while (!s->head && !s->is_stopping)
			pthread_cond_wait(&s->has_work, &s->mu);
		/* On shutdown the queue is drained before the thread leaves. */
		if (!(slot = fifo_pop(&s->head, &s->tail)))
			break;
		s->nqueued--;
		s->nbusy++;
		s->progress_us = ta_mono_us();
		slot->state = SLOT_SERVING;
		pthread_mutex_unlock(&s->mu);

		rep = serve_one(t, slot->req);
		slot->req = NULL;

		pthread_mutex_lock(&s->mu);
		s->nbusy--;
		s->progress_us = ta_mono_us();
		if (rep)
			slot_send(slot, rep);
		else if (s->is_stopping)
			slot->state = SLOT_IDLE;
		else
			ta_rpc_slot_recv(slot);
	}
	pthread_mutex_unlock(&s->mu);
	if (cfg->thread_fini)
		cfg->thread_fini(t->state);
	return NULL;
}
