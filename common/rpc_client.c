/*
 * The REQ side of the internal RPC: one nng REQ socket per backend, one
 * dialer per instance address found by discovery, and one nng context +
 * callback aio per call.
 *
 * Design notes.
 * - Threads: ta_rpc_start may be called from any thread. The call then
 *   advances on nng's task threads (send done -> receive -> reply), and
 *   done(arg, call) runs exactly once on one of them; it must not block.
 *   One discovery thread per client re-resolves the backend's names every
 *   refresh period and is the only thread that adds or closes dialers.
 *   Pipe callbacks (nng threads) keep the set of connected pipes; a pipe
 *   that goes away also wakes the discovery thread to resolve again at
 *   once (at most once per TA_RPC_EARLY_REFRESH_MS): an instance stopping
 *   is usually one of several replaced in a deployment, and the names
 *   already answer with their successors.
 * - Ownership: the caller owns the ta_rpc_call throughout. The call owns
 *   its packed envelope, its nng context and aio, and the unpacked reply.
 *   ta_rpc_call_free closes the context and hands the aio to nng's reaper,
 *   so it is safe inside done(), which runs on that aio's own callback.
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
 *   (see call_ctx_open). When the instance holding a call drops it
 *   (ECONNRESET: killed, or its dialer closed by discovery), a call marked
 *   is_retry_safe is sent again on the same context, so to another pipe,
 *   up to TA_RPC_MAX_ATTEMPTS sends within its deadline; others end
 *   UNAVAILABLE.
 * - Shutdown: ta_rpc_client_close stops the discovery thread and closes
 *   the socket; calls in flight end with UNAVAILABLE and their done() runs.
 *   Free them afterwards.
 */
#include "rpc.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "alloc.h"
#include "discovery.h"
#include "log.h"
#include "rpc_auth.h"

/* One instance address and its dialer (which redials in the background). */
typedef struct client_dial {
	char *url; /* owned: "tcp://10.0.0.7:7002" */
	nng_dialer d;
} client_dial;

struct ta_rpc_client {
	nng_socket sock;
	size_t max_bytes;
	char *name;       /* owned: "task" */
	char *dns_server; /* owned; NULL: getaddrinfo */
	long refresh_s;
	int64_t open_us;
	ta_disc_target *targets; /* owned, ntargets */
	size_t ntargets;
	ta_addr_set *last;  /* per target: the last good lookup */
	bool is_failing;    /* inside a streak of failed lookups */
	client_dial *dials; /* discovery thread only (and open) */
	size_t ndials;
	pthread_t thread;
	bool has_thread;
	pthread_mutex_t mu; /* guards is_stopping, refresh_now, pipes */
	pthread_cond_t cv;
	bool is_stopping;
	bool refresh_now; /* a pipe went away: resolve again now */
	uint32_t *pipes; /* ids of connected pipes */
	size_t npipes;
	atomic_int connected;
	atomic_bool is_closing;
	const ta_rpc_auth *auth; /* borrowed; NULL: calls go unsigned */
};

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
/* Early re-resolutions (after a pipe went away) are this far apart at least. */
#define TA_RPC_EARLY_REFRESH_MS 1000

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

/* The remote address of pipe p, for log lines. */
static void
pipe_addr(nng_pipe p, char *buf, size_t cap)
{
	nng_sockaddr sa;

	snprintf(buf, cap, "?");
	if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) != 0)
		return;
	if (sa.s_family == NNG_AF_INET) {
		const uint8_t *a = (const uint8_t *)&sa.s_in.sa_addr;

		snprintf(buf, cap, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3],
		    (unsigned)ntohs(sa.s_in.sa_port));
	} else if (sa.s_family == NNG_AF_INET6) {
		char ip[64];

		if (inet_ntop(AF_INET6, sa.s_in6.sa_addr, ip, sizeof ip))
			snprintf(buf, cap, "[%s]:%u", ip,
			    (unsigned)ntohs(sa.s_in6.sa_port));
	}
}

