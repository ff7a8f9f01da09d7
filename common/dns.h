/*
 * The A records of a name, asked of one DNS server directly (the
 * RPC_DNS_SERVER setting of discovery): one UDP query, DNS_TIMEOUT_MS
 * per try, two tries, no cache, no search list, no TCP retry.
 */
#ifndef TA_COMMON_DNS_H
#define TA_COMMON_DNS_H

#include "discovery.h"
#include "status.h"

/*
 * Adds "tcp://<a>:<port>" to out for every A record of host that server
 * ("ip:port", IPv4) answers. Blocks for the lookup. A reply counts only
 * when it answers this query (id), is not truncated (TC) and parses to
 * its end; then all its addresses are added, else none. TA_UNAVAILABLE
 * (out unchanged) when no such reply comes or it holds no address,
 * TA_INVALID_ARGUMENT for a malformed server.
 */
ta_status ta_dns_resolve_a(
    const char *host, const char *port, const char *server, ta_addr_set *out);

#endif
