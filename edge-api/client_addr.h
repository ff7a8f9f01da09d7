/*
 * The client's address of a request: the TCP peer, or, when the peer is a
 * trusted proxy (TRUSTED_PROXIES), the right-most X-Forwarded-For entry
 * that is not itself a trusted proxy. Pure: no sockets, no allocation.
 */
#ifndef EDGE_API_CLIENT_ADDR_H
#define EDGE_API_CLIENT_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include <sys/socket.h>

#include "conn_limits.h"

/* Room for any address text written here, NUL included. */
#define EDGE_ADDR_MAX 46

/* X-Forwarded-For entries looked at, at most (right to left). */
#define EDGE_XFF_MAX_HOPS 32

/*
 * Parses one address: dotted IPv4, or IPv6 bare or in brackets, without a
 * port, n bytes of s (not NUL-terminated). false for anything else.
 */
bool edge_addr_parse(const char *s, size_t n, struct sockaddr_storage *out);

/*
 * Writes sa as text into out ("203.0.113.7", "2001:db8::1"; a v4-mapped
 * IPv6 address as IPv4); "" for another family.
 */
void edge_addr_text(const struct sockaddr *sa, char out[EDGE_ADDR_MAX]);

/*
 * Rewrites a v4-mapped IPv6 address (::ffff:a.b.c.d, how a dual-stack
 * listener sees IPv4 peers) in place as the plain AF_INET address with
 * the same port, and *len to its size. Returns whether it did; any other
 * address is left as it is.
 */
bool edge_addr_unmap(struct sockaddr_storage *ss, socklen_t *len);

/*
 * The client address of a request from peer with X-Forwarded-For xff
 * (NULL: none), into out. Only a peer in trusted is believed: walking xff
 * from the right, trusted entries are skipped and the first untrusted one
 * is the client; when all are trusted, the left-most is. An entry that
 * does not parse before the client is found, an empty list, or more than
 * EDGE_XFF_MAX_HOPS entries to walk make the peer the client.
 */
void edge_client_addr(const struct sockaddr *peer, const char *xff,
    const edge_cidrs *trusted, char out[EDGE_ADDR_MAX]);

#endif
