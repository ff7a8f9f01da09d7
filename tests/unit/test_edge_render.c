/* Status -> HTTP mapping and the exact error bodies the edge renders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "render.h"
#include "routes.h"

static void
expect_body(
    int http, const char *message, const ta_violations *v, const char *want)
{
	char *got = edge_error_json(http, message, v);

	assert_string_equal(got, want);
	free(got);
}

static void
test_status_mapping(void **state)
{
	static const struct {
		ta_status s;
		int http;
	} cases[] = {
	    {TA_INVALID_ARGUMENT, 400},
	    {TA_OUT_OF_RANGE, 400},
	    {TA_FAILED_PRECONDITION, 412},
	    {TA_UNAUTHENTICATED, 401},
	    {TA_PERMISSION_DENIED, 403},
	    {TA_NOT_FOUND, 404},
	    {TA_ALREADY_EXISTS, 409},
	    {TA_ABORTED, 409},
	    {TA_RESOURCE_EXHAUSTED, 503}, /* worker overloaded */
	    {TA_UNIMPLEMENTED, 501},
	    {TA_UNAVAILABLE, 503},
	    {TA_DEADLINE_EXCEEDED, 504},
	    {TA_INTERNAL, 500},
	    {TA_UNKNOWN, 500},
	    {TA_CANCELLED, 500},
	    {TA_DATA_LOSS, 500},
	    {(ta_status)99, 500},
	};

	(void)state;
	assert_int_equal(edge_http_status(TA_OK, 0, 200), 200);
	assert_int_equal(edge_http_status(TA_OK, EDGE_ROUTE_BODY, 201), 201);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(
		    edge_http_status(cases[i].s, EDGE_ROUTE_AUTH, 200),
		    cases[i].http);
	/* Health routes: down is 503 whatever the failure. */
	assert_int_equal(
	    edge_http_status(TA_UNAVAILABLE, EDGE_ROUTE_HEALTH, 200), 503);
	assert_int_equal(
	    edge_http_status(TA_DEADLINE_EXCEEDED, EDGE_ROUTE_HEALTH, 200),
	    503);
	assert_int_equal(
	    edge_http_status(TA_INTERNAL, EDGE_ROUTE_HEALTH, 200), 503);
	assert_int_equal(edge_http_status(TA_OK, EDGE_ROUTE_HEALTH, 200), 200);
}

/* The edge's own rejections: one row each, with the status they had. */
static void
test_rejections(void **state)
{
	static const struct {
		edge_rejection why;
		int http;
		const char *message;
	} cases[] = {
	    {EDGE_REJECT_NO_ROUTE, 404, "Route not found"},
	    {EDGE_REJECT_METHOD, 405, "Method not allowed"},
	    {EDGE_REJECT_BODY_TOO_LARGE, 413, "Request body too large"},
	    {EDGE_REJECT_NOT_JSON, 415,
	        "Content-Type must be application/json"},
	    {EDGE_REJECT_CHARSET, 415, "Content-Type charset must be utf-8"},
	    {EDGE_REJECT_NOT_OBJECT, 400, "Request body must be a JSON object"},
	    {EDGE_REJECT_IDEMPOTENCY_KEY, 400,
	        "Idempotency-Key must be 1 to 128 characters of "
	        "A-Z a-z 0-9 . _ : -"},
	    {EDGE_REJECT_INFLIGHT, 503, "Too many requests in flight"},
	    {EDGE_REJECT_CONNECTIONS, 503, "Too many open connections"},
	    {EDGE_REJECT_CONNECTIONS_PER_ADDR, 429,
	        "Too many open connections from this address"},
	    {EDGE_REJECT_BARE_CR, 400, "Bare CR in the request head"},
	    {EDGE_REJECT_BARE_LF, 400, "Bare LF in the request head"},
	    {EDGE_REJECT_NUL, 400, "NUL in the request head"},
	    {EDGE_REJECT_HEADERS_TOO_LARGE, 431, "Request head too large"},
	    {EDGE_REJECT_URI_TOO_LONG, 414, "Request head too large"},
	    {EDGE_REJECT_TRAILERS_TOO_LARGE, 431, "Trailer fields too large"},
	    {EDGE_REJECT_BAD_CHUNK, 400, "Malformed chunked body"},
	    {EDGE_REJECT_MALFORMED, 400, "Malformed request"},
	};

	(void)state;
	assert_int_equal(
	    sizeof cases / sizeof cases[0], EDGE_REJECT_MALFORMED + 1);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(
		    edge_rejection_status(cases[i].why), cases[i].http);
		assert_string_equal(
		    edge_rejection_message(cases[i].why), cases[i].message);
	}
}

