/* The front's own error responses (reply.h) and the security headers
 * (headers.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "headers.h"
#include "reply.h"

static void
test_error_response(void **state)
{
	edge_header extra[] = {{"Access-Control-Allow-Origin", "*"}};
	size_t len;
	char *r = edge_reply_error(
	    400, "Duplicate Content-Length", "rid-1", extra, 1, false, &len);
	const char *body = strstr(r, "\r\n\r\n");

	(void)state;
	assert_int_equal(strlen(r), len);
	assert_true(strncmp(r, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
	assert_non_null(strstr(r, "\r\nContent-Type: application/json; "
	                          "charset=utf-8\r\n"));
	assert_non_null(strstr(r, "\r\nX-Request-Id: rid-1\r\n"));
	assert_non_null(strstr(r, "\r\nConnection: close\r\n"));
	assert_non_null(strstr(r, "\r\nX-Content-Type-Options: nosniff\r\n"));
	assert_non_null(strstr(r, "\r\nAccess-Control-Allow-Origin: *\r\n"));
	assert_null(strstr(r, "Retry-After"));
	assert_non_null(body);
	assert_string_equal(body + 4, "{\"error\":\"Bad Request\",\"message\":"
	                              "\"Duplicate Content-Length\"}");
	assert_non_null(strstr(r, "\r\nContent-Length: 60\r\n"));
	free(r);

	/* 429 and 503 say when to come back; HEAD gets no body. */
	r = edge_reply_error(429, "x", "rid", NULL, 0, true, &len);
	assert_true(strncmp(r, "HTTP/1.1 429 Too Many Requests\r\n", 32) == 0);
	assert_non_null(strstr(r, "\r\nRetry-After: 1\r\n"));
	assert_true(len >= 4 && strcmp(r + len - 4, "\r\n\r\n") == 0);
	free(r);
	r = edge_reply_error(431, NULL, "rid", NULL, 0, false, &len);
	assert_true(
	    strncmp(r, "HTTP/1.1 431 Request Header Fields Too Large\r\n",
	        46) == 0);
	free(r);
}

static void
test_security_headers(void **state)
{
	edge_header h[EDGE_SECURITY_MAX_HEADERS];
	size_t n;

	(void)state;
	n = edge_security_headers(false, h);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(h[i].name, "Strict-Transport-Security");
	n = edge_security_headers(true, h);
	assert_int_equal(n, 6);
	assert_string_equal(h[5].name, "Strict-Transport-Security");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_error_response),
	    cmocka_unit_test(test_security_headers),
	};

	return cmocka_run_group_tests_name("edge_reply", tests, NULL, NULL);
}
