/*
 * libFuzzer target for common/jwt.c. The first byte picks one of:
 *  - verify: the rest is a token, checked with a fixed secret at a fixed
 *    time; an accepted token has a positive user_id, exp after now, an
 *    HS256 signature and all claim strings; a refused one gives one of the
 *    two public reasons;
 *  - round trip: the rest gives the claims (user_id, iat, exp, then
 *    username, email and role separated by NUL bytes); a token issued with
 *    the secret verifies to the same claims exactly when user_id > 0 and
 *    exp > now ("Token has expired" when only exp fails), and never with
 *    another secret.
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

	if (ta_jwt_verify(SECRET, strlen(SECRET), token, NOW, &c, &reason) ==
	    TA_OK) {
		if (reason || c.user_id <= 0 || c.exp <= NOW || !c.username ||
		    !c.email || !c.role)
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
	ta_status st;

	/* Small values too: the interesting edges are near 0 and now. */
	in.user_id = take_i64(&p, &n) % 4096 - 8;
	in.iat = take_i64(&p, &n);
	in.exp = NOW + take_i64(&p, &n) % 1000;
	in.username = take_str(&p, &n);
	in.email = take_str(&p, &n);
	in.role = take_str(&p, &n);
	if (ta_jwt_issue(SECRET, strlen(SECRET), &in, &token) != TA_OK)
		goto out; /* libjwt refuses strings that are not UTF-8 */
	st = ta_jwt_verify(SECRET, strlen(SECRET), token, NOW, &out, &reason);
	if (in.user_id > 0 && in.exp > NOW) {
		if (st != TA_OK || out.user_id != in.user_id ||
		    out.exp != in.exp || out.iat != in.iat ||
		    !str_eq(in.username, "", out.username) ||
		    !str_eq(in.email, "", out.email) ||
		    !str_eq(in.role, "user", out.role))
			abort();
		ta_claims_fini(&out);
	} else if (st == TA_OK ||
	           strcmp(reason, in.user_id > 0 ? "Token has expired"
	                                         : "Invalid token") != 0) {
		abort();
	}
	if (ta_jwt_verify(OTHER, strlen(OTHER), token, NOW, &out, &reason) ==
	    TA_OK)
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
