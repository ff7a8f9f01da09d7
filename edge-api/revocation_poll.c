/*
 * The revocation poller (revocation_poll.h). One thread: a synchronous
 * ListRevocations call, then a timed wait on a condition variable that
 * stop() signals. The thread touches nothing but the cache and its call.
 */
#include "revocation_poll.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "alloc.h"
#include "log.h"
#include "taskapi/v1/auth.pb-c.h"

#define METHOD "/taskapi.v1.AuthService/ListRevocations"

struct edge_revocation_poll {
	edge_revocations *rv; /* borrowed */
	ta_rpc_client *auth;  /* borrowed */
	long period_s;
	long timeout_ms;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	bool is_stopping;    /* under mu */
	bool has_list;       /* a first list arrived (thread only) */
	bool is_failing;     /* the last poll failed (thread only) */
	unsigned long polls;
};

/* The reply's users into the cache. */
static void
apply(edge_revocation_poll *p, const Taskapi__V1__ListRevocationsReply *rep)
{
	edge_revocation *items = ta_xcalloc(
	    rep->n_revocations ? rep->n_revocations : 1, sizeof *items);
	size_t before = edge_revocations_count(p->rv);

	for (size_t i = 0; i < rep->n_revocations; i++) {
		items[i].user_id = rep->revocations[i]->user_id;
		items[i].generation = rep->revocations[i]->generation;
	}
	edge_revocations_replace(p->rv, items, rep->n_revocations);
	free(items);
	if (!p->has_list || p->is_failing ||
	    before != edge_revocations_count(p->rv))
		ta_log(TA_LOG_INFO, "revocations_loaded",
		    "revocation list refreshed",
		    TA_I("users", (int64_t)rep->n_revocations),
		    TA_I("window_s", rep->window_s));
}

/* One ListRevocations call; true when the cache was replaced. */
static bool
poll_once(edge_revocation_poll *p)
{
	Taskapi__V1__ListRevocationsRequest req =
	    TASKAPI__V1__LIST_REVOCATIONS_REQUEST__INIT;
	ProtobufCMessage *out = NULL;
	char request_id[40];
	ta_rpc_call *call;
	ta_status status;

	snprintf(request_id, sizeof request_id, "revocations-%lu", p->polls++);
	call = ta_rpc_call_new(
	    METHOD, request_id, p->timeout_ms, NULL, NULL, &req.base);
	call->is_retry_safe = true; // a read
	status = ta_rpc_call_sync(p->auth, call);
	if (status == TA_OK)
		status = ta_rpc_call_unpack(call,
		    &taskapi__v1__list_revocations_reply__descriptor, &out);
	if (status == TA_OK) {
		apply(p, (const Taskapi__V1__ListRevocationsReply *)out);
		protobuf_c_message_free_unpacked(out, NULL);
	} else {
		/* Keep the last list: it only ever under-revokes. */
		ta_log(TA_LOG_WARN, "revocations_refresh_failed",
		    "could not refresh the revocation list; keeping the last",
		    TA_S("request_id", request_id),
		    TA_S("code", ta_status_name(status)),
		    TA_I("users", (int64_t)edge_revocations_count(p->rv)));
	}
	ta_rpc_call_free(call);
	return status == TA_OK;
}

static void *
run(void *arg)
{
	edge_revocation_poll *p = arg;
	struct timespec until;
	long wait_s;

	pthread_mutex_lock(&p->mu);
	while (!p->is_stopping) {
		pthread_mutex_unlock(&p->mu);
		p->is_failing = !poll_once(p);
		if (!p->is_failing)
			p->has_list = true;
		wait_s = p->has_list ? p->period_s : 1;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += wait_s;
		pthread_mutex_lock(&p->mu);
		while (!p->is_stopping && pthread_cond_timedwait(&p->cond,
		                              &p->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

ta_status
edge_revocation_poll_start(edge_revocations *rv, ta_rpc_client *auth,
    long period_s, long timeout_ms, edge_revocation_poll **out)
{
	edge_revocation_poll *p = ta_xcalloc(1, sizeof *p);
	pthread_condattr_t ca;

	p->rv = rv;
	p->auth = auth;
	p->period_s = period_s;
	p->timeout_ms = timeout_ms;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&p->thread, NULL, run, p) != 0) {
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->mu);
		free(p);
		return TA_INTERNAL;
	}
	*out = p;
	return TA_OK;
}

void
edge_revocation_poll_stop(edge_revocation_poll *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->is_stopping = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
