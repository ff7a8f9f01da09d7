/*
 * Name resolution of a backend URL for the RPC client (discovery.h):
 * literal addresses as they are, names through getaddrinfo, or, with a DNS
 * server given, its A records (dns.c).
 */
#include "discovery.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "alloc.h"
#include "dns.h"

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
