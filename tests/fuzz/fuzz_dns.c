/*
 * libFuzzer target for common/dns.c. The first byte picks one of:
 *  - a reply: the rest is a DNS message parsed as the answer to the query
 *    id it carries itself (so the header check passes and the records are
 *    reached); all or none: on failure nothing is added, on success only
 *    "tcp://a.b.c.d:7001" URLs, at most one per 14 bytes of records;
 *  - a query: the rest, up to a NUL, is a host name. A query built for it,
 *    turned into a reply (QR set) with no answer, parses to no address;
 *    with one A record appended (a pointer to the question's name) it
 *    parses to exactly that address.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

#include "alloc.h"

#define PORT "7001"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
reply_any(const uint8_t *m, size_t len)
{
	ta_addr_set got = {0};
	uint16_t id = len >= 2 ? (uint16_t)(m[0] << 8 | m[1]) : 0;
	ta_status st = ta_dns_reply_parse(m, len, id, PORT, &got);

	if (st != TA_OK && got.n != 0)
		abort();
	if (st == TA_OK && got.n > (len - 12) / 14)
		abort();
	for (size_t i = 0; i < got.n; i++) {
		unsigned a, b, c, d;
		char tail[8];

		if (sscanf(got.urls[i], "tcp://%u.%u.%u.%u:%7s", &a, &b, &c, &d,
		        tail) != 5 ||
		    a > 255 || b > 255 || c > 255 || d > 255 ||
		    strcmp(tail, PORT) != 0)
			abort();
	}
	ta_addr_set_fini(&got);
}

static void
query(const uint8_t *data, size_t size)
{
	char *name = ta_xstrndup((const char *)data, size);
	const uint8_t *ip = data + strlen(name) + (strlen(name) < size);
	uint8_t q[512 + 16];
	static const uint8_t rr[] = {0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4};
	ta_addr_set got = {0};
	char want[64], dotted[INET_ADDRSTRLEN];
	size_t n = ta_dns_query_build(name, 0x1234, q, 512);

	if (n == 0)
		goto out;
	if (n < 17 || n > 512 || q[0] != 0x12 || q[1] != 0x34 || q[5] != 1)
		abort();
	q[2] |= 0x80; /* QR: a reply */
	if (ta_dns_reply_parse(q, n, 0x1234, PORT, &got) != TA_OK || got.n)
		abort();
	if (data + size - ip < 4)
		goto out;
	q[7] = 1; /* ANCOUNT */
	memcpy(q + n, rr, sizeof rr);
	memcpy(q + n + sizeof rr, ip, 4);
	inet_ntop(AF_INET, ip, dotted, sizeof dotted);
	snprintf(want, sizeof want, "tcp://%s:%s", dotted, PORT);
	if (ta_dns_reply_parse(q, n + sizeof rr + 4, 0x1234, PORT, &got) !=
	        TA_OK ||
	    got.n != 1 || strcmp(got.urls[0], want) != 0)
		abort();
out:
	ta_addr_set_fini(&got);
	free(name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size == 0)
		return 0;
	/* An exact-size copy: ASan sees any read past the end. */
	copy = ta_xmalloc(size);
	memcpy(copy, data, size);
	if (copy[0] & 1)
		query(copy + 1, size - 1);
	else
		reply_any(copy + 1, size - 1);
	free(copy);
	return 0;
}
