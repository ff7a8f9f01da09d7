/*
 * Which routes create (and so need an idempotency key), and the key each
 * such call carries: the client's Idempotency-Key or a random one. Pure.
 */
#ifndef EDGE_API_IDEMPOTENCY_H
#define EDGE_API_IDEMPOTENCY_H

#include <stdbool.h>

#include "idem_key.h"
#include "routes.h"

/* One limit end to end: workers refuse longer keys too. */
#define EDGE_IDEMPOTENCY_KEY_MAX TA_IDEM_KEY_MAX

/* Whether running rt's RPC twice is harmless (it does not create). */
bool edge_route_is_idempotent(const edge_resolved_route *rt);

/* Whether k is 1..EDGE_IDEMPOTENCY_KEY_MAX characters of [A-Za-z0-9._:-]. */
bool edge_idempotency_key_is_valid(const char *k);

/*
 * Writes the key of a creating call into buf (EDGE_IDEMPOTENCY_KEY_MAX + 1
 * bytes): header (the client's Idempotency-Key, may be NULL) when given,
 * else 32 random hex characters. false (buf untouched) when the client's
 * key is malformed.
 */
bool edge_idempotency_key_pick(const char *header, char *buf);

#endif
