/*
 * Internal to the front's connections (relay.c, relay_refuse.c): one
 * connection's state and the refusal path shared by both files.
 */
#ifndef EDGE_API_RELAY_INTERNAL_H
#define EDGE_API_RELAY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/socket.h>

#include "framing.h"
#include "relay.h"
#include "render.h"

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

static inline void
edge_relay_set_deadline(
    edge_relay *r, enum deadline dl, int64_t now_us, int64_t after)
{
	r->dl = dl;
	r->deadline_us = dl == DL_NONE ? 0 : now_us + after;
}

/* Moves the pending refusal to the client; from now on only drain. */
void edge_relay_release_refusal(edge_relay *r, int64_t now_us);

/* Closes libmicrohttpd's side at once: it drops what it was reading. */
void edge_relay_close_mhd(edge_relay *r);

/*
 * Answers status and stops relaying: nothing the client sent after this
 * point reaches libmicrohttpd (relay_refuse.c).
 */
void edge_relay_refuse(edge_relay *r, int status, const char *reason,
    bool is_mid_request, int64_t now_us);

/* edge_relay_refuse with one of the edge's own rejections (render.h). */
void edge_relay_reject(edge_relay *r, edge_rejection why,
    bool is_mid_request, int64_t now_us);

#endif
