/* Status mapping and error bodies of the edge (STYLE.md "Errors"). */
#include "render.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "idem.h"
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

int
edge_http_status(ta_status status, unsigned flags, int success)
{
	if (status == TA_OK)
		return success;
	/* Health checks answer the load balancer: down is 503, whatever broke.
	 */
	if (flags & EDGE_ROUTE_HEALTH)
		return 503;
	/* A worker out of capacity: overload, so 503 + Retry-After, not 429. */
	if (status == TA_RESOURCE_EXHAUSTED)
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
