/*
 * The A records of a name, asked of one DNS server directly (the
 * RPC_DNS_SERVER setting of discovery): one UDP query, DNS_TIMEOUT_MS
 * per try, two tries, no cache, no search list, no TCP retry.
 */
#ifndef TA_COMMON_DNS_H
#define TA_COMMON_DNS_H

#include <stddef.h>
#include <stdint.h>

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

/*
 * The two halves of the exchange, pure (unit and fuzz tests call them):
 * a standard query for name (type A, class IN, id) written to q (cap
 * bytes); its length, or 0 when a label is empty or over 63 bytes or the
 * query does not fit.
 */
size_t ta_dns_query_build(const char *name, uint16_t id, uint8_t *q,
    size_t cap);

/*
 * Adds "tcp://<a>:<port>" to got for each A record of the reply m[0..len),
 * all or none: TA_UNAVAILABLE (got unchanged) when m does not answer query
 * id, reports an error, is truncated (TC), or is malformed anywhere, even
 * after some records read well.
 */
ta_status ta_dns_reply_parse(const uint8_t *m, size_t len, uint16_t id,
    const char *port, ta_addr_set *got);

#endif
