/*
 * Unit tests of common/discovery.h: backend URL list parsing, DNS server
 * parsing, address-set arithmetic, and resolution (IP literals, and A
 * queries answered by a tiny in-process UDP DNS responder on loopback).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "discovery.h"

static void
test_parse_list(void **state)
{
	ta_disc_target *t = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(ta_disc_parse(" tcp://task.taskapi.local:7002 ,"
	                               "tcp://10.0.0.7:7003,tcp://[::1]:7004,"
	                               "ipc:///tmp/x.sock",
	                     &t, &n),
	    TA_OK);
	assert_int_equal(n, 4);
	assert_string_equal(t[0].host, "task.taskapi.local");
	assert_string_equal(t[0].port, "7002");
	assert_null(t[0].literal);
	assert_string_equal(t[1].host, "10.0.0.7");
	assert_string_equal(t[1].port, "7003");
	assert_string_equal(t[2].host, "::1");
	assert_string_equal(t[2].port, "7004");
	assert_null(t[3].host);
	assert_string_equal(t[3].literal, "ipc:///tmp/x.sock");
	ta_disc_targets_free(t, n);

	assert_int_equal(ta_disc_parse("tcp://127.0.0.1:1", &t, &n), TA_OK);
	assert_int_equal(n, 1);
	ta_disc_targets_free(t, n);
}

static void
test_parse_rejects(void **state)
{
	static const char *const bad[] = {
	    "",
	    " ",
	    "bogus://x",
	    "tcp://127.0.0.1:1, bogus",
	    "tcp://127.0.0.1:1,",
	    "tcp://host",
	    "tcp://host:",
	    "tcp://:7002",
	    "tcp://host:0",
	    "tcp://host:65536",
	    "tcp://host:70x",
	    "tcp://ho st:7002",
	    "tcp://h/x:7002",
	    "tcp://[::1:7002",
	    "tcp://[nothex]:7002",
	    "tcp://[::1]7002",
	    "ipc://",
	    "http://host:80",
	};
	ta_disc_target *t = NULL;
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (ta_disc_parse(bad[i], &t, &n) != TA_INVALID_ARGUMENT)
			fail_msg("accepted: \"%s\"", bad[i]);
	}
	assert_null(t);
	assert_int_equal(ta_disc_parse(NULL, &t, &n), TA_INVALID_ARGUMENT);
}

static void
test_dns_server_parse(void **state)
{
	unsigned char ip[4];
	unsigned short port = 0;

	(void)state;
	assert_int_equal(
	    ta_disc_dns_server_parse("127.0.0.1:5353", ip, &port), TA_OK);
	assert_int_equal(ip[0], 127);
	assert_int_equal(ip[3], 1);
	assert_int_equal(port, 5353);
	assert_int_equal(ta_disc_dns_server_parse("127.0.0.1", ip, &port),
	    TA_INVALID_ARGUMENT);
	assert_int_equal(ta_disc_dns_server_parse("localhost:53", ip, &port),
	    TA_INVALID_ARGUMENT);
	assert_int_equal(
	    ta_disc_dns_server_parse(":53", ip, &port), TA_INVALID_ARGUMENT);
	assert_int_equal(ta_disc_dns_server_parse("1.2.3.4:0", ip, &port),
	    TA_INVALID_ARGUMENT);
	assert_int_equal(
	    ta_disc_dns_server_parse(NULL, ip, &port), TA_INVALID_ARGUMENT);
}

static void
test_set_sorted_unique(void **state)
{
	ta_addr_set s = {0}, c = {0};
	char *j;

	(void)state;
	ta_addr_set_add(&s, "tcp://127.0.0.3:7");
	ta_addr_set_add(&s, "tcp://127.0.0.2:7");
	ta_addr_set_add(&s, "tcp://127.0.0.3:7");
	ta_addr_set_add(&s, "tcp://127.0.0.4:7");
	assert_int_equal(s.n, 3);
	j = ta_addr_set_join(&s);
	assert_string_equal(
	    j, "tcp://127.0.0.2:7,tcp://127.0.0.3:7,tcp://127.0.0.4:7");
	free(j);
	assert_true(ta_addr_set_has(&s, "tcp://127.0.0.4:7"));
	assert_false(ta_addr_set_has(&s, "tcp://127.0.0.5:7"));
	ta_addr_set_copy(&c, &s);
	assert_true(ta_addr_set_equal(&c, &s));
	ta_addr_set_add(&c, "tcp://127.0.0.1:7");
	assert_false(ta_addr_set_equal(&c, &s));
	ta_addr_set_fini(&c);
	ta_addr_set_fini(&s);
	j = ta_addr_set_join(&s);
	assert_string_equal(j, "");
	free(j);
}

static void
test_set_diff(void **state)
{
	ta_addr_set have = {0}, want = {0}, added = {0}, removed = {0};

	(void)state;
	/* 1 -> 3 instances. */
	ta_addr_set_add(&have, "tcp://127.0.0.2:7");
	ta_addr_set_add(&want, "tcp://127.0.0.2:7");
	ta_addr_set_add(&want, "tcp://127.0.0.3:7");
	ta_addr_set_add(&want, "tcp://127.0.0.4:7");
	ta_addr_set_diff(&have, &want, &added, &removed);
	assert_int_equal(added.n, 2);
	assert_string_equal(added.urls[0], "tcp://127.0.0.3:7");
	assert_string_equal(added.urls[1], "tcp://127.0.0.4:7");
	assert_int_equal(removed.n, 0);
	ta_addr_set_fini(&added);

	/* 3 -> 1, and a different one: two vanish, one appears. */
	ta_addr_set_diff(&want, &have, &added, &removed);
	assert_int_equal(added.n, 0);
	assert_int_equal(removed.n, 2);
	ta_addr_set_fini(&removed);
	ta_addr_set_fini(&have);
	ta_addr_set_add(&have, "tcp://127.0.0.9:7");
	ta_addr_set_diff(&want, &have, &added, &removed);
	assert_int_equal(added.n, 1);
	assert_string_equal(added.urls[0], "tcp://127.0.0.9:7");
	assert_int_equal(removed.n, 3);
	ta_addr_set_fini(&added);
	ta_addr_set_fini(&removed);

	/* Equal sets: nothing to do. */
	ta_addr_set_diff(&want, &want, &added, &removed);
	assert_int_equal(added.n + removed.n, 0);
	ta_addr_set_fini(&have);
	ta_addr_set_fini(&want);
}

