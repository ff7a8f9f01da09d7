/*
 * A records asked of one DNS server directly: a hand-built UDP query and
 * its reply's parser. glibc's res_state lets a caller replace
 * nsaddr_list, but IPv6 servers from resolv.conf live in private fields
 * that still win, so the override is not reliable there. A reply is used
 * whole or not at all.
 */
#include "dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#define DNS_TIMEOUT_MS 1000
#define DNS_TRIES 2
#define DNS_MAX_PACKET 1500

size_t
ta_dns_query_build(const char *name, uint16_t id, uint8_t *q, size_t cap)
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

ta_status
ta_dns_reply_parse(const uint8_t *m, size_t len, uint16_t id, const char *port,
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
			ta_addr_set_add_ip(&mine, AF_INET, m + at, port);
		at += rdlen; /* CNAMEs are skipped: their A records follow */
	}
	for (size_t i = 0; i < mine.n; i++)
		ta_addr_set_add(got, mine.urls[i]);
	status = TA_OK;
out:
	ta_addr_set_fini(&mine);
	return status;
}

ta_status
ta_dns_resolve_a(
    const char *host, const char *port, const char *server, ta_addr_set *out)
{
	struct sockaddr_in sa;
	unsigned short server_port;
	uint8_t q[512], r[DNS_MAX_PACKET];
	ta_addr_set got = {0};
	ta_status status = TA_UNAVAILABLE;
	uint16_t id;
	size_t qlen;
	int fd;

	memset(&sa, 0, sizeof sa);
	if (ta_disc_dns_server_parse(
	        server, (unsigned char *)&sa.sin_addr, &server_port) != TA_OK)
		return TA_INVALID_ARGUMENT;
	sa.sin_family = AF_INET;
	sa.sin_port = htons(server_port);
	randombytes_buf(&id, sizeof id);
	if ((qlen = ta_dns_query_build(host, id, q, sizeof q)) == 0)
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
			if (ta_dns_reply_parse(r, (size_t)n, id, port, &got) ==
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
