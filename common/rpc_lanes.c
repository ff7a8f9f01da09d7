/*
 * The REQ client's lane pool (rpc_lanes.h).
 *
 * Design notes: any thread may get and put lanes; a mutex guards the free
 * list and each lane's hand-back flags. A lane put back from inside its own
 * callback (the usual case: done() frees the call) is only pushed on the
 * free list once that callback has returned, so the next call starting an
 * operation on its aio never overlaps the previous call's code on it (nng
 * counts the aio's task as busy until its callback has returned, and a new
 * operation may begin meanwhile). Lanes live until the pool is freed;
 * their number is the most calls ever in flight at once on the client. A
 * call may outlive its client (freed after ta_rpc_client_close): its lane
 * is then freed when the call gives it back, and the pool with the last.
 * The socket's close has closed every context already.
 *
 * A lane whose operation ended at or after its expiry may still be held
 * by nng's expire thread, which would cancel the next call's operation on
 * the same aio and context (aio_expiry.h): lane_cb marks it late, and it
 * gets a new aio before it is lent again.
 */
#include "rpc_lanes.h"

#include <pthread.h>
#include <stdlib.h>

#include <nng/protocol/reqrep0/req.h>

#include "alloc.h"

struct ta_rpc_lanes {
	nng_socket sock;
	pthread_mutex_t mu;
	ta_rpc_lane *free_list; /* ready to lend */
	ta_rpc_lane *all;       /* every lane, for ta_rpc_lanes_free */
	bool is_closed;         /* freed by its client: lent lanes linger */
	size_t nlent;           /* after close: lanes calls still hold */
	bool is_quiescing;      /* no more operations or contexts start */
	int nstarting;          /* nng_ctx_* calls running now */
	pthread_cond_t is_idle; /* nstarting dropped to 0 while quiescing */
};

ta_rpc_lanes *
ta_rpc_lanes_new(nng_socket sock)
{
	ta_rpc_lanes *ls = ta_xcalloc(1, sizeof *ls);

	ls->sock = sock;
	pthread_mutex_init(&ls->mu, NULL);
	pthread_cond_init(&ls->is_idle, NULL);
	return ls;
}

/* Back on the free list; the caller holds ls->mu. */
static void
lane_push(ta_rpc_lane *l)
{
	l->cb = NULL;
	l->arg = NULL;
	l->is_released = false;
	l->is_lent = false;
	l->next_free = l->owner->free_list;
	l->owner->free_list = l;
}

static void
lane_cb(void *arg)
{
	ta_rpc_lane *l = arg;
	ta_rpc_lanes *ls = l->owner;
	void (*cb)(void *);
	void *cb_arg;

	pthread_mutex_lock(&ls->mu);
	cb = l->cb;
	cb_arg = l->arg;
	l->is_in_cb = true;
	pthread_mutex_unlock(&ls->mu);
	if (cb) {
		cb(cb_arg);
	} else {
		/* Given back while pending: the message it holds (an unsent
		 * request, an unread reply) has no owner left. A sent one
		 * belongs to nng. */
		int rv = nng_aio_result(l->aio);
		nng_msg *m = nng_aio_get_msg(l->aio);

		if (m && (l->is_recv ? rv == 0 : rv != 0))
			nng_msg_free(m);
		nng_aio_set_msg(l->aio, NULL);
	}
	pthread_mutex_lock(&ls->mu);
	if (ta_aio_expiry_ended_late(&l->expiry))
		l->is_late = true;
	l->is_in_cb = false;
	if (l->is_released)
		lane_push(l);
	pthread_mutex_unlock(&ls->mu);
}

/* Counts a call into nng on the pool's contexts, unless quiescing. */
static bool
starting_enter(ta_rpc_lanes *ls)
{
	bool is_ok;

	pthread_mutex_lock(&ls->mu);
	if ((is_ok = !ls->is_quiescing))
		ls->nstarting++;
	pthread_mutex_unlock(&ls->mu);
	return is_ok;
}

static void
starting_leave(ta_rpc_lanes *ls)
{
	pthread_mutex_lock(&ls->mu);
	if (--ls->nstarting == 0 && ls->is_quiescing)
		pthread_cond_broadcast(&ls->is_idle);
	pthread_mutex_unlock(&ls->mu);
}

