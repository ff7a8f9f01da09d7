/* The edge's revocation cache (revocation.h). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "revocation.h"

static void
test_empty_revokes_nothing(void **state)
{
	edge_revocations *rv = edge_revocations_new();

	(void)state;
	assert_false(edge_revocations_is_revoked(rv, 1, 0));
	assert_int_equal(edge_revocations_count(rv), 0);
	edge_revocations_replace(rv, NULL, 0);
	assert_false(edge_revocations_is_revoked(rv, 1, 0));
	/* No cache at all: nothing revoked. */
	assert_false(edge_revocations_is_revoked(NULL, 1, 0));
	edge_revocations_free(rv);
}

static void
test_lower_generation_is_revoked(void **state)
{
	edge_revocations *rv = edge_revocations_new();
	const edge_revocation items[] = {{7, 2}, {3, 1}, {2147483647, 5}};

	(void)state;
	edge_revocations_replace(rv, items, 3);
	assert_int_equal(edge_revocations_count(rv), 3);
	assert_true(edge_revocations_is_revoked(rv, 7, 0)); // no gen claim
	assert_true(edge_revocations_is_revoked(rv, 7, 1));
	assert_false(edge_revocations_is_revoked(rv, 7, 2)); // issued after
	assert_false(edge_revocations_is_revoked(rv, 7, 3));
	assert_true(edge_revocations_is_revoked(rv, 3, 0));
	assert_false(edge_revocations_is_revoked(rv, 3, 1));
	assert_true(edge_revocations_is_revoked(rv, 2147483647, 4));
	assert_false(edge_revocations_is_revoked(rv, 4, 0)); // not listed
	assert_false(edge_revocations_is_revoked(rv, 8, 0));
	assert_false(edge_revocations_is_revoked(rv, 1, 0));
	edge_revocations_free(rv);
}

static void
test_replace_is_whole_and_keeps_highest(void **state)
{
	edge_revocations *rv = edge_revocations_new();
	const edge_revocation first[] = {{1, 1}, {2, 1}};
	const edge_revocation second[] = {{2, 3}, {2, 2}, {5, 1}, {2, 1}};

	(void)state;
	edge_revocations_replace(rv, first, 2);
	assert_true(edge_revocations_is_revoked(rv, 1, 0));
	edge_revocations_replace(rv, second, 4);
	/* User 1 dropped out of the window: forgotten. */
	assert_false(edge_revocations_is_revoked(rv, 1, 0));
	assert_int_equal(edge_revocations_count(rv), 2);
	assert_true(edge_revocations_is_revoked(rv, 2, 2));
	assert_false(edge_revocations_is_revoked(rv, 2, 3));
	assert_true(edge_revocations_is_revoked(rv, 5, 0));
	edge_revocations_free(rv);
}

/* Readers never see a half-replaced list. */
static void *
replacer(void *arg)
{
	edge_revocations *rv = arg;
	edge_revocation items[64];

	for (int round = 0; round < 2000; round++) {
		for (int i = 0; i < 64; i++)
			items[i] = (edge_revocation){i * 2 + 1, 1 + round % 2};
		edge_revocations_replace(rv, items, 64);
	}
	return NULL;
}

static void
test_concurrent_replace(void **state)
{
	edge_revocations *rv = edge_revocations_new();
	pthread_t t;

	(void)state;
	replacer(rv);
	assert_int_equal(pthread_create(&t, NULL, replacer, rv), 0);
	for (int i = 0; i < 20000; i++) {
		assert_true(edge_revocations_is_revoked(rv, 63, 0));
		assert_false(edge_revocations_is_revoked(rv, 64, 0));
		assert_false(edge_revocations_is_revoked(rv, 63, 2));
	}
	pthread_join(t, NULL);
	edge_revocations_free(rv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_revokes_nothing),
	    cmocka_unit_test(test_lower_generation_is_revoked),
	    cmocka_unit_test(test_replace_is_whole_and_keeps_highest),
	    cmocka_unit_test(test_concurrent_replace),
	};

	return cmocka_run_group_tests_name(
	    "edge_revocation", tests, NULL, NULL);
}
