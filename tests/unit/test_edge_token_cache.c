/*
 * The edge's cache of verified bearer tokens (edge-api/token_cache.h):
 * it answers exactly as ta_jwt_verify would, only faster for a token seen
 * before. Real tokens signed with libjwt (ta_jwt_issue).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "jwt.h"
#include "token_cache.h"

#define SECRET "k3y-for-the-token-cache-test-0123456789"
#define PREVIOUS "old-key-for-the-token-cache-test-9876543210"

static ta_jwt_cfg cfg;

static char *
issue(const char *secret, int64_t iat, int64_t exp, int64_t user_id)
{
	ta_jwt_cfg c = cfg;
	ta_claims claims = {.user_id = user_id,
	    .username = "alice",
	    .email = "alice@example.com",
	    .role = "user",
	    .iat = iat,
	    .exp = exp,
	    .generation = 3};
	char *tok = NULL;

	c.secret = secret;
	c.secret_len = strlen(secret);
	assert_int_equal(ta_jwt_issue(&c, &claims, &tok), TA_OK);
	return tok;
}

static void
expect_ok(edge_token_cache *tc, const char *tok, int64_t now,
    int64_t user_id)
{
	ta_claims out = {0};
	const char *reason = NULL;

	assert_int_equal(
	    edge_token_verify(tc, &cfg, tok, now, &out, &reason), TA_OK);
	assert_int_equal(out.user_id, user_id);
	assert_string_equal(out.username, "alice");
	assert_string_equal(out.email, "alice@example.com");
	assert_string_equal(out.role, "user");
	ta_claims_fini(&out);
}

static void
expect_refused(edge_token_cache *tc, const char *tok, int64_t now,
    const char *want)
{
	ta_claims out = {0};
	const char *reason = NULL;

	assert_int_equal(edge_token_verify(tc, &cfg, tok, now, &out, &reason),
	    TA_UNAUTHENTICATED);
	assert_string_equal(reason, want);
	assert_null(out.username);
}

/* A hit gives the same claims as the first, full verification. */
static void
test_hit_equals_verify(void **state)
{
	edge_token_cache *tc = edge_token_cache_new();
	int64_t now = time(NULL);
	char *tok = issue(SECRET, now, now + 3600, 42);
	ta_claims a = {0}, b = {0};
	const char *reason;

	(void)state;
	assert_int_equal(ta_jwt_verify(&cfg, tok, now, &a, &reason), TA_OK);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
		    edge_token_verify(tc, &cfg, tok, now, &b, &reason), TA_OK);
		assert_int_equal(b.user_id, a.user_id);
		assert_int_equal(b.generation, 3);
		assert_int_equal(b.iat, a.iat);
		assert_int_equal(b.exp, a.exp);
		assert_string_equal(b.username, a.username);
		ta_claims_fini(&b);
	}
	ta_claims_fini(&a);
	free(tok);
	edge_token_cache_free(tc);
}

/* A cached token changed in any byte is verified in full: refused. */
static void
test_altered_token_refused(void **state)
{
	edge_token_cache *tc = edge_token_cache_new();
	int64_t now = time(NULL);
	char *tok = issue(SECRET, now, now + 3600, 7);
	size_t len = strlen(tok);

	(void)state;
	expect_ok(tc, tok, now, 7);
	/* Last signature character, first payload character, and a token
	 * cut short: each is a different token. */
	tok[len - 1] = tok[len - 1] == 'A' ? 'B' : 'A';
	expect_refused(tc, tok, now, "Invalid token");
	expect_refused(tc, tok, now, "Invalid token"); /* never cached */
	free(tok);
	tok = issue(SECRET, now, now + 3600, 7);
	expect_ok(tc, tok, now, 7);
	tok[len - 3] = '\0';
	expect_refused(tc, tok, now, "Invalid token");
	free(tok);
	edge_token_cache_free(tc);
}

/* Served from the cache up to exp + leeway, then "Token has expired". */
static void
test_expiry_as_verify(void **state)
{
	edge_token_cache *tc = edge_token_cache_new();
	int64_t now = time(NULL);
	char *tok = issue(SECRET, now, now + 60, 9);

	(void)state;
	expect_ok(tc, tok, now, 9);
	expect_ok(tc, tok, now + 60 + TA_JWT_LEEWAY_S, 9);
	expect_refused(
	    tc, tok, now + 61 + TA_JWT_LEEWAY_S, "Token has expired");
	/* Dropped on expiry: an earlier clock verifies it in full again. */
	expect_ok(tc, tok, now, 9);
	free(tok);
	edge_token_cache_free(tc);
}

/* Other keys: the previous one verifies, an unknown one never does. */
static void
test_keys(void **state)
{
	edge_token_cache *tc = edge_token_cache_new();
	int64_t now = time(NULL);
	char *old = issue(PREVIOUS, now, now + 3600, 5);
	char *forged = issue("an-attacker-key-that-nobody-configured!!", now,
	    now + 3600, 5);

	(void)state;
	expect_ok(tc, old, now, 5);
	expect_ok(tc, old, now, 5);
	expect_refused(tc, forged, now, "Invalid token");
	expect_refused(tc, forged, now, "Invalid token");
	free(old);
	free(forged);
	edge_token_cache_free(tc);
}

/* More tokens than slots: every one still verifies to its own claims. */
static void
test_more_tokens_than_slots(void **state)
{
	edge_token_cache *tc = edge_token_cache_new();
	int64_t now = time(NULL);
	enum { N = EDGE_TOKEN_CACHE_SLOTS * 2 };
	char **toks = calloc(N, sizeof *toks);

	(void)state;
	for (int i = 0; i < N; i++)
		toks[i] = issue(SECRET, now, now + 3600, i + 1);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < N; i++)
			expect_ok(tc, toks[i], now, i + 1);
	for (int i = 0; i < N; i++)
		free(toks[i]);
	free(toks);
	edge_token_cache_free(tc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hit_equals_verify),
	    cmocka_unit_test(test_altered_token_refused),
	    cmocka_unit_test(test_expiry_as_verify),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_more_tokens_than_slots),
	};

	if (sodium_init() < 0)
		return 1;
	ta_jwt_cfg_init(&cfg, SECRET, PREVIOUS, "taskapi", "taskapi");
	return cmocka_run_group_tests_name("edge_token_cache", tests, NULL, NULL);
}
