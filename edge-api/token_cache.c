/*
 * The edge's cache of verified bearer tokens (token_cache.h).
 */
#include "token_cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"

#define STRIPES 64

typedef struct entry {
	bool is_used;
	uint8_t digest[crypto_generichash_BYTES];
	ta_claims claims; /* owned strings */
} entry;

struct edge_token_cache {
	uint8_t key[crypto_generichash_KEYBYTES];
	pthread_mutex_t mu[STRIPES];
	entry slots[EDGE_TOKEN_CACHE_SLOTS];
};

edge_token_cache *
edge_token_cache_new(void)
{
	edge_token_cache *c = ta_xcalloc(1, sizeof *c);

	randombytes_buf(c->key, sizeof c->key);
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&c->mu[i], NULL);
	return c;
}

void
edge_token_cache_free(edge_token_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < EDGE_TOKEN_CACHE_SLOTS; i++)
		ta_claims_fini(&c->slots[i].claims);
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&c->mu[i]);
	sodium_memzero(c->key, sizeof c->key);
	free(c);
}

static char *
dup_or_null(const char *s)
{
	return s ? ta_xstrdup(s) : NULL;
}

/* A copy of claims with its own strings. */
static ta_claims
claims_copy(const ta_claims *from)
{
	ta_claims to = *from;

	to.username = dup_or_null(from->username);
	to.email = dup_or_null(from->email);
	to.role = dup_or_null(from->role);
	return to;
}

/* Whether a verified token with this exp still verifies at now. */
static bool
is_live(const ta_claims *claims, int64_t now)
{
	return now <= claims->exp + TA_JWT_LEEWAY_S;
}

ta_status
edge_token_verify(edge_token_cache *c, const ta_jwt_cfg *cfg,
    const char *token, int64_t now, ta_claims *out, const char **reason)
{
	uint8_t digest[crypto_generichash_BYTES];
	size_t slot;
	pthread_mutex_t *mu;
	entry *e;
	ta_status st;
	bool is_hit = false;

	crypto_generichash(digest, sizeof digest, (const uint8_t *)token,
	    strlen(token), c->key, sizeof c->key);
	memcpy(&slot, digest, sizeof slot);
	slot %= EDGE_TOKEN_CACHE_SLOTS;
	e = &c->slots[slot];
	mu = &c->mu[slot % STRIPES];

	pthread_mutex_lock(mu);
	if (e->is_used &&
	    sodium_memcmp(e->digest, digest, sizeof digest) == 0) {
		if (is_live(&e->claims, now)) {
			*out = claims_copy(&e->claims);
			is_hit = true;
		} else {
			/* Expired: the full check says so (and why). */
			ta_claims_fini(&e->claims);
			e->is_used = false;
		}
	}
	pthread_mutex_unlock(mu);
	if (is_hit)
		return TA_OK;

	if ((st = ta_jwt_verify(cfg, token, now, out, reason)) != TA_OK)
		return st;
	pthread_mutex_lock(mu);
	ta_claims_fini(&e->claims);
	e->claims = claims_copy(out);
	memcpy(e->digest, digest, sizeof digest);
	e->is_used = true;
	pthread_mutex_unlock(mu);
	return TA_OK;
}
