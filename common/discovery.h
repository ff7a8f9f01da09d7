/*
 * Service discovery for the RPC client: parses a backend URL list
 * ("tcp://task.taskapi.local:7002,tcp://10.0.0.7:7002"), resolves every
 * host to all of its addresses (getaddrinfo, or A records asked of one DNS
 * server directly) and diffs address sets, so the client keeps one nng
 * dialer per live instance. Parsing and set arithmetic are pure.
 */
#ifndef TA_COMMON_DISCOVERY_H
#define TA_COMMON_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

/* One URL of a backend list. */
typedef struct ta_disc_target {
	char *host;    /* owned; "task.taskapi.local", "10.0.0.7", "::1" */
	char *port;    /* owned; digits */
	char *literal; /* owned; a non-tcp URL (ipc://, inproc://) dialled
	                  as is; host and port are NULL then */
} ta_disc_target;

/* A sorted set of unique dial URLs ("tcp://10.0.0.7:7002", "tcp://[::1]:7"). */
typedef struct ta_addr_set {
	char **urls; /* owned, each owned */
	size_t n;
} ta_addr_set;

/*
 * Parses urls, a comma-separated list (spaces around items allowed) of
 * tcp://host:port (IPv6 hosts in brackets), ipc://... or inproc://...
 * *out (ta_disc_targets_free) and *n are set only on TA_OK.
 * TA_INVALID_ARGUMENT for an empty list or a malformed item.
 */
ta_status ta_disc_parse(const char *urls, ta_disc_target **out, size_t *n);
void ta_disc_targets_free(ta_disc_target *t, size_t n);

/*
 * Parses "ip:port" (IPv4) of a DNS server into addr (4 bytes, network
 * order) and port. TA_INVALID_ARGUMENT when malformed.
 */
ta_status ta_disc_dns_server_parse(
    const char *s, unsigned char addr[4], unsigned short *port);

/* Adds a copy of url, keeping the set sorted and unique. */
void ta_addr_set_add(ta_addr_set *s, const char *url);
bool ta_addr_set_has(const ta_addr_set *s, const char *url);
bool ta_addr_set_equal(const ta_addr_set *a, const ta_addr_set *b);
/* *dst becomes a copy of src (dst's old contents are freed). */
void ta_addr_set_copy(ta_addr_set *dst, const ta_addr_set *src);
void ta_addr_set_fini(ta_addr_set *s);

/*
 * added gets the URLs of want not in have; removed those of have not in
 * want. Both must be empty (zeroed) on entry; the caller finis them.
 */
void ta_addr_set_diff(const ta_addr_set *have, const ta_addr_set *want,
    ta_addr_set *added, ta_addr_set *removed);

/*
 * Adds "tcp://ip:port" ("tcp://[ip6]:port") for the address a of family
 * (AF_INET: 4 bytes, AF_INET6: 16, network order).
 */
void ta_addr_set_add_ip(
    ta_addr_set *out, int family, const void *a, const char *port);

/* "a,b,c" as a heap string the caller free()s; "" for an empty set. */
char *ta_addr_set_join(const ta_addr_set *s);

/*
 * Adds the dial URL of every address of t to out: the URL itself for a
 * literal, the host itself for an IP address, else every A/AAAA address
 * from getaddrinfo; or, when dns_server ("ip:port") is not NULL, every A
 * record from a query sent to that server alone (ta_dns_resolve_a: no
 * search list, no cache; a truncated or malformed reply counts as none). Blocks for the lookup. TA_UNAVAILABLE (out unchanged)
 * when the name does not resolve or has no address.
 */
ta_status ta_disc_resolve(
    const ta_disc_target *t, const char *dns_server, ta_addr_set *out);

#endif
