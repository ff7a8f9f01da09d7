/*
 * libFuzzer target for common/jwt.c. The first byte picks one of:
 *  - verify: the rest is a token, checked with a fixed secret at a fixed
 *    time; an accepted token has a user_id in 1..2^31-1, exp after now -
 *    leeway, iat before now + leeway, an HS256 signature and all claim
 *    strings; a refused one gives one of the two public reasons;
 *  - round trip: the rest gives the claims (user_id, iat, exp, then
 *    username, email and role separated by NUL bytes); a token issued with
 *    the secret verifies to the same claims exactly when user_id > 0,
 *    iat <= now + leeway and exp > now - leeway ("Token has expired" when
 *    only exp fails), also as the previous secret of a rotation, and never
 *    with another secret.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jwt.h"

#include "alloc.h"

#define SECRET "fuzz-secret-0123456789abcdef0123456789abcdef"
#define OTHER "fuzz-secret-0123456789abcdef0123456789abcdeF"
#define NOW INT64_C(1767225600) /* 2026-01-01T00:00:00Z */
#define LEEWAY TA_JWT_LEEWAY_S

static ta_jwt_cfg
cfg_of(const char *secret, const char *previous)
{
	ta_jwt_cfg c;

	ta_jwt_cfg_init(&c, secret, previous, "taskapi", "taskapi");
	return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
is_reason(const char *r)
{
	return r && (strcmp(r, "Invalid token") == 0 ||
	                strcmp(r, "Token has expired") == 0);
}

static void
verify_any(const uint8_t *data, size_t size)
{
	char *token = ta_xstrndup((const char *)data, size);
	ta_claims c = {0};
	const char *reason = NULL;
	ta_jwt_cfg cfg = cfg_of(SECRET, NULL);

	if (ta_jwt_verify(&cfg, token, NOW, &c, &reason) == TA_OK) {
		if (reason || c.user_id <= 0 || c.user_id > INT32_MAX ||
		    c.exp <= NOW - LEEWAY || c.iat > NOW + LEEWAY ||
		    !c.username || !c.email || !c.role)
			abort();
		ta_claims_fini(&c);
	} else if (!is_reason(reason)) {
		abort();
	}
	free(token);
}

static int64_t
take_i64(const uint8_t **p, size_t *n)
{
	uint64_t v = 0;

	for (int i = 0; i < 8 && *n > 0; i++, (*p)++, (*n)--)
		v = v << 8 | **p;
	return (int64_t)v;
}

/* The next NUL-terminated piece of p (owned), or NULL at the end. */
static char *
take_str(const uint8_t **p, size_t *n)
{
	const uint8_t *nul = *n ? memchr(*p, 0, *n) : NULL;
	size_t len = nul ? (size_t)(nul - *p) : *n;
	char *s;

	if (*n == 0)
		return NULL;
	s = ta_xstrndup((const char *)*p, len);
	*p += len + (nul ? 1 : 0);
	*n -= len + (nul ? 1 : 0);
	return s;
}

static bool
str_eq(const char *want, const char *dflt, const char *got)
{
	return strcmp(want ? want : dflt, got) == 0;
}

static void
round_trip(const uint8_t *p, size_t n)
{
	ta_claims in = {0}, out = {0};
	const char *reason = NULL;
	char *token = NULL;
	ta_jwt_cfg cfg = cfg_of(SECRET, NULL);
	ta_jwt_cfg rotated = cfg_of(OTHER, SECRET);
	ta_jwt_cfg other = cfg_of(OTHER, NULL);
	bool is_valid, is_expired;
	ta_status st;

	/* Small values too: the interesting edges are near 0 and now. */
	in.user_id = take_i64(&p, &n) % 4096 - 8;
	in.iat = take_i64(&p, &n);
	in.exp = NOW + take_i64(&p, &n) % 1000;
	in.username = take_str(&p, &n);
	in.email = take_str(&p, &n);
	in.role = take_str(&p, &n);
	if (ta_jwt_issue(&cfg, &in, &token) != TA_OK)
		goto out; /* libjwt refuses strings that are not UTF-8 */
	is_valid = in.user_id > 0 && in.iat <= NOW + LEEWAY;
	is_expired = in.exp <= NOW - LEEWAY;
	st = ta_jwt_verify(&cfg, token, NOW, &out, &reason);
	if (is_valid && !is_expired) {
		if (st != TA_OK || out.user_id != in.user_id ||
		    out.exp != in.exp || out.iat != in.iat ||
		    !str_eq(in.username, "", out.username) ||
		    !str_eq(in.email, "", out.email) ||
		    !str_eq(in.role, "user", out.role))
			abort();
		ta_claims_fini(&out);
	} else if (st == TA_OK ||
	           strcmp(reason, is_expired ? "Token has expired"
	                                     : "Invalid token") != 0) {
		/* Signed by us and past exp: expired, whatever else is off. */
		abort();
	}
	/* The previous secret of a rotation verifies just the same. */
	if (ta_jwt_verify(&rotated, token, NOW, &out, &reason) != st)
		abort();
	if (st == TA_OK)
		ta_claims_fini(&out);
	if (ta_jwt_verify(&other, token, NOW, &out, &reason) == TA_OK)
		abort();
out:
	free(token);
	ta_claims_fini(&in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		round_trip(data + 1, size - 1);
	else
		verify_any(data + 1, size - 1);
	return 0;
}
