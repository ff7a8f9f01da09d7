/*
 * libFuzzer target for the edge's two HTTP parsers together: what the
 * framing front (edge-api/framing.c) forwards, the real libmicrohttpd
 * parses, as the edge runs it (no listening socket, connections added
 * with MHD_add_connection, the edge's pool size and raw URLs), here in
 * external-select mode over a socket pair. The input is a client's byte
 * stream; the front's forwarded bytes are written to the daemon, and
 * libmicrohttpd must agree with the front on every request it passed:
 * the same method, path and decoded body length, in order, each answered
 * by the handler (never by libmicrohttpd itself: a 400, 413 or 431 of its
 * own would mean the two parsers disagree, which is what smuggling feeds
 * on). libmicrohttpd may stop early only after a request that closes the
 * connection (HTTP/1.0, or Connection: close).
 */
#define _GNU_SOURCE /* memmem */
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "framing.h"
#include "http_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() with the broken rule on stderr. */
#define FAIL(why)                                                      \
	do {                                                           \
		fprintf(stderr, "fuzz_mhd: %s (line %d)\n", why, __LINE__); \
		abort();                                               \
	} while (0)

#define MAX_REQS 64

static const edge_frame_limits lim = {
    .max_head = EDGE_FRAME_MAX_HEAD,
    .max_target = EDGE_FRAME_MAX_TARGET,
    .max_fields = EDGE_FRAME_MAX_FIELDS,
    .max_params = EDGE_FRAME_MAX_PARAMS,
    .max_body = 8192,
};

/* One request as one parser saw it. */
typedef struct seen {
	char method[24];
	char path[EDGE_FRAME_MAX_TARGET + 1];
	uint64_t body;
	bool is_closing; /* HTTP/1.0 or Connection: close */
	bool is_done;
} seen;

static seen front[MAX_REQS], served[MAX_REQS];
static size_t nfront, nserved;

/* Copies the path of the canonical head at p[0..n) into s (and more). */
static void
note_head(const char *p, size_t n, seen *s)
{
	const char *sp = memchr(p, ' ', n), *end, *q;
	size_t len;

	if (!sp)
		FAIL("the front forwarded no request line");
	end = memchr(sp + 1, ' ', n - (size_t)(sp + 1 - p));
	if (!end)
		abort();
	q = memchr(sp + 1, '?', (size_t)(end - sp - 1));
	len = (size_t)((q ? q : end) - sp - 1);
	if (len > EDGE_FRAME_MAX_TARGET)
		abort();
	memcpy(s->path, sp + 1, len);
	s->path[len] = '\0';
	s->is_closing = strncmp(end + 1, "HTTP/1.0", 8) == 0;
	/* Connection: close, in any case, anywhere in the head. */
	for (size_t i = 0; i + 13 <= n; i++)
		if (strncasecmp(p + i, "\r\nconnection:", 13) == 0) {
			const char *v = p + i + 13, *stop = p + n,
				   *e = memmem(v, (size_t)(stop - v), "\r\n", 2);

			for (; e && v + 5 <= e; v++)
				if (strncasecmp(v, "close", 5) == 0)
					s->is_closing = true;
		}
}