/* The head's and the relay's rejections (head.c, relay.c): the statuses
 * and sentences they answered before they became rows. */
static void
test_head_and_relay_rejections(void **state)
{
	static const struct {
		edge_rejection why;
		int http;
		const char *message;
	} cases[] = {
	    {EDGE_REJECT_OBS_FOLD, 400, "Obsolete line folding is not accepted"},
	    {EDGE_REJECT_SPACE_BEFORE_COLON, 400,
	        "Whitespace before a colon is not accepted"},
	    {EDGE_REJECT_BAD_FIELD, 400, "Malformed header field"},
	    {EDGE_REJECT_FIELD_CHAR, 400, "Invalid character in a header field"},
	    {EDGE_REJECT_DUP_LENGTH, 400, "Duplicate Content-Length"},
	    {EDGE_REJECT_BAD_LENGTH, 400, "Malformed Content-Length"},
	    {EDGE_REJECT_LENGTH_TOO_LONG, 413, "Malformed Content-Length"},
	    {EDGE_REJECT_DUP_CODING, 400, "Duplicate Transfer-Encoding"},
	    {EDGE_REJECT_CODING, 501,
	        "Only the chunked transfer coding is supported"},
	    {EDGE_REJECT_TARGET_TOO_LONG, 414, "Request target too long"},
	    {EDGE_REJECT_TARGET_CHAR, 400,
	        "Invalid character in the request target"},
	    {EDGE_REJECT_BAD_TARGET, 400, "Malformed request target"},
	    {EDGE_REJECT_TOO_MANY_PARAMS, 414, "Too many query parameters"},
	    {EDGE_REJECT_BAD_REQUEST_LINE, 400, "Malformed request line"},
	    {EDGE_REJECT_REQUEST_LINE_TOO_LONG, 414, "Malformed request line"},
	    {EDGE_REJECT_VERSION, 505,
	        "Only HTTP/1.0 and HTTP/1.1 are supported"},
	    {EDGE_REJECT_HEAD_FIELDS_TOO_LARGE, 431,
	        "Request header fields too large"},
	    {EDGE_REJECT_TOO_MANY_FIELDS, 431, "Too many header fields"},
	    {EDGE_REJECT_DUP_HOST, 400, "Duplicate Host header"},
	    {EDGE_REJECT_NO_HOST, 400, "HTTP/1.1 request without Host"},
	    {EDGE_REJECT_LENGTH_AND_CODING, 400,
	        "Transfer-Encoding with Content-Length or in HTTP/1.0"},
	    {EDGE_REJECT_BAD_HEAD, 400, "Malformed request head"},
	    {EDGE_REJECT_HEAD_TIMEOUT, 408, "Request head not received in time"},
	    {EDGE_REJECT_BODY_TIMEOUT, 408, "Request body not received in time"},
	    {EDGE_REJECT_SHUTTING_DOWN, 503, "Server is shutting down"},
	};

	(void)state;
	assert_int_equal(sizeof cases / sizeof cases[0],
	    EDGE_REJECT_SHUTTING_DOWN - EDGE_REJECT_MALFORMED);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(
		    edge_rejection_status(cases[i].why), cases[i].http);
		assert_string_equal(
		    edge_rejection_message(cases[i].why), cases[i].message);
	}
	/* No row left empty by the designated initializers. */
	for (int why = 0; why <= EDGE_REJECT_SHUTTING_DOWN; why++) {
		assert_true(edge_rejection_status(why) >= 400);
		assert_non_null(edge_rejection_message(why));
	}
}

