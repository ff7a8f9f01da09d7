/*
 * Unit tests of common/jwt.h: round trip, and every way a token must be
 * refused (wrong key, tampering, alg none, other HMAC algorithms, expiry,
 * missing or mistyped claims, garbage, oversize).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jwt.h>
#include <sodium.h>

#include "jwt.h"

static const char SECRET[] = "0123456789abcdef0123456789abcdef-unit-secret";
static const char OTHER[] = "fedcba9876543210fedcba9876543210-other-secret";

#define NOW ((int64_t)1700000000)

static char *
issue(const char *secret, int64_t user_id, int64_t iat, int64_t exp)
{
	ta_claims c = {.user_id = user_id,
	    .username = "alice",
	    .email = "alice@example.com",
	    .role = "admin",
	    .iat = iat,
	    .exp = exp};
	char *tok = NULL;

	assert_int_equal(ta_jwt_issue(secret, strlen(secret), &c, &tok), TA_OK);
	assert_non_null(tok);
	return tok;
}

/* Verifies against SECRET at NOW; returns the status, *reason set. */
static ta_status
verify(const char *tok, const char **reason)
{
	ta_claims c = {0};
	ta_status st =
	    ta_jwt_verify(SECRET, strlen(SECRET), tok, NOW, &c, reason);

	if (st == TA_OK)
		ta_claims_fini(&c);
	return st;
}

static void
assert_invalid(const char *tok)
{
	const char *reason = NULL;

	assert_int_equal(verify(tok, &reason), TA_UNAUTHENTICATED);
	assert_string_equal(reason, "Invalid token");
}

/* A token made by libjwt with alg and the grants of json (no checks). */
static char *
libjwt_token(jwt_alg_t alg, const char *secret, const char *json)
{
	jwt_t *j = NULL;
	char *tok;

	assert_int_equal(jwt_new(&j), 0);
	assert_int_equal(jwt_add_grants_json(j, json), 0);
	assert_int_equal(jwt_set_alg(j, alg, (const unsigned char *)secret,
	                     (int)strlen(secret)),
	    0);
	tok = jwt_encode_str(j);
	assert_non_null(tok);
	jwt_free(j);
	return tok;
}

