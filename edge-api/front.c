/*
 * The front's listener and threads: accepts clients within the connection
 * and per-address limits and runs each thread's epoll loop over its
 * connections (relay.c).
 */
#define _GNU_SOURCE // accept4, EPOLLEXCLUSIVE
#include "front.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "alloc.h"
#include "client_addr.h"
#include "clock.h"
#include "listen.h"
#include "log.h"
#include "rate_limit.h"
#include "relay.h"
#include "render.h"
#include "reply.h"
#include "request.h"

#define TAG_LISTENER 2u /* epoll data of the listener; relays are aligned */
#define TAG_WAKE 4u     /* epoll data of the thread's eventfd */
#define TAG_SERVER 6u   /* epoll data of the thread's server's watch fd */
#define TICK_US 200000

typedef struct front_thread {
	edge_front *f; /* borrowed */
	pthread_t tid;
	int wake;           /* eventfd */
	edge_relay_env env; /* env.epfd is the thread's epoll set */
	bool is_started;
	int64_t next_tick_us;
} front_thread;

struct edge_front {
	edge_front_cfg cfg;
	int lfd;   /* -1 once quiesced */
	int spare; /* kept free for accepting and closing at EMFILE */
	atomic_long open;
	atomic_bool is_stopping;
	edge_ip_table *ips;
	front_thread *threads;
	long nthreads;
	pthread_mutex_t mu;          /* guards lfd against quiesce */
	atomic_long refused;         /* connections refused since last logged */
	atomic_llong refused_log_us; /* when that was logged */
};

/*
 * Counts a refused connection; at most one warn line a second says how
 * many, so a flood of them cannot flood the log as well.
 */
static void
note_refused(edge_front *f, int status)
{
	long long now = ta_mono_us(), last = atomic_load(&f->refused_log_us);
	long n = atomic_fetch_add(&f->refused, 1) + 1;

	if (now - last < 1000000 ||
	    !atomic_compare_exchange_strong(&f->refused_log_us, &last, now))
		return;
	n = atomic_exchange(&f->refused, 0);
	ta_log(TA_LOG_WARN, "http_connections_refused",
	    "connections refused at the connection limits",
	    TA_I("connections", n), TA_I("last_status", status),
	    TA_I("open", atomic_load(&f->open)));
}

/*
 * Writes a refusal to a client not taken in, best effort; closes fd and
 * counts it. The per-address 429 carries RateLimit-Policy and RateLimit
 * like the edge's other 429s: policy "conn", a concurrency limit (no
 * window), nothing remaining, reset when Retry-After says.
 */
static void
refuse_fd(edge_front *f, int fd, edge_rejection why)
{
	char rid[EDGE_REQUEST_ID_MAX + 1];
	char policy[EDGE_RL_HEADER_MAX], state[EDGE_RL_HEADER_MAX];
	edge_header rl[] = {{"RateLimit-Policy", policy}, {"RateLimit", state}};
	int status = edge_rejection_status(why);
	bool is_per_addr = why == EDGE_REJECT_CONNECTIONS_PER_ADDR;
	size_t len;
	char *resp;
	ssize_t k;

	edge_request_id_pick(NULL, rid);
	if (is_per_addr)
		edge_rl_headers("conn", f->cfg.per_ip_limit, 0, 0,
		    atol(edge_retry_after(status)), policy, state);
	resp = edge_reply_error(status, edge_rejection_message(why), rid,
	    is_per_addr ? rl : NULL, is_per_addr ? 2 : 0, false, &len);
	k = send(fd, resp, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)k; // best effort: the client may not even read
	free(resp);
	close(fd);
	note_refused(f, status);
}

/*
 * Takes one client in, or refuses it with 503 / 429. An IPv4 client of a
 * dual-stack listener is rewritten from ::ffff:a.b.c.d to a.b.c.d first,
 * so that everything after (trusted proxies, the per-address count,
 * libmicrohttpd's client address, the logs) sees one form of it.
 */
