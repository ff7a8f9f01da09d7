/*
 * The REP side of the internal RPC: a pool of serving threads that unpack
 * request envelopes, dispatch them through protobuf-c service descriptors
 * and answer with reply envelopes. This file moves the bytes; one call's
 * unpacking, dispatch and reply packing are rpc_serve.c's.
 *
 * Design notes.
 * - Threads and contexts: the socket has nthreads + queue_limit +
 *   SHED_SLOTS nng contexts ("slots"), each with its own aio whose
 *   callback runs on nng's task threads and never blocks: a received call
 *   is appended to a FIFO queue, or, when queue_limit calls already wait,
 *   answered RESOURCE_EXHAUSTED ("server overloaded") on the spot; a
 *   liveness Health/Check is answered on the spot too (rpc_liveness.h). The
 *   nthreads serving threads take calls from the queue and handle them
 *   blocking (libpq) without stalling nng's shared task threads; each then
 *   starts the reply's send on the call's slot and takes the next call.
 *   The send's completion re-arms the slot's receive. So at most nthreads
 *   calls run and queue_limit wait; SHED_SLOTS contexts are still
 *   receiving then, and overload is answered at once instead of piling up
 *   in TCP buffers until the callers' deadlines pass. thread_init and
 *   thread_fini run on the serving thread; their result (the thread's
 *   ta_pg) is never shared.
 * - Ownership: a received nng_msg belongs to its slot until a serving
 *   thread takes it; the unpacked envelope and input and the ta_rpc_reply
 *   live on that thread for one call. The handler's reply message is
 *   borrowed: it is packed inside the closure, so it may live on the
 *   handler's stack. slot state, the queue and the counters are guarded
 *   by the server lock; nng calls on a slot are made under it too, so
 *   shutdown never races a re-arm (nng runs callbacks on its own threads,
 *   never inline).
 * - Deadline: a queued call whose envelope deadline has passed by the time
 *   a thread takes it is answered DEADLINE_EXCEEDED without running the
 *   handler. A handler that runs past the deadline still replies; the
 *   client has stopped waiting and nng drops the late reply.
 * - Shutdown: ta_rpc_server_close sets is_stopping and cancels every idle
 *   receive. A call received after that is dropped
 *   unanswered: its client re-sends it (REQ) when the connection closes.
 *   The threads serve every call already received, queued ones included,
 *   then leave; close waits until their replies are sent (bounded by the
 *   send timeout), then closes the socket.
 */
#include "rpc.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/util/platform.h>

#include "alloc.h"
#include "log.h"
#include "rpc_liveness.h"
#include "rpc_serve.h"

/* Contexts beyond threads + queue: they keep receiving to shed load. */
#define SHED_SLOTS 2

/* How long a reply may take to leave before the call is given up. */
#define SEND_TIMEOUT_MS 5000

/*
 * nng 1.5 completes a send once the pipe has taken the message, before it
 * is written, and has no flush: closing the socket at once may cut off
 * the last replies. Close waits this long after the last send completed.
 */
#define CLOSE_LINGER_MS 100

typedef enum slot_state {
	SLOT_IDLE,    /* nothing pending (before start, after shutdown) */
	SLOT_RECV,    /* receive pending */
	SLOT_QUEUED,  /* holds a call waiting for a serving thread */
	SLOT_SERVING, /* a serving thread runs its call */
	SLOT_SENDING, /* reply (or overload answer) being sent */
} slot_state;

/* One nng context of the socket and the call it holds. */
typedef struct srv_slot {
	struct ta_rpc_server *srv; /* borrowed: the owner */
	nng_ctx ctx;
	nng_aio *aio;          /* callback slot_cb */
	slot_state state;      /* guarded by srv->mu */
	nng_msg *req;          /* SLOT_QUEUED: the received call */
	struct srv_slot *next; /* queue link */
} srv_slot;

typedef struct srv_thread {
	struct ta_rpc_server *srv; /* borrowed: the owner */
	int index;
	pthread_t tid;
	bool is_started;
	void *state; /* from thread_init; this thread only */
} srv_thread;

