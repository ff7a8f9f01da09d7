/*
 * What libmicrohttpd hands the edge for one request, turned into the call
 * builder's plain inputs (request_build.h): the body collected within
 * MAX_BODY_BYTES, the query arguments and the headers the route reads;
 * the builder's refusals are answered here.
 */
#include "http_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "request_build.h"

/* Content-Length above the cap: answered before any body is read. */
bool
edge_req_is_declared_too_big(const edge_req *r, long cap)
{
	const char *cl = edge_req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n;
	char *end;

	if (!cl)
		return false;
	errno = 0;
	n = strtoull(cl, &end, 10);
	/* The front refused a malformed length; overflow counts as large. */
	return errno == ERANGE || (end != cl && n > (unsigned long long)cap);
}

void
edge_req_body_append(edge_req *r, const char *data, size_t n, long cap)
{
	if (r->is_too_big)
		return;
	if (r->len + n > (size_t)cap) {
		/* Chunked uploads are counted as they arrive. */
		r->is_too_big = true;
		free(r->body);
		r->body = NULL;
		r->len = r->cap = 0;
		return;
	}
	if (r->len + n + 1 > r->cap) {
		size_t want = r->cap ? r->cap * 2 : 1024;

		while (want < r->len + n + 1)
			want *= 2;
		r->body = ta_xrealloc(r->body, want);
		r->cap = want;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
}

/* The query parameters as libmicrohttpd decoded them, in order. */
typedef struct query_list {
	edge_query_param *items;
	size_t n, cap;
} query_list;

static enum MHD_Result
query_collect(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	query_list *l = cls;

	(void)kind;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->items = ta_xrealloc(l->items, l->cap * sizeof *l->items);
	}
	l->items[l->n++] = (edge_query_param){
	    key ? key : "", key ? key_size : 0, value, value ? value_size : 0};
	return MHD_YES;
}

enum MHD_Result
edge_req_build(edge_req *r, const edge_resolved_route *rt, bool *is_ok)
{
	query_list l = {0};
	edge_build_out out;
	edge_build_in in = {
	    .route = rt,
	    .params = r->match.params,
	    .nparams = r->match.nparams,
	    .content_type = edge_req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE),
	    .authorization = edge_req_header(r, MHD_HTTP_HEADER_AUTHORIZATION),
	    .if_match = r->if_match,
	    .body = r->body,
	    .len = r->len,
	    .request_id = r->request_id,
	};
	enum MHD_Result ret = MHD_YES;

	if (rt->row->flags & EDGE_ROUTE_QUERY)
		MHD_get_connection_values_n(
		    r->conn, MHD_GET_ARGUMENT_KIND, query_collect, &l);
	in.query = l.items;
	in.nquery = l.n;
	switch (edge_request_build(&in, &out)) {
	case EDGE_BUILD_OK:
		r->request = out.request;
		r->is_noop = out.is_noop;
		break;
	case EDGE_BUILD_REJECTED:
		ret = edge_respond_rejection(r, out.why, NULL);
		break;
	case EDGE_BUILD_INVALID:
		ret =
		    edge_respond_error(r, 400, out.message, &out.details, NULL);
		break;
	case EDGE_BUILD_INTERNAL:
		ret = edge_respond_error(r, 500, NULL, NULL, NULL);
		break;
	}
	ta_violations_fini(&out.details);
	free(l.items);
	*is_ok = out.request != NULL;
	return ret;
}
