/*
 * Refresh tokens as values (docs/sessions.md): 256 random bits from
 * libsodium written base64url without padding, their BLAKE2b-256 digest
 * (the only form stored), the key of the call that spends one, and the
 * token a spend hands out next, derived so that the same call arriving
 * twice gets the same token. Pure: no SQL, no sockets.
 */
#ifndef TA_AUTH_REFRESH_TOKEN_H
#define TA_AUTH_REFRESH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Characters of a token (43: 32 bytes base64url, no padding) and NUL. */
#define AUTH_REFRESH_CHARS 43
#define AUTH_REFRESH_MAX (AUTH_REFRESH_CHARS + 1)
/* A hex BLAKE2b-256 digest and NUL. */
#define AUTH_REFRESH_HEX 65
/* A family id: 16 random bytes in hex, and NUL. */
#define AUTH_REFRESH_FAMILY 33
/* The derivation key's size. */
#define AUTH_REFRESH_KEY_BYTES 32

/* A fresh token from 32 random bytes. */
void auth_refresh_new(char out[AUTH_REFRESH_MAX]);

/* A fresh family id. */
void auth_refresh_family_new(char out[AUTH_REFRESH_FAMILY]);

/*
 * Whether s has the shape of a token this service issues: exactly 43
 * characters of the base64url alphabet. Anything else is refused before
 * any SQL. s may be NULL.
 */
bool auth_refresh_is_well_formed(const char *s);

/* The hex BLAKE2b-256 of token (NUL-terminated): what the table stores. */
void auth_refresh_hash(const char *token, char out[AUTH_REFRESH_HEX]);

/*
 * The key of one call: a hex digest of its request id, idempotency key
 * and deadline (all from the envelope, borrowed). An nng re-send carries
 * the very same envelope, so it has the same key; another HTTP request
 * has another deadline and request id.
 */
void auth_refresh_call_key(const char *request_id, const char *idempotency_key,
    int64_t deadline_ms, char out[AUTH_REFRESH_HEX]);

/*
 * The token that spending the token whose digest is spent_hash in call
 * call_key hands out: keyed BLAKE2b-256 (key: AUTH_REFRESH_KEY_BYTES
 * bytes, the server's secret) of both, base64url. Unpredictable without
 * the key; the same inputs give the same token.
 */
void auth_refresh_next(const unsigned char *key, const char *spent_hash,
    const char *call_key, char out[AUTH_REFRESH_MAX]);

/* Derives the rotation key from secret (JWT_SECRET) under its own label. */
void auth_refresh_key_derive(
    const char *secret, size_t len, unsigned char out[AUTH_REFRESH_KEY_BYTES]);

#endif
