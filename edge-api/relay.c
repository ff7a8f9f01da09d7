/*
 * One client connection of the front: client bytes go through the framer
 * to libmicrohttpd's end of a socket pair, its answers go back unchanged;
 * a refused request is answered here after libmicrohttpd's side is done,
 * then the client is drained for a bounded time and closed.
 */
#include "relay_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "alloc.h"

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

static bool
hand_over(edge_relay *r)
{
	const edge_front_cfg *cfg = r->env->cfg;
	int sv[2];
	struct epoll_event ev = {.events = EPOLLIN};

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	        sv) != 0)
		return false;
	if (!cfg->hand_over(r->env->server, sv[1], (struct sockaddr *)&r->peer,
	        r->peerlen)) {
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
			edge_relay_set_deadline(r, DL_HEAD, now_us,
			    cfg->header_timeout_s * 1000000);
		switch (edge_framer_feed(
		    &r->fr, in + off, n - off, &used, &r->to_mhd)) {
		case EDGE_FRAME_HEAD:
			if (r->mfd < 0 && !hand_over(r)) {
				edge_relay_reject(r,
				    EDGE_REJECT_SHUTTING_DOWN, false, now_us);
				return;
			}
			edge_relay_set_deadline(r,
			    r->fr.head.has_body ? DL_BODY : DL_NONE, now_us,
			    cfg->body_timeout_s * 1000000);
			break;
		case EDGE_FRAME_END:
			edge_relay_set_deadline(r, DL_NONE, now_us, 0);
			break;
		case EDGE_FRAME_ERROR:
			edge_relay_refuse(r, r->fr.status, r->fr.reason,
			    !was_in_head, now_us);
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
		edge_relay_close_mhd(
		    r); // the request can never end: nothing to answer
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
			edge_relay_close_mhd(r);
			if (r->mode == M_REFUSE)
				edge_relay_release_refusal(r, now_us);
			else if (r->mode == M_RELAY) {
				r->mode = M_LINGER;
				edge_relay_set_deadline(
				    r, DL_LINGER, now_us, LINGER_US);
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
	edge_relay_set_deadline(
	    r, DL_HEAD, now_us, env->cfg->header_timeout_s * 1000000);
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
			edge_relay_reject(
			    r, EDGE_REJECT_HEAD_TIMEOUT, false, now_us);
			break;
		case DL_BODY:
			edge_relay_reject(
			    r, EDGE_REJECT_BODY_TIMEOUT, true, now_us);
			break;
		case DL_REFUSE: // libmicrohttpd is still busy: answer anyway
			edge_relay_close_mhd(r);
			edge_relay_release_refusal(r, now_us);
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
