/*
 * Backend URL lists, address sets and name resolution for the RPC client
 * (see discovery.h). With a DNS server given, the A query is dns.c's.
 */
#include "discovery.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc.h"
#include "dns.h"

static char *
dup_range(const char *s, size_t n)
{
	char *d = ta_xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static bool
is_port(const char *s, size_t n)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* Host names: letters, digits, '-', '.', '_'; IPv6 only inside []. */
static bool
is_host(const char *s, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		        (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		        ch == '_'))
			return false;
	}
	return true;
}

/* One trimmed item [s, s+n) into t; false when malformed. */
static bool
parse_one(const char *s, size_t n, ta_disc_target *t)
{
	static const char tcp[] = "tcp://";
	const char *h, *colon, *end = s + n;

	memset(t, 0, sizeof *t);
	if ((n > 6 && strncmp(s, "ipc://", 6) == 0) ||
	    (n > 9 && strncmp(s, "inproc://", 9) == 0)) {
		t->literal = dup_range(s, n);
		return true;
	}
	if (n <= sizeof tcp - 1 || strncmp(s, tcp, sizeof tcp - 1) != 0)
		return false;
	h = s + sizeof tcp - 1;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));
		char buf[INET6_ADDRSTRLEN];
		struct in6_addr a6;
		size_t hl;

		if (!rb || rb + 1 >= end || rb[1] != ':')
			return false;
		hl = (size_t)(rb - h - 1);
		if (hl == 0 || hl >= sizeof buf)
			return false;
		memcpy(buf, h + 1, hl);
		buf[hl] = '\0';
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			return false;
		colon = rb + 1;
		if (!is_port(colon + 1, (size_t)(end - colon - 1)))
			return false;
		t->host = dup_range(h + 1, hl);
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		if (!colon || !is_host(h, (size_t)(colon - h)) ||
		    !is_port(colon + 1, (size_t)(end - colon - 1)))
			return false;
		t->host = dup_range(h, (size_t)(colon - h));
	}
	t->port = dup_range(colon + 1, (size_t)(end - colon - 1));
	return true;
}

ta_status
ta_disc_parse(const char *urls, ta_disc_target **out, size_t *n)
{
	ta_disc_target *t = NULL;
	size_t count = 0;
	const char *p = urls ? urls : "";

	for (;;) {
		const char *comma = strchr(p, ','), *s = p, *e;

		e = comma ? comma : p + strlen(p);
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		t = ta_xrealloc(t, (count + 1) * sizeof *t);
		if (!parse_one(s, (size_t)(e - s), &t[count])) {
			ta_disc_targets_free(t, count);
			return TA_INVALID_ARGUMENT;
		}
		count++;
		if (!comma)
			break;
		p = comma + 1;
	}
	*out = t;
	*n = count;
	return TA_OK;
}

void
ta_disc_targets_free(ta_disc_target *t, size_t n)
{
	if (!t)
		return;
	for (size_t i = 0; i < n; i++) {
		free(t[i].host);
		free(t[i].port);
		free(t[i].literal);
	}
	free(t);
}

ta_status
ta_disc_dns_server_parse(
    const char *s, unsigned char addr[4], unsigned short *port)
{
	const char *colon = s ? strrchr(s, ':') : NULL;
	char ip[INET_ADDRSTRLEN];
	struct in_addr a;
	size_t hl;

	if (!colon || !is_port(colon + 1, strlen(colon + 1)))
		return TA_INVALID_ARGUMENT;
	hl = (size_t)(colon - s);
	if (hl == 0 || hl >= sizeof ip)
		return TA_INVALID_ARGUMENT;
	memcpy(ip, s, hl);
	ip[hl] = '\0';
	if (inet_pton(AF_INET, ip, &a) != 1)
		return TA_INVALID_ARGUMENT;
	memcpy(addr, &a.s_addr, 4);
	*port = (unsigned short)strtoul(colon + 1, NULL, 10);
	return TA_OK;
}

/* Index where url is or would go (binary search); *found says which. */
static size_t
set_find(const ta_addr_set *s, const char *url, bool *found)
{
	size_t lo = 0, hi = s->n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->urls[mid], url);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
