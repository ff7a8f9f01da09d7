/*
 * Micro-benchmark of the edge's bearer-token check: thread CPU
 * microseconds per call of ta_jwt_verify (libjwt: base64, JSON claims,
 * HS256) and of edge_token_verify on a token it has seen (edge-api/
 * token_cache.c: a keyed BLAKE2b of the token and a table lookup), the
 * cost every authenticated request pays. Best of 5 rounds of 100,000
 * calls each. Build and run from the repository root after
 * scripts/build.sh build:
 *
 *   cc -O2 -Iedge-api -Icommon bench/token_cache_bench.c \
 *       edge-api/token_cache.c build/common/libta_jwt.a \
 *       build/common/libta_core.a -ljwt -lcjson -lsodium -lcrypto \
 *       -lpthread -o build/token_cache_bench && build/token_cache_bench
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "jwt.h"
#include "token_cache.h"

#define ROUNDS 5
#define CALLS 100000

static double
cpu_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* Best round's microseconds per call of one of the two checks. */
static double
best_us(edge_token_cache *tc, const ta_jwt_cfg *cfg, const char *tok)
{
	double best = 1e300;

	for (int r = 0; r < ROUNDS; r++) {
		double t0 = cpu_us(), us;

		for (int i = 0; i < CALLS; i++) {
			ta_claims o = {0};
			const char *reason;
			ta_status st = tc ? edge_token_verify(tc, cfg, tok,
			                        time(NULL), &o, &reason)
			                  : ta_jwt_verify(cfg, tok, time(NULL),
			                        &o, &reason);

			if (st != TA_OK) {
				fprintf(stderr, "token refused: %s\n", reason);
				exit(1);
			}
			ta_claims_fini(&o);
		}
		us = (cpu_us() - t0) / CALLS;
		if (us < best)
			best = us;
	}
	return best;
}

int
main(void)
{
	const char *secret = "bench-secret-0123456789-abcdefghijklmnop";
	ta_jwt_cfg cfg;
	ta_claims c = {.user_id = 42,
	    .username = "alice",
	    .email = "alice@example.com",
	    .role = "user",
	    .iat = time(NULL),
	    .exp = time(NULL) + 3600};
	edge_token_cache *tc;
	char *tok;

	if (sodium_init() < 0)
		return 1;
	ta_jwt_cfg_init(&cfg, secret, NULL, "taskapi", "taskapi");
	if (ta_jwt_issue(&cfg, &c, &tok) != TA_OK)
		return 1;
	tc = edge_token_cache_new();
	printf("{\"token_bytes\": %zu, \"ta_jwt_verify_us\": %.2f, "
	       "\"cached_us\": %.2f}\n",
	    strlen(tok), best_us(NULL, &cfg, tok), best_us(tc, &cfg, tok));
	edge_token_cache_free(tc);
	free(tok);
	return 0;
}
