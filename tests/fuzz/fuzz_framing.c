/*
 * libFuzzer target for the edge's HTTP/1.1 framing front
 * (edge-api/framing.c), the code every client byte passes before
 * libmicrohttpd sees it. The input is a client's byte stream, fed whole
 * and again in pieces whose sizes come from the input's last byte: both
 * must stop at the same event with the same output. What the framer
 * forwards is its canonical form, and canonical input is forwarded
 * unchanged: framing the output again gives the same bytes and events.
 * Every head it accepts parses alone with edge_head_parse too.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const edge_frame_limits lim = {
    .max_head = 2048,
    .max_target = 512,
    .max_fields = 20,
    .max_params = 10,
    .max_body = 4096,
};

/*
 * The limits for framing the canonical output again. Canonical form can
 * be a little larger than what the client sent: one space after each
 * field's colon, and a Host field taken from an absolute-form target
 * (one field more). So a head just under max_head or max_fields may
 * canonicalize just past them (found by this target: the front forwards
 * such a head, and libmicrohttpd's pool has room, fuzz_mhd.c); the second
 * pass allows for that growth and checks the rest of the property.
 */
static const edge_frame_limits lim_again = {
    .max_head = 2048 * 2,
    .max_target = 512,
    .max_fields = 20 + 1,
    .max_params = 10,
    .max_body = 4096,
};

/* What one run of a stream gives: the forwarded bytes and the events. */
typedef struct run {
	edge_buf out;
	char events[64];
	size_t nevents;
	int status;
} run;

/*
 * Feeds in[0..n) in pieces of step bytes (0: whole) until an error, with
 * limits l.
 */
static void
feed_with(const edge_frame_limits *l, const char *in, size_t n, size_t step,
    run *r)
{
	edge_framer f;
	size_t at = 0;

	memset(r, 0, sizeof *r);
	edge_framer_init(&f, l);
	while (at < n) {
		size_t piece = step && n - at > step ? step : n - at, used = 0;
		edge_frame_event ev =
		    edge_framer_feed(&f, in + at, piece, &used, &r->out);

		if (used > piece)
			abort();
		at += used;
		if (ev != EDGE_FRAME_MORE && r->nevents < sizeof r->events)
			r->events[r->nevents++] = (char)('0' + ev);
		if (ev == EDGE_FRAME_ERROR) {
			if (f.status < 400 || f.status > 599 || !f.reason)
				abort();
			r->status = f.status;
			break;
		}
		if (ev == EDGE_FRAME_MORE && used != piece)
			abort(); /* MORE means all input was used */
	}
	edge_framer_fini(&f);
}

static void
feed(const char *in, size_t n, size_t step, run *r)
{
	feed_with(&lim, in, n, step, r);
}

/* Whether two buffers hold the same pending bytes (an empty one has no p). */
static bool
buf_eq(const edge_buf *a, const edge_buf *b)
{
	size_t n = edge_buf_pending(a);

	return n == edge_buf_pending(b) &&
	       (n == 0 || memcmp(a->p + a->off, b->p + b->off, n) == 0);
}

static bool
same(const run *a, const run *b)
{
	return a->status == b->status && a->nevents == b->nevents &&
	       memcmp(a->events, b->events, a->nevents) == 0 &&
	       buf_eq(&a->out, &b->out);
}

/* A head alone (up to the first empty line) through edge_head_parse. */
static void
head_alone(const char *in, size_t n)
{
	const char *end = NULL;
	edge_head h;
	edge_buf out = {0};
	const char *reason = NULL;
	int st;

	for (size_t i = 0; i + 3 < n && !end; i++)
		if (memcmp(in + i, "\r\n\r\n", 4) == 0)
			end = in + i + 4;
	if (!end)
		return;
	memset(&h, 0, sizeof h);
	st = edge_head_parse(in, (size_t)(end - in), &lim, &h, &out, &reason);
	if (st != 0 && (st < 400 || st > 599 || !reason))
		abort();
	edge_buf_fini(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	run whole, pieces, again;

	if (size == 0)
		return 0;
	feed(in, size, 0, &whole);
	feed(in, size, 1 + data[size - 1] % 17, &pieces);
	if (!same(&whole, &pieces))
		abort();
	if (whole.status == 0 && edge_buf_pending(&whole.out) > 0) {
		/* Canonical in, the same out. */
		feed_with(&lim_again, whole.out.p + whole.out.off,
		    edge_buf_pending(&whole.out), 0, &again);
		if (again.status != 0 || !buf_eq(&again.out, &whole.out))
			abort();
		edge_buf_fini(&again.out);
	}
	head_alone(in, size);
	edge_buf_fini(&whole.out);
	edge_buf_fini(&pieces.out);
	return 0;
}