/* Keeps the set of connected pipes: the circuit is open when it is empty. */
static void
pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	ta_rpc_client *c = arg;
	uint32_t id = (uint32_t)nng_pipe_id(p);
	char addr[80];
	bool changed = false;
	int now;

	pthread_mutex_lock(&c->mu);
	if (ev == NNG_PIPE_EV_ADD_POST) {
		c->pipes =
		    ta_xrealloc(c->pipes, (c->npipes + 1) * sizeof *c->pipes);
		c->pipes[c->npipes++] = id;
		changed = true;
	} else {
		for (size_t i = 0; i < c->npipes; i++) {
			if (c->pipes[i] == id) {
				c->pipes[i] = c->pipes[--c->npipes];
				changed = true;
				break;
			}
		}
		if (changed) { /* read only by the discovery thread */
			c->refresh_now = true;
			pthread_cond_signal(&c->cv);
		}
	}
	now = (int)c->npipes;
	atomic_store(&c->connected, now);
	pthread_mutex_unlock(&c->mu);
	if (!changed || atomic_load(&c->is_closing))
		return;
	pipe_addr(p, addr, sizeof addr);
	if (ev == NNG_PIPE_EV_ADD_POST)
		ta_log(TA_LOG_INFO, "rpc_instance_up", "instance connected",
		    TA_S("backend", c->name), TA_S("address", addr),
		    TA_I("connected", now));
	else
		ta_log(now == 0 ? TA_LOG_WARN : TA_LOG_INFO,
		    "rpc_instance_down",
		    now == 0 ? "no instance connected: failing fast"
		             : "instance disconnected",
		    TA_S("backend", c->name), TA_S("address", addr),
		    TA_I("connected", now));
}

/*
 * Makes the dialers match want: closes those of vanished addresses and
 * dials the new ones (non-blocking: an absent server is redialled in the
 * background). Returns how many dials failed (bad URLs).
 */
static int
dials_apply(ta_rpc_client *c, const ta_addr_set *want)
{
	ta_addr_set have = {0}, added = {0}, removed = {0};
	int failed = 0;
	char *list;

	for (size_t i = 0; i < c->ndials; i++)
		ta_addr_set_add(&have, c->dials[i].url);
	ta_addr_set_diff(&have, want, &added, &removed);
	for (size_t i = 0; i < c->ndials;) {
		if (!ta_addr_set_has(&removed, c->dials[i].url)) {
			i++;
			continue;
		}
		/* Calls on its pipe see ECONNRESET: retried if safe. */
		nng_dialer_close(c->dials[i].d);
		free(c->dials[i].url);
		c->dials[i] = c->dials[--c->ndials];
	}
	for (size_t i = 0; i < added.n; i++) {
		nng_dialer d;
		int rv =
		    nng_dial(c->sock, added.urls[i], &d, NNG_FLAG_NONBLOCK);

		if (rv != 0) {
			ta_log(TA_LOG_ERROR, "rpc_dial_failed",
			    "cannot dial RPC URL", TA_S("backend", c->name),
			    TA_S("url", added.urls[i]),
			    TA_S("error", nng_strerror(rv)));
			failed++;
			continue;
		}
		c->dials =
		    ta_xrealloc(c->dials, (c->ndials + 1) * sizeof *c->dials);
		c->dials[c->ndials].url = ta_xstrdup(added.urls[i]);
		c->dials[c->ndials].d = d;
		c->ndials++;
	}
	if (added.n > 0 || removed.n > 0) {
		list = ta_addr_set_join(want);
		ta_log(TA_LOG_INFO, "discovery_changed",
		    "backend instances changed", TA_S("backend", c->name),
		    TA_S("addresses", list), TA_I("count", want->n),
		    TA_I("added", added.n), TA_I("removed", removed.n));
		free(list);
	}
	ta_addr_set_fini(&have);
	ta_addr_set_fini(&added);
	ta_addr_set_fini(&removed);
	return failed;
}

/*
 * Resolves every target (a failed lookup keeps that target's last good
 * addresses) and applies the union. Logs a failure once per streak.
 */
static int
discovery_refresh(ta_rpc_client *c)
{
	ta_addr_set want = {0};
	const char *failed_host = NULL;
	int failed;

	for (size_t i = 0; i < c->ntargets; i++) {
		ta_addr_set got = {0};

		if (ta_disc_resolve(&c->targets[i], c->dns_server, &got) ==
		    TA_OK)
			ta_addr_set_copy(&c->last[i], &got);
		else if (!failed_host)
			failed_host = c->targets[i].host;
		ta_addr_set_fini(&got);
		for (size_t j = 0; j < c->last[i].n; j++)
			ta_addr_set_add(&want, c->last[i].urls[j]);
	}
	if (failed_host && !c->is_failing)
		ta_log(TA_LOG_WARN, "discovery_failed",
		    "name lookup failed; keeping the last good addresses",
		    TA_S("backend", c->name), TA_S("host", failed_host),
		    TA_I("count", want.n));
	else if (!failed_host && c->is_failing)
		ta_log(TA_LOG_INFO, "discovery_recovered",
		    "name lookup works again", TA_S("backend", c->name));
	c->is_failing = failed_host != NULL;
	failed = dials_apply(c, &want);
	ta_addr_set_fini(&want);
	return failed;
}

