/*
 * One client connection of the front: client bytes go through the framer
 * to libmicrohttpd's end of a socket pair, its answers go back unchanged;
 * a refused request is answered here after libmicrohttpd's side is done,
 * then the client is drained for a bounded time and closed.
 */
#include "relay.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "access.h"
#include "alloc.h"
#include "log.h"
#include "reply.h"
#include "request.h"

#define HIGH_WATER (256 * 1024)  /* pending bytes before reading pauses */
#define LINGER_US (3 * 1000000)  /* drain after a refusal, at most */
#define LINGER_BYTES (64u << 20) /* bytes drained after a refusal, at most */
#define REFUSE_WAIT_US (10 * 1000000) /* for libmicrohttpd to finish */

enum mode { M_RELAY, M_REFUSE, M_LINGER };
enum deadline { DL_NONE, DL_HEAD, DL_BODY, DL_REFUSE, DL_LINGER };

struct edge_relay {
	edge_relay *prev, *next; /* env->list */
	edge_relay_env *env;     /* borrowed: the thread's */
	int cfd, mfd;            /* client; our end of the pair (-1: none) */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	bool is_per_ip;
	uint32_t cev, mev; /* epoll interest registered */
	edge_framer fr;
	edge_buf to_mhd, to_client;
	char *refusal; /* owned: written once libmicrohttpd's side is done */
	size_t refusal_len;
	enum mode mode;
	enum deadline dl;
	int64_t deadline_us, started_us;
	bool client_eof, mhd_shut, client_shut, is_dead;
	bool
	    is_unanswered; /* bytes went to libmicrohttpd since it last wrote */
	size_t drained;
};

static void
set_deadline(edge_relay *r, enum deadline dl, int64_t now_us, int64_t after)
{
	r->dl = dl;
	r->deadline_us = dl == DL_NONE ? 0 : now_us + after;
}

/* Closes r and moves it to env->dead; edge_relay_reap frees it. */
static void
relay_free(edge_relay *r)
{
	edge_relay_env *env = r->env;

	if (r->prev)
		r->prev->next = r->next;
	else
		env->list = r->next;
	if (r->next)
		r->next->prev = r->prev;
	close(r->cfd); // also leaves the epoll set
	if (r->mfd >= 0)
		close(r->mfd);
	r->mfd = -1;
	if (r->is_per_ip)
		edge_ip_table_release(env->ips, (struct sockaddr *)&r->peer);
	atomic_fetch_sub(env->open, 1);
	r->is_dead = true;
	r->prev = NULL;
	r->next = env->dead;
	env->dead = r;
}

void
edge_relay_reap(edge_relay_env *env)
{
	while (env->dead) {
		edge_relay *r = env->dead;

		env->dead = r->next;
		edge_framer_fini(&r->fr);
		edge_buf_fini(&r->to_mhd);
		edge_buf_fini(&r->to_client);
		free(r->refusal);
		free(r);
	}
}

static void
watch(edge_relay *r, int fd, uint32_t *have, uint32_t want, uintptr_t tag)
{
	struct epoll_event ev = {.events = want};

	if (fd < 0 || *have == want)
		return;
	ev.data.u64 = (uint64_t)((uintptr_t)r | tag);
	epoll_ctl(r->env->epfd, EPOLL_CTL_MOD, fd, &ev);
	*have = want;
}

/* Registers what r waits for now. */
static void
update_interest(edge_relay *r)
{
	uint32_t c = 0, m = 0;

	if (!r->client_eof &&
	    (r->mode != M_RELAY || edge_buf_pending(&r->to_mhd) < HIGH_WATER))
		c |= EPOLLIN;
	if (edge_buf_pending(&r->to_client))
		c |= EPOLLOUT;
	if (r->mode != M_LINGER && edge_buf_pending(&r->to_client) < HIGH_WATER)
		m |= EPOLLIN;
	if (edge_buf_pending(&r->to_mhd))
		m |= EPOLLOUT;
	watch(r, r->cfd, &r->cev, c, 0);
	watch(r, r->mfd, &r->mev, m, EDGE_RELAY_TAG_MHD);
}

/* The front's access line for a request it answered itself. */
static void
log_refusal(edge_relay *r, int status, const char *reason, const char *rid,
    int64_t now_us)
{
	const edge_head *h = r->fr.has_head ? &r->fr.head : NULL;
	edge_access a = {
	    .request_id = rid,
	    .method = h && h->method[0] ? h->method : NULL,
	    .status = status,
	    .latency_us = now_us - r->started_us,
	};

	ta_log(TA_LOG_INFO, "http_refused", reason, TA_S("request_id", rid),
	    TA_I("status", status));
	edge_access_log(&a);
}

/* Moves the pending refusal to the client; from now on only drain. */
static void
release_refusal(edge_relay *r, int64_t now_us)
{
	edge_buf_append(&r->to_client, r->refusal, r->refusal_len);
	free(r->refusal);
	r->refusal = NULL;
	r->mode = M_LINGER;
	set_deadline(r, DL_LINGER, now_us, LINGER_US);
}

