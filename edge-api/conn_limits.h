/*
 * Connection limits of the edge's front: the file-descriptor budget, the
 * trusted proxies (TRUSTED_PROXIES, a CIDR list) and the open connections
 * per client address (HTTP_PER_IP_LIMIT).
 */
#ifndef EDGE_API_CONN_LIMITS_H
#define EDGE_API_CONN_LIMITS_H

#include <stdbool.h>
#include <stddef.h>

#include <sys/socket.h>

#include "status.h"

/*
 * Raises RLIMIT_NOFILE's soft limit to its hard limit and returns the
 * soft limit now in force.
 */
long edge_limits_raise_nofile(void);

/*
 * The most client connections nofile descriptors carry: each costs three
 * (the client's socket and the pair to libmicrohttpd), and a reserve stays
 * for the listener, nng, logs and PostgreSQL-free housekeeping.
 */
long edge_limits_connections_for(long nofile);

typedef struct edge_cidrs edge_cidrs;

/*
 * Parses a comma-separated list of IPv4 or IPv6 CIDRs ("10.0.0.0/24,
 * fd00::/8"; a bare address is a /32 or /128). TA_INVALID_ARGUMENT with a
 * one-line reason in err for a bad item; "" gives an empty list.
 */
ta_status edge_cidrs_parse(
    const char *list, edge_cidrs **out, char *err, size_t errcap);
void edge_cidrs_free(edge_cidrs *c);

/* Whether sa (AF_INET or AF_INET6; v4-mapped v6 counts as v4) is listed. */
bool edge_cidrs_contain(const edge_cidrs *c, const struct sockaddr *sa);

typedef struct edge_ip_table edge_ip_table;

/* Counts open connections per address; thread-safe. */
edge_ip_table *edge_ip_table_new(void);
void edge_ip_table_free(edge_ip_table *t);

/*
 * Adds one connection of sa unless that address already holds limit
 * (false then, nothing counted). Every true is paired with one
 * edge_ip_table_release of the same address.
 */
bool edge_ip_table_acquire(
    edge_ip_table *t, const struct sockaddr *sa, long limit);
void edge_ip_table_release(edge_ip_table *t, const struct sockaddr *sa);

#endif