/* Waits on c->cv (c->mu held) until the CLOCK_REALTIME time ms from now,
 * or stop, or (when wake_early) a pipe going away. */
static void
discovery_sleep(ta_rpc_client *c, int64_t ms, bool wake_early)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)(ms / 1000);
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!c->is_stopping && !(wake_early && c->refresh_now) &&
	       pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
		;
}

static void *
discovery_main(void *arg)
{
	ta_rpc_client *c = arg;

	int64_t period_ms = (int64_t)c->refresh_s * 1000;
	int64_t gap_ms = period_ms < TA_RPC_EARLY_REFRESH_MS
	    ? period_ms
	    : TA_RPC_EARLY_REFRESH_MS;

	pthread_mutex_lock(&c->mu);
	while (!c->is_stopping) {
		/* A burst of pipes going away resolves once, not per pipe. */
		discovery_sleep(c, gap_ms, false);
		discovery_sleep(c, period_ms - gap_ms, true);
		if (c->is_stopping)
			break;
		if (c->refresh_now)
			ta_log(TA_LOG_DEBUG, "discovery_early",
			    "an instance went away: resolving again now",
			    TA_S("backend", c->name));
		c->refresh_now = false;
		pthread_mutex_unlock(&c->mu);
		discovery_refresh(c);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

ta_status
ta_rpc_client_open(const char *urls, size_t max_msg_bytes, ta_rpc_client **out)
{
	ta_rpc_client_cfg cfg = {.urls = urls, .max_msg_bytes = max_msg_bytes};

	return ta_rpc_client_open_cfg(&cfg, out);
}

ta_status
ta_rpc_client_open_cfg(const ta_rpc_client_cfg *cfg, ta_rpc_client **out)
{
	ta_rpc_client *c = ta_xcalloc(1, sizeof *c);
	unsigned char ip[4];
	unsigned short port;
	int rv;

	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	atomic_init(&c->connected, 0);
	atomic_init(&c->is_closing, false);
	c->max_bytes =
	    cfg->max_msg_bytes ? cfg->max_msg_bytes : TA_RPC_MAX_MSG_DEFAULT;
	c->name = ta_xstrdup(cfg->name ? cfg->name : "");
	c->refresh_s = cfg->refresh_s;
	c->open_us = mono_us();
	if (cfg->dns_server && *cfg->dns_server) {
		if (ta_disc_dns_server_parse(cfg->dns_server, ip, &port) !=
		    TA_OK) {
			ta_log(TA_LOG_ERROR, "rpc_dial_failed",
			    "DNS server is not ip:port",
			    TA_S("backend", c->name));
			goto invalid;
		}
		c->dns_server = ta_xstrdup(cfg->dns_server);
	}
	if (ta_disc_parse(cfg->urls, &c->targets, &c->ntargets) != TA_OK) {
		ta_log(TA_LOG_ERROR, "rpc_dial_failed",
		    "malformed RPC URL list", TA_S("backend", c->name),
		    TA_S("urls", cfg->urls));
		goto invalid;
	}
	c->last = ta_xcalloc(c->ntargets, sizeof *c->last);
	if ((rv = nng_req0_open(&c->sock)) != 0) {
		ta_log(TA_LOG_ERROR, "rpc_client_open_failed",
		    "could not open a REQ socket",
		    TA_S("error", nng_strerror(rv)));
		ta_disc_targets_free(c->targets, c->ntargets);
		free(c->last);
		free(c->dns_server);
		free(c->name);
		free(c);
		return TA_INTERNAL;
	}
	/* Set before dialling: the dialers copy them. */
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, c->max_bytes);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 100);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 2000);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, pipe_event, c);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, pipe_event, c);
	if (discovery_refresh(c) != 0) {
		ta_rpc_client_close(c);
		return TA_INVALID_ARGUMENT;
	}
	if (c->refresh_s > 0 &&
	    pthread_create(&c->thread, NULL, discovery_main, c) == 0)
		c->has_thread = true;
	*out = c;
	return TA_OK;
