/*
 * From an HTTP request to the RPC's request message: the body collected
 * within MAX_BODY_BYTES, parsed as a JSON object, transcoded with the path
 * parameters (an update naming no field becomes the route's noop RPC).
 */
#include "http_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bearer.h"
#include "log.h"
#include "media_type.h"
#include "query.h"
#include "violations.h"
#include "google/protobuf/field_mask.pb-c.h"

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

/* Parses the body into r->json: an object, {} when empty. */
static enum MHD_Result
parse_body(edge_req *r, unsigned flags, bool *is_ok)
{
	const char *ct = edge_req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *msg = NULL;
	ta_violations v = {0};
	enum MHD_Result ret;

	*is_ok = false;
	/* Like the old service: a body without Content-Type is not JSON. */
	bool is_json = edge_content_type_is_json(ct) ||
	               ((flags & EDGE_ROUTE_MERGE_PATCH) &&
	                   edge_content_type_is_merge_patch(ct));

	if (!is_json || (!ct && r->len > 0))
		return edge_respond_rejection(r, EDGE_REJECT_NOT_JSON, NULL);
	/* JSON is UTF-8 (RFC 8259 section 8.1): another charset is not read
	 * as if it were. */
	if (ct && !ta_media_charset_is_utf8(ct))
		return edge_respond_rejection(r, EDGE_REJECT_CHARSET, NULL);
	if (r->len == 0) {
		/* Like the old service: the worker reports missing fields. */
		r->json = cJSON_CreateObject();
	} else if (ta_json_parse_body(r->body, r->len, &r->json, &msg, &v) !=
	           TA_OK) {
		/* RFC 8259 strictly: details say what and where (issue 9). */
		ret = edge_respond_error(r, 400, msg, &v, NULL);
		ta_violations_fini(&v);
		return ret;
	}
	if (!r->json)
		return edge_respond_error(r, 500, NULL, NULL, NULL);
	if (!cJSON_IsObject(r->json))
		return edge_respond_rejection(r, EDGE_REJECT_NOT_OBJECT, NULL);
	*is_ok = true;
	return MHD_YES;
}

/* Whether m's update_mask names no field (or m has none). */
static bool
mask_is_empty(const ProtobufCMessage *m)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(
	        m->descriptor, "update_mask");
	const Google__Protobuf__FieldMask *fm =
	    f ? *(Google__Protobuf__FieldMask *const *)(const void
	                *)((const char *)m + f->offset)
	      : NULL;

	return !fm || fm->n_paths == 0;
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
	l->items[l->n++] = (edge_query_param){key ? key : "", key ? key_size : 0,
	    value, value ? value_size : 0};
	return MHD_YES;
}

/* Fills r->request from the query string (EDGE_ROUTE_QUERY routes). */
static bool
query_fill(edge_req *r, ta_violations *v)
{
	query_list l = {0};
	ta_status st;

	MHD_get_connection_values_n(
	    r->conn, MHD_GET_ARGUMENT_KIND, query_collect, &l);
	st = edge_query_fill(
	    r->request, l.items, l.n, r->match.params, r->match.nparams, v);
	free(l.items);
	return st == TA_OK;
}

/*
 * Fills r->request from the body, the query (EDGE_ROUTE_QUERY) and the
 * path parameters. The path wins:
 * a body key named like a path parameter is dropped, so it neither
 * overrides the id nor enters the update mask.
 */
enum MHD_Result
edge_req_build(edge_req *r, const edge_resolved_route *rt, bool *is_ok)
{
	ta_violations v = {0};
	enum MHD_Result ret = MHD_YES;

	*is_ok = false;
	r->request = ta_message_new(rt->md->input);
	if (rt->row->flags & EDGE_ROUTE_BODY) {
		bool parsed;

		ret = parse_body(r, rt->row->flags, &parsed);
		if (!parsed)
			return ret;
		for (size_t i = 0; i < r->match.nparams; i++) {
			char *name = ta_xstrndup(r->match.params[i].name,
			    r->match.params[i].name_len);

			cJSON_DeleteItemFromObjectCaseSensitive(r->json, name);
			free(name);
		}
		/* A header fills it: as a body key it is not in the contract,
		 * and keys not in the contract are ignored. */
		if (rt->row->flags & EDGE_ROUTE_CONDITIONAL)
			cJSON_DeleteItemFromObjectCaseSensitive(
			    r->json, EDGE_IF_MATCH_FIELD);
		if (ta_json_to_message(r->json, r->request,
		        (rt->row->flags & EDGE_ROUTE_MASK) ? "update_mask"
		                                           : NULL,
		        &v) != TA_OK)
			return edge_respond_violations(r, &v);
		if (rt->noop_md && mask_is_empty(r->request)) {
			/* Nothing to change: read instead (routes.h). */
			protobuf_c_message_free_unpacked(r->request, NULL);
			r->request = ta_message_new(rt->noop_md->input);
			r->is_noop = true;
		}
	}
	if ((rt->row->flags & EDGE_ROUTE_QUERY) && !query_fill(r, &v))
		return edge_respond_violations(r, &v);
	for (size_t i = 0; i < r->match.nparams; i++) {
		const edge_param *p = &r->match.params[i];
		char *name = ta_xstrndup(p->name, p->name_len);
		char *value = ta_xstrndup(p->value, p->value_len);
		ta_status st = ta_message_set_text(r->request, name, value, &v);

		free(name);
		free(value);
		if (st == TA_INVALID_ARGUMENT)
			return edge_respond_violations(r, &v);
		if (st != TA_OK) {
			ta_violations_fini(&v);
			ta_log(TA_LOG_ERROR, "route_param_unknown",
			    "route parameter is not a request field",
			    TA_S("request_id", r->request_id),
			    TA_S("route", rt->row->pattern));
			return edge_respond_error(r, 500, NULL, NULL, NULL);
		}
	}
	/* A no-op update reads: the edge checks If-Match on what it read. */
	if (r->if_match && !r->is_noop) {
		ta_status st = ta_message_set_text(
		    r->request, EDGE_IF_MATCH_FIELD, r->if_match, &v);

		ta_violations_fini(&v);
		if (st != TA_OK)
			return edge_respond_error(r, 500, NULL, NULL, NULL);
	}
	if (rt->row->flags & EDGE_ROUTE_TOKEN) {
		char *tok = NULL;
		const char *reason;
		ta_status st;

		/* auth-svc judges the token, also a missing one (""). */
		if (edge_bearer_parse(
		        edge_req_header(r, MHD_HTTP_HEADER_AUTHORIZATION), &tok,
		        &reason) != TA_OK)
			tok = ta_xstrdup("");
		st = ta_message_set_text(r->request, "token", tok, &v);
		free(tok);
		ta_violations_fini(&v);
		if (st != TA_OK)
			return edge_respond_error(r, 500, NULL, NULL, NULL);
	}
	*is_ok = true;
	return ret;
}
