/*
 * The edge's front: it owns the listening socket and every client
 * connection, checks each request's framing (framing.h) and relays the
 * canonical bytes to libmicrohttpd over a socket pair, so libmicrohttpd
 * only ever parses heads that mean one thing.
 *
 * Design notes.
 * - Threads: HTTP_THREADS front threads, each with its own epoll set,
 *   connections and HTTP server (cfg.server_open); all accept from the
 *   one listener (EPOLLEXCLUSIVE). The server's work (hand_over,
 *   server_run) runs on its front thread.
 * - Ownership: a connection's client socket, its end of the pair, its
 *   framer and buffers belong to the thread that accepted it. The other
 *   end of the pair belongs to libmicrohttpd from hand_over on; it is
 *   handed over only once the first head passed, so slow or refused
 *   clients never reach libmicrohttpd.
 * - Deadlines: a request head must arrive within header_timeout_s of its
 *   first byte (of the accept for a new connection), a body within
 *   body_timeout_s of its head, however slowly bytes trickle: 408.
 * - Refusals: the front answers in the project's JSON error shape with
 *   X-Request-Id and Connection: close, after whatever libmicrohttpd was
 *   still sending (its side is shut down first); then it drains the client
 *   for a bounded time and byte count so that the client reads the answer
 *   instead of a reset.
 * - Shutdown: edge_front_quiesce stops accepting; edge_front_close closes
 *   every connection and joins the threads.
 */
#ifndef EDGE_API_FRONT_H
#define EDGE_API_FRONT_H

#include <stdbool.h>

#include <sys/socket.h>

#include "cors.h"
#include "framing.h"
#include "conn_limits.h"
#include "listen.h"
#include "status.h"

typedef struct edge_front_cfg {
	edge_listen_addr listen; /* HTTP_LISTEN_ADDRESS (listen.h) */
	long port;
	long threads;
	long connection_limit; /* client connections at most: 503 beyond */
	long per_ip_limit;     /* per address, trusted proxies exempt: 429 */
	const edge_cidrs *trusted; /* borrowed: TRUSTED_PROXIES */
	long header_timeout_s;
	long body_timeout_s;
	edge_frame_limits limits;
	const edge_cors
	    *cors; /* borrowed: CORS headers on the front's answers */
	/*
	 * The HTTP server behind the front: one instance per front thread,
	 * used on that thread only (libmicrohttpd without threads of its
	 * own), so a request and its answer cross between the front and the
	 * server without waking another thread. server_open runs in
	 * edge_front_open for thread index (NULL: the open fails) and sets
	 * *watch to a descriptor that turns readable when the server has
	 * socket work. wake is the thread's eventfd: another thread writing
	 * to it (after resuming a connection) makes the front thread run
	 * its server; valid until server_close. hand_over gives fd (the pair's
	 * libmicrohttpd end, owned by the callee from now on, also when it
	 * fails) and the client's address to the thread's server; false:
	 * refused, answered 503. server_run does the server's pending work
	 * when watch is readable, and on every tick (its timeouts); true: it
	 * has more ready now (it is run again without waiting).
	 * server_close runs once the thread has ended and its connections are
	 * closed.
	 */
	void *(*server_open)(void *arg, long index, int wake, int *watch);
	bool (*hand_over)(
	    void *server, int fd, const struct sockaddr *sa, socklen_t len);
	bool (*server_run)(void *server);
	void (*server_close)(void *server);
	void *arg;
} edge_front_cfg;

typedef struct edge_front edge_front;

/*
 * Listens on cfg->listen and cfg->port (listen.h) and starts the threads.
 * cfg is copied; what it borrows must outlive the front. TA_UNAVAILABLE
 * when the address cannot be bound.
 */
ta_status edge_front_open(const edge_front_cfg *cfg, edge_front **out);

/* Stops accepting new connections; open ones carry on. */
void edge_front_quiesce(edge_front *f);

/* Closes every connection, joins the threads and frees f. */
void edge_front_close(edge_front *f);

#endif
