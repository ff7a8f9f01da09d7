/*
 * The front's listening socket (listen.h): the address parsed from
 * HTTP_LISTEN_ADDRESS, dual stack on "::" with a fallback to IPv4 where
 * the kernel has no IPv6.
 */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client_addr.h"
#include "log.h"

#define BACKLOG 4096

ta_status
edge_listen_parse(
    const char *text, edge_listen_addr *out, char *err, size_t errcap)
{
	edge_listen_addr a = {0};
	struct sockaddr_in *v4 = (struct sockaddr_in *)&a.ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a.ss;

	if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		a.len = sizeof *v4;
	} else if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		a.len = sizeof *v6;
		edge_addr_unmap(&a.ss, &a.len);
	} else {
		snprintf(err, errcap,
		    "HTTP_LISTEN_ADDRESS: %.60s is not a literal IPv4 or IPv6 "
		    "address",
		    text);
		return TA_INVALID_ARGUMENT;
	}
	*out = a;
	return TA_OK;
}

/* One listening socket on a with port; -1 with errno set. */
static int
open_one(const edge_listen_addr *a, long port)
{
	struct sockaddr_storage ss = a->ss;
	int one = 1, zero = 0, fd, e;

	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	/* Dual stack whatever net.ipv6.bindv6only says (ipv6(7)). */
	if ((ss.ss_family == AF_INET6 &&
	        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) !=
	            0) ||
	    bind(fd, (struct sockaddr *)&ss, a->len) != 0 ||
	    listen(fd, BACKLOG) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static bool
is_any6(const edge_listen_addr *a)
{
	return a->ss.ss_family == AF_INET6 &&
	       IN6_IS_ADDR_UNSPECIFIED(
	           &((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
}

ta_status
edge_listen_open(const edge_listen_addr *a, long port, int *fd)
{
	edge_listen_addr v4any = {.len = sizeof(struct sockaddr_in)};
	char text[EDGE_ADDR_MAX];
	int got = open_one(a, port);

	if (got < 0 && is_any6(a) &&
	    (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)) {
		ta_log(TA_LOG_INFO, "http_listen_ipv4_only",
		    "no IPv6 here: listening on 0.0.0.0 (IPv4 only)",
		    TA_S("error", strerror(errno)));
		((struct sockaddr_in *)&v4any.ss)->sin_family = AF_INET;
		a = &v4any;
		got = open_one(a, port);
	}
	if (got < 0) {
		int e = errno;

		edge_addr_text((const struct sockaddr *)&a->ss, text);
		ta_log(TA_LOG_ERROR, "http_listen_failed",
		    "cannot listen on the HTTP address and port",
		    TA_S("address", text), TA_I("port", port),
		    TA_S("error", strerror(e)));
		return TA_UNAVAILABLE;
	}
	*fd = got;
	return TA_OK;
}
