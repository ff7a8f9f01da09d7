/*
 * Status mapping, the table of the edge's own rejections, and error bodies
 * of the edge (STYLE.md "Errors").
 */
#include "render.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "idem_key.h"
#include "json_scan.h"
#include "log.h"
#include "routes.h"

/*
 * Adds name: s to o, with U+FFFD for bytes that are not UTF-8: messages and
 * violations come from a worker's reply, which protobuf-c does not check.
 */
static bool
add_text(cJSON *o, const char *name, const char *s)
{
	char *fixed = ta_utf8_repaired(s);
	bool ok = cJSON_AddStringToObject(o, name, fixed ? fixed : s) != NULL;

	free(fixed);
	return ok;
}

static const struct {
	int http;
	const char *message;
} rejections[] = {
    [EDGE_REJECT_NO_ROUTE] = {404, "Route not found"},
    [EDGE_REJECT_METHOD] = {405, "Method not allowed"},
    [EDGE_REJECT_BODY_TOO_LARGE] = {413, "Request body too large"},
    [EDGE_REJECT_NOT_JSON] = {415, "Content-Type must be application/json"},
    [EDGE_REJECT_CHARSET] = {415, "Content-Type charset must be utf-8"},
    [EDGE_REJECT_NOT_OBJECT] = {400, "Request body must be a JSON object"},
    [EDGE_REJECT_IDEMPOTENCY_KEY] = {400,
        "Idempotency-Key must be 1 to " TA_IDEM_STR(
            TA_IDEM_KEY_MAX) " characters of "
                             "A-Z a-z 0-9 . _ : -"},
    [EDGE_REJECT_INFLIGHT] = {503, "Too many requests in flight"},
    /* Overload is 503; 429 only for the client's own share. */
    [EDGE_REJECT_CONNECTIONS] = {503, "Too many open connections"},
    [EDGE_REJECT_CONNECTIONS_PER_ADDR] = {429,
        "Too many open connections from this address"},
    [EDGE_REJECT_BARE_CR] = {400, "Bare CR in the request head"},
    [EDGE_REJECT_BARE_LF] = {400, "Bare LF in the request head"},
    [EDGE_REJECT_NUL] = {400, "NUL in the request head"},
    [EDGE_REJECT_HEADERS_TOO_LARGE] = {431, "Request head too large"},
    /* Still on the request line: the target is what is too long. */
    [EDGE_REJECT_URI_TOO_LONG] = {414, "Request head too large"},
    [EDGE_REJECT_TRAILERS_TOO_LARGE] = {431, "Trailer fields too large"},
    [EDGE_REJECT_BAD_CHUNK] = {400, "Malformed chunked body"},
    [EDGE_REJECT_MALFORMED] = {400, "Malformed request"},
    [EDGE_REJECT_OBS_FOLD] = {400, "Obsolete line folding is not accepted"},
    [EDGE_REJECT_SPACE_BEFORE_COLON] = {400,
        "Whitespace before a colon is not accepted"},
    [EDGE_REJECT_BAD_FIELD] = {400, "Malformed header field"},
    [EDGE_REJECT_FIELD_CHAR] = {400, "Invalid character in a header field"},
    [EDGE_REJECT_DUP_LENGTH] = {400, "Duplicate Content-Length"},
    [EDGE_REJECT_BAD_LENGTH] = {400, "Malformed Content-Length"},
    /* All digits, but more than 19 of them: a body no limit admits. */
    [EDGE_REJECT_LENGTH_TOO_LONG] = {413, "Malformed Content-Length"},
    [EDGE_REJECT_DUP_CODING] = {400, "Duplicate Transfer-Encoding"},
    [EDGE_REJECT_CODING] = {501,
        "Only the chunked transfer coding is supported"},
    [EDGE_REJECT_TARGET_TOO_LONG] = {414, "Request target too long"},
    [EDGE_REJECT_TARGET_CHAR] = {400,
        "Invalid character in the request target"},
    [EDGE_REJECT_BAD_TARGET] = {400, "Malformed request target"},
    [EDGE_REJECT_TOO_MANY_PARAMS] = {414, "Too many query parameters"},
    [EDGE_REJECT_BAD_REQUEST_LINE] = {400, "Malformed request line"},
    [EDGE_REJECT_REQUEST_LINE_TOO_LONG] = {414, "Malformed request line"},
    [EDGE_REJECT_VERSION] = {505,
        "Only HTTP/1.0 and HTTP/1.1 are supported"},
    [EDGE_REJECT_HEAD_FIELDS_TOO_LARGE] = {431,
        "Request header fields too large"},
    [EDGE_REJECT_TOO_MANY_FIELDS] = {431, "Too many header fields"},
    [EDGE_REJECT_DUP_HOST] = {400, "Duplicate Host header"},
    [EDGE_REJECT_NO_HOST] = {400, "HTTP/1.1 request without Host"},
    [EDGE_REJECT_LENGTH_AND_CODING] = {400,
        "Transfer-Encoding with Content-Length or in HTTP/1.0"},
    [EDGE_REJECT_BAD_HEAD] = {400, "Malformed request head"},
    [EDGE_REJECT_HEAD_TIMEOUT] = {408, "Request head not received in time"},
    [EDGE_REJECT_BODY_TIMEOUT] = {408, "Request body not received in time"},
    [EDGE_REJECT_SHUTTING_DOWN] = {503, "Server is shutting down"},
};

