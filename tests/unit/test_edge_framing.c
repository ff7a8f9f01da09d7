/*
 * Request framing of the edge's front (framing.h): every smuggling and
 * malformed-head primitive of issue 9, the limits, and the canonical bytes
 * forwarded to libmicrohttpd, fed whole and one byte at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "framing.h"

static const edge_frame_limits LIM = {.max_head = 2048,
    .max_target = 256,
    .max_fields = 10,
    .max_params = 5,
    .max_body = 100};

/* Parses one head; returns the status (0 when accepted). */
static int
parse(const char *head, edge_head *h, char *out, size_t cap)
{
	edge_buf b = {0};
	const char *reason = NULL;
	int st = edge_head_parse(head, strlen(head), &LIM, h, &b, &reason);

	if (st != 0)
		assert_non_null(reason);
	if (out) {
		assert_true(b.len < cap);
		memcpy(out, b.p ? b.p : "", b.len);
		out[b.len] = '\0';
	}
	edge_buf_fini(&b);
	return st;
}

static int
status_of(const char *head)
{
	edge_head h;

	return parse(head, &h, NULL, 0);
}

static void
test_accepts_and_canonicalises(void **state)
{
	edge_head h;
	char out[512];

	(void)state;
	assert_int_equal(parse("GET /health HTTP/1.1\r\nHost: x\r\n"
	                       "X-Request-Id:   abc-1  \r\nOrigin: http://o\r\n"
	                       "\r\n",
	                     &h, out, sizeof out),
	    0);
	assert_string_equal(out,
	    "GET /health HTTP/1.1\r\nHost: x\r\n"
	    "X-Request-Id: abc-1\r\nOrigin: http://o\r\n\r\n");
	assert_string_equal(h.method, "GET");
	assert_string_equal(h.request_id, "abc-1");
	assert_string_equal(h.origin, "http://o");
	assert_false(h.has_body);
	/* Absolute form becomes origin form. */
	assert_int_equal(parse("GET http://h:8080/tasks/1?a=b HTTP/1.1\r\n"
	                       "Host: h\r\n\r\n",
	                     &h, out, sizeof out),
	    0);
	assert_string_equal(
	    out, "GET /tasks/1?a=b HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_int_equal(parse("GET HTTPS://h HTTP/1.1\r\nHost: h\r\n\r\n", &h,
	                     out, sizeof out),
	    0);
	assert_string_equal(out, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
	/* HTTP/1.0 needs no Host; OPTIONS may ask for "*". */
	assert_int_equal(status_of("GET / HTTP/1.0\r\n\r\n"), 0);
	assert_int_equal(status_of("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
	assert_int_equal(parse("POST /t HTTP/1.1\r\nHost: x\r\n"
	                       "Transfer-Encoding: Chunked\r\n\r\n",
	                     &h, NULL, 0),
	    0);
	assert_true(h.is_chunked && h.has_body);
	assert_int_equal(parse("POST /t HTTP/1.1\r\nHost: x\r\n"
	                       "Content-Length: 100\r\n\r\n",
	                     &h, NULL, 0),
	    0);
	assert_true(h.content_length == 100 && h.has_body);
	/* obs-text in a value is opaque data, not an error. */
	assert_int_equal(
	    status_of("GET / HTTP/1.1\r\nHost: x\r\nX-A: caf\xc3\xa9\r\n\r\n"),
	    0);
}

/* Expect: 100-continue goes on only with a body, last; others never. */
static void
test_expect(void **state)
{
	edge_head h;
	char out[512];

	(void)state;
	assert_int_equal(parse("POST /t HTTP/1.1\r\nHost: x\r\n"
	                       "Expect: 100-Continue\r\n\r\n",
	                     &h, out, sizeof out),
	    0);
	assert_string_equal(out, "POST /t HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(parse("POST /t HTTP/1.1\r\nExpect: 100-continue\r\n"
	                       "Host: x\r\nContent-Length: 2\r\n\r\n",
	                     &h, out, sizeof out),
	    0);
	assert_string_equal(out,
	    "POST /t HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
	    "Expect: 100-continue\r\n\r\n");
	assert_int_equal(parse("POST /t HTTP/1.1\r\nHost: x\r\nExpect: x\r\n"
	                       "Transfer-Encoding: chunked\r\n\r\n",
	                     &h, out, sizeof out),
	    0);
	assert_string_equal(out, "POST /t HTTP/1.1\r\nHost: x\r\n"
	                         "Transfer-Encoding: chunked\r\n\r\n");
}

/* RFC 9112 §6.1, §6.3: each primitive of issue 9. */
static void
test_smuggling(void **state)
{
	static const struct {
		const char *head;
		int status;
	} cases[] = {
	    {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	     "Content-Length: 5\r\n\r\n",
	        400},
	    {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	     "Content-Length: 6\r\n\r\n",
	        400},
	    {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n", 400},
	    {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n", 400},
	    {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	     "Transfer-Encoding: chunked\r\n\r\n",
	        400},
	    {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
	     "Transfer-Encoding: chunked\r\n\r\n",
	        400},
	    {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
	    {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
	        501},
	    {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
	     "identity\r\n\r\n",
	        501},
	    {"POST / HTTP/1.1\r\nHost: x\r\n"
	     "Transfer-Encoding: chunked, identity\r\n\r\n",
	        501},
	    {"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400},
	    {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n 5\r\n\r\n",
	        400},
	    {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\nb\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7f\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n", 400},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(status_of(cases[i].head), cases[i].status);
	}
}

/* NUL cuts nothing: the whole head is refused (RFC 9110 §5.5). */
static void
test_nul(void **state)
{
	static const char line[] = "GET /health\0x HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char value[] = "GET / HTTP/1.1\r\nHost: x\r\n"
	                            "Authorization: Bearer abc\0tail\r\n\r\n";
	edge_buf b = {0};
	edge_head h;
	const char *reason;

	(void)state;
	assert_int_equal(
	    edge_head_parse(line, sizeof line - 1, &LIM, &h, &b, &reason), 400);
	assert_int_equal(
	    edge_head_parse(value, sizeof value - 1, &LIM, &h, &b, &reason),
	    400);
	assert_int_equal(b.len, 0); // nothing of a refused head is written
	edge_buf_fini(&b);
}

static void
test_request_line(void **state)
{
	char big[400];

	(void)state;
	assert_int_equal(status_of("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), 505);
	assert_int_equal(status_of("GET / HTTP/1.2\r\nHost: x\r\n\r\n"), 505);
	assert_int_equal(status_of("GET / HTTP/1.1x\r\nHost: x\r\n\r\n"), 400);
	assert_int_equal(status_of("GET / http/1.1\r\nHost: x\r\n\r\n"), 400);
	assert_int_equal(status_of("GET  / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	assert_int_equal(
	    status_of("GET /a b HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	assert_int_equal(status_of("GET x HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	assert_int_equal(status_of("GET * HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	assert_int_equal(
	    status_of("GET ftp://h/ HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	assert_int_equal(
	    status_of("GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	assert_int_equal(status_of("G(T / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	/* Limits: target length and query parameters -> 414. */
	memset(big, 'a', sizeof big);
	memcpy(big, "GET /", 5);
	strcpy(big + 300, " HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(status_of(big), 414);
	assert_int_equal(
	    status_of("GET /?a&b&c&d&e&f HTTP/1.1\r\nHost: x\r\n\r\n"), 414);
	assert_int_equal(
	    status_of("GET /?a&b&c&d&e HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
}

static void
test_limits(void **state)
{
	char head[1024] = "GET / HTTP/1.1\r\nHost: x\r\n";

	(void)state;
	for (int i = 0; i < 10; i++)
		strcat(head, "X-F: v\r\n");
	strcat(head, "\r\n");
	assert_int_equal(status_of(head), 431); // 11 fields, 10 allowed
	assert_int_equal(status_of("POST / HTTP/1.1\r\nHost: x\r\n"
	                           "Content-Length: 101\r\n\r\n"),
	    413);
	assert_int_equal(status_of("POST / HTTP/1.1\r\nHost: x\r\n"
	                           "Content-Length: 99999999999999999999999\r\n"
	                           "\r\n"),
	    413);
	assert_int_equal(status_of("POST / HTTP/1.1\r\nHost: x\r\n"
	                           "Content-Length: 100\r\n\r\n"),
	    0);
}

typedef struct run {
	edge_frame_event events[16];
	size_t nevents;
	char out[2048];
	size_t outlen;
	int status;
} run;

/* Feeds s (n bytes) in pieces of step bytes; records events and output. */
static void
feed(const char *s, size_t n, size_t step, run *out)
{
	edge_framer f;
	edge_buf b = {0};
	size_t off = 0;

	memset(out, 0, sizeof *out);
	edge_framer_init(&f, &LIM);
	for (;;) {
		size_t k = n - off < step ? n - off : step, used;
		edge_frame_event ev =
		    edge_framer_feed(&f, s + off, k, &used, &b);

		off += used;
		if (ev == EDGE_FRAME_ERROR) {
			out->status = f.status;
			break;
		}
		if (ev != EDGE_FRAME_MORE)
			out->events[out->nevents++] = ev;
		else if (off >= n)
			break;
	}
	assert_true(b.len < sizeof out->out);
	memcpy(out->out, b.p ? b.p : "", b.len);
	out->outlen = b.len;
	edge_buf_fini(&b);
	edge_framer_fini(&f);
}

static void
test_stream(void **state)
{
	static const char in[] =
	    "\r\nPOST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n5;ext=1\r\nhello\r\n00A\r\n0123456789\r\n0\r\nX-T: y\r\n\r\n"
	    "PUT /u HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
	    "GET /v HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char want[] =
	    "POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
	    "\r\n5\r\nhello\r\na\r\n0123456789\r\n0\r\n\r\n"
	    "PUT /u HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
	    "GET /v HTTP/1.1\r\nHost: x\r\n\r\n";
	static const size_t steps[] = {1, 2, 7, sizeof in};

	(void)state;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		run r;

		feed(in, sizeof in - 1, steps[i], &r);
		assert_int_equal(r.status, 0);
		assert_int_equal(r.outlen, sizeof want - 1);
		assert_memory_equal(r.out, want, sizeof want - 1);
		assert_int_equal(r.nevents, 6); // HEAD, END three times
		for (size_t k = 0; k < 6; k++)
			assert_int_equal(r.events[k],
			    k % 2 ? EDGE_FRAME_END : EDGE_FRAME_HEAD);
	}
}

static void
expect_stream_error_n(const char *in, size_t n, int status)
{
	static const size_t steps[] = {1, 3, 4096};

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		run r;

		feed(in, n, steps[i], &r);
		assert_int_equal(r.status, status);
	}
}

static void
expect_stream_error(const char *in, int status)
{
	expect_stream_error_n(in, strlen(in), status);
}

static void
test_stream_errors(void **state)
{
	char big[4096];

	(void)state;
	/* A chunk passing MAX_BODY_BYTES fails as soon as it is declared. */
	expect_stream_error("POST / HTTP/1.1\r\nHost: x\r\n"
	                    "Transfer-Encoding: chunked\r\n\r\n"
	                    "32\r\n" /* 50 */,
	    0);
	expect_stream_error("POST / HTTP/1.1\r\nHost: x\r\n"
	                    "Transfer-Encoding: chunked\r\n\r\n"
	                    "40\r\n",
	    0);
	expect_stream_error("POST / HTTP/1.1\r\nHost: x\r\n"
	                    "Transfer-Encoding: chunked\r\n\r\n"
	                    "65\r\n",
	    413);
	expect_stream_error("POST / HTTP/1.1\r\nHost: x\r\n"
	                    "Transfer-Encoding: chunked\r\n\r\n"
	                    "1000000000000000000\r\n",
	    413);
	expect_stream_error("POST / HTTP/1.1\r\nHost: x\r\n"
	                    "Transfer-Encoding: chunked\r\n\r\n"
	                    "zz\r\n",
	    400);
	expect_stream_error("POST / HTTP/1.1\r\nHost: x\r\n"
	                    "Transfer-Encoding: chunked\r\n\r\n"
	                    "2\r\nabXY",
	    400);
	expect_stream_error("POST / HTTP/1.1\r\nHost: x\r\n"
	                    "Transfer-Encoding: chunked\r\n\r\n"
	                    "2\nab\r\n",
	    400);
	/* Bare LF and NUL fail before the head ends. */
	expect_stream_error("GET / HTTP/1.1\nHost", 400);
	expect_stream_error_n("GET /\0", 6, 400);
	expect_stream_error("\r\r\nGET / HTTP/1.1\r\n", 400);
	/* A head that never ends: 414 on the request line, then 431. */
	memset(big, 'a', sizeof big);
	memcpy(big, "GET /", 5);
	big[sizeof big - 1] = '\0';
	expect_stream_error(big, 414);
	memcpy(big, "GET / HTTP/1.1\r\nX-A: ", 21);
	expect_stream_error(big, 431);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts_and_canonicalises),
	    cmocka_unit_test(test_expect),
	    cmocka_unit_test(test_smuggling),
	    cmocka_unit_test(test_nul),
	    cmocka_unit_test(test_request_line),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_stream),
	    cmocka_unit_test(test_stream_errors),
	};

	return cmocka_run_group_tests_name("edge_framing", tests, NULL, NULL);
}
