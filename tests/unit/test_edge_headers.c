/* The security headers of every edge answer (edge-api/headers.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cors.h"
#include "headers.h"

static const char *
value_of(const edge_header *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(h[i].name, name) == 0)
			return h[i].value;
	return NULL;
}

static void
test_plain_http(void **state)
{
	edge_header h[EDGE_SECURITY_MAX_HEADERS];
	size_t n = edge_security_headers(false, h);

	(void)state;
	assert_int_equal(n, 5);
	assert_string_equal(value_of(h, n, "Cache-Control"), "no-store");
	assert_string_equal(value_of(h, n, "Content-Security-Policy"),
	    "frame-ancestors 'none'");
	assert_string_equal(
	    value_of(h, n, "X-Content-Type-Options"), "nosniff");
	assert_string_equal(value_of(h, n, "X-Frame-Options"), "DENY");
	assert_string_equal(value_of(h, n, "Referrer-Policy"), "no-referrer");
	/* HSTS over plain HTTP means nothing. */
	assert_null(value_of(h, n, "Strict-Transport-Security"));
}

static void
test_https_adds_hsts(void **state)
{
	edge_header h[EDGE_SECURITY_MAX_HEADERS];
	size_t n = edge_security_headers(true, h);

	(void)state;
	assert_int_equal(n, 6);
	assert_true(n <= EDGE_SECURITY_MAX_HEADERS);
	assert_string_equal(value_of(h, n, "Strict-Transport-Security"),
	    "max-age=31536000; includeSubDomains");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_http),
	    cmocka_unit_test(test_https_adds_hsts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
