/*
 * Bearer tokens the edge has verified, remembered until they expire, so a
 * client sending the same token on every request pays for its HS256
 * signature, base64 and JSON claims once (ta_jwt_verify: ~10 us) instead
 * of on every request (a hit: ~1 us).
 *
 * Design notes.
 * - What is cached: only successes, under a keyed BLAKE2b-256 digest of
 *   the exact token bytes (key random per process), with the claims they
 *   verified to. A token differing in any byte is another digest and is
 *   verified in full; failures are never remembered, so a rejected token
 *   is rejected by ta_jwt_verify every time with its own reason.
 * - Expiry: a hit is served only while exp + TA_JWT_LEEWAY_S has not
 *   passed, exactly ta_jwt_verify's rule; after that the entry is dropped
 *   and the full check answers "Token has expired". Nothing else in a
 *   verification changes with time (iat and nbf only become valid), and
 *   the keys are fixed for the process's life. Revocation (ended sessions)
 *   is checked after this, on every request, cached or not.
 * - Memory: a fixed table of EDGE_TOKEN_CACHE_SLOTS entries, direct-mapped
 *   by digest (a new token replaces the slot's old one): at most that many
 *   claim sets (three short strings each) live at once.
 * - Threads: any thread; a mutex per stripe of slots.
 */
#ifndef EDGE_API_TOKEN_CACHE_H
#define EDGE_API_TOKEN_CACHE_H

#include <stdint.h>

#include "jwt.h"
#include "status.h"

#define EDGE_TOKEN_CACHE_SLOTS 1024

typedef struct edge_token_cache edge_token_cache;

edge_token_cache *edge_token_cache_new(void);
void edge_token_cache_free(edge_token_cache *c);

/*
 * ta_jwt_verify's contract (jwt.h) for token at now (unix seconds), from
 * the cache when this exact token verified before and has not expired.
 * On TA_OK *out holds copies (the caller finis it).
 */
ta_status edge_token_verify(edge_token_cache *c, const ta_jwt_cfg *cfg,
    const char *token, int64_t now, ta_claims *out, const char **reason);

#endif
