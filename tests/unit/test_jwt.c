/*
 * Unit tests of common/jwt.h: round trip, and every way a token must be
 * refused (wrong key, tampering, alg none, other HMAC algorithms, expiry,
 * missing or mistyped claims, garbage, oversize), the RFC 8725 rules (iss,
 * aud, typ, crit, leeway on exp, iat and nbf, the user_id range) and key
 * rotation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jwt.h>
#include <sodium.h>

#include "jwt.h"

static const char SECRET[] = "0123456789abcdef0123456789abcdef-unit-secret";
static const char OTHER[] = "fedcba9876543210fedcba9876543210-other-secret";
static const char THIRD[] = "a-third-key-nobody-configured-0123456789ABCD";

#define NOW ((int64_t)1700000000)

/* Claims every accepted token needs, for building test payloads. */
#define BASE "\"iss\":\"taskapi\",\"aud\":\"taskapi\",\"username\":\"a\","

static ta_jwt_cfg CFG;

static ta_jwt_cfg
cfg_with(const char *secret, const char *previous)
{
	ta_jwt_cfg c;

	ta_jwt_cfg_init(&c, secret, previous, "taskapi", "taskapi");
	return c;
}

static char *
issue_cfg(const ta_jwt_cfg *cfg, int64_t user_id, int64_t iat, int64_t exp)
{
	ta_claims c = {.user_id = user_id,
	    .username = "alice",
	    .email = "alice@example.com",
	    .role = "admin",
	    .iat = iat,
	    .exp = exp};
	char *tok = NULL;

	assert_int_equal(ta_jwt_issue(cfg, &c, &tok), TA_OK);
	assert_non_null(tok);
	return tok;
}

static char *
issue(const char *secret, int64_t user_id, int64_t iat, int64_t exp)
{
	ta_jwt_cfg cfg = cfg_with(secret, NULL);

	return issue_cfg(&cfg, user_id, iat, exp);
}

