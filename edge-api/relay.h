/*
 * One client connection of the front (front.h): its framing, the relay of
 * bytes between the client and libmicrohttpd, deadlines and refusals.
 * Internal to front.c, which owns the threads and the listener.
 */
#ifndef EDGE_API_RELAY_H
#define EDGE_API_RELAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <sys/socket.h>

#include "front.h"

/* Tags of epoll data: a relay pointer, plus 1 for its libmicrohttpd end. */
#define EDGE_RELAY_TAG_MHD 1u

typedef struct edge_relay edge_relay;

/* What a front thread lends to each of its connections. */
typedef struct edge_relay_env {
	const edge_front_cfg *cfg; /* borrowed */
	int epfd;                  /* the thread's epoll set */
	edge_relay *list;          /* the thread's connections */
	edge_relay *dead;          /* closed in this batch of events */
	edge_ip_table *ips;        /* borrowed: the front's */
	atomic_long *open;         /* borrowed: the front's connection count */
	void *server;              /* the thread's HTTP server (front.h) */
} edge_relay_env;

/*
 * Takes the accepted socket fd of a client at sa (copied) into env's epoll
 * set, with its head deadline running from now_us. The connection already
 * counts in *env->open, and in env->ips when is_per_ip; closing it gives
 * both back.
 */
void edge_relay_open(edge_relay_env *env, int fd, const struct sockaddr *sa,
    socklen_t len, bool is_per_ip, int64_t now_us);

/* Handles epoll events on r's client (is_mhd false) or pair end. */
void edge_relay_event(
    edge_relay *r, bool is_mhd, uint32_t events, int64_t now_us);

/* Acts on every deadline of env's connections that passed by now_us. */
void edge_relay_tick(edge_relay_env *env, int64_t now_us);

/*
 * Frees the connections closed since the last call: after each batch of
 * epoll events, since one batch may hold several events of one connection.
 */
void edge_relay_reap(edge_relay_env *env);

/* Closes every connection of env. */
void edge_relay_close_all(edge_relay_env *env);

#endif