/* Closes libmicrohttpd's side at once: it drops what it was reading. */
static void
close_mhd(edge_relay *r)
{
	if (r->mfd >= 0)
		close(r->mfd);
	r->mfd = -1;
	r->mev = 0;
}

/*
 * Answers status and stops relaying: nothing the client sent after this
 * point reaches libmicrohttpd. Cut in the middle of a request
 * (is_mid_request), libmicrohttpd's side is closed at once; between
 * requests it is shut (pump) so that it finishes what it was answering,
 * and the refusal follows that.
 */
static void
refuse(edge_relay *r, int status, const char *reason, bool is_mid_request,
    int64_t now_us)
{
	const edge_head *h = r->fr.has_head ? &r->fr.head : NULL;
	char rid[EDGE_REQUEST_ID_MAX + 1];
	edge_header cors[EDGE_CORS_MAX_HEADERS];
	size_t ncors = 0;

	edge_request_id_pick(h && h->request_id[0] ? h->request_id : NULL, rid);
	if (h && h->origin[0])
		ncors = edge_cors_headers(
		    r->env->cfg->cors, h->origin, false, cors);
	log_refusal(r, status, reason, rid, now_us);
	free(r->refusal);
	r->refusal = edge_reply_error(status, reason, rid, cors, ncors,
	    h && strcmp(h->method, "HEAD") == 0, &r->refusal_len);
	edge_buf_consume(&r->to_mhd, edge_buf_pending(&r->to_mhd));
	r->drained = 0;
	if (is_mid_request)
		close_mhd(r);
	if (r->mfd < 0) {
		release_refusal(r, now_us);
		return;
	}
	r->mode = M_REFUSE;
	set_deadline(r, DL_REFUSE, now_us, REFUSE_WAIT_US);
}

static bool
hand_over(edge_relay *r)
{
	const edge_front_cfg *cfg = r->env->cfg;
	int sv[2];
	struct epoll_event ev = {.events = EPOLLIN};

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	        sv) != 0)
		return false;
	if (!cfg->hand_over(
	        cfg->arg, sv[1], (struct sockaddr *)&r->peer, r->peerlen)) {
		close(sv[0]);
		return false;
	}
	r->mfd = sv[0];
	r->mev = EPOLLIN;
	ev.data.u64 = (uint64_t)((uintptr_t)r | EDGE_RELAY_TAG_MHD);
	epoll_ctl(r->env->epfd, EPOLL_CTL_ADD, r->mfd, &ev);
	return true;
}

/* Runs client bytes through the framer into to_mhd. */
static void
frame(edge_relay *r, const char *in, size_t n, int64_t now_us)
{
	const edge_front_cfg *cfg = r->env->cfg;
	size_t off = 0, used;

	while (r->mode == M_RELAY && off < n) {
		bool was_in_head = edge_framer_in_head(&r->fr);

		if (was_in_head && r->dl == DL_NONE)
			set_deadline(r, DL_HEAD, now_us,
			    cfg->header_timeout_s * 1000000);
		switch (edge_framer_feed(
		    &r->fr, in + off, n - off, &used, &r->to_mhd)) {
		case EDGE_FRAME_HEAD:
			if (r->mfd < 0 && !hand_over(r)) {
				refuse(r, 503, "Server is shutting down", false,
				    now_us);
				return;
			}
			set_deadline(r, r->fr.head.has_body ? DL_BODY : DL_NONE,
			    now_us, cfg->body_timeout_s * 1000000);
			break;
		case EDGE_FRAME_END:
			set_deadline(r, DL_NONE, now_us, 0);
			break;
		case EDGE_FRAME_ERROR:
			refuse(r, r->fr.status, r->fr.reason, !was_in_head,
			    now_us);
			return;
		case EDGE_FRAME_MORE:
			break;
		}
		off += used; // 0 after a body-less head: its END comes next
	}
}

/* Sends what b holds to fd; false when the peer is gone. */
static bool
flush(int fd, edge_buf *b)
{
	while (edge_buf_pending(b) > 0) {
		ssize_t k =
		    send(fd, b->p + b->off, edge_buf_pending(b), MSG_NOSIGNAL);

		if (k < 0)
			return errno == EAGAIN || errno == EINTR;
		edge_buf_consume(b, (size_t)k);
	}
	return true;
}