/* Verifies against CFG at NOW; returns the status, *reason set. */
static ta_status
verify(const char *tok, const char **reason)
{
	ta_claims c = {0};
	ta_status st = ta_jwt_verify(&CFG, tok, NOW, &c, reason);

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

static void
assert_valid(const char *tok)
{
	const char *reason = "unset";

	assert_int_equal(verify(tok, &reason), TA_OK);
	assert_null(reason);
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

/*
 * An HS256 token with exactly this header and payload, signed with SECRET
 * by hand (libjwt rewrites typ and would not write crit as given).
 */
static char *
raw_token(const char *header, const char *payload)
{
	char *h = b64url(header), *p = b64url(payload);
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char sig[64];
	crypto_auth_hmacsha256_state st;
	char *tok = malloc(strlen(h) + strlen(p) + sizeof sig + 3);

	assert_non_null(tok);
	sprintf(tok, "%s.%s", h, p);
	crypto_auth_hmacsha256_init(
	    &st, (const unsigned char *)SECRET, strlen(SECRET));
	crypto_auth_hmacsha256_update(
	    &st, (const unsigned char *)tok, strlen(tok));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(sig, sizeof sig, mac, sizeof mac,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	strcat(tok, ".");
	strcat(tok, sig);
	free(h);
	free(p);
	return tok;
}

/* A libjwt HS256 token with BASE claims, valid at NOW, plus extra. */
static char *
claims_token(const char *extra)
{
	char json[512];

	snprintf(json, sizeof json,
	    "{" BASE "\"user_id\":7,\"iat\":1699999990,\"exp\":1700003600%s%s}",
	    *extra ? "," : "", extra);
	return libjwt_token(JWT_ALG_HS256, SECRET, json);
}

static void
test_round_trip(void **state)
{
	(void)state;
	char *tok = issue(SECRET, 42, NOW - 10, NOW + 3600);
	ta_claims c = {0};
	const char *reason = "unset";

	assert_int_equal(ta_jwt_verify(&CFG, tok, NOW, &c, &reason), TA_OK);
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
	/* iss, aud and typ as configured, read back without our checks. */
	jwt_t *j = NULL;

	assert_int_equal(jwt_decode(&j, tok, (const unsigned char *)SECRET,
	                     (int)strlen(SECRET)),
	    0);
	assert_string_equal(jwt_get_header(j, "typ"), "JWT");
	assert_string_equal(jwt_get_header(j, "alg"), "HS256");
	assert_string_equal(jwt_get_grant(j, "iss"), "taskapi");
	assert_string_equal(jwt_get_grant(j, "aud"), "taskapi");
	assert_null(jwt_get_headers_json(j, "crit"));
	jwt_free(j);
	free(tok);
}

/* "gen" (docs/sessions.md): absent is 0, present an integer >= 0. */
static void
test_generation(void **state)
{
	ta_claims in = {.user_id = 9,
	    .username = "alice",
	    .email = "a@example.com",
	    .iat = NOW,
	    .exp = NOW + 60,
	    .generation = 3};
	ta_claims out = {0};
	const char *reason;
	char *tok = NULL;
	jwt_t *j = NULL;

	(void)state;
	assert_int_equal(ta_jwt_issue(&CFG, &in, &tok), TA_OK);
	assert_int_equal(ta_jwt_verify(&CFG, tok, NOW, &out, &reason), TA_OK);
	assert_int_equal(out.generation, 3);
	ta_claims_fini(&out);
	free(tok);
	/* Generation 0 is not written: tokens look as before. */
	in.generation = 0;
	assert_int_equal(ta_jwt_issue(&CFG, &in, &tok), TA_OK);
	assert_int_equal(jwt_decode(&j, tok, (const unsigned char *)SECRET,
	                     (int)strlen(SECRET)),
	    0);
	assert_null(jwt_get_grants_json(j, "gen"));
	jwt_free(j);
	assert_int_equal(ta_jwt_verify(&CFG, tok, NOW, &out, &reason), TA_OK);
	assert_int_equal(out.generation, 0);
	ta_claims_fini(&out);
	free(tok);
	tok = claims_token("\"gen\":12");
	assert_int_equal(ta_jwt_verify(&CFG, tok, NOW, &out, &reason), TA_OK);
	assert_int_equal(out.generation, 12);
	ta_claims_fini(&out);
	free(tok);
	static const char *const bad[] = {"\"gen\":\"1\"", "\"gen\":1.5",
	    "\"gen\":-1", "\"gen\":null", "\"gen\":[1]"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tok = claims_token(bad[i]);
		assert_invalid(tok);
		free(tok);
	}
}

static void
test_role_default(void **state)
{
	(void)state;
	/* No role or email claim: "user" and "". */
	char *tok = claims_token("");
	ta_claims c = {0};
	const char *reason;

	assert_int_equal(ta_jwt_verify(&CFG, tok, NOW, &c, &reason), TA_OK);
	assert_int_equal(c.user_id, 7);
	assert_string_equal(c.role, "user");
	assert_string_equal(c.email, "");
	ta_claims_fini(&c);
	free(tok);
}

/* users.id is an int4 SERIAL: only 1..2^31-1, written as a JSON integer. */
static void
test_user_id_range(void **state)
{
	(void)state;
	static const char *const bad[] = {"0", "-1", "2147483648", "8589934597",
	    "1.5", "2.0", "1e3", "\"2\"", "null", "true", "[2]",
	    "-9223372036854775808"};
	char json[256];
	char *tok;

	tok = issue(SECRET, INT64_C(2147483647), NOW, NOW + 60);
	assert_valid(tok);
	free(tok);
	tok = issue(SECRET, 1, NOW, NOW + 60);
	assert_valid(tok);
	free(tok);
	tok = issue(SECRET, INT64_C(2147483648), NOW, NOW + 60);
	assert_invalid(tok);
	free(tok);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(json, sizeof json,
		    "{" BASE "\"iat\":1699999990,\"exp\":1700003600,"
		    "\"user_id\":%s}",
		    bad[i]);
		tok = libjwt_token(JWT_ALG_HS256, SECRET, json);
		assert_invalid(tok);
		free(tok);
	}
}

static void
test_issuer_and_audience(void **state)
{
	(void)state;
	static const struct {
		const char *claims;
		int is_ok;
	} cases[] = {
	    {"\"iss\":\"taskapi\",\"aud\":\"taskapi\"", 1},
	    {"\"iss\":\"taskapi\",\"aud\":[\"other\",\"taskapi\"]", 1},
	    {"\"aud\":\"taskapi\"", 0},
	    {"\"iss\":\"taskapi\"", 0},
	    {"\"iss\":\"evil\",\"aud\":\"taskapi\"", 0},
	    {"\"iss\":\"taskapi\",\"aud\":\"other\"", 0},
	    {"\"iss\":\"TASKAPI\",\"aud\":\"taskapi\"", 0},
	    {"\"iss\":\"taskapi\",\"aud\":[\"other\"]", 0},
	    {"\"iss\":\"taskapi\",\"aud\":[]", 0},
	    {"\"iss\":\"taskapi\",\"aud\":[1,{}]", 0},
	    {"\"iss\":\"taskapi\",\"aud\":7", 0},
	    {"\"iss\":[\"taskapi\"],\"aud\":\"taskapi\"", 0},
	};
	char json[256];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *tok;

		snprintf(json, sizeof json,
		    "{\"user_id\":7,\"username\":\"a\",\"iat\":1699999990,"
		    "\"exp\":1700003600,%s}",
		    cases[i].claims);
		tok = libjwt_token(JWT_ALG_HS256, SECRET, json);
		if (cases[i].is_ok)
			assert_valid(tok);
		else
			assert_invalid(tok);
		free(tok);
	}
}

static void
test_other_issuer_configured(void **state)
{
	(void)state;
	ta_jwt_cfg other;
	char *tok = issue(SECRET, 7, NOW, NOW + 60);
	ta_claims c = {0};
	const char *reason;

	ta_jwt_cfg_init(&other, SECRET, NULL, "taskapi", "billing");
	assert_int_equal(
	    ta_jwt_verify(&other, tok, NOW, &c, &reason), TA_UNAUTHENTICATED);
	ta_jwt_cfg_init(&other, SECRET, NULL, "elsewhere", "taskapi");
	assert_int_equal(
	    ta_jwt_verify(&other, tok, NOW, &c, &reason), TA_UNAUTHENTICATED);
	free(tok);
}

static void
test_header_typ_and_crit(void **state)
{
	(void)state;
	static const char payload[] = "{" BASE "\"user_id\":7,"
	                              "\"iat\":1699999990,\"exp\":1700003600}";
	static const struct {
		const char *header;
		int is_ok;
	} cases[] = {
	    {"{\"alg\":\"HS256\",\"typ\":\"JWT\"}", 1},
	    {"{\"alg\":\"HS256\"}", 0},
	    {"{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", 0},
	    {"{\"alg\":\"HS256\",\"typ\":\"JOSE\"}", 0},
	    {"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"crit\":[\"exp\"],"
	     "\"exp\":1}",
	        0},
	    {"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"crit\":[]}", 0},
	    {"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"crit\":\"b64\"}", 0},
	    /* kid names no key here; it is neither needed nor refused. */
	    {"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}", 1},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *tok = raw_token(cases[i].header, payload);

		if (cases[i].is_ok)
			assert_valid(tok);
		else
			assert_invalid(tok);
		free(tok);
	}
}

static void
test_leeway(void **state)
{
	(void)state;
	char buf[128];
	const char *reason = NULL;
	char *tok;

	/* exp: 30 s of skew, no more. */
	tok = issue(SECRET, 7, NOW - 100, NOW - 29);
	assert_valid(tok);
	free(tok);
	tok = issue(SECRET, 7, NOW - 100, NOW - 30);
	assert_int_equal(verify(tok, &reason), TA_UNAUTHENTICATED);
	assert_string_equal(reason, "Token has expired");
	free(tok);
	/* iat: a token issued more than 30 s in the future is refused. */
	tok = issue(SECRET, 7, NOW + 30, NOW + 3600);
	assert_valid(tok);
	free(tok);
	tok = issue(SECRET, 7, NOW + 31, NOW + 3600);
	assert_invalid(tok);
	free(tok);
	/* nbf: optional; when present, an integer at most now + 30. */
	snprintf(buf, sizeof buf, "\"nbf\":%lld", (long long)(NOW + 30));
	tok = claims_token(buf);
	assert_valid(tok);
	free(tok);
	snprintf(buf, sizeof buf, "\"nbf\":%lld", (long long)(NOW + 31));
	tok = claims_token(buf);
	assert_invalid(tok);
	free(tok);
	static const char *const bad_nbf[] = {
	    "\"nbf\":\"0\"", "\"nbf\":1.5", "\"nbf\":null", "\"nbf\":[0]"};
	for (size_t i = 0; i < sizeof bad_nbf / sizeof bad_nbf[0]; i++) {
		tok = claims_token(bad_nbf[i]);
		assert_invalid(tok);
		free(tok);
	}
	/* Signed by us and past exp: called expired, whatever else is off. */
	tok = issue(SECRET, 7, NOW + 600, NOW - 600);
	assert_int_equal(verify(tok, &reason), TA_UNAUTHENTICATED);
	assert_string_equal(reason, "Token has expired");
	free(tok);
	/* The old service's claims (no iss, aud): expired is still expired,
	 * and a live one is invalid here. */
	snprintf(buf, sizeof buf,
	    "{\"user_id\":7,\"username\":\"alice\",\"iat\":%lld,"
	    "\"exp\":%lld}",
	    (long long)(NOW - 7200), (long long)(NOW - 3600));
	tok = libjwt_token(JWT_ALG_HS256, SECRET, buf);
	assert_int_equal(verify(tok, &reason), TA_UNAUTHENTICATED);
	assert_string_equal(reason, "Token has expired");
	free(tok);
	snprintf(buf, sizeof buf,
	    "{\"user_id\":7,\"username\":\"alice\",\"iat\":%lld,"
	    "\"exp\":%lld}",
	    (long long)NOW, (long long)(NOW + 3600));
	tok = libjwt_token(JWT_ALG_HS256, SECRET, buf);
	assert_invalid(tok);
	free(tok);
	/* Expired but signed with another key: invalid, never "expired". */
	tok = issue(OTHER, 7, NOW - 100, NOW - 60);
	assert_invalid(tok);
	free(tok);
}

static void
test_rotation(void **state)
{
	(void)state;
	ta_jwt_cfg rotating = cfg_with(SECRET, OTHER);
	ta_jwt_cfg old_only = cfg_with(OTHER, NULL);
	char *old_tok = issue(OTHER, 7, NOW, NOW + 60);
	char *third_tok = issue(THIRD, 7, NOW, NOW + 60);
	char *new_tok = issue_cfg(&rotating, 7, NOW, NOW + 60);
	ta_claims c = {0};
	const char *reason;

	/* The previous secret verifies; nothing else does. */
	assert_int_equal(
	    ta_jwt_verify(&rotating, old_tok, NOW, &c, &reason), TA_OK);
	assert_int_equal(c.user_id, 7);
	ta_claims_fini(&c);
	assert_invalid(old_tok); // CFG has no previous secret
	assert_int_equal(ta_jwt_verify(&rotating, third_tok, NOW, &c, &reason),
	    TA_UNAUTHENTICATED);
	/* New tokens are signed with the current secret only. */
	assert_valid(new_tok);
	assert_int_equal(ta_jwt_verify(&old_only, new_tok, NOW, &c, &reason),
	    TA_UNAUTHENTICATED);
	/* An expired token under the previous secret is called expired. */
	free(old_tok);
	old_tok = issue(OTHER, 7, NOW - 7200, NOW - 3600);
	assert_int_equal(ta_jwt_verify(&rotating, old_tok, NOW, &c, &reason),
	    TA_UNAUTHENTICATED);
	assert_string_equal(reason, "Token has expired");
	/* "" as the previous secret means none. */
	rotating = cfg_with(SECRET, "");
	assert_null(rotating.previous);
	free(old_tok);
	free(third_tok);
	free(new_tok);
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
	char *p = b64url("{" BASE "\"user_id\":1,\"email\":"
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
	const char *claims = "{" BASE "\"user_id\":1,\"email\":"
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
	char *edge = issue(SECRET, 42, NOW - 3600, NOW - TA_JWT_LEEWAY_S);
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
	    "{" BASE "\"user_id\":1,\"iat\":1699999990}",
	    "{" BASE "\"user_id\":1,\"exp\":1800000000}",
	    "{" BASE "\"user_id\":1,\"iat\":1,\"exp\":\"1800000000\"}",
	    "{" BASE "\"user_id\":1,\"iat\":1,\"exp\":1800000000.5}",
	    "{" BASE "\"user_id\":1,\"iat\":1,\"exp\":null}",
	    "{" BASE "\"user_id\":1,\"iat\":1,\"exp\":true}",
	    "{" BASE "\"user_id\":1,\"iat\":\"1\",\"exp\":1800000000}",
	    "{" BASE "\"user_id\":1,\"iat\":1.0,\"exp\":1800000000}",
	    "{" BASE "\"iat\":1,\"exp\":1800000000}",
	    "{" BASE "\"user_id\":{\"a\":1},\"iat\":1,\"exp\":1800000000}",
	    "{\"iss\":\"taskapi\",\"aud\":\"taskapi\",\"user_id\":1,"
	    "\"iat\":1,\"exp\":1800000000}",
	    "{\"iss\":\"taskapi\",\"aud\":\"taskapi\",\"username\":5,"
	    "\"user_id\":1,\"iat\":1,\"exp\":1800000000}",
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
	    ta_jwt_verify(&CFG, NULL, NOW, &c, &reason), TA_UNAUTHENTICATED);
	assert_string_equal(reason, "Invalid token");
}

static void
test_null_or_empty_key(void **state)
{
	(void)state;
	char *tok = issue(SECRET, 42, NOW, NOW + 3600);
	char *tok2 = NULL;
	const char *reason = NULL;
	ta_claims c = {0};

	/* libjwt would accept this token unverified with a NULL key. */
	ta_jwt_cfg none = cfg_with(NULL, NULL);
	ta_jwt_cfg empty = CFG;
	ta_jwt_cfg no_iss = CFG;

	empty.secret_len = 0;
	no_iss.issuer = NULL;
	assert_int_equal(
	    ta_jwt_verify(&none, tok, NOW, &c, &reason), TA_UNAUTHENTICATED);
	assert_string_equal(reason, "Invalid token");
	assert_int_equal(
	    ta_jwt_verify(&empty, tok, NOW, &c, &reason), TA_UNAUTHENTICATED);
	assert_int_equal(
	    ta_jwt_verify(&no_iss, tok, NOW, &c, &reason), TA_UNAUTHENTICATED);
	assert_int_equal(ta_jwt_issue(&none, &(ta_claims){.user_id = 1}, &tok2),
	    TA_INTERNAL);
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
	strcpy(json, "{" BASE "\"user_id\":1,\"exp\":1800000000,\"pad\":\"");
	memset(json + strlen(json), 'x', n);
	strcpy(
	    json +
	        strlen("{" BASE "\"user_id\":1,\"exp\":1800000000,\"pad\":\"") +
	        n,
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
	    cmocka_unit_test(test_role_default),
	    cmocka_unit_test(test_generation),
	    cmocka_unit_test(test_user_id_range),
	    cmocka_unit_test(test_issuer_and_audience),
	    cmocka_unit_test(test_other_issuer_configured),
	    cmocka_unit_test(test_header_typ_and_crit),
	    cmocka_unit_test(test_leeway),
	    cmocka_unit_test(test_rotation),
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

	CFG = cfg_with(SECRET, NULL);
	return cmocka_run_group_tests_name("jwt", tests, NULL, NULL);
}