struct ta_rpc_server {
	const ta_rpc_server_cfg *cfg; /* borrowed: outlives the server */
	size_t max_bytes;
	int queue_limit;
	nng_socket sock;
	pthread_mutex_t mu;
	pthread_cond_t has_work; /* queue non-empty or stopping */
	pthread_cond_t is_sent;  /* a send finished */
	/* Guarded by mu: */
	bool is_stopping;
	srv_slot *head, *tail; /* FIFO of SLOT_QUEUED slots */
	int nqueued;
	int nbusy;	      /* serving threads inside a call */
	int64_t progress_us;  /* when a serving thread last took or ended one */
	int nsending;
	int64_t nserved; /* replies sent */
	bool is_shedding;
	int64_t nshed; /* calls refused during this overload */
	int nthreads;
	srv_thread *threads;
	int nslots;
	srv_slot *slots;
};

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
static void
slot_recv(srv_slot *slot)
{
	slot->state = SLOT_RECV;
	nng_aio_set_timeout(slot->aio, NNG_DURATION_INFINITE);
	nng_ctx_recv(slot->ctx, slot->aio);
}

/* Starts sending m (consumed) on slot; the caller holds srv->mu. */
static void
slot_send(srv_slot *slot, nng_msg *m)
{
	slot->state = SLOT_SENDING;
	slot->srv->nsending++;
	/* A client that stops reading must not pin this slot. */
	nng_aio_set_timeout(slot->aio, SEND_TIMEOUT_MS);
	nng_aio_set_msg(slot->aio, m);
	nng_ctx_send(slot->ctx, slot->aio);
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

static int64_t
server_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
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
	       server_now_us() - s->progress_us < LIVENESS_STALL_US;
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
			slot_recv(slot);
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
			slot_recv(slot);
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
			slot_recv(slot);
		return;
	}
	if (s->is_shedding) {
		s->is_shedding = false;
		ta_log(TA_LOG_INFO, "rpc_overload_ended", "taking calls again",
		    TA_I("refused", s->nshed));
	}
	slot->req = m;
	slot->next = NULL;
	slot->state = SLOT_QUEUED;
	if (s->tail)
		s->tail->next = slot;
	else
		s->head = slot;
	s->tail = slot;
	s->nqueued++;
	pthread_cond_signal(&s->has_work);
}

/* The aio callback of a slot, on an nng task thread: never blocks. */
static void
slot_cb(void *arg)
{
	srv_slot *slot = arg;
	ta_rpc_server *s = slot->srv;
	int rv = nng_aio_result(slot->aio);

	pthread_mutex_lock(&s->mu);
	switch (slot->state) {
	case SLOT_RECV:
		slot_received(slot, rv);
		break;
	case SLOT_SENDING:
		if (rv != 0)
			nng_msg_free(nng_aio_get_msg(slot->aio)); /* ours */
		nng_aio_set_msg(slot->aio, NULL);
		s->nsending--;
		s->nserved++;
		pthread_cond_broadcast(&s->is_sent);
		if (s->is_stopping)
			slot->state = SLOT_IDLE;
		else
			slot_recv(slot);
		break;
	default:
		assert(!"slot callback in a state without a pending aio");
		break;
	}
	pthread_mutex_unlock(&s->mu);
}

static void *
serve_thread(void *arg)
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
		if (!(slot = s->head))
			break;
		if (!(s->head = slot->next))
			s->tail = NULL;
		s->nqueued--;
		s->nbusy++;
		s->progress_us = server_now_us();
		slot->state = SLOT_SERVING;
		pthread_mutex_unlock(&s->mu);

		rep = serve_one(t, slot->req);
		slot->req = NULL;

		pthread_mutex_lock(&s->mu);
		s->nbusy--;
		s->progress_us = server_now_us();
		if (rep)
			slot_send(slot, rep);
		else if (s->is_stopping)
			slot->state = SLOT_IDLE;
		else
			slot_recv(slot);
	}
	pthread_mutex_unlock(&s->mu);
	if (cfg->thread_fini)
		cfg->thread_fini(t->state);
	return NULL;
}

/* Stops and joins the started threads, then frees everything of s. */
static void
server_teardown(ta_rpc_server *s)
{
	bool has_served;

	/* The listener stays open: nng closes a listener's pipes with it,
	 * and the calls held would lose their way back. */
	pthread_mutex_lock(&s->mu);
	s->is_stopping = true;
	for (int i = 0; i < s->nslots; i++)
		if (s->slots[i].state == SLOT_RECV)
			nng_aio_cancel(s->slots[i].aio);
	pthread_cond_broadcast(&s->has_work);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < s->nthreads; i++)
		if (s->threads[i].is_started)
			pthread_join(s->threads[i].tid, NULL);
	/* Every call received has been served: let the replies leave. */
	pthread_mutex_lock(&s->mu);
	while (s->nsending > 0)
		pthread_cond_wait(&s->is_sent, &s->mu);
	has_served = s->nserved > 0;
	pthread_mutex_unlock(&s->mu);
	if (has_served)
		nng_msleep(CLOSE_LINGER_MS);
	nng_close(s->sock);
	for (int i = 0; i < s->nslots; i++) {
		/* Waits for a callback still running; none re-arms now. */
		nng_aio_free(s->slots[i].aio);
		if (s->slots[i].req)
			nng_msg_free(s->slots[i].req);
	}
	pthread_cond_destroy(&s->has_work);
	pthread_cond_destroy(&s->is_sent);
	pthread_mutex_destroy(&s->mu);
	free(s->slots);
	free(s->threads);
	free(s);
}

