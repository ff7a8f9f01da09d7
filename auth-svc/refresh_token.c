/* Refresh token values, digests and derivations (refresh_token.h). */
#include "refresh_token.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

/* Labels keep each digest apart from every other use of the secret. */
#define KEY_LABEL "taskapi.v1 refresh token rotation"

static void
to_text(const unsigned char bin[32], char out[AUTH_REFRESH_MAX])
{
	sodium_bin2base64(out, AUTH_REFRESH_MAX, bin, 32,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void
auth_refresh_new(char out[AUTH_REFRESH_MAX])
{
	unsigned char bin[32];

	randombytes_buf(bin, sizeof bin);
	to_text(bin, out);
	sodium_memzero(bin, sizeof bin);
}

void
auth_refresh_family_new(char out[AUTH_REFRESH_FAMILY])
{
	unsigned char bin[16];

	randombytes_buf(bin, sizeof bin);
	sodium_bin2hex(out, AUTH_REFRESH_FAMILY, bin, sizeof bin);
}

bool
auth_refresh_is_well_formed(const char *s)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                               "abcdefghijklmnopqrstuvwxyz0123456789-_";

	return s && strnlen(s, AUTH_REFRESH_MAX) == AUTH_REFRESH_CHARS &&
	       strspn(s, alphabet) == AUTH_REFRESH_CHARS;
}

static void
hex_of(const unsigned char *key, size_t keylen, const void *msg, size_t len,
    char out[AUTH_REFRESH_HEX])
{
	unsigned char d[32];

	crypto_generichash(d, sizeof d, msg, len, key, keylen);
	sodium_bin2hex(out, AUTH_REFRESH_HEX, d, sizeof d);
}

void
auth_refresh_hash(const char *token, char out[AUTH_REFRESH_HEX])
{
	hex_of(NULL, 0, token, strlen(token), out);
}

void
auth_refresh_call_key(const char *request_id, const char *idempotency_key,
    int64_t deadline_ms, char out[AUTH_REFRESH_HEX])
{
	crypto_generichash_state st;
	unsigned char d[32];
	char ms[24];

	/* Lengths in front: "ab"+"c" and "a"+"bc" differ. */
	snprintf(ms, sizeof ms, "%" PRId64, deadline_ms);
	crypto_generichash_init(&st, NULL, 0, sizeof d);
	const char *parts[] = {request_id, idempotency_key, ms};
	for (size_t i = 0; i < 3; i++) {
		uint64_t n = strlen(parts[i]);

		crypto_generichash_update(
		    &st, (const unsigned char *)&n, sizeof n);
		crypto_generichash_update(
		    &st, (const unsigned char *)parts[i], n);
	}
	crypto_generichash_final(&st, d, sizeof d);
	sodium_bin2hex(out, AUTH_REFRESH_HEX, d, sizeof d);
}

void
auth_refresh_next(const unsigned char *key, const char *spent_hash,
    const char *call_key, char out[AUTH_REFRESH_MAX])
{
	unsigned char d[32];
	char msg[2 * AUTH_REFRESH_HEX];

	snprintf(msg, sizeof msg, "%s|%s", spent_hash, call_key);
	crypto_generichash(d, sizeof d, (const unsigned char *)msg, strlen(msg),
	    key, AUTH_REFRESH_KEY_BYTES);
	to_text(d, out);
	sodium_memzero(d, sizeof d);
}

void
auth_refresh_key_derive(
    const char *secret, size_t len, unsigned char out[AUTH_REFRESH_KEY_BYTES])
{
	crypto_generichash(out, AUTH_REFRESH_KEY_BYTES,
	    (const unsigned char *)secret, len,
	    (const unsigned char *)KEY_LABEL, sizeof KEY_LABEL - 1);
}
