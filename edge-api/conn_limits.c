/*
 * File-descriptor budget, trusted-proxy CIDRs and the per-address
 * connection count of the front (see limits.h).
 */
#include "conn_limits.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "alloc.h"

#define FD_RESERVE 128

long
edge_limits_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576)
		return 1048576;
	return (long)rl.rlim_cur;
}

long
edge_limits_connections_for(long nofile)
{
	long n = (nofile - FD_RESERVE) / 3;

	return n < 16 ? 16 : n;
}

/* An address as 16 bytes: IPv4 in the v4-mapped IPv6 form. */
typedef struct ip16 {
	uint8_t b[16];
} ip16;

static bool
to_ip16(const struct sockaddr *sa, ip16 *out)
{
	memset(out, 0, sizeof *out);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		out->b[10] = out->b[11] = 0xff;
		memcpy(out->b + 12, &in->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out->b,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    16);
		return true;
	}
	return false;
}

typedef struct cidr {
	ip16 net;
	unsigned bits; /* prefix length in the 128-bit form */
} cidr;

struct edge_cidrs {
	cidr *items;
	size_t n;
};

static bool
prefix_equal(const ip16 *a, const ip16 *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a->b, b->b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a->b[full] ^ b->b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static bool
parse_one(const char *s, cidr *out)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct in_addr in;
	struct in6_addr in6;
	long bits, max;
	char *end;

	if (alen == 0 || alen >= sizeof addr)
		return false;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	memset(&out->net, 0, sizeof out->net);
	if (inet_pton(AF_INET, addr, &in) == 1) {
		out->net.b[10] = out->net.b[11] = 0xff; // v4-mapped form
		memcpy(out->net.b + 12, &in, 4);
		max = 32;
	} else if (inet_pton(AF_INET6, addr, &in6) == 1) {
		memcpy(out->net.b, &in6, 16);
		max = 128;
	} else {
		return false;
	}
	bits = max;
	if (slash) {
		bits = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end || bits < 0 || bits > max)
			return false;
	}
	out->bits = (unsigned)(bits + (128 - max));
	return true;
}

ta_status
edge_cidrs_parse(const char *list, edge_cidrs **out, char *err, size_t errcap)
{
	edge_cidrs *c = ta_xcalloc(1, sizeof *c);
	const char *p = list ? list : "";

	while (*p) {
		size_t len = strcspn(p, ",");
		const char *s = p, *e = p + len;
		char item[80];

		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > s) {
			c->items = ta_xrealloc(
			    c->items, (c->n + 1) * sizeof *c->items);
			if ((size_t)(e - s) >= sizeof item ||
			    !(memcpy(item, s, (size_t)(e - s)),
			        item[e - s] = '\0',
			        parse_one(item, &c->items[c->n]))) {
				snprintf(err, errcap,
				    "TRUSTED_PROXIES: %.*s is not an address "
				    "or "
				    "CIDR",
				    (int)(e - s > 60 ? 60 : e - s), s);
				edge_cidrs_free(c);
				return TA_INVALID_ARGUMENT;
			}
			c->n++;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	*out = c;
	return TA_OK;
}

void
edge_cidrs_free(edge_cidrs *c)
{
	if (!c)
		return;
	free(c->items);
	free(c);
}

bool
edge_cidrs_contain(const edge_cidrs *c, const struct sockaddr *sa)
{
	ip16 a;

	if (!c || !to_ip16(sa, &a))
		return false;
	for (size_t i = 0; i < c->n; i++)
		if (prefix_equal(&a, &c->items[i].net, c->items[i].bits))
			return true;
	return false;
}

/* Chained buckets; an address's node lives while it has connections. */
#define BUCKETS 4096

typedef struct node {
	struct node *next;
	ip16 ip;
	long count;
} node;

struct edge_ip_table {
	pthread_mutex_t mu;
	node *buckets[BUCKETS];
};

edge_ip_table *
edge_ip_table_new(void)
{
	edge_ip_table *t = ta_xcalloc(1, sizeof *t);

	pthread_mutex_init(&t->mu, NULL);
	return t;
}

void
edge_ip_table_free(edge_ip_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < BUCKETS; i++)
		while (t->buckets[i]) {
			node *n = t->buckets[i];

			t->buckets[i] = n->next;
			free(n);
		}
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static node **
find(edge_ip_table *t, const ip16 *a)
{
	uint64_t h = 1469598103934665603ULL;
	node **pp;

	for (int i = 0; i < 16; i++)
		h = (h ^ a->b[i]) * 1099511628211ULL;
	pp = &t->buckets[h % BUCKETS];
	while (*pp && memcmp(&(*pp)->ip, a, sizeof *a) != 0)
		pp = &(*pp)->next;
	return pp;
}

bool
edge_ip_table_acquire(edge_ip_table *t, const struct sockaddr *sa, long limit)
{
	ip16 a;
	node **pp;
	bool ok = true;

	if (!to_ip16(sa, &a))
		return true;
	pthread_mutex_lock(&t->mu);
	pp = find(t, &a);
	if (!*pp) {
		*pp = ta_xcalloc(1, sizeof **pp);
		(*pp)->ip = a;
	}
	if ((*pp)->count < limit)
		(*pp)->count++;
	else
		ok = false;
	pthread_mutex_unlock(&t->mu);
	return ok;
}

void
edge_ip_table_release(edge_ip_table *t, const struct sockaddr *sa)
{
	ip16 a;
	node **pp;

	if (!to_ip16(sa, &a))
		return;
	pthread_mutex_lock(&t->mu);
	pp = find(t, &a);
	if (*pp && --(*pp)->count <= 0) {
		node *n = *pp;

		*pp = n->next;
		free(n);
	}
	pthread_mutex_unlock(&t->mu);
}