ta_addr_set_add(ta_addr_set *s, const char *url)
{
	bool found;
	size_t at = set_find(s, url, &found);

	if (found)
		return;
	s->urls = ta_xrealloc(s->urls, (s->n + 1) * sizeof *s->urls);
	memmove(&s->urls[at + 1], &s->urls[at], (s->n - at) * sizeof *s->urls);
	s->urls[at] = ta_xstrdup(url);
	s->n++;
}

bool
ta_addr_set_has(const ta_addr_set *s, const char *url)
{
	bool found;

	set_find(s, url, &found);
	return found;
}

bool
ta_addr_set_equal(const ta_addr_set *a, const ta_addr_set *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->urls[i], b->urls[i]) != 0)
			return false;
	return true;
}

void
ta_addr_set_copy(ta_addr_set *dst, const ta_addr_set *src)
{
	ta_addr_set tmp = {0};

	for (size_t i = 0; i < src->n; i++)
		ta_addr_set_add(&tmp, src->urls[i]);
	ta_addr_set_fini(dst);
	*dst = tmp;
}

void
ta_addr_set_fini(ta_addr_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->urls[i]);
	free(s->urls);
	s->urls = NULL;
	s->n = 0;
}

void
ta_addr_set_diff(const ta_addr_set *have, const ta_addr_set *want,
    ta_addr_set *added, ta_addr_set *removed)
{
	for (size_t i = 0; i < want->n; i++)
		if (!ta_addr_set_has(have, want->urls[i]))
			ta_addr_set_add(added, want->urls[i]);
	for (size_t i = 0; i < have->n; i++)
		if (!ta_addr_set_has(want, have->urls[i]))
			ta_addr_set_add(removed, have->urls[i]);
}

char *
ta_addr_set_join(const ta_addr_set *s)
{
	size_t len = 1, at = 0;
	char *out;

	for (size_t i = 0; i < s->n; i++)
		len += strlen(s->urls[i]) + 1;
	out = ta_xmalloc(len);
	out[0] = '\0';
	for (size_t i = 0; i < s->n; i++) {
		size_t k = strlen(s->urls[i]);

		if (i > 0)
			out[at++] = ',';
		memcpy(out + at, s->urls[i], k + 1);
		at += k;
	}
	return out;
}

void
ta_addr_set_add_ip(
    ta_addr_set *out, int family, const void *a, const char *port)
{
	char ip[INET6_ADDRSTRLEN], url[INET6_ADDRSTRLEN + 16];

	if (!inet_ntop(family, a, ip, sizeof ip))
		return;
	snprintf(url, sizeof url,
	    family == AF_INET6 ? "tcp://[%s]:%s" : "tcp://%s:%s", ip, port);
	ta_addr_set_add(out, url);
}

static ta_status
resolve_gai(const ta_disc_target *t, ta_addr_set *out)
{
	struct addrinfo hints, *res = NULL;
	ta_addr_set got = {0};

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(t->host, NULL, &hints, &res) != 0)
		return TA_UNAVAILABLE;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET)
			ta_addr_set_add_ip(&got, AF_INET,
			    &((struct sockaddr_in *)(void *)ai->ai_addr)
			         ->sin_addr,
			    t->port);
		else if (ai->ai_family == AF_INET6)
			ta_addr_set_add_ip(&got, AF_INET6,
			    &((struct sockaddr_in6 *)(void *)ai->ai_addr)
			         ->sin6_addr,
			    t->port);
	}
	freeaddrinfo(res);
	if (got.n == 0)
		return TA_UNAVAILABLE;
	for (size_t i = 0; i < got.n; i++)
		ta_addr_set_add(out, got.urls[i]);
	ta_addr_set_fini(&got);
	return TA_OK;
}

ta_status
ta_disc_resolve(
    const ta_disc_target *t, const char *dns_server, ta_addr_set *out)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (t->literal) {
		ta_addr_set_add(out, t->literal);
		return TA_OK;
	}
	if (inet_pton(AF_INET, t->host, &a4) == 1) {
		ta_addr_set_add_ip(out, AF_INET, &a4, t->port);
		return TA_OK;
	}
	if (inet_pton(AF_INET6, t->host, &a6) == 1) {
		ta_addr_set_add_ip(out, AF_INET6, &a6, t->port);
		return TA_OK;
	}
	if (dns_server && *dns_server)
		return ta_dns_resolve_a(t->host, t->port, dns_server, out);
	return resolve_gai(t, out);
}