static void
test_error_bodies(void **state)
{
	(void)state;
	expect_body(404, "Task not found", NULL,
	    "{\"error\":\"Not Found\",\"message\":\"Task not found\"}");
	expect_body(401, "No authentication token provided", NULL,
	    "{\"error\":\"Unauthorized\",\"message\":"
	    "\"No authentication token provided\"}");
	expect_body(405, "Method not allowed", NULL,
	    "{\"error\":\"Method Not Allowed\",\"message\":"
	    "\"Method not allowed\"}");
	expect_body(413, "Request body too large", NULL,
	    "{\"error\":\"Payload Too Large\",\"message\":"
	    "\"Request body too large\"}");
	expect_body(415, "x", NULL,
	    "{\"error\":\"Unsupported Media Type\",\"message\":\"x\"}");
	expect_body(409, "Username or email already exists", NULL,
	    "{\"error\":\"Conflict\",\"message\":"
	    "\"Username or email already exists\"}");
	expect_body(503, "Service unavailable", NULL,
	    "{\"error\":\"Service Unavailable\",\"message\":"
	    "\"Service unavailable\"}");
	expect_body(504, "", NULL,
	    "{\"error\":\"Gateway Timeout\",\"message\":\"Gateway Timeout\"}");
	expect_body(403, NULL, NULL,
	    "{\"error\":\"Forbidden\",\"message\":\"Forbidden\"}");
	/* Escaping is JSON's. */
	expect_body(400, "bad \"q\" \\ \n", NULL,
	    "{\"error\":\"Bad Request\",\"message\":\"bad \\\"q\\\" \\\\ "
	    "\\n\"}");
}

static void
test_500_hides_internals(void **state)
{
	ta_violations v = {0};

	(void)state;
	expect_body(500, "pq: relation tasks does not exist", NULL,
	    "{\"error\":\"Internal Server Error\",\"message\":"
	    "\"Internal server error\"}");
	ta_violations_add(&v, "x", "y");
	expect_body(500, NULL, &v,
	    "{\"error\":\"Internal Server Error\",\"message\":"
	    "\"Internal server error\",\"details\":[{\"field\":\"x\","
	    "\"message\":\"y\"}]}");
	ta_violations_fini(&v);
}

static void
test_details(void **state)
{
	ta_violations v = {0};

	(void)state;
	expect_body(400, "Validation failed", &v,
	    "{\"error\":\"Bad Request\",\"message\":\"Validation failed\"}");
	ta_violations_add(&v, "title", "title is required");
	ta_violations_add(&v, "status",
	    "status must be one of pending, in_progress, completed");
	expect_body(400, "Validation failed", &v,
	    "{\"error\":\"Bad Request\",\"message\":\"Validation failed\","
	    "\"details\":[{\"field\":\"title\",\"message\":"
	    "\"title is required\"},{\"field\":\"status\",\"message\":"
	    "\"status must be one of pending, in_progress, completed\"}]}");
	ta_violations_fini(&v);
}

/* A worker's text that is not UTF-8 still renders as valid JSON. */
static void
test_peer_text_repaired(void **state)
{
	ta_violations v = {0};

	(void)state;
	expect_body(404, "no \xff task \xC0\xAF", NULL,
	    "{\"error\":\"Not Found\",\"message\":"
	    "\"no \xEF\xBF\xBD task \xEF\xBF\xBD\xEF\xBF\xBD\"}");
	ta_violations_add(&v, "ti\xfftle", "bad \xED\xA0\x80");
	expect_body(400, "Validation failed", &v,
	    "{\"error\":\"Bad Request\",\"message\":\"Validation failed\","
	    "\"details\":[{\"field\":\"ti\xEF\xBF\xBDtle\",\"message\":"
	    "\"bad \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"}]}");
	ta_violations_fini(&v);
}

static void
test_violations_from_reply(void **state)
{
	Taskapi__V1__FieldViolation a = TASKAPI__V1__FIELD_VIOLATION__INIT;
	Taskapi__V1__FieldViolation b = TASKAPI__V1__FIELD_VIOLATION__INIT;
	Taskapi__V1__FieldViolation *items[] = {&a, &b};
	Taskapi__V1__ReplyEnvelope r = TASKAPI__V1__REPLY_ENVELOPE__INIT;
	ta_violations v = {0};

	(void)state;
	a.field = "title";
	a.message = "title is required";
	b.field = "priority";
	b.message = "bad";
	r.code = TA_INVALID_ARGUMENT;
	r.n_details = 2;
	r.details = items;
	edge_violations_from_reply(&r, &v);
	assert_int_equal(v.n, 2);
	assert_string_equal(v.items[0].field, "title");
	assert_string_equal(v.items[1].message, "bad");
	ta_violations_fini(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_mapping),
	    cmocka_unit_test(test_rejections),
	    cmocka_unit_test(test_head_and_relay_rejections),
	    cmocka_unit_test(test_error_bodies),
	    cmocka_unit_test(test_500_hides_internals),
	    cmocka_unit_test(test_details),
	    cmocka_unit_test(test_peer_text_repaired),
	    cmocka_unit_test(test_violations_from_reply),
	};

	return cmocka_run_group_tests_name("edge_render", tests, NULL, NULL);
}