static void
test_resolve_literals(void **state)
{
	ta_disc_target *t = NULL;
	ta_addr_set s = {0};
	size_t n;

	(void)state;
	assert_int_equal(ta_disc_parse("tcp://127.0.0.1:7001,tcp://[::1]:7002,"
	                               "inproc://x",
	                     &t, &n),
	    TA_OK);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ta_disc_resolve(&t[i], NULL, &s), TA_OK);
	/* A literal never goes to the DNS server, even when one is set. */
	assert_int_equal(ta_disc_resolve(&t[0], "127.0.0.1:1", &s), TA_OK);
	assert_int_equal(s.n, 3);
	assert_true(ta_addr_set_has(&s, "tcp://127.0.0.1:7001"));
	assert_true(ta_addr_set_has(&s, "tcp://[::1]:7002"));
	assert_true(ta_addr_set_has(&s, "inproc://x"));
	ta_addr_set_fini(&s);
	ta_disc_targets_free(t, n);

	/* "localhost" through getaddrinfo (/etc/hosts). */
	assert_int_equal(ta_disc_parse("tcp://localhost:9", &t, &n), TA_OK);
	assert_int_equal(ta_disc_resolve(&t[0], NULL, &s), TA_OK);
	assert_true(s.n >= 1);
	ta_addr_set_fini(&s);
	ta_disc_targets_free(t, n);
}

