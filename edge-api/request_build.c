/*
 * The edge's call builder (request_build.h): the request message from a
 * route, the headers it reads and the body, and a reply message rendered
 * as the route's JSON answer. Plain data in and out, no libmicrohttpd.
 */
#include "request_build.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alloc.h"
#include "bearer.h"
#include "log.h"
#include "media_type.h"
#include "request.h"
#include "transcode.h"
#include "google/protobuf/field_mask.pb-c.h"

/* The sentence of a 400 with field violations (not a JSON syntax error). */
#define VALIDATION_FAILED "Validation failed"

static edge_build_result
reject(edge_build_out *out, edge_rejection why)
{
	out->why = why;
	return EDGE_BUILD_REJECTED;
}

static edge_build_result
invalid(edge_build_out *out, const char *message)
{
	out->message = message;
	return EDGE_BUILD_INVALID;
}

/* Parses the body into *json: an object, {} when empty. */
static edge_build_result
parse_body(const edge_build_in *in, edge_build_out *out, cJSON **json)
{
	const char *ct = in->content_type;
	const char *msg = NULL;
	/* Like the old service: a body without Content-Type is not JSON. */
	bool is_json = edge_content_type_is_json(ct) ||
	               ((in->route->row->flags & EDGE_ROUTE_MERGE_PATCH) &&
	                   edge_content_type_is_merge_patch(ct));

	if (!is_json || (!ct && in->len > 0))
		return reject(out, EDGE_REJECT_NOT_JSON);
	/* JSON is UTF-8 (RFC 8259 section 8.1): another charset is not read
	 * as if it were. */
	if (ct && !ta_media_charset_is_utf8(ct))
		return reject(out, EDGE_REJECT_CHARSET);
	if (in->len == 0) {
		/* Like the old service: the worker reports missing fields. */
		*json = cJSON_CreateObject();
	} else if (ta_json_parse_body(
	               in->body, in->len, json, &msg, &out->details) != TA_OK) {
		/* RFC 8259 strictly: details say what and where (issue 9). */
		return invalid(out, msg);
	}
	if (!*json)
		return EDGE_BUILD_INTERNAL;
	if (!cJSON_IsObject(*json))
		return reject(out, EDGE_REJECT_NOT_OBJECT);
	return EDGE_BUILD_OK;
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

/* The body's part of the message (EDGE_ROUTE_BODY routes). */
static edge_build_result
from_body(const edge_build_in *in, edge_build_out *out)
{
	const edge_resolved_route *rt = in->route;
	unsigned flags = rt->row->flags;
	cJSON *json = NULL;
	edge_build_result res = parse_body(in, out, &json);

	if (res != EDGE_BUILD_OK)
		goto done;
	for (size_t i = 0; i < in->nparams; i++) {
		char *name =
		    ta_xstrndup(in->params[i].name, in->params[i].name_len);

		cJSON_DeleteItemFromObjectCaseSensitive(json, name);
		free(name);
	}
	/* A header fills it: as a body key it is not in the contract, and
	 * keys not in the contract are ignored. */
	if (flags & EDGE_ROUTE_CONDITIONAL)
		cJSON_DeleteItemFromObjectCaseSensitive(
		    json, EDGE_IF_MATCH_FIELD);
	if (ta_json_to_message(json, out->request,
	        (flags & EDGE_ROUTE_MASK) ? "update_mask" : NULL,
	        &out->details) != TA_OK) {
		res = invalid(out, VALIDATION_FAILED);
		goto done;
	}
	if (rt->noop_md && mask_is_empty(out->request)) {
		/* Nothing to change: read instead (routes.h). */
		protobuf_c_message_free_unpacked(out->request, NULL);
		out->request = ta_message_new(rt->noop_md->input);
		out->is_noop = true;
	}
done:
	cJSON_Delete(json);
	return res;
}

/* Sets text field name of the message; violations go to out->details. */
static ta_status
set_text(edge_build_out *out, const char *name, const char *value)
{
	return ta_message_set_text(out->request, name, value, &out->details);
}

/* The path parameters: a broken route row is logged and INTERNAL. */
static edge_build_result
from_path(const edge_build_in *in, edge_build_out *out)
{
	for (size_t i = 0; i < in->nparams; i++) {
		const edge_param *p = &in->params[i];
		char *name = ta_xstrndup(p->name, p->name_len);
		char *value = ta_xstrndup(p->value, p->value_len);
		ta_status st = set_text(out, name, value);

		free(name);
		free(value);
		if (st == TA_INVALID_ARGUMENT)
			return invalid(out, VALIDATION_FAILED);
		if (st != TA_OK) {
			ta_log(TA_LOG_ERROR, "route_param_unknown",
			    "route parameter is not a request field",
			    TA_S("request_id", in->request_id),
			    TA_S("route", in->route->row->pattern));
			return EDGE_BUILD_INTERNAL;
		}
	}
	return EDGE_BUILD_OK;
}

/* The headers' fields: If-Match and the bearer token. */
static edge_build_result
from_headers(const edge_build_in *in, edge_build_out *out)
{
	/* A no-op update reads: the edge checks If-Match on what it read. */
	if (in->if_match && !out->is_noop &&
	    set_text(out, EDGE_IF_MATCH_FIELD, in->if_match) != TA_OK)
		return EDGE_BUILD_INTERNAL;
	if (in->route->row->flags & EDGE_ROUTE_TOKEN) {
		char *tok = NULL;
		const char *reason;
		ta_status st;

		/* auth-svc judges the token, also a missing one (""). */
		if (edge_bearer_parse(in->authorization, &tok, &reason) !=
		    TA_OK)
			tok = ta_xstrdup("");
		st = set_text(out, "token", tok);
		free(tok);
		if (st != TA_OK)
			return EDGE_BUILD_INTERNAL;
	}
	return EDGE_BUILD_OK;
}

edge_build_result
edge_request_build(const edge_build_in *in, edge_build_out *out)
{
	unsigned flags = in->route->row->flags;
	edge_build_result res = EDGE_BUILD_OK;

	*out = (edge_build_out){0};
	out->request = ta_message_new(in->route->md->input);
	if (flags & EDGE_ROUTE_BODY)
		res = from_body(in, out);
	if (res == EDGE_BUILD_OK && (flags & EDGE_ROUTE_QUERY) &&
	    edge_query_fill(out->request, in->query, in->nquery, in->params,
	        in->nparams, &out->details) != TA_OK)
		res = invalid(out, VALIDATION_FAILED);
	if (res == EDGE_BUILD_OK)
		res = from_path(in, out);
	if (res == EDGE_BUILD_OK)
		res = from_headers(in, out);
	if (res != EDGE_BUILD_OK) {
		protobuf_c_message_free_unpacked(out->request, NULL);
		out->request = NULL;
		out->is_noop = false;
	}
	/* Only an INVALID answer shows its violations. */
	if (res != EDGE_BUILD_INVALID)
		ta_violations_fini(&out->details);
	return res;
}

ta_status
edge_reply_render(
    const ProtobufCMessage *reply, const edge_render_in *in, edge_rendered *out)
{
	const edge_resolved_route *rt = in->route;
	cJSON *json;

	*out = (edge_rendered){.status = rt->row->success};
	/* No body and no Content-Type (edge_respond). */
	if (rt->row->success == 204)
		return TA_OK;
	json = ta_message_to_json(reply);
	if (json && edge_cond_take_etag(json, out->etag, sizeof out->etag)) {
		int status = edge_cond_status(in->method, in->if_none_match,
		    in->if_match, in->is_noop, out->etag);

		if (status != 0) {
			cJSON_Delete(json);
			out->status = status;
			out->is_conditional = true;
			return TA_OK;
		}
	}
	if (json && in->is_noop)
		cJSON_AddStringToObject(json, "message", rt->noop_message);
	out->body = json ? cJSON_PrintUnformatted(json) : NULL;
	cJSON_Delete(json);
	if (out->body)
		return TA_OK;
	out->status = 500;
	return TA_INTERNAL;
}
