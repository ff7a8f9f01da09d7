/* The client address of a request: X-Forwarded-For behind trusted proxies
 * (client_addr.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "client_addr.h"

static struct sockaddr_storage
addr(const char *s)
{
	struct sockaddr_storage ss;

	assert_true(edge_addr_parse(s, strlen(s), &ss));
	return ss;
}

/* The client of a request from peer with xff, trusting list. */
static const char *
client(const char *peer, const char *xff, const char *list)
{
	static char out[EDGE_ADDR_MAX];
	struct sockaddr_storage p = addr(peer);
	edge_cidrs *c = NULL;
	char err[128];

	assert_int_equal(edge_cidrs_parse(list, &c, err, sizeof err), TA_OK);
	edge_client_addr((struct sockaddr *)&p, xff, c, out);
	edge_cidrs_free(c);
	return out;
}

static void
test_parse(void **state)
{
	struct sockaddr_storage ss;
	char out[EDGE_ADDR_MAX];
	static const char *const bad[] = {"", " ", "1.2.3", "1.2.3.4.5",
	    "1.2.3.4:80", "[1.2.3.4]", "256.1.1.1", "01.2.3.4x", "::g", "[::1",
	    "::1]", "[]", "[::1]:80", "unknown", "1.2.3.4 ", "fe80::1%eth0",
	    "::ffff:1.2.3.4.5"};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(edge_addr_parse(bad[i], strlen(bad[i]), &ss));
	assert_false(edge_addr_parse("1.2.3.4\0", 8, &ss)); // NUL inside
	assert_true(edge_addr_parse("[2001:db8::1]", 13, &ss));
	edge_addr_text((struct sockaddr *)&ss, out);
	assert_string_equal(out, "2001:db8::1");
	/* Only the first n bytes count. */
	assert_true(edge_addr_parse("10.0.0.1,junk", 8, &ss));
	edge_addr_text((struct sockaddr *)&ss, out);
	assert_string_equal(out, "10.0.0.1");
	/* A v4-mapped address is written as IPv4; forms are normalised. */
	assert_true(edge_addr_parse("::ffff:192.0.2.9", 16, &ss));
	edge_addr_text((struct sockaddr *)&ss, out);
	assert_string_equal(out, "192.0.2.9");
	assert_true(edge_addr_parse("2001:DB8:0:0::1", 15, &ss));
	edge_addr_text((struct sockaddr *)&ss, out);
	assert_string_equal(out, "2001:db8::1");
}

/* A dual-stack listener's IPv4 peer becomes a plain AF_INET address. */
static void
test_unmap(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	socklen_t len = sizeof *v6;
	char out[EDGE_ADDR_MAX];
	static const char *const keep[] = {"::1", "2001:db8::1", "::127.0.0.3",
	    "::ffff:0:127.0.0.3", "64:ff9b::127.0.0.3"};

	(void)state;
	memset(&ss, 0, sizeof ss);
	v6->sin6_family = AF_INET6;
	v6->sin6_port = htons(4711);
	assert_int_equal(
	    inet_pton(AF_INET6, "::ffff:127.0.0.3", &v6->sin6_addr), 1);
	assert_true(edge_addr_unmap(&ss, &len));
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(v4->sin_port), 4711);
	assert_int_equal(ntohl(v4->sin_addr.s_addr), 0x7f000003);
	edge_addr_text((struct sockaddr *)&ss, out);
	assert_string_equal(out, "127.0.0.3");
	/* Already IPv4, plain IPv6, v4-compatible (not mapped): unchanged. */
	assert_false(edge_addr_unmap(&ss, &len));
	assert_int_equal(len, sizeof(struct sockaddr_in));
	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
		memset(&ss, 0, sizeof ss);
		v6->sin6_family = AF_INET6;
		assert_int_equal(
		    inet_pton(AF_INET6, keep[i], &v6->sin6_addr), 1);
		len = sizeof *v6;
		assert_false(edge_addr_unmap(&ss, &len));
		assert_int_equal(ss.ss_family, AF_INET6);
		assert_int_equal(len, sizeof *v6);
	}
}

static void
test_untrusted_peer_is_the_client(void **state)
{
	(void)state;
	assert_string_equal(client("203.0.113.5", NULL, ""), "203.0.113.5");
	/* Nobody's X-Forwarded-For is believed unless the peer is trusted. */
	assert_string_equal(
	    client("203.0.113.5", "198.51.100.1", ""), "203.0.113.5");
	assert_string_equal(
	    client("203.0.113.5", "198.51.100.1", "10.0.0.0/8"), "203.0.113.5");
}

static void
test_right_most_untrusted(void **state)
{
	const char *t = "10.0.0.0/8, fd00::/8";

	(void)state;
	assert_string_equal(
	    client("10.0.0.2", "198.51.100.1", t), "198.51.100.1");
	/* Left entries are the client's own words: never believed. */
	assert_string_equal(
	    client("10.0.0.2", "1.1.1.1, 198.51.100.1", t), "198.51.100.1");
	assert_string_equal(
	    client("10.0.0.2", "junk, 198.51.100.1", t), "198.51.100.1");
	/* Trusted hops on the right are skipped. */
	assert_string_equal(
	    client("10.0.0.2", "1.1.1.1,198.51.100.1 ,\t10.1.1.1, fd00::5", t),
	    "198.51.100.1");
	assert_string_equal(
	    client("10.0.0.2", "[2001:db8::9], 10.1.1.1", t), "2001:db8::9");
	assert_string_equal(
	    client("::ffff:10.0.0.2", "2001:db8::9", t), "2001:db8::9");
	/* All trusted: the left-most. */
	assert_string_equal(
	    client("10.0.0.2", "10.9.9.9, 10.1.1.1", t), "10.9.9.9");
}

static void
test_garbage_falls_back_to_the_peer(void **state)
{
	const char *t = "10.0.0.0/8";
	static const char *const bad[] = {"", " ", ",", "198.51.100.1,",
	    "198.51.100.1, ", "198.51.100.1,,10.1.1.1", "unknown",
	    "198.51.100.1:4711", "1.1.1.1, bogus, 10.1.1.1", "\"1.1.1.1\"",
	    "198.51.100.1 10.1.1.1"};
	char many[1024] = "198.51.100.1";

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_string_equal(client("10.0.0.2", bad[i], t), "10.0.0.2");
	/* More trusted hops than EDGE_XFF_MAX_HOPS: not believed. */
	for (int i = 0; i < EDGE_XFF_MAX_HOPS; i++)
		strcat(many, ",10.1.1.1");
	assert_string_equal(client("10.0.0.2", many, t), "10.0.0.2");
	/* One fewer is walked to the end. */
	strcpy(many, "198.51.100.1");
	for (int i = 0; i < EDGE_XFF_MAX_HOPS - 1; i++)
		strcat(many, ",10.1.1.1");
	assert_string_equal(client("10.0.0.2", many, t), "198.51.100.1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_unmap),
	    cmocka_unit_test(test_untrusted_peer_is_the_client),
	    cmocka_unit_test(test_right_most_untrusted),
	    cmocka_unit_test(test_garbage_falls_back_to_the_peer),
	};

	return cmocka_run_group_tests_name(
	    "edge_client_addr", tests, NULL, NULL);
}