/* ---- a one-name DNS responder on a loopback UDP port ---- */

/* How the stub answers (issue 9: replies the parser must not trust). */
enum stub_mode {
	STUB_PLAIN,     /* one well-formed reply */
	STUB_TRUNCATED, /* TC set: the answer holds only part of the set */
	STUB_BROKEN_FIRST, /* a reply whose last record runs past its end,
	                      then a well-formed one with 127.0.0.9 only */
};

typedef struct dns_stub {
	int fd;
	unsigned short port;
	int naddrs;   /* A records in the answer; -1: NXDOMAIN */
	enum stub_mode mode;
	int answered; /* queries answered */
	pthread_t thread;
} dns_stub;

/* Appends an A record (name: pointer to the question) for 127.0.0.last. */
static size_t
stub_rr(uint8_t *r, size_t at, uint8_t last)
{
	static const uint8_t rr[] = {
	    0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 127, 0, 0};

	memcpy(r + at, rr, sizeof rr);
	at += sizeof rr;
	r[at++] = last;
	return at;
}

static void *
stub_main(void *arg)
{
	dns_stub *d = arg;
	uint8_t q[512], r[512];
	struct sockaddr_in from;
	socklen_t flen;
	struct pollfd pfd = {.fd = d->fd, .events = POLLIN};

	while (poll(&pfd, 1, 3000) == 1) {
		ssize_t n;
		size_t at;

		flen = sizeof from;
		n = recvfrom(
		    d->fd, q, sizeof q, 0, (struct sockaddr *)&from, &flen);
		if (n < 12)
			break;
		memcpy(r, q, (size_t)n);            /* header + question */
		r[2] = 0x81;                        /* QR, RD */
		r[3] = d->naddrs < 0 ? 0x83 : 0x80; /* RA, rcode */
		r[6] = 0;
		r[7] = (uint8_t)(d->naddrs < 0 ? 0 : d->naddrs);
		at = (size_t)n;
		for (int i = 0; i < d->naddrs; i++)
			at = stub_rr(r, at, (uint8_t)(2 + i)); /* .2, .3 */
		if (d->mode == STUB_TRUNCATED)
			r[2] |= 0x02; /* TC */
		if (d->mode == STUB_BROKEN_FIRST) {
			/* One more record announced, cut after its type. */
			r[7] = (uint8_t)(d->naddrs + 1);
			at = stub_rr(r, at, 1) - 12;
			sendto(d->fd, r, at, 0, (struct sockaddr *)&from, flen);
			r[7] = 1;
			at = stub_rr(r, (size_t)n, 9);
		}
		sendto(d->fd, r, at, 0, (struct sockaddr *)&from, flen);
		d->answered++;
	}
	return NULL;
}

static void
stub_start_mode(dns_stub *d, int naddrs, enum stub_mode mode)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof sa;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(d->fd >= 0);
	assert_int_equal(bind(d->fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(d->fd, (struct sockaddr *)&sa, &len), 0);
	d->port = ntohs(sa.sin_port);
	d->naddrs = naddrs;
	d->mode = mode;
	d->answered = 0;
	assert_int_equal(pthread_create(&d->thread, NULL, stub_main, d), 0);
}

static void
stub_start(dns_stub *d, int naddrs)
{
	stub_start_mode(d, naddrs, STUB_PLAIN);
}

static void
stub_stop(dns_stub *d)
{
	shutdown(d->fd, SHUT_RDWR);
	close(d->fd);
	pthread_join(d->thread, NULL);
}

