/* Per-address token buckets and the RateLimit header values
 * (rate_limit.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "rate_limit.h"

#define S 1000000LL /* microseconds */

static const edge_rl_policy login = {"login", 10, 60};

static void
test_burst_then_refill(void **state)
{
	edge_rl *t = edge_rl_new(64);
	edge_rl_result r;

	(void)state;
	for (int i = 0; i < 10; i++) {
		r = edge_rl_take(t, &login, "198.51.100.1", 100 * S);
		assert_true(r.is_allowed);
		assert_int_equal(r.remaining, 9 - i);
	}
	r = edge_rl_take(t, &login, "198.51.100.1", 100 * S);
	assert_false(r.is_allowed);
	assert_int_equal(r.remaining, 0);
	assert_int_equal(r.retry_after_s, 6); // one token per 6 s
	/* Another address has its own bucket. */
	assert_true(
	    edge_rl_take(t, &login, "198.51.100.2", 100 * S).is_allowed);
	/* 3 s later half a token is back: 3 s more to wait. */
	r = edge_rl_take(t, &login, "198.51.100.1", 103 * S);
	assert_false(r.is_allowed);
	assert_int_equal(r.retry_after_s, 3);
	r = edge_rl_take(t, &login, "198.51.100.1", 106 * S + 1000);
	assert_true(r.is_allowed);
	/* Refill stops at the quota. */
	for (int i = 0; i < 10; i++)
		assert_true(edge_rl_take(t, &login, "198.51.100.1", 10000 * S)
		                .is_allowed);
	assert_false(
	    edge_rl_take(t, &login, "198.51.100.1", 10000 * S).is_allowed);
	/* A clock going back refills nothing. */
	assert_false(edge_rl_take(t, &login, "198.51.100.1", 0).is_allowed);
	edge_rl_free(t);
}

static void
test_bounded_and_sticky(void **state)
{
	edge_rl *t = edge_rl_new(16);
	char a[32];
	int refused = 0;

	(void)state;
	for (int i = 0; i < 10; i++)
		(void)edge_rl_take(t, &login, "203.0.113.9", S);
	assert_false(edge_rl_take(t, &login, "203.0.113.9", S).is_allowed);
	/*
	 * 100000 other addresses through a 16-slot table: the drained bucket
	 * holds fewer tokens than any fresh one, so eviction picks those and
	 * the flood does not give 203.0.113.9 a fresh burst.
	 */
	for (int i = 0; i < 100000; i++) {
		snprintf(a, sizeof a, "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
		    i & 255);
		(void)edge_rl_take(t, &login, a, S);
	}
	for (int i = 0; i < 10; i++)
		refused +=
		    !edge_rl_take(t, &login, "203.0.113.9", S).is_allowed;
	assert_int_equal(refused, 10);
	edge_rl_free(t);
}

static void
test_headers(void **state)
{
	char p[EDGE_RL_HEADER_MAX], s[EDGE_RL_HEADER_MAX];

	(void)state;
	edge_rl_headers("login", 10, 60, 0, 6, p, s);
	assert_string_equal(p, "\"login\";q=10;w=60");
	assert_string_equal(s, "\"login\";r=0;t=6");
	edge_rl_headers("login-failures", 10, 0, 0, 4, p, s);
	assert_string_equal(p, "\"login-failures\";q=10");
	assert_string_equal(s, "\"login-failures\";r=0;t=4");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_then_refill),
	    cmocka_unit_test(test_bounded_and_sticky),
	    cmocka_unit_test(test_headers),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name(
	    "edge_rate_limit", tests, NULL, NULL);
}
