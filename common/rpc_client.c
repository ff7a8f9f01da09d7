/*
 * Backend membership of the REQ side: one nng REQ socket per backend, one
 * dialer per instance address found by discovery, the set of connected
 * pipes, and the thread that re-resolves the names. The calls themselves
 * are rpc_call.c's.
 *
 * Design notes.
 * - Threads: one discovery thread per client re-resolves the backend's
 *   names every refresh period and is the only thread that adds or closes
 *   dialers. Pipe callbacks (nng threads) keep the set of connected pipes;
 *   a pipe that goes away also wakes the discovery thread to resolve again
 *   at once (at most once per TA_RPC_EARLY_REFRESH_MS): an instance
 *   stopping is usually one of several replaced in a deployment, and the
 *   names already answer with their successors.
 * - Calls (rpc_call.c) open their own contexts on the socket and read the
 *   connected count: none connected is the open circuit.
 * - Shutdown: ta_rpc_client_close stops the discovery thread and closes
 *   the socket; calls in flight end with UNAVAILABLE and their done() runs.
 *   Free them afterwards.
 */
#include "rpc_client.h"

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
#include "clock.h"
#include "log.h"
#include "rpc_dialers.h"

struct ta_rpc_client {
	nng_socket sock;
	size_t max_bytes;
	char *name;       /* owned: "task" */
	long refresh_s;
	int64_t open_us;
	ta_rpc_dialers dialers; /* discovery thread only (and open) */
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
	ta_rpc_lanes *lanes;     /* contexts lent to calls (rpc_lanes.h) */
};

/* Early re-resolutions (after a pipe went away) are this far apart at least. */
#define TA_RPC_EARLY_REFRESH_MS 1000

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
		ta_rpc_dialers_refresh(&c->dialers);
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
	int rv;

	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	atomic_init(&c->connected, 0);
	atomic_init(&c->is_closing, false);
	c->max_bytes =
	    cfg->max_msg_bytes ? cfg->max_msg_bytes : TA_RPC_MAX_MSG_DEFAULT;
	c->name = ta_xstrdup(cfg->name ? cfg->name : "");
	c->refresh_s = cfg->refresh_s;
	c->open_us = ta_mono_us();
	if (ta_rpc_dialers_init(
	        &c->dialers, c->name, cfg->urls, cfg->dns_server) != TA_OK)
		goto invalid;
	if ((rv = nng_req0_open(&c->sock)) != 0) {
		ta_log(TA_LOG_ERROR, "rpc_client_open_failed",
		    "could not open a REQ socket",
		    TA_S("error", nng_strerror(rv)));
		ta_rpc_dialers_fini(&c->dialers);
		free(c->name);
		free(c);
		return TA_INTERNAL;
	}
	c->dialers.sock = c->sock;
	c->lanes = ta_rpc_lanes_new(c->sock);
	/* Set before dialling: the dialers copy them. */
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, c->max_bytes);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 100);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 2000);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, pipe_event, c);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, pipe_event, c);
	if (ta_rpc_dialers_refresh(&c->dialers) != 0) {
		ta_rpc_client_close(c);
		return TA_INVALID_ARGUMENT;
	}
	if (c->refresh_s > 0 &&
	    pthread_create(&c->thread, NULL, discovery_main, c) == 0)
		c->has_thread = true;
	*out = c;
	return TA_OK;
invalid:
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

int
ta_rpc_client_connected(ta_rpc_client *c)
{
	return atomic_load(&c->connected);
}

nng_socket
ta_rpc_client_socket(const ta_rpc_client *c)
{
	return c->sock;
}

size_t
ta_rpc_client_max_bytes(const ta_rpc_client *c)
{
	return c->max_bytes;
}

int64_t
ta_rpc_client_open_us(const ta_rpc_client *c)
{
	return c->open_us;
}

bool
ta_rpc_client_is_closing(ta_rpc_client *c)
{
	return atomic_load(&c->is_closing);
}

const ta_rpc_auth *
ta_rpc_client_auth(const ta_rpc_client *c)
{
	return c->auth;
}

ta_rpc_lanes *
ta_rpc_client_lanes(ta_rpc_client *c)
{
	return c->lanes;
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
	/* No nng_ctx call may be running on another thread now. */
	ta_rpc_lanes_quiesce(c->lanes);
	nng_close(c->sock); /* closes the dialers and every context */
	ta_rpc_lanes_free(c->lanes);
	ta_rpc_dialers_fini(&c->dialers);
	free(c->pipes);
	free(c->name);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