static char *
b64url(const char *s)
{
	size_t cap = sodium_base64_ENCODED_LEN(
	    strlen(s), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = malloc(cap);

	assert_non_null(out);
	sodium_bin2base64(out, cap, (const unsigned char *)s, strlen(s),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

static void
test_round_trip(void **state)
{
	(void)state;
	char *tok = issue(SECRET, 42, NOW - 10, NOW + 3600);
	ta_claims c = {0};
	const char *reason = "unset";

	assert_int_equal(
	    ta_jwt_verify(SECRET, strlen(SECRET), tok, NOW, &c, &reason),
	    TA_OK);
	assert_int_equal(c.user_id, 42);
	assert_string_equal(c.username, "alice");
	assert_string_equal(c.email, "alice@example.com");
	assert_string_equal(c.role, "admin");
	assert_int_equal(c.iat, NOW - 10);
	assert_int_equal(c.exp, NOW + 3600);
	assert_int_equal(c.exp - c.iat, 3610);
	ta_claims_fini(&c);
	assert_null(c.username);
	/* Three segments, header says HS256. */
	assert_non_null(strchr(tok, '.'));
	assert_non_null(strchr(strchr(tok, '.') + 1, '.'));
	free(tok);
}

static void
test_large_user_id_and_role_default(void **state)
{
	(void)state;
	/* No role claim: "user". user_id beyond 32 bits survives. */
	char *tok = libjwt_token(JWT_ALG_HS256, SECRET,
	    "{\"user_id\":8589934597,\"username\":\"bob\","
	    "\"email\":\"b@x.io\",\"iat\":1699999000,\"exp\":1700003600}");
	ta_claims c = {0};
	const char *reason;

	assert_int_equal(
	    ta_jwt_verify(SECRET, strlen(SECRET), tok, NOW, &c, &reason),
	    TA_OK);
	assert_int_equal(c.user_id, INT64_C(8589934597));
	assert_string_equal(c.role, "user");
	ta_claims_fini(&c);
	free(tok);
}

static void
test_wrong_secret(void **state)
{
	(void)state;
	char *tok = issue(OTHER, 42, NOW, NOW + 3600);

	assert_invalid(tok);
	free(tok);
}

static void
test_tampered_payload(void **state)
{
	(void)state;
	char *tok = issue(SECRET, 42, NOW, NOW + 3600);
	char *dot1 = strchr(tok, '.');
	char *dot2 = strchr(dot1 + 1, '.');
	char *mid = dot1 + 1 + (dot2 - dot1 - 1) / 2;

	*mid = *mid == 'A' ? 'B' : 'A';
	assert_invalid(tok);
	free(tok);
}

static void
test_tampered_signature(void **state)
{
	(void)state;
	char *tok = issue(SECRET, 42, NOW, NOW + 3600);
	char *last = tok + strlen(tok) - 2;

	*last = *last == 'A' ? 'B' : 'A';
	assert_invalid(tok);
	free(tok);
}

static void
test_alg_none(void **state)
{
	(void)state;
	char *h = b64url("{\"alg\":\"none\",\"typ\":\"JWT\"}");
	char *p = b64url("{\"user_id\":1,\"username\":\"root\",\"email\":"
	                 "\"r@x.io\",\"role\":\"admin\",\"iat\":1699999999,"
	                 "\"exp\":1800000000}");
	char tok[1024];

	snprintf(tok, sizeof tok, "%s.%s.", h, p);
	assert_invalid(tok);
	/* With a junk signature too. */
	snprintf(tok, sizeof tok, "%s.%s.c2lnbmF0dXJl", h, p);
	assert_invalid(tok);
	/* Without the trailing dot. */
	snprintf(tok, sizeof tok, "%s.%s", h, p);
	assert_invalid(tok);
	free(h);
	free(p);
}

static void
test_other_hmac_algs_refused(void **state)
{
	(void)state;
	const char *claims = "{\"user_id\":1,\"username\":\"a\",\"email\":"
	                     "\"a@x.io\",\"iat\":1699999999,"
	                     "\"exp\":1800000000}";
	char *t384 = libjwt_token(JWT_ALG_HS384, SECRET, claims);
	char *t512 = libjwt_token(JWT_ALG_HS512, SECRET, claims);
	char *t256 = libjwt_token(JWT_ALG_HS256, SECRET, claims);
	const char *reason;

	/* The same claims under HS256 pass: only the algorithm differs. */
	assert_int_equal(verify(t256, &reason), TA_OK);
	assert_invalid(t384);
	assert_invalid(t512);
	free(t256);
	free(t384);
	free(t512);
}

static void
test_expired(void **state)
{
	(void)state;
	char *tok = issue(SECRET, 42, NOW - 7200, NOW - 3600);
	char *edge = issue(SECRET, 42, NOW - 3600, NOW); // exp == now
	const char *reason = NULL;

	assert_int_equal(verify(tok, &reason), TA_UNAUTHENTICATED);
	assert_string_equal(reason, "Token has expired");
	assert_int_equal(verify(edge, &reason), TA_UNAUTHENTICATED);
	assert_string_equal(reason, "Token has expired");
	free(tok);
	free(edge);
}

static void
test_expired_and_bad_signature(void **state)
{
	(void)state;
	char *tok = issue(OTHER, 42, NOW - 7200, NOW - 3600);

	assert_invalid(tok);
	free(tok);
}

static void
test_missing_or_mistyped_claims(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "{\"user_id\":1,\"username\":\"a\",\"email\":\"a@x.io\"}",
	    "{\"user_id\":1,\"exp\":\"1800000000\"}",
	    "{\"user_id\":1,\"exp\":1800000000.5}",
	    "{\"user_id\":1,\"exp\":null}",
	    "{\"user_id\":1,\"exp\":true}",
	    "{\"username\":\"a\",\"exp\":1800000000}",
	    "{\"user_id\":0,\"exp\":1800000000}",
	    "{\"user_id\":-5,\"exp\":1800000000}",
	    "{\"user_id\":\"7\",\"exp\":1800000000}",
	    "{\"user_id\":{\"a\":1},\"exp\":1800000000}",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *tok = libjwt_token(JWT_ALG_HS256, SECRET, bad[i]);

		assert_invalid(tok);
		free(tok);
	}
}

static void
test_garbage(void **state)
{
	(void)state;
	static const char *const junk[] = {"", "abc", ".", "..", "...", "a.b.c",
	    "a.b.c.d", "Bearer x", "eyJhbGciOiJIUzI1NiJ9..",
	    "eyJhbGciOiJIUzI1NiJ9.e30.", "\xff\xfe.\x01.\x02",
	    "====.====.===="};
	const char *reason = NULL;
	ta_claims c = {0};

	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
		assert_invalid(junk[i]);
	assert_int_equal(
	    ta_jwt_verify(SECRET, strlen(SECRET), NULL, NOW, &c, &reason),
	    TA_UNAUTHENTICATED);
	assert_string_equal(reason, "Invalid token");
}

static void
test_null_or_empty_key(void **state)
{
	(void)state;
	char *tok = issue(SECRET, 42, NOW, NOW + 3600);
	const char *reason = NULL;
	ta_claims c = {0};

	/* libjwt would accept this token unverified with a NULL key. */
	assert_int_equal(
	    ta_jwt_verify(NULL, 0, tok, NOW, &c, &reason), TA_UNAUTHENTICATED);
	assert_string_equal(reason, "Invalid token");
	assert_int_equal(ta_jwt_verify(SECRET, 0, tok, NOW, &c, &reason),
	    TA_UNAUTHENTICATED);
	free(tok);
}

static void
test_huge_token(void **state)
{
	(void)state;
	/* A valid signature over a payload that makes the token > 8 KiB. */
	size_t n = 9000;
	char *json = malloc(n + 128);
	char *tok;

	assert_non_null(json);
	strcpy(json, "{\"user_id\":1,\"exp\":1800000000,\"pad\":\"");
	memset(json + strlen(json), 'x', n);
	strcpy(
	    json + strlen("{\"user_id\":1,\"exp\":1800000000,\"pad\":\"") + n,
	    "\"}");
	tok = libjwt_token(JWT_ALG_HS256, SECRET, json);
	assert_true(strlen(tok) > 8192);
	assert_invalid(tok);
	free(tok);
	free(json);

	/* And plain junk of 1 MiB. */
	char *big = malloc(1u << 20);

	assert_non_null(big);
	memset(big, 'a', (1u << 20) - 1);
	big[(1u << 20) - 1] = '\0';
	big[1000] = '.';
	big[2000] = '.';
	assert_invalid(big);
	free(big);
}

static void
test_trailing_bytes(void **state)
{
	(void)state;
	char *tok = issue(SECRET, 42, NOW, NOW + 3600);
	size_t n = strlen(tok);
	char *longer = malloc(n + 3);

	assert_non_null(longer);
	memcpy(longer, tok, n);
	strcpy(longer + n, "AA");
	assert_invalid(longer);
	free(longer);
	free(tok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_large_user_id_and_role_default),
	    cmocka_unit_test(test_wrong_secret),
	    cmocka_unit_test(test_tampered_payload),
	    cmocka_unit_test(test_tampered_signature),
	    cmocka_unit_test(test_alg_none),
	    cmocka_unit_test(test_other_hmac_algs_refused),
	    cmocka_unit_test(test_expired),
	    cmocka_unit_test(test_expired_and_bad_signature),
	    cmocka_unit_test(test_missing_or_mistyped_claims),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_null_or_empty_key),
	    cmocka_unit_test(test_huge_token),
	    cmocka_unit_test(test_trailing_bytes),
	};

	return cmocka_run_group_tests_name("jwt", tests, NULL, NULL);
}
