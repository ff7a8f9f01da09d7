/* Status names and the one RPC-status-to-HTTP mapping of the project. */
#include "status.h"

#include <stddef.h>

static const char *const status_names[] = {
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
	"NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
	"RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
	"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED",
};

/* Indexed by status number; STYLE.md "Errors: one status, end to end". */
static const int status_http[] = {
	[TA_OK] = 200,
	[TA_CANCELLED] = 500,
	[TA_UNKNOWN] = 500,
	[TA_INVALID_ARGUMENT] = 400,
	[TA_DEADLINE_EXCEEDED] = 504,
	[TA_NOT_FOUND] = 404,
	[TA_ALREADY_EXISTS] = 409,
	[TA_PERMISSION_DENIED] = 403,
	[TA_RESOURCE_EXHAUSTED] = 429,
	[TA_FAILED_PRECONDITION] = 400,
	[TA_ABORTED] = 409,
	[TA_OUT_OF_RANGE] = 400,
	[TA_UNIMPLEMENTED] = 501,
	[TA_INTERNAL] = 500,
	[TA_UNAVAILABLE] = 503,
	[TA_DATA_LOSS] = 500,
	[TA_UNAUTHENTICATED] = 401,
};

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
	return status_names[ta_status_from_int((int)s)];
}

int
ta_status_to_http(ta_status s)
{
	return status_http[ta_status_from_int((int)s)];
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
