/*
 * The front's listening socket (HTTP_LISTEN_ADDRESS): a literal IPv4 or
 * IPv6 address. "::" is dual stack: one AF_INET6 socket with IPV6_V6ONLY
 * off, on which IPv4 clients arrive as v4-mapped addresses
 * (::ffff:a.b.c.d; the front rewrites them as IPv4 at accept,
 * edge_addr_unmap). "0.0.0.0" is IPv4 only; any other address listens on
 * that address only.
 */
#ifndef EDGE_API_LISTEN_H
#define EDGE_API_LISTEN_H

#include <stddef.h>

#include <sys/socket.h>

#include "status.h"

/* Where to listen, the port apart. */
typedef struct edge_listen_addr {
	struct sockaddr_storage ss; /* AF_INET or AF_INET6, port 0 */
	socklen_t len;
} edge_listen_addr;

/*
 * Parses text, a literal address without brackets, port or scope
 * ("::", "0.0.0.0", "::1", "10.0.0.5"); a v4-mapped IPv6 address is
 * taken as its IPv4 address. Pure. TA_INVALID_ARGUMENT with a one-line
 * reason naming HTTP_LISTEN_ADDRESS in err for anything else (host
 * names, "1.2.3", "::g").
 */
ta_status edge_listen_parse(
    const char *text, edge_listen_addr *out, char *err, size_t errcap);

/*
 * Opens a non-blocking listening TCP socket on a and port into *fd.
 * When a is "::" and the kernel has no IPv6 (socket gives EAFNOSUPPORT,
 * or bind EADDRNOTAVAIL), it listens on 0.0.0.0 instead and logs that at
 * info. TA_UNAVAILABLE (logged) when the address cannot be bound.
 */
ta_status edge_listen_open(const edge_listen_addr *a, long port, int *fd);

#endif