/* Feeds the stream to the front; out gets what it forwards. */
static void
frame(const char *in, size_t n, edge_buf *out)
{
	edge_framer f;
	size_t at = 0;

	edge_framer_init(&f, &lim);
	/* One more round with no input: a head without a body ends there. */
	while (at <= n) {
		size_t used = 0, mark = out->len;
		edge_frame_event ev =
		    edge_framer_feed(&f, in + at, n - at, &used, out);

		at += used;
		if (ev == EDGE_FRAME_HEAD && nfront == MAX_REQS) {
			out->len = mark; /* one request too many: not sent */
			break;
		}
		if (ev == EDGE_FRAME_HEAD) {
			seen *s = &front[nfront++];

			snprintf(s->method, sizeof s->method, "%s", f.head.method);
			note_head(out->p + mark, out->len - mark, s);
		} else if (ev == EDGE_FRAME_END && nfront > 0) {
			front[nfront - 1].body = f.head.is_chunked
			                             ? f.body_seen
			                             : f.head.content_length;
			front[nfront - 1].is_done = true;
		}
		if (ev == EDGE_FRAME_ERROR || (at == n && ev == EDGE_FRAME_MORE))
			break;
	}
	edge_framer_fini(&f);
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	seen *s = *con_cls;
	struct MHD_Response *rsp;
	enum MHD_Result ret;

	(void)cls;
	(void)version;
	(void)upload;
	if (!s) {
		if (nserved == MAX_REQS)
			return MHD_NO;
		s = &served[nserved++];
		snprintf(s->method, sizeof s->method, "%s", method);
		snprintf(s->path, sizeof s->path, "%s", url);
		*con_cls = s;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		s->body += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	s->is_done = true;
	rsp = MHD_create_response_from_buffer(2, "ok", MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, MHD_HTTP_OK, rsp);
	MHD_destroy_response(rsp);
	return ret;
}

/* As the edge's daemon.c: the URL as it came, not percent-decoded. */
static size_t
keep_raw(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

__attribute__((format(printf, 2, 0))) static void
quiet(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	(void)fmt;
	(void)ap;
}

static struct MHD_Daemon *
daemon_get(void)
{
	static struct MHD_Daemon *d;

	if (!d)
		d = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG,
		    0, NULL, NULL, handle, NULL, MHD_OPTION_EXTERNAL_LOGGER, quiet,
		    NULL, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		    (size_t)EDGE_MHD_POOL_BYTES, MHD_OPTION_UNESCAPE_CALLBACK,
		    keep_raw, NULL, MHD_OPTION_END);
	if (!d)
		abort();
	return d;
}

/* Writes in[0..n) to the daemon and collects its answers in rsp. */
static void
serve(const char *in, size_t n, edge_buf *rsp)
{
	struct MHD_Daemon *d = daemon_get();
	struct sockaddr_in sin = {.sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int sv[2];
	size_t at = 0;
	bool is_shut = false;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	if (MHD_add_connection(d, sv[1], (struct sockaddr *)&sin, sizeof sin) !=
	    MHD_YES)
		abort();
	for (int round = 0;; round++) {
		char buf[4096];
		ssize_t got;

		if (round > 10000)
			FAIL("libmicrohttpd neither answers nor closes");
		if (at < n) {
			ssize_t w = write(sv[0], in + at, n - at);

			if (w > 0)
				at += (size_t)w;
		} else if (!is_shut) {
			shutdown(sv[0], SHUT_WR);
			is_shut = true;
		}
		MHD_run(d);
		got = read(sv[0], buf, sizeof buf);
		if (got == 0)
			break; /* closed, after what the client sent ended */
		if (got > 0)
			edge_buf_append(rsp, buf, (size_t)got);
	}
	close(sv[0]);
	/* Let the daemon notice the close and free the connection. */
	for (int i = 0; i < 4; i++)
		MHD_run(d);
}

/* Every status line in the answers is the handler's 200 (or a 100). */
static size_t
count_answers(const edge_buf *rsp)
{
	const char *p = rsp->p ? rsp->p + rsp->off : "";
	size_t n = edge_buf_pending(rsp), ok = 0;

	for (size_t i = 0; i + 12 <= n; i++) {
		if (memcmp(p + i, "HTTP/1.", 7) != 0)
			continue;
		if (memcmp(p + i + 8, " 200", 4) == 0)
			ok++;
		else if (memcmp(p + i + 8, " 100", 4) != 0)
			FAIL("libmicrohttpd refused what the front passed");
	}
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	edge_buf out = {0}, rsp = {0};
	size_t complete = 0, answered;

	nfront = nserved = 0;
	memset(front, 0, sizeof front);
	memset(served, 0, sizeof served);
	frame((const char *)data, size, &out);
	if (edge_buf_pending(&out) > 0)
		serve(out.p + out.off, edge_buf_pending(&out), &rsp);
	while (complete < nfront && front[complete].is_done)
		complete++;
	answered = count_answers(&rsp);
	if (getenv("FUZZ_MHD_DEBUG"))
		fprintf(stderr, "front %zu (%zu complete), served %zu, "
		    "answered %zu:\n%.*s\n", nfront, complete, nserved,
		    answered, (int)edge_buf_pending(&rsp),
		    rsp.p ? rsp.p + rsp.off : "");
	if (answered != (size_t)(nserved > 0 && !served[nserved - 1].is_done
	                             ? nserved - 1
	                             : nserved))
		FAIL("answers and finished requests differ");
	if (nserved > nfront)
		FAIL("libmicrohttpd served a request the front never passed");
	for (size_t i = 0; i < nserved; i++) {
		const seen *a = &front[i], *b = &served[i];

		if (strcmp(a->method, b->method) != 0 ||
		    strcmp(a->path, b->path) != 0)
			FAIL("method or path differ");
		if (b->is_done && (!a->is_done || a->body != b->body))
			FAIL("body lengths differ");
	}
	/* Every complete request was served, unless one before closed. */
	if (nserved < complete) {
		size_t last = nserved ? nserved - 1 : 0;

		if (nserved == 0 || !front[last].is_closing)
			FAIL("a complete request was not served");
	}
	edge_buf_fini(&out);
	edge_buf_fini(&rsp);
	return 0;
}
