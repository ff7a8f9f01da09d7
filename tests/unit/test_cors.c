/* CORS decisions of the edge: allowed lists, "*", preflight headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cors.h"

static const char *
header(const edge_header *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(h[i].name, name) == 0)
			return h[i].value;
	return NULL;
}

static void
test_off(void **state)
{
	edge_header h[EDGE_CORS_MAX_HEADERS];
	edge_cors *c = edge_cors_new("");

	(void)state;
	assert_false(edge_cors_is_enabled(c));
	assert_false(edge_cors_is_allowed(c, "https://app.example.com"));
	assert_int_equal(
	    edge_cors_headers(c, "https://app.example.com", true, h), 0);
	edge_cors_free(c);
	c = edge_cors_new(NULL);
	assert_false(edge_cors_is_enabled(c));
	edge_cors_free(c);
	c = edge_cors_new(" , ,");
	assert_false(edge_cors_is_enabled(c));
	edge_cors_free(c);
}

static void
test_list(void **state)
{
	edge_cors *c = edge_cors_new(
	    "https://app.example.com, http://localhost:3000 ,http://a.test");

	(void)state;
	assert_true(edge_cors_is_enabled(c));
	assert_true(edge_cors_is_allowed(c, "https://app.example.com"));
	assert_true(edge_cors_is_allowed(c, "http://localhost:3000"));
	assert_true(edge_cors_is_allowed(c, "http://a.test"));
	assert_false(edge_cors_is_allowed(c, "http://localhost:3001"));
	assert_false(edge_cors_is_allowed(c, "https://app.example.com/"));
	assert_false(edge_cors_is_allowed(c, "https://APP.example.com"));
	assert_false(edge_cors_is_allowed(c, "http://evil.test"));
	assert_false(edge_cors_is_allowed(c, ""));
	assert_false(edge_cors_is_allowed(c, NULL));
	edge_cors_free(c);
}

static void
test_simple_request_headers(void **state)
{
	edge_header h[EDGE_CORS_MAX_HEADERS];
	edge_cors *c = edge_cors_new("http://a.test");
	size_t n;

	(void)state;
	n = edge_cors_headers(c, "http://a.test", false, h);
	assert_int_equal(n, 4);
	assert_string_equal(header(h, n, "Vary"), "Origin");
	assert_string_equal(
	    header(h, n, "Access-Control-Allow-Origin"), "http://a.test");
	assert_string_equal(
	    header(h, n, "Access-Control-Allow-Credentials"), "true");
	assert_string_equal(header(h, n, "Access-Control-Expose-Headers"),
	    "X-Request-Id, Idempotency-Key, Retry-After, ETag, RateLimit, "
	    "RateLimit-Policy");
	assert_null(header(h, n, "Access-Control-Allow-Methods"));

	/* A disallowed or absent origin: only Vary, no permission. */
	n = edge_cors_headers(c, "http://evil.test", false, h);
	assert_int_equal(n, 1);
	assert_string_equal(h[0].name, "Vary");
	n = edge_cors_headers(c, NULL, true, h);
	assert_int_equal(n, 1);
	assert_null(header(h, n, "Access-Control-Allow-Origin"));
	edge_cors_free(c);
}

static void
test_preflight_headers(void **state)
{
	edge_header h[EDGE_CORS_MAX_HEADERS];
	edge_cors *c = edge_cors_new("http://a.test,http://b.test");
	size_t n;

	(void)state;
	n = edge_cors_headers(c, "http://b.test", true, h);
	assert_int_equal(n, 6);
	assert_string_equal(
	    header(h, n, "Access-Control-Allow-Origin"), "http://b.test");
	assert_string_equal(
	    header(h, n, "Access-Control-Allow-Credentials"), "true");
	assert_string_equal(header(h, n, "Access-Control-Allow-Methods"),
	    "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
	assert_string_equal(header(h, n, "Access-Control-Allow-Headers"),
	    "Authorization, Content-Type, Idempotency-Key, If-Match, "
	    "If-None-Match, X-Request-Id");
	assert_string_equal(header(h, n, "Access-Control-Max-Age"), "600");
	assert_string_equal(header(h, n, "Vary"), "Origin");
	edge_cors_free(c);
}

static void
test_any(void **state)
{
	edge_header h[EDGE_CORS_MAX_HEADERS];
	edge_cors *c = edge_cors_new("*");
	size_t n;

	(void)state;
	assert_true(edge_cors_is_allowed(c, "http://anything.test:8080"));
	assert_false(edge_cors_is_allowed(c, NULL));
	n = edge_cors_headers(c, "http://x.test", false, h);
	/* "*" never comes with credentials, and the origin is not echoed. */
	assert_string_equal(header(h, n, "Access-Control-Allow-Origin"), "*");
	assert_null(header(h, n, "Access-Control-Allow-Credentials"));
	assert_null(header(h, n, "Vary"));
	n = edge_cors_headers(c, "http://x.test", true, h);
	assert_null(header(h, n, "Access-Control-Allow-Credentials"));
	edge_cors_free(c);

	/* Listed by name next to "*": that one keeps credentials. */
	c = edge_cors_new("*, http://app.test");
	n = edge_cors_headers(c, "http://app.test", false, h);
	assert_string_equal(
	    header(h, n, "Access-Control-Allow-Origin"), "http://app.test");
	assert_string_equal(
	    header(h, n, "Access-Control-Allow-Credentials"), "true");
	n = edge_cors_headers(c, "http://other.test", false, h);
	assert_string_equal(header(h, n, "Access-Control-Allow-Origin"), "*");
	assert_null(header(h, n, "Access-Control-Allow-Credentials"));
	edge_cors_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_off),
	    cmocka_unit_test(test_list),
	    cmocka_unit_test(test_simple_request_headers),
	    cmocka_unit_test(test_preflight_headers),
	    cmocka_unit_test(test_any),
	};

	return cmocka_run_group_tests_name("edge_cors", tests, NULL, NULL);
}
