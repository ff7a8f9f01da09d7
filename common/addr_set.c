/*
 * Sorted sets of unique dial URLs ("tcp://10.0.0.7:7002") and their
 * differences, so that the RPC client keeps one dialer per live instance
 * (discovery.h). Pure.
 */
#include "discovery.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "alloc.h"

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
