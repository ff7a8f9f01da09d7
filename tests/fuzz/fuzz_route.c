/*
 * libFuzzer target for the edge's routing of raw paths (edge-api/routes.c,
 * edge-api/path.c): the input is "METHOD path" matched against the real
 * route table. A match names a row of the table whose method is the one
 * asked (HEAD: GET), with at most EDGE_MAX_PARAMS decoded parameters free
 * of control characters; a 405 has an Allow list. The segment helpers
 * agree with each other: a segment equal to a literal decodes to it, and
 * one that decodes to "." or ".." is a dot segment.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "routes.h"

#include "alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static edge_router *router;
static const edge_route *rows;
static size_t nrows;

static bool
has_ctl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
			return true;
	return false;
}

static void
check_segment(const char *s, size_t n)
{
	char *out = ta_xmalloc(n + 1);
	size_t len = 0;
	bool ok = edge_path_segment_decode(s, n, out, &len);

	if (ok && (len > n || out[len] != '\0' || has_ctl(out, len)))
		abort();
	if (edge_path_segment_equals(s, n, "tasks", 5) &&
	    (!ok || len != 5 || memcmp(out, "tasks", 5) != 0))
		abort();
	if (ok &&
	    ((len == 1 && out[0] == '.') ||
	        (len == 2 && out[0] == '.' && out[1] == '.')) &&
	    !edge_path_segment_is_dot(s, n))
		abort();
	free(out);
}

static void
check_match(const char *method, const char *path)
{
	edge_match m;
	ta_status st;

	memset(&m, 0, sizeof m);
	st = edge_route_match(router, method, path, &m);
	if (st == TA_OK) {
		const edge_route *row = m.route ? m.route->row : NULL;

		if (!row || row < rows || row >= rows + nrows ||
		    m.nparams > EDGE_MAX_PARAMS)
			abort();
		if (strcmp(row->method, method) != 0 &&
		    !(strcmp(method, "HEAD") == 0 &&
		        strcmp(row->method, "GET") == 0))
			abort();
		for (size_t i = 0; i < m.nparams; i++)
			if (m.params[i].value_len > EDGE_PARAM_MAX ||
			    has_ctl(m.params[i].value, m.params[i].value_len))
				abort();
	} else if (st == TA_UNIMPLEMENTED) {
		if (!m.pattern || !*m.allow)
			abort();
	} else if (st != TA_NOT_FOUND) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *sp;

	if (!router) {
		char err[256];

		rows = edge_route_table(&nrows);
		if (edge_router_new(rows, nrows, &router, err, sizeof err) !=
		    TA_OK)
			abort();
	}
	text = ta_xstrndup((const char *)data, size);
	if ((sp = strchr(text, ' ')) != NULL) {
		*sp = '\0';
		check_match(text, sp + 1);
	} else {
		check_match("GET", text);
	}
	/* Every '/'-separated piece as a raw segment. */
	for (size_t at = 0, n; at <= size; at += n + 1) {
		const char *seg = (const char *)data + at;
		const char *slash = memchr(seg, '/', size - at);

		n = slash ? (size_t)(slash - seg) : size - at;
		check_segment(seg, n);
	}
	free(text);
	return 0;
}