/* Pushes both directions on; false when r is to be freed. */
static bool
pump(edge_relay *r, int64_t now_us)
{
	size_t before = edge_buf_pending(&r->to_mhd);

	if (r->mfd >= 0 && !flush(r->mfd, &r->to_mhd))
		edge_buf_consume(&r->to_mhd, edge_buf_pending(&r->to_mhd));
	if (edge_buf_pending(&r->to_mhd) < before)
		r->is_unanswered = true;
	if (r->mfd >= 0 && r->mode == M_RELAY && r->client_eof &&
	    !edge_framer_at_boundary(&r->fr))
		close_mhd(r); // the request can never end: nothing to answer
	/*
	 * Tell libmicrohttpd that no more requests come (client gone, or a
	 * refusal waits) only once it wrote since our last bytes: MHD 0.9.75
	 * (epoll) takes a short read for "drained" and would miss an EOF that
	 * arrived together with the request (docs/library-notes.md).
	 */
	if (r->mfd >= 0 && !r->mhd_shut && !r->is_unanswered &&
	    !edge_buf_pending(&r->to_mhd) &&
	    (r->mode == M_REFUSE || r->client_eof)) {
		shutdown(r->mfd, SHUT_WR);
		r->mhd_shut = true;
	}
	if (!flush(r->cfd, &r->to_client))
		return false;
	if (r->mode == M_LINGER && !edge_buf_pending(&r->to_client)) {
		if (!r->client_shut)
			shutdown(r->cfd, SHUT_WR);
		r->client_shut = true;
		if (r->client_eof)
			return false;
	}
	if (r->mode == M_RELAY && r->client_eof && r->mfd < 0)
		return false;
	(void)now_us;
	return true;
}

static bool
read_client(edge_relay *r, int64_t now_us)
{
	char buf[16384];

	for (int i = 0; i < 4 && !r->client_eof; i++) {
		if (r->mode == M_RELAY &&
		    edge_buf_pending(&r->to_mhd) >= HIGH_WATER)
			break;
		ssize_t k = recv(r->cfd, buf, sizeof buf, 0);

		if (k < 0)
			return errno == EAGAIN || errno == EINTR;
		if (k == 0) {
			r->client_eof = true;
			break;
		}
		if (r->mode != M_RELAY) {
			r->drained += (size_t)k;
			if (r->drained > LINGER_BYTES)
				return false;
			continue;
		}
		frame(r, buf, (size_t)k, now_us);
	}
	return true;
}

static void
read_mhd(edge_relay *r, int64_t now_us)
{
	char buf[16384];

	while (edge_buf_pending(&r->to_client) < HIGH_WATER) {
		ssize_t k = recv(r->mfd, buf, sizeof buf, 0);

		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (k <= 0) {
			/* libmicrohttpd closed: no more answers from there. */
			close_mhd(r);
			if (r->mode == M_REFUSE)
				release_refusal(r, now_us);
			else if (r->mode == M_RELAY) {
				r->mode = M_LINGER;
				set_deadline(r, DL_LINGER, now_us, LINGER_US);
			}
			return;
		}
		edge_buf_append(&r->to_client, buf, (size_t)k);
		r->is_unanswered = false;
	}
}

void
edge_relay_event(edge_relay *r, bool is_mhd, uint32_t events, int64_t now_us)
{
	bool ok = true;

	if (r->is_dead)
		return;
	if (!is_mhd && (events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN))
		ok = false;
	if (ok && !is_mhd && (events & EPOLLIN))
		ok = read_client(r, now_us);
	if (ok && is_mhd && r->mfd >= 0 &&
	    (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		read_mhd(r, now_us);
	if (ok)
		ok = pump(r, now_us);
	if (!ok) {
		relay_free(r);
		return;
	}
	update_interest(r);
}

void
edge_relay_open(edge_relay_env *env, int fd, const struct sockaddr *sa,
    socklen_t len, bool is_per_ip, int64_t now_us)
{
	edge_relay *r = ta_xcalloc(1, sizeof *r);
	struct epoll_event ev = {.events = EPOLLIN};
	int one = 1;

	r->env = env;
	r->cfd = fd;
	r->mfd = -1;
	memcpy(&r->peer, sa, len < sizeof r->peer ? len : sizeof r->peer);
	r->peerlen = len;
	r->is_per_ip = is_per_ip;
	r->started_us = now_us;
	edge_framer_init(&r->fr, &env->cfg->limits);
	/* The front writes answers in pieces: no Nagle delay on them. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	set_deadline(r, DL_HEAD, now_us, env->cfg->header_timeout_s * 1000000);
	r->next = env->list;
	if (env->list)
		env->list->prev = r;
	env->list = r;
	r->cev = EPOLLIN;
	ev.data.u64 = (uint64_t)(uintptr_t)r;
	epoll_ctl(env->epfd, EPOLL_CTL_ADD, fd, &ev);
}

void
edge_relay_tick(edge_relay_env *env, int64_t now_us)
{
	edge_relay *r = env->list, *next;

	for (; r; r = next) {
		next = r->next;
		if (r->dl == DL_NONE || now_us < r->deadline_us)
			continue;
		switch (r->dl) {
		case DL_HEAD:
			refuse(r, 408, "Request head not received in time",
			    false, now_us);
			break;
		case DL_BODY:
			refuse(r, 408, "Request body not received in time",
			    true, now_us);
			break;
		case DL_REFUSE: // libmicrohttpd is still busy: answer anyway
			close_mhd(r);
			release_refusal(r, now_us);
			break;
		default:
			relay_free(r);
			continue;
		}
		if (pump(r, now_us))
			update_interest(r);
		else
			relay_free(r);
	}
}

void
edge_relay_close_all(edge_relay_env *env)
{
	while (env->list)
		relay_free(env->list);
	edge_relay_reap(env);
}