static void
admit(front_thread *t, int fd, struct sockaddr_storage *ss, socklen_t len)
{
	edge_front *f = t->f;
	const struct sockaddr *sa = (struct sockaddr *)ss;
	bool is_per_ip;

	edge_addr_unmap(ss, &len);
	is_per_ip = !edge_cidrs_contain(f->cfg.trusted, sa);

	if (atomic_fetch_add(&f->open, 1) >= f->cfg.connection_limit) {
		atomic_fetch_sub(&f->open, 1);
		refuse_fd(f, fd, EDGE_REJECT_CONNECTIONS);
		return;
	}
	if (is_per_ip &&
	    !edge_ip_table_acquire(f->ips, sa, f->cfg.per_ip_limit)) {
		atomic_fetch_sub(&f->open, 1);
		refuse_fd(f, fd, EDGE_REJECT_CONNECTIONS_PER_ADDR);
		return;
	}
	edge_relay_open(&t->env, fd, sa, len, is_per_ip, ta_mono_us());
}

static void
accept_some(front_thread *t)
{
	edge_front *f = t->f;

	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;
		int fd;

		pthread_mutex_lock(&f->mu);
		fd = f->lfd < 0 ? -1
		                : accept4(f->lfd, (struct sockaddr *)&ss, &len,
		                      SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && f->lfd >= 0 &&
		    (errno == EMFILE || errno == ENFILE)) {
			/* Out of descriptors: shed one client rather than spin.
			 */
			close(f->spare);
			fd = accept(f->lfd, NULL, NULL);
			if (fd >= 0)
				close(fd);
			f->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
			fd = -1;
			errno = EAGAIN;
		}
		pthread_mutex_unlock(&f->mu);
		if (fd < 0)
			return;
		admit(t, fd, &ss, len);
	}
}

/* Resets the thread's eventfd; its server then runs (front.h, wake). */
static bool
drain_wake(front_thread *t)
{
	uint64_t n;
	ssize_t k = read(t->wake, &n, sizeof n);

	(void)k; // EAGAIN: another event already reset it
	return true;
}

/* Wakes the relay of epoll data tag (its libmicrohttpd end when marked). */
static void
relay_event(uint64_t tag, uint32_t events)
{
	edge_relay *r = (edge_relay *)(uintptr_t)(tag &
	                                          ~(uint64_t)EDGE_RELAY_TAG_MHD);

	edge_relay_event(r, (tag & EDGE_RELAY_TAG_MHD) != 0, events,
	    ta_mono_us());
}

/*
 * A front thread: its connections' events first (they may hand
 * libmicrohttpd bytes), then its server's work, once per batch, and again
 * at once without waiting while the server still has work ready.
 */
static void *
run(void *arg)
{
	front_thread *t = arg;
	const edge_front_cfg *cfg = &t->f->cfg;
	struct epoll_event evs[128];
	bool is_busy = false; /* the server has work ready now */

	while (!atomic_load(&t->f->is_stopping)) {
		int n = epoll_wait(
		    t->env.epfd, evs, 128, is_busy ? 0 : TICK_US / 1000);
		bool has_server_work = is_busy;
		int64_t now;

		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			if (tag == TAG_LISTENER)
				accept_some(t);
			else if (tag == TAG_SERVER)
				has_server_work = true;
			else if (tag == TAG_WAKE)
				has_server_work = drain_wake(t);
			else
				relay_event(tag, evs[i].events);
		}
		now = ta_mono_us();
		if (now >= t->next_tick_us) {
			edge_relay_tick(&t->env, now);
			has_server_work = true; /* its timeouts */
			t->next_tick_us = now + TICK_US;
		}
		is_busy = has_server_work && cfg->server_run(t->env.server);
		edge_relay_reap(&t->env);
	}
	edge_relay_close_all(&t->env);
	return NULL;
}

static void front_free(edge_front *f);