ta_status
ta_rpc_server_open(const ta_rpc_server_cfg *cfg, ta_rpc_server **out)
{
	ta_rpc_server *s;
	ta_status status = TA_OK;
	int rv = 0;

	if (!cfg->listen_url || cfg->nthreads < 1 || cfg->nthreads > 256 ||
	    cfg->queue_limit < 0 || cfg->queue_limit > 65536) {
		ta_log(TA_LOG_ERROR, "rpc_listen_failed",
		    "bad listen URL, thread count or queue limit",
		    TA_I("threads", cfg->nthreads),
		    TA_I("queue_limit", cfg->queue_limit));
		return TA_INVALID_ARGUMENT;
	}
	s = ta_xcalloc(1, sizeof *s);
	s->cfg = cfg;
	s->max_bytes =
	    cfg->max_msg_bytes ? cfg->max_msg_bytes : TA_RPC_MAX_MSG_DEFAULT;
	s->queue_limit =
	    cfg->queue_limit ? cfg->queue_limit : TA_RPC_QUEUE_LIMIT_DEFAULT;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->has_work, NULL);
	pthread_cond_init(&s->is_sent, NULL);
	s->nthreads = cfg->nthreads;
	s->threads = ta_xcalloc((size_t)s->nthreads, sizeof *s->threads);
	s->nslots = s->nthreads + s->queue_limit + SHED_SLOTS;
	s->slots = ta_xcalloc((size_t)s->nslots, sizeof *s->slots);
	if ((rv = nng_rep0_open(&s->sock)) != 0) {
		status = TA_INTERNAL;
		goto out;
	}
	/* nng's default is unlimited: an oversized request drops the pipe. */
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, s->max_bytes);
	for (int i = 0; i < s->nslots && rv == 0; i++) {
		srv_slot *slot = &s->slots[i];

		slot->srv = s;
		if ((rv = nng_ctx_open(&slot->ctx, s->sock)) == 0)
			rv = nng_aio_alloc(&slot->aio, slot_cb, slot);
	}
	if (rv != 0) {
		status = TA_INTERNAL;
		goto out;
	}
	if ((rv = nng_listen(s->sock, cfg->listen_url, NULL, 0)) != 0) {
		status = rv == NNG_EADDRINVAL || rv == NNG_EINVAL ||
		                 rv == NNG_ENOTSUP
		             ? TA_INVALID_ARGUMENT
		             : TA_UNAVAILABLE;
		goto out;
	}
	for (int i = 0; i < s->nthreads && status == TA_OK; i++) {
		srv_thread *t = &s->threads[i];

		t->srv = s;
		t->index = i;
		if (pthread_create(&t->tid, NULL, serve_thread, t) == 0)
			t->is_started = true;
		else
			status = TA_INTERNAL;
	}
	if (status == TA_OK) {
		pthread_mutex_lock(&s->mu);
		for (int i = 0; i < s->nslots; i++)
			slot_recv(&s->slots[i]);
		pthread_mutex_unlock(&s->mu);
	}
out:
	if (status != TA_OK) {
		ta_log(TA_LOG_ERROR, "rpc_listen_failed",
		    "could not start the RPC server",
		    TA_S("url", cfg->listen_url),
		    TA_S("error", rv ? nng_strerror(rv) : "thread start"));
		server_teardown(s);
		return status;
	}
	ta_log(TA_LOG_INFO, "rpc_listening", "serving RPC",
	    TA_S("url", cfg->listen_url), TA_I("threads", s->nthreads),
	    TA_I("queue_limit", s->queue_limit),
	    TA_I("max_msg_bytes", s->max_bytes));
	*out = s;
	return TA_OK;
}

void
ta_rpc_server_close(ta_rpc_server *s)
{
	if (s)
		server_teardown(s);
}