static void
test_resolve_dns_server(void **state)
{
	dns_stub d;
	ta_disc_target *t = NULL;
	ta_addr_set s = {0};
	char server[32];
	size_t n;

	(void)state;
	assert_int_equal(
	    ta_disc_parse("tcp://task.taskapi.test:7002", &t, &n), TA_OK);

	stub_start(&d, 3);
	snprintf(server, sizeof server, "127.0.0.1:%u", d.port);
	assert_int_equal(ta_disc_resolve(&t[0], server, &s), TA_OK);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.urls[0], "tcp://127.0.0.2:7002");
	assert_string_equal(s.urls[2], "tcp://127.0.0.4:7002");
	ta_addr_set_fini(&s);
	stub_stop(&d);
	assert_int_equal(d.answered, 1);

	/* NXDOMAIN and an empty answer fail; out stays unchanged. */
	stub_start(&d, -1);
	snprintf(server, sizeof server, "127.0.0.1:%u", d.port);
	ta_addr_set_add(&s, "tcp://127.0.0.9:7002");
	assert_int_equal(ta_disc_resolve(&t[0], server, &s), TA_UNAVAILABLE);
	stub_stop(&d);
	stub_start(&d, 0);
	snprintf(server, sizeof server, "127.0.0.1:%u", d.port);
	assert_int_equal(ta_disc_resolve(&t[0], server, &s), TA_UNAVAILABLE);
	stub_stop(&d);
	assert_int_equal(s.n, 1);
	ta_addr_set_fini(&s);
	ta_disc_targets_free(t, n);
}

/*
 * Issue 9: a truncated answer (TC) lists only some instances, and using it
 * would close the dialers of the others; a reply found malformed halfway
 * must not leave the addresses read before the fault in the result.
 */
static void
test_resolve_untrusted_replies(void **state)
{
	dns_stub d;
	ta_disc_target *t = NULL;
	ta_addr_set s = {0};
	char server[32];
	size_t n;

	(void)state;
	assert_int_equal(
	    ta_disc_parse("tcp://task.taskapi.test:7002", &t, &n), TA_OK);

	/* TC: the lookup fails and the last good set stays as it was. */
	stub_start_mode(&d, 2, STUB_TRUNCATED);
	snprintf(server, sizeof server, "127.0.0.1:%u", d.port);
	ta_addr_set_add(&s, "tcp://127.0.0.7:7002");
	assert_int_equal(ta_disc_resolve(&t[0], server, &s), TA_UNAVAILABLE);
	stub_stop(&d);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.urls[0], "tcp://127.0.0.7:7002");
	ta_addr_set_fini(&s);

	/* Broken reply, then a good one: only the good one's address. */
	stub_start_mode(&d, 2, STUB_BROKEN_FIRST);
	snprintf(server, sizeof server, "127.0.0.1:%u", d.port);
	assert_int_equal(ta_disc_resolve(&t[0], server, &s), TA_OK);
	stub_stop(&d);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.urls[0], "tcp://127.0.0.9:7002");
	ta_addr_set_fini(&s);
	ta_disc_targets_free(t, n);
}

static void
test_resolve_no_server(void **state)
{
	ta_disc_target *t = NULL;
	ta_addr_set s = {0};
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof sa;
	char server[32];
	size_t n;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	(void)state;
	/* A bound port that never answers: fails after the timeouts. */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(server, sizeof server, "127.0.0.1:%u", ntohs(sa.sin_port));
	assert_int_equal(ta_disc_parse("tcp://x.test:1", &t, &n), TA_OK);
	assert_int_equal(ta_disc_resolve(&t[0], server, &s), TA_UNAVAILABLE);
	assert_int_equal(s.n, 0);
	close(fd);
	ta_disc_targets_free(t, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_list),
	    cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_dns_server_parse),
	    cmocka_unit_test(test_set_sorted_unique),
	    cmocka_unit_test(test_set_diff),
	    cmocka_unit_test(test_resolve_literals),
	    cmocka_unit_test(test_resolve_dns_server),
	    cmocka_unit_test(test_resolve_untrusted_replies),
	    cmocka_unit_test(test_resolve_no_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