ta_status
edge_front_open(const edge_front_cfg *cfg, edge_front **out)
{
	edge_front *f = ta_xcalloc(1, sizeof *f);

	f->cfg = *cfg;
	if (edge_listen_open(&cfg->listen, cfg->port, &f->lfd) != TA_OK) {
		free(f);
		return TA_UNAVAILABLE;
	}
	f->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	atomic_init(&f->open, 0);
	atomic_init(&f->refused, 0);
	atomic_init(&f->refused_log_us, 0);
	atomic_init(&f->is_stopping, false);
	pthread_mutex_init(&f->mu, NULL);
	f->ips = edge_ip_table_new();
	f->nthreads = cfg->threads;
	f->threads = ta_xcalloc((size_t)f->nthreads, sizeof *f->threads);
	for (long i = 0; i < f->nthreads; i++)
		f->threads[i].env.epfd = f->threads[i].wake = -1;
	for (long i = 0; i < f->nthreads; i++) {
		front_thread *t = &f->threads[i];
		struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE,
		    .data.u64 = TAG_LISTENER};
		struct epoll_event wev = {
		    .events = EPOLLIN, .data.u64 = TAG_WAKE};
		struct epoll_event sev = {
		    .events = EPOLLIN, .data.u64 = TAG_SERVER};
		int watch = -1;

		t->f = f;
		t->env = (edge_relay_env){.cfg = &f->cfg,
		    .epfd = epoll_create1(EPOLL_CLOEXEC),
		    .ips = f->ips,
		    .open = &f->open};
		t->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		epoll_ctl(t->env.epfd, EPOLL_CTL_ADD, f->lfd, &lev);
		epoll_ctl(t->env.epfd, EPOLL_CTL_ADD, t->wake, &wev);
		if (!(t->env.server =
		            cfg->server_open(cfg->arg, i, t->wake, &watch))) {
			ta_log(TA_LOG_ERROR, "http_start_failed",
			    "cannot start the HTTP server of a front thread",
			    TA_I("thread", i));
			front_free(f);
			return TA_UNAVAILABLE;
		}
		if (watch >= 0)
			epoll_ctl(t->env.epfd, EPOLL_CTL_ADD, watch, &sev);
	}
	for (long i = 0; i < f->nthreads; i++) {
		front_thread *t = &f->threads[i];

		t->is_started = pthread_create(&t->tid, NULL, run, t) == 0;
		if (!t->is_started) {
			edge_front_close(f);
			return TA_UNAVAILABLE;
		}
	}
	*out = f;
	return TA_OK;
}

void
edge_front_quiesce(edge_front *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	if (f->lfd >= 0) {
		for (long i = 0; i < f->nthreads; i++)
			epoll_ctl(f->threads[i].env.epfd, EPOLL_CTL_DEL, f->lfd,
			    NULL);
		close(f->lfd);
		f->lfd = -1;
	}
	pthread_mutex_unlock(&f->mu);
}

/* Closes the threads' servers and frees f; the threads have ended. */
static void
front_free(edge_front *f)
{
	for (long i = 0; i < f->nthreads; i++) {
		front_thread *t = &f->threads[i];

		if (t->env.server)
			f->cfg.server_close(t->env.server);
		if (t->env.epfd >= 0)
			close(t->env.epfd);
		if (t->wake >= 0)
			close(t->wake);
	}
	if (f->lfd >= 0)
		close(f->lfd);
	edge_ip_table_free(f->ips);
	pthread_mutex_destroy(&f->mu);
	if (f->spare >= 0)
		close(f->spare);
	free(f->threads);
	free(f);
}

void
edge_front_close(edge_front *f)
{
	uint64_t one = 1;

	if (!f)
		return;
	edge_front_quiesce(f);
	atomic_store(&f->is_stopping, true);
	for (long i = 0; i < f->nthreads; i++) {
		ssize_t k = write(f->threads[i].wake, &one, sizeof one);

		(void)k; // the thread also wakes on its tick
	}
	for (long i = 0; i < f->nthreads; i++)
		if (f->threads[i].is_started)
			pthread_join(f->threads[i].tid, NULL);
	front_free(f);
}
