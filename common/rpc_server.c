/*
 * The REP side of the internal RPC: a pool of serving threads that unpack
 * request envelopes, dispatch them through protobuf-c service descriptors
 * and answer with reply envelopes. This file opens and closes the server;
 * the slot scheduler that moves the bytes is rpc_slots.c, and one call's
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
 *   A slot sends on a second aio without a callback: when the pipe takes
 *   the reply at once (the usual case) the slot receives again right
 *   away, with no task handed to nng's threads; a reply queued behind
 *   another on a busy pipe is waited for by one sender thread, which
 *   then re-arms the slot's receive (rpc_slots.c). So at most nthreads
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
#include "rpc_slots.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/util/platform.h>

#include "alloc.h"
#include "log.h"

/* Contexts beyond threads + queue: they keep receiving to shed load. */
#define SHED_SLOTS 2

/*
 * nng 1.5 completes a send once the pipe has taken the message, before it
 * is written, and has no flush: closing the socket at once may cut off
 * the last replies. Close waits this long after the last send completed.
 */
#define CLOSE_LINGER_MS 100

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
	s->is_sender_done = true;
	pthread_cond_signal(&s->has_send);
	pthread_mutex_unlock(&s->mu);
	if (s->is_sender_started)
		pthread_join(s->sender, NULL);
	if (has_served)
		nng_msleep(CLOSE_LINGER_MS);
	nng_close(s->sock);
	for (int i = 0; i < s->nslots; i++) {
		/* Waits for a callback still running; none re-arms now. */
		nng_aio_free(s->slots[i].aio);
		nng_aio_free(s->slots[i].saio);
		if (s->slots[i].req)
			nng_msg_free(s->slots[i].req);
	}
	pthread_cond_destroy(&s->has_work);
	pthread_cond_destroy(&s->is_sent);
	pthread_cond_destroy(&s->has_send);
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
	pthread_cond_init(&s->has_send, NULL);
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
		slot->sexpiry.at_us = INT64_MAX;
		if ((rv = nng_ctx_open(&slot->ctx, s->sock)) == 0)
			rv = nng_aio_alloc(&slot->aio, ta_rpc_slot_cb, slot);
		if (rv == 0)
			rv = nng_aio_alloc(&slot->saio, NULL, NULL);
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
	if (pthread_create(&s->sender, NULL, ta_rpc_sender_thread, s) == 0)
		s->is_sender_started = true;
	else
		status = TA_INTERNAL;
	for (int i = 0; i < s->nthreads && status == TA_OK; i++) {
		srv_thread *t = &s->threads[i];

		t->srv = s;
		t->index = i;
		if (pthread_create(&t->tid, NULL, ta_rpc_serve_thread, t) == 0)
			t->is_started = true;
		else
			status = TA_INTERNAL;
	}
	if (status == TA_OK) {
		pthread_mutex_lock(&s->mu);
		for (int i = 0; i < s->nslots; i++)
			ta_rpc_slot_recv(&s->slots[i]);
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