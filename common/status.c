/*
 * Status names, the one RPC-status-to-HTTP table and the HTTP reason
 * phrases of the project.
 */
#include "status.h"

#include <stddef.h>

#include "taskapi/v1/envelope.pb-c.h"

/*
 * The one table of the project: per status number, its name and its HTTP
 * status (STYLE.md "Errors: one status, end to end"). The edge's own
 * deviations (overload, health routes) are in edge-api/render.c.
 */
static const struct {
	const char *name;
	int http;
} status_rows[] = {
	[TA_OK] = {"OK", 200},
	[TA_CANCELLED] = {"CANCELLED", 500},
	[TA_UNKNOWN] = {"UNKNOWN", 500},
	[TA_INVALID_ARGUMENT] = {"INVALID_ARGUMENT", 400},
	[TA_DEADLINE_EXCEEDED] = {"DEADLINE_EXCEEDED", 504},
	[TA_NOT_FOUND] = {"NOT_FOUND", 404},
	[TA_ALREADY_EXISTS] = {"ALREADY_EXISTS", 409},
	[TA_PERMISSION_DENIED] = {"PERMISSION_DENIED", 403},
	/* Overload: the client retries later (503 + Retry-After). A client's
	 * own limit is 429, told apart by the reply's rate_limit (render.c). */
	[TA_RESOURCE_EXHAUSTED] = {"RESOURCE_EXHAUSTED", 503},
	/* Only a failed If-Match (a precondition of HTTP) is 412; a worker
	 * answers 400 cases with INVALID_ARGUMENT. */
	[TA_FAILED_PRECONDITION] = {"FAILED_PRECONDITION", 412},
	[TA_ABORTED] = {"ABORTED", 409},
	[TA_OUT_OF_RANGE] = {"OUT_OF_RANGE", 400},
	[TA_UNIMPLEMENTED] = {"UNIMPLEMENTED", 501},
	[TA_INTERNAL] = {"INTERNAL", 500},
	[TA_UNAVAILABLE] = {"UNAVAILABLE", 503},
	[TA_DATA_LOSS] = {"DATA_LOSS", 500},
	[TA_UNAUTHENTICATED] = {"UNAUTHENTICATED", 401},
};

_Static_assert(sizeof status_rows / sizeof status_rows[0] ==
	TA_UNAUTHENTICATED + 1, "one row per status");

/* ta_status is the envelope's Code (proto/taskapi/v1/envelope.proto). */
#define SAME_CODE(name)                                                   \
	_Static_assert((int)TA_##name == (int)TASKAPI__V1__CODE__CODE_##name, \
	    "ta_status and envelope.proto Code disagree on " #name)
SAME_CODE(OK);
SAME_CODE(CANCELLED);
SAME_CODE(UNKNOWN);
SAME_CODE(INVALID_ARGUMENT);
SAME_CODE(DEADLINE_EXCEEDED);
SAME_CODE(NOT_FOUND);
SAME_CODE(ALREADY_EXISTS);
SAME_CODE(PERMISSION_DENIED);
SAME_CODE(RESOURCE_EXHAUSTED);
SAME_CODE(FAILED_PRECONDITION);
SAME_CODE(ABORTED);
SAME_CODE(OUT_OF_RANGE);
SAME_CODE(UNIMPLEMENTED);
SAME_CODE(INTERNAL);
SAME_CODE(UNAVAILABLE);
SAME_CODE(DATA_LOSS);
SAME_CODE(UNAUTHENTICATED);

ta_status
ta_status_from_int(int code)
{
	if (code < TA_OK || code > TA_UNAUTHENTICATED)
		return TA_UNKNOWN;
	return (ta_status)code;
}

const char *
ta_status_name(ta_status s)
{
	return status_rows[ta_status_from_int((int)s)].name;
}

int
ta_status_to_http(ta_status s)
{
	return status_rows[ta_status_from_int((int)s)].http;
}

static const struct {
	int code;
	const char *reason;
} reasons[] = {
	{200, "OK"},
	{201, "Created"},
	{204, "No Content"},
	{400, "Bad Request"},
	{401, "Unauthorized"},
	{403, "Forbidden"},
	{404, "Not Found"},
	{405, "Method Not Allowed"},
	{408, "Request Timeout"},
	{409, "Conflict"},
	{412, "Precondition Failed"},
	{413, "Payload Too Large"},
	{414, "URI Too Long"},
	{415, "Unsupported Media Type"},
	{422, "Unprocessable Content"},
	{429, "Too Many Requests"},
	{431, "Request Header Fields Too Large"},
	{500, "Internal Server Error"},
	{501, "Not Implemented"},
	{503, "Service Unavailable"},
	{504, "Gateway Timeout"},
	{505, "HTTP Version Not Supported"},
};

const char *
ta_http_reason(int http_status)
{
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (reasons[i].code == http_status)
			return reasons[i].reason;
	return http_status >= 500 ? "Internal Server Error" : "Bad Request";
}
