/*
 * Which routes create and the key each creating call carries
 * (edge-api/idempotency.h): the client's Idempotency-Key when it is well
 * formed, a random one when there is none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "idempotency.h"
#include "routes.h"

static void
test_key_rules(void **state)
{
	char max[EDGE_IDEMPOTENCY_KEY_MAX + 1];
	char over[EDGE_IDEMPOTENCY_KEY_MAX + 2];

	(void)state;
	memset(max, 'k', sizeof max - 1);
	max[sizeof max - 1] = '\0';
	memset(over, 'k', sizeof over - 1);
	over[sizeof over - 1] = '\0';
	assert_true(edge_idempotency_key_is_valid("a"));
	assert_true(edge_idempotency_key_is_valid("Order-7:retry_2.b"));
	assert_true(edge_idempotency_key_is_valid(max));
	assert_false(edge_idempotency_key_is_valid(over));
	assert_false(edge_idempotency_key_is_valid(""));
	assert_false(edge_idempotency_key_is_valid("a b"));
	assert_false(edge_idempotency_key_is_valid("a/b"));
	assert_false(edge_idempotency_key_is_valid("caf\xc3\xa9"));
}

static void
test_key_pick(void **state)
{
	char buf[EDGE_IDEMPOTENCY_KEY_MAX + 1], other[sizeof buf];

	(void)state;
	assert_true(edge_idempotency_key_pick("client-key-1", buf));
	assert_string_equal(buf, "client-key-1");
	/* A malformed key is refused and leaves buf as it was. */
	assert_false(edge_idempotency_key_pick("bad key", buf));
	assert_string_equal(buf, "client-key-1");
	/* None given: 32 random hex characters, new each time. */
	assert_true(edge_idempotency_key_pick(NULL, buf));
	assert_int_equal(strlen(buf), 32);
	assert_int_equal(strspn(buf, "0123456789abcdef"), 32);
	assert_true(edge_idempotency_key_pick(NULL, other));
	assert_string_not_equal(buf, other);
}

static void
test_creating_routes(void **state)
{
	static const struct {
		const char *method, *path;
		bool is_idempotent;
	} cases[] = {
	    {"POST", "/tasks", false},
	    {"POST", "/auth/register", false},
	    {"GET", "/tasks", true},
	    {"GET", "/tasks/1", true},
	    {"PUT", "/tasks/1", true},
	    /* A delete that already ran would answer 404 the second time. */
	    {"DELETE", "/tasks/1", false},
	};
	size_t n = 0;
	const edge_route *rows = edge_route_table(&n);
	edge_router *router;
	char err[256];

	(void)state;
	assert_int_equal(
	    edge_router_new(rows, n, &router, err, sizeof err), TA_OK);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		edge_match m;

		assert_int_equal(edge_route_match(router, cases[i].method,
		                     cases[i].path, &m),
		    TA_OK);
		if (edge_route_is_idempotent(m.route) != cases[i].is_idempotent)
			fail_msg("%s %s", cases[i].method, cases[i].path);
	}
	edge_router_free(router);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_rules),
	    cmocka_unit_test(test_key_pick),
	    cmocka_unit_test(test_creating_routes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
