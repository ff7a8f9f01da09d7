/*
 * Backend URL lists, address sets and name resolution for the RPC client
 * (see discovery.h). With a DNS server given, the A query is a hand-built
 * UDP packet sent to that server alone: glibc's res_state lets a caller
 * replace nsaddr_list, but IPv6 servers from resolv.conf live in private
 * fields that still win, so the override is not reliable there.
 */
#include "discovery.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "alloc.h"

#define DNS_TIMEOUT_MS 1000
#define DNS_TRIES 2
#define DNS_MAX_PACKET 1500

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

static void
add_addr(ta_addr_set *out, int family, const void *a, const char *port)
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
			add_addr(&got, AF_INET,
			    &((struct sockaddr_in *)(void *)ai->ai_addr)
			         ->sin_addr,
			    t->port);
		else if (ai->ai_family == AF_INET6)
			add_addr(&got, AF_INET6,
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

/* A standard query for name, type A, class IN; length or 0 if too long. */
static size_t
dns_query_build(const char *name, uint16_t id, uint8_t *q, size_t cap)
{
	size_t at = 12;
	const char *p = name;

	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[2] = 0x01; /* RD */
	q[5] = 1;    /* QDCOUNT */
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (n == 0 || n > 63 || at + n + 1 + 5 > cap)
			return 0;
		q[at++] = (uint8_t)n;
		memcpy(q + at, p, n);
		at += n;
		p += n + (dot ? 1 : 0);
	}
	if (at + 5 > cap)
		return 0;
	q[at++] = 0;
	q[at++] = 0; /* QTYPE A */
	q[at++] = 1;
	q[at++] = 0; /* QCLASS IN */
	q[at++] = 1;
	return at;
}

/* Skips a (possibly compressed) name at *at; false when it runs out. */
static bool
dns_skip_name(const uint8_t *m, size_t len, size_t *at)
{
	while (*at < len) {
		uint8_t b = m[*at];

		if (b == 0) {
			(*at)++;
			return true;
		}
		if ((b & 0xC0) == 0xC0) {
			*at += 2;
			return *at <= len;
		}
		*at += 1u + b;
	}
	return false;
}

/*
 * Adds the A records of reply m to got, all or none: TA_UNAVAILABLE (got
 * unchanged) when m is not our answer, is truncated, or is malformed
 * anywhere, even after some records read well.
 */
static ta_status
dns_reply_parse(const uint8_t *m, size_t len, uint16_t id, const char *port,
    ta_addr_set *got)
{
	ta_addr_set mine = {0};
	ta_status status = TA_UNAVAILABLE;
	size_t at = 12;
	unsigned qd, an;

	if (len < 12 || ((m[0] << 8) | m[1]) != id || !(m[2] & 0x80) ||
	    (m[3] & 0x0F) != 0)
		return TA_UNAVAILABLE; /* not our reply, or NXDOMAIN/SERVFAIL */
	/* TC: the answer lists only some of the instances; using it would
	 * close the dialers of the rest. Fail the lookup (the caller keeps
	 * the last good set); there is no TCP retry (docs/discovery.md). */
	if (m[2] & 0x02)
		return TA_UNAVAILABLE;
	qd = (unsigned)(m[4] << 8 | m[5]);
	an = (unsigned)(m[6] << 8 | m[7]);
	for (unsigned i = 0; i < qd; i++) {
		if (!dns_skip_name(m, len, &at) || at + 4 > len)
			return TA_UNAVAILABLE;
		at += 4;
	}
	for (unsigned i = 0; i < an; i++) {
		unsigned type, cls, rdlen;

		if (!dns_skip_name(m, len, &at) || at + 10 > len)
			goto out;
		type = (unsigned)(m[at] << 8 | m[at + 1]);
		cls = (unsigned)(m[at + 2] << 8 | m[at + 3]);
		rdlen = (unsigned)(m[at + 8] << 8 | m[at + 9]);
		at += 10;
		if (at + rdlen > len)
			goto out;
		if (type == 1 && cls == 1 && rdlen == 4)
			add_addr(&mine, AF_INET, m + at, port);
		at += rdlen; /* CNAMEs are skipped: their A records follow */
	}
	for (size_t i = 0; i < mine.n; i++)
		ta_addr_set_add(got, mine.urls[i]);
	status = TA_OK;
out:
	ta_addr_set_fini(&mine);
	return status;
}

static ta_status
resolve_dns(const ta_disc_target *t, const char *server, ta_addr_set *out)
{
	struct sockaddr_in sa;
	unsigned short port;
	uint8_t q[512], r[DNS_MAX_PACKET];
	ta_addr_set got = {0};
	ta_status status = TA_UNAVAILABLE;
	uint16_t id;
	size_t qlen;
	int fd;

	memset(&sa, 0, sizeof sa);
	if (ta_disc_dns_server_parse(
	        server, (unsigned char *)&sa.sin_addr, &port) != TA_OK)
		return TA_INVALID_ARGUMENT;
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	randombytes_buf(&id, sizeof id);
	if ((qlen = dns_query_build(t->host, id, q, sizeof q)) == 0)
		return TA_UNAVAILABLE;
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return TA_UNAVAILABLE;
	/* connect(): replies from any other address are dropped. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		goto out;
	for (int try = 0; try < DNS_TRIES && status != TA_OK; try++) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (send(fd, q, qlen, 0) != (ssize_t)qlen)
			continue;
		while (poll(&pfd, 1, DNS_TIMEOUT_MS) == 1) {
			n = recv(fd, r, sizeof r, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			if (dns_reply_parse(r, (size_t)n, id, t->port, &got) ==
			    TA_OK) {
				status = TA_OK;
				break;
			}
		}
	}
out:
	close(fd);
	if (status == TA_OK && got.n == 0)
		status = TA_UNAVAILABLE;
	for (size_t i = 0; status == TA_OK && i < got.n; i++)
		ta_addr_set_add(out, got.urls[i]);
	ta_addr_set_fini(&got);
	return status;
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
		add_addr(out, AF_INET, &a4, t->port);
		return TA_OK;
	}
	if (inet_pton(AF_INET6, t->host, &a6) == 1) {
		add_addr(out, AF_INET6, &a6, t->port);
		return TA_OK;
	}
	if (dns_server && *dns_server)
		return resolve_dns(t, dns_server, out);
	return resolve_gai(t, out);
}
