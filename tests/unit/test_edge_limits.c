/* Trusted-proxy CIDRs, the per-address count and the descriptor budget
 * (conn_limits.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "conn_limits.h"

static struct sockaddr_storage
addr(const char *s)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof ss);
	if (strchr(s, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, s, &a->sin6_addr), 1);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, s, &a->sin_addr), 1);
	}
	return ss;
}

static bool
contains(const edge_cidrs *c, const char *s)
{
	struct sockaddr_storage ss = addr(s);

	return edge_cidrs_contain(c, (struct sockaddr *)&ss);
}

static void
test_cidrs(void **state)
{
	static const char *const bad[] = {"10.0.0.0/33", "10.0.0", "x",
	    "10.0.0.0/", "fd00::/129", "10.0.0.0/-1", "10.0.0.0/8,nope"};
	edge_cidrs *c = NULL;
	char err[128];

	(void)state;
	assert_int_equal(edge_cidrs_parse("10.0.0.0/24, 192.168.1.7,fd00::/8",
	                     &c, err, sizeof err),
	    TA_OK);
	assert_true(contains(c, "10.0.0.1"));
	assert_true(contains(c, "10.0.0.255"));
	assert_false(contains(c, "10.0.1.0"));
	assert_true(contains(c, "192.168.1.7"));
	assert_false(contains(c, "192.168.1.8"));
	assert_true(contains(c, "fd12::1"));
	assert_false(contains(c, "fe80::1"));
	assert_true(contains(c, "::ffff:10.0.0.9")); // v4-mapped is v4
	edge_cidrs_free(c);
	assert_int_equal(edge_cidrs_parse("", &c, err, sizeof err), TA_OK);
	assert_false(contains(c, "10.0.0.1"));
	edge_cidrs_free(c);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(edge_cidrs_parse(bad[i], &c, err, sizeof err),
		    TA_INVALID_ARGUMENT);
		assert_non_null(strstr(err, "TRUSTED_PROXIES"));
	}
}

static void
test_ip_table(void **state)
{
	edge_ip_table *t = edge_ip_table_new();
	struct sockaddr_storage a = addr("127.0.0.2"), b = addr("::1");

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_true(edge_ip_table_acquire(t, (struct sockaddr *)&a, 3));
	assert_false(edge_ip_table_acquire(t, (struct sockaddr *)&a, 3));
	assert_true(edge_ip_table_acquire(t, (struct sockaddr *)&b, 3));
	edge_ip_table_release(t, (struct sockaddr *)&a);
	assert_true(edge_ip_table_acquire(t, (struct sockaddr *)&a, 3));
	for (int i = 0; i < 3; i++)
		edge_ip_table_release(t, (struct sockaddr *)&a);
	edge_ip_table_release(t, (struct sockaddr *)&b);
	edge_ip_table_free(t);
}

static void
test_budget(void **state)
{
	(void)state;
	assert_int_equal(edge_limits_connections_for(20000), 6624);
	assert_int_equal(edge_limits_connections_for(1024), 298);
	assert_int_equal(edge_limits_connections_for(10), 16);
	assert_true(edge_limits_raise_nofile() >= 16);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cidrs),
	    cmocka_unit_test(test_ip_table),
	    cmocka_unit_test(test_budget),
	};

	return cmocka_run_group_tests_name("edge_limits", tests, NULL, NULL);
}