invalid:
	free(c->dns_server);
	free(c->name);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
	return TA_INVALID_ARGUMENT;
}

void
ta_rpc_client_set_auth(ta_rpc_client *c, const ta_rpc_auth *auth)
{
	c->auth = auth;
}

/*
 * Appends the caller_mac trailer to the packed envelope (once: a call
 * starts once, and a re-send copies the signed bytes).
 */
static void
call_sign(const ta_rpc_auth *auth, struct ta_rpc_call_priv *p)
{
	p->buf = ta_xrealloc(p->buf, p->len + TA_RPC_AUTH_TRAILER_BYTES);
	ta_rpc_auth_sign(auth, p->buf, p->len, p->buf + p->len);
	p->len += TA_RPC_AUTH_TRAILER_BYTES;
}

int
ta_rpc_client_connected(ta_rpc_client *c)
{
	return atomic_load(&c->connected);
}

void
ta_rpc_client_close(ta_rpc_client *c)
{
	if (!c)
		return;
	atomic_store(&c->is_closing, true);
	/* No pipe callback may touch c once it is freed. */
	nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, NULL, NULL);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, NULL, NULL);
	if (c->has_thread) {
		pthread_mutex_lock(&c->mu);
		c->is_stopping = true;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->thread, NULL);
	}
	nng_close(c->sock); /* closes the dialers and every context */
	for (size_t i = 0; i < c->ndials; i++)
		free(c->dials[i].url);
	free(c->dials);
	for (size_t i = 0; i < c->ntargets; i++)
		ta_addr_set_fini(&c->last[i]);
	free(c->last);
	ta_disc_targets_free(c->targets, c->ntargets);
	free(c->pipes);
	free(c->dns_server);
	free(c->name);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

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
	ta_rpc_deadline_to_timestamp(p->deadline_ms, &deadline);

	/* The envelope only borrows; packing never writes through these. */
	env.method = p->method;
	env.request_id = p->request_id;
	env.deadline = &deadline;
	env.principal = (Taskapi__V1__Principal *)principal;
	if (idempotency_key && *idempotency_key) {
		env.idempotency_key = (char *)idempotency_key;
		call->is_retry_safe = true; // the worker answers a repeat once
	}
	if (client_addr && *client_addr)
		env.client_addr = (char *)client_addr;
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

/* Sends m with the send grace (see above) as timeout, within left ms. */
static void
call_send(struct ta_rpc_call_priv *p, nng_msg *m, int64_t left)
{
	int64_t since_open_ms = (mono_us() - p->client->open_us) / 1000;
	int64_t grace = since_open_ms < TA_RPC_START_GRACE_MS
	                    ? TA_RPC_START_GRACE_MS - since_open_ms
	                    : 0;

	if (grace < TA_RPC_SEND_GRACE_MS)
		grace = TA_RPC_SEND_GRACE_MS;
	p->state = CALL_SENDING;
	nng_aio_set_timeout(
	    p->aio, (nng_duration)(left < grace ? left : grace));
	nng_aio_set_msg(p->aio, m);
	nng_ctx_send(p->ctx, p->aio);
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
	    left <= 0 || atomic_load(&c->is_closing) ||
	    atomic_load(&c->connected) == 0 || nng_msg_alloc(&m, p->len) != 0)
		return false;
	memcpy(nng_msg_body(m), p->buf, p->len);
	call->attempts++;
	ta_log(TA_LOG_INFO, "rpc_call_retried",
	    "instance dropped the call; sending it to another",
	    TA_S("request_id", p->request_id), TA_S("method", p->method),
	    TA_I("attempt", call->attempts));
	call_send(p, m, left);
	return true;
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
		nng_aio_set_timeout(p->aio, (nng_duration)left);
		nng_ctx_recv(p->ctx, p->aio);
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
	if (p->client->auth && call->reply->code == TA_UNAUTHENTICATED &&
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
	p->client = c;
	p->state = CALL_DONE; /* unless sent below: a call starts once */
	if (c->auth)
		call_sign(c->auth, p);
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
	/* Circuit open: no instance to take it, and waiting would not help. */
	if (atomic_load(&c->connected) == 0 &&
	    p->start_us - c->open_us > TA_RPC_START_GRACE_MS * 1000) {
		call->status = TA_UNAVAILABLE;
		call->message = "service unavailable";
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
	call->attempts = 1;
	call_send(p, m, left);
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