/* A new lane: its own context, re-sending off (rpc_call.c), and aio. */
static int
lane_open(ta_rpc_lanes *ls, ta_rpc_lane **out)
{
	ta_rpc_lane *l = ta_xcalloc(1, sizeof *l);
	int rv;

	l->owner = ls;
	l->expiry.at_us = INT64_MAX;
	if ((rv = nng_ctx_open(&l->ctx, ls->sock)) != 0) {
		free(l);
		return rv;
	}
	if ((rv = nng_ctx_set_ms(l->ctx, NNG_OPT_REQ_RESENDTIME,
	         NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_aio_alloc(&l->aio, lane_cb, l)) != 0) {
		nng_ctx_close(l->ctx);
		free(l);
		return rv;
	}
	pthread_mutex_lock(&ls->mu);
	l->next_all = ls->all;
	ls->all = l;
	pthread_mutex_unlock(&ls->mu);
	*out = l;
	return 0;
}

int
ta_rpc_lane_get(
    ta_rpc_lanes *ls, void (*cb)(void *arg), void *arg, ta_rpc_lane **out)
{
	ta_rpc_lane *l;
	int rv;

	pthread_mutex_lock(&ls->mu);
	if ((l = ls->free_list) != NULL)
		ls->free_list = l->next_free;
	pthread_mutex_unlock(&ls->mu);
	if (l && l->is_late) {
		/* Off the free list, so its callback has returned. */
		if ((rv = ta_aio_renew(&l->aio, lane_cb, l)) != 0) {
			pthread_mutex_lock(&ls->mu);
			lane_push(l);
			pthread_mutex_unlock(&ls->mu);
			return rv;
		}
		l->is_late = false;
		l->expiry.at_us = INT64_MAX;
	}
	if (!l) {
		if (!starting_enter(ls))
			return NNG_ECLOSED;
		rv = lane_open(ls, &l);
		starting_leave(ls);
		if (rv != 0)
			return rv;
	}
	pthread_mutex_lock(&ls->mu);
	l->cb = cb;
	l->arg = arg;
	l->is_lent = true;
	l->next_free = NULL;
	pthread_mutex_unlock(&ls->mu);
	*out = l;
	return 0;
}

bool
ta_rpc_lane_start(ta_rpc_lane *l, bool is_recv, nng_duration timeout_ms)
{
	if (!starting_enter(l->owner))
		return false;
	ta_aio_expiry_set(&l->expiry, l->aio, timeout_ms);
	l->is_recv = is_recv;
	if (is_recv)
		nng_ctx_recv(l->ctx, l->aio);
	else
		nng_ctx_send(l->ctx, l->aio);
	starting_leave(l->owner);
	return true;
}

void
ta_rpc_lanes_quiesce(ta_rpc_lanes *ls)
{
	pthread_mutex_lock(&ls->mu);
	ls->is_quiescing = true;
	while (ls->nstarting > 0)
		pthread_cond_wait(&ls->is_idle, &ls->mu);
	pthread_mutex_unlock(&ls->mu);
}

/* The pool after its client closed and its last lane came back. */
static void
lanes_destroy(ta_rpc_lanes *ls)
{
	pthread_cond_destroy(&ls->is_idle);
	pthread_mutex_destroy(&ls->mu);
	free(ls);
}

void
ta_rpc_lane_put(ta_rpc_lane *l, bool is_pending)
{
	ta_rpc_lanes *ls = l->owner;

	pthread_mutex_lock(&ls->mu);
	if (ls->is_closed) {
		/* The call outlived its client: its aio was stopped at close,
		 * so no callback runs any more; the lane goes for good. */
		bool is_last = --ls->nlent == 0;

		pthread_mutex_unlock(&ls->mu);
		nng_aio_free(l->aio);
		free(l);
		if (is_last)
			lanes_destroy(ls);
		return;
	}
	l->cb = NULL;
	l->arg = NULL;
	if (l->is_in_cb || is_pending)
		l->is_released = true; /* pushed when its callback ends */
	else
		lane_push(l);
	pthread_mutex_unlock(&ls->mu);
	if (is_pending)
		nng_aio_cancel(l->aio);
}

void
ta_rpc_lanes_free(ta_rpc_lanes *ls)
{
	ta_rpc_lane *l, *next;
	bool is_empty;

	if (!ls)
		return;
	/* Stopping each aio waits for a callback still running on it; a
	 * lane given back inside one is on the free list afterwards. */
	for (l = ls->all; l; l = l->next_all)
		nng_aio_stop(l->aio);
	pthread_mutex_lock(&ls->mu);
	ls->is_closed = true;
	for (l = ls->all; l; l = next) {
		next = l->next_all;
		if (l->is_lent) {
			ls->nlent++; /* freed by ta_rpc_lane_put */
			continue;
		}
		nng_aio_free(l->aio);
		free(l);
	}
	ls->all = ls->free_list = NULL;
	is_empty = ls->nlent == 0;
	pthread_mutex_unlock(&ls->mu);
	if (is_empty)
		lanes_destroy(ls);
}
