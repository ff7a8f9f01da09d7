/*
 * One status, end to end: the gRPC codes with their numbers, used by every
 * function that can fail, carried in the reply envelope, and mapped to HTTP
 * once at the edge.
 */
#ifndef TA_COMMON_STATUS_H
#define TA_COMMON_STATUS_H

typedef enum ta_status {
	TA_OK = 0,
	TA_CANCELLED = 1,
	TA_UNKNOWN = 2,
	TA_INVALID_ARGUMENT = 3,
	TA_DEADLINE_EXCEEDED = 4,
	TA_NOT_FOUND = 5,
	TA_ALREADY_EXISTS = 6,
	TA_PERMISSION_DENIED = 7,
	TA_RESOURCE_EXHAUSTED = 8,
	TA_FAILED_PRECONDITION = 9,
	TA_ABORTED = 10,
	TA_OUT_OF_RANGE = 11,
	TA_UNIMPLEMENTED = 12,
	TA_INTERNAL = 13,
	TA_UNAVAILABLE = 14,
	TA_DATA_LOSS = 15,
	TA_UNAUTHENTICATED = 16,
} ta_status;

/* A wire number as a status; numbers outside 0..16 become TA_UNKNOWN. */
ta_status ta_status_from_int(int code);

/* "NOT_FOUND" for TA_NOT_FOUND; static storage. */
const char *ta_status_name(ta_status s);

/* The HTTP status for an RPC status (OK is 200; callers pick 201). */
int ta_status_to_http(ta_status s);

/* The reason phrase of an HTTP status ("Not Found"); static storage. */
const char *ta_http_reason(int http_status);

#endif
