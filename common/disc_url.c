/*
 * Backend URL lists of the RPC client (discovery.h): "tcp://host:port"
 * items, ipc:// and inproc:// literals, and the "ip:port" of a DNS server.
 * Pure: no lookups.
 */
#include "discovery.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

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
