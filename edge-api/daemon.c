/*
 * The edge's HTTP server's life: libmicrohttpd started without a listening
 * socket behind the front (front.h), draining, and the graceful stop
 * (http.h). Logging of libmicrohttpd's own messages.
 */
#include "http_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "log.h"

static const char *const mhd_noise[] = {
    "Setting TCP_NODELAY option",
    "Setting TCP_CORK option",
    "Failed to push the data from buffers",
};

__attribute__((format(printf, 2, 0))) static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof buf, fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	/*
	 * The front's socket pairs are AF_UNIX: MHD 0.9.75 tries TCP_NODELAY
	 * and TCP_CORK on them, gets EOPNOTSUPP and says so on every answer.
	 * There is no Nagle on a socket pair, so nothing is delayed.
	 */
	for (size_t i = 0; i < sizeof mhd_noise / sizeof mhd_noise[0]; i++)
		if (strncmp(buf, mhd_noise[i], strlen(mhd_noise[i])) == 0)
			return;
	ta_log(TA_LOG_WARN, "mhd_error", buf);
}

/*
 * libmicrohttpd's unescape callback: leaves the path raw. The router
 * matches raw segments and decodes each parameter after matching, so %2F
 * never splits a segment (routes.h).
 */
static size_t
keep_raw(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/*
 * One front thread's libmicrohttpd (edge_front_cfg.server_open): no
 * listening socket (the front accepts and hands over checked
 * connections) and no thread of its own: the front thread runs it when
 * its epoll set, watched through the daemon's, has work. Resuming a
 * connection from an nng task thread signals the daemon's inter-thread
 * channel, which wakes that front thread. The pool holds a head of at
 * most EDGE_FRAME_MAX_HEAD bytes plus its parsed fields and parameters with
 * room to spare, so libmicrohttpd never answers 431/414 (in HTML) on its
 * own. EXTERNAL_LOGGER first, or MHD warns about it on its own stderr.
 */
static void *
server_open(void *arg, long index, int wake, int *watch)
{
	edge_http *h = arg;
	const edge_app *app = h->app;
	const union MHD_DaemonInfo *info;
	edge_server *srv = ta_xcalloc(1, sizeof *srv);

	(void)index;
	srv->h = h;
	srv->wake = wake;
	srv->daemon = MHD_start_daemon(MHD_USE_EPOLL |
	                                   MHD_ALLOW_SUSPEND_RESUME |
	                                   MHD_USE_NO_LISTEN_SOCKET |
	                                   MHD_USE_ERROR_LOG,
	    0, NULL, NULL, edge_http_handle, srv, MHD_OPTION_EXTERNAL_LOGGER,
	    mhd_log, h, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)app->cfg->http_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned int)app->connection_limit,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)EDGE_MHD_POOL_BYTES,
	    MHD_OPTION_NOTIFY_COMPLETED, edge_http_completed, srv,
	    MHD_OPTION_UNESCAPE_CALLBACK, keep_raw, NULL, MHD_OPTION_END);
	if (!srv->daemon ||
	    !(info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_EPOLL_FD))) {
		if (srv->daemon)
			MHD_stop_daemon(srv->daemon);
		free(srv);
		return NULL;
	}
	*watch = info->epoll_fd;
	return srv;
}

static bool
hand_over(void *server, int fd, const struct sockaddr *sa, socklen_t len)
{
	edge_server *srv = server;

	return MHD_add_connection(srv->daemon, fd, sa, len) == MHD_YES;
}

/* Runs the daemon; true when it still has work ready (data already read
 * or connections left ready by the edge-triggered epoll). */
static bool
server_run(void *server)
{
	edge_server *srv = server;
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(srv->daemon);
	return MHD_get_timeout(srv->daemon, &ms) == MHD_YES && ms == 0;
}

static void
server_close(void *server)
{
	edge_server *srv = server;

	MHD_stop_daemon(srv->daemon);
	free(srv);
}

ta_status
edge_http_open(const edge_app *app, edge_http **out)
{
	edge_http *h = ta_xcalloc(1, sizeof *h);
	const edge_cfg *cfg = app->cfg;
	edge_front_cfg fc = {.listen = app->listen,
	    .port = cfg->port,
	    .threads = cfg->http_threads,
	    .connection_limit = app->connection_limit,
	    .per_ip_limit = cfg->http_per_ip_limit,
	    .trusted = app->trusted,
	    .header_timeout_s = cfg->http_header_timeout_s,
	    .body_timeout_s = cfg->http_body_timeout_s,
	    .limits = {.max_head = EDGE_FRAME_MAX_HEAD,
	        .max_target = EDGE_FRAME_MAX_TARGET,
	        .max_fields = EDGE_FRAME_MAX_FIELDS,
	        .max_params = EDGE_FRAME_MAX_PARAMS,
	        .max_body = (uint64_t)cfg->max_body_bytes},
	    .cors = app->cors,
	    .server_open = server_open,
	    .hand_over = hand_over,
	    .server_run = server_run,
	    .server_close = server_close,
	    .arg = h};

	h->app = app;
	atomic_init(&h->active, 0);
	atomic_init(&h->suspended, 0);
	atomic_init(&h->is_draining, false);
	if (edge_front_open(&fc, &h->front) != TA_OK) {
		ta_log(TA_LOG_ERROR, "http_start_failed",
		    "cannot start the HTTP server", TA_I("port", cfg->port));
		free(h);
		return TA_UNAVAILABLE;
	}
	*out = h;
	return TA_OK;
}

/* edge_http_close: how long answers of resumed calls may still take. */
#define CLOSE_ANSWER_GRACE_MS 1000

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

void
edge_http_drain(edge_http *h)
{
	atomic_store(&h->is_draining, true);
}

void
edge_http_close(edge_http *h, int64_t wait_ms)
{
	int64_t until;

	if (!h)
		return;
	atomic_store(&h->is_draining, true);
	edge_front_quiesce(h->front);
	until = ta_mono_us() + wait_ms * 1000;
	while (atomic_load(&h->active) > 0 &&
	       (ta_mono_us() < until || atomic_load(&h->suspended) > 0))
		sleep_ms(10);
	/*
	 * A call that ended just now (past until) has only been resumed: its
	 * front thread still renders and writes the answer. Give that a
	 * moment, bounded, rather than close the connection under it.
	 */
	until = ta_mono_us() + CLOSE_ANSWER_GRACE_MS * 1000;
	while (atomic_load(&h->active) > 0 && ta_mono_us() < until)
		sleep_ms(10);
	if (atomic_load(&h->active) > 0)
		ta_log(TA_LOG_WARN, "http_drain_timeout",
		    "stopping with requests still in progress",
		    TA_I("requests", atomic_load(&h->active)));
	/* Joins the front threads, then stops each one's daemon. */
	edge_front_close(h->front);
	free(h);
}