_Static_assert(
    sizeof rejections / sizeof rejections[0] == EDGE_REJECT_SHUTTING_DOWN + 1,
    "one row per rejection");

int
edge_rejection_status(edge_rejection why)
{
	return rejections[why].http;
}

const char *
edge_rejection_message(edge_rejection why)
{
	return rejections[why].message;
}

int
edge_http_status(ta_status status, unsigned flags, int success)
{
	if (status == TA_OK)
		return success;
	/* Health checks answer the load balancer: down is 503, whatever broke.
	 */
	if (flags & EDGE_ROUTE_HEALTH)
		return 503;
	return ta_status_to_http(status);
}

int
edge_reply_http_status(
    ta_status status, unsigned flags, int success, const ta_violations *v)
{
	/* The only 422: no RPC status maps to it, and 3 stays 400. */
	if (status == TA_INVALID_ARGUMENT && v && v->n == 1 &&
	    strcmp(v->items[0].field, TA_IDEM_REUSE_FIELD) == 0)
		return 422;
	return edge_http_status(status, flags, success);
}

const char *
edge_retry_after(int http_status)
{
	/* Instances come back within about one discovery refresh. */
	return http_status == 503 || http_status == 429 ? "1" : NULL;
}

char *
edge_draining_json(void)
{
	cJSON *o = cJSON_CreateObject();
	char *out = NULL;

	if (o && cJSON_AddStringToObject(o, "error", ta_http_reason(503)) &&
	    cJSON_AddStringToObject(o, "message", "Server is shutting down") &&
	    cJSON_AddStringToObject(o, "status", "draining"))
		out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!out) {
		ta_log(TA_LOG_ERROR, "out_of_memory",
		    "rendering an error body failed");
		abort();
	}
	return out;
}

char *
edge_error_json(
    int http_status, const char *message, const ta_violations *details)
{
	const char *reason = ta_http_reason(http_status);
	cJSON *o = cJSON_CreateObject();
	char *out;

	if (http_status == 500)
		message = "Internal server error";
	else if (!message || !*message)
		message = reason;
	if (!o || !cJSON_AddStringToObject(o, "error", reason) ||
	    !add_text(o, "message", message))
		goto oom;
	if (details && details->n > 0) {
		cJSON *arr = cJSON_AddArrayToObject(o, "details");

		if (!arr)
			goto oom;
		for (size_t i = 0; i < details->n; i++) {
			cJSON *d = cJSON_CreateObject();

			if (!d)
				goto oom;
			cJSON_AddItemToArray(arr, d);
			if (!add_text(d, "field", details->items[i].field) ||
			    !add_text(d, "message", details->items[i].message))
				goto oom;
		}
	}
	out = cJSON_PrintUnformatted(o);
	if (!out)
		goto oom;
	cJSON_Delete(o);
	return out;
oom:
	/* Same policy as ta_xmalloc: out of memory is not recoverable here. */
	ta_log(TA_LOG_ERROR, "out_of_memory", "rendering an error body failed");
	abort();
}

void
edge_violations_from_reply(
    const Taskapi__V1__ReplyEnvelope *reply, ta_violations *v)
{
	for (size_t i = 0; i < reply->n_details; i++) {
		const Taskapi__V1__FieldViolation *d = reply->details[i];

		ta_violations_add(
		    v, d->field ? d->field : "", d->message ? d->message : "");
	}
}
