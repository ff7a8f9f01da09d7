/*
 * HS256 tokens through libjwt 1.10.2, plus the checks that version leaves
 * to its caller: a NULL key skips the signature, exp is never looked at and
 * any algorithm the header names is accepted. No globals: thread-safe.
 */
#include "jwt.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>

#include "alloc.h"

/* Longer tokens are refused before libjwt parses them. */
#define JWT_MAX_TOKEN_BYTES 8192

#define REASON_INVALID "Invalid token"
#define REASON_EXPIRED "Token has expired"

void
ta_claims_fini(ta_claims *c)
{
	free(c->username);
	free(c->email);
	free(c->role);
	c->username = c->email = c->role = NULL;
}

ta_status
ta_jwt_issue(
    const char *secret, size_t secret_len, const ta_claims *c, char **token)
{
	jwt_t *jwt = NULL;
	char *s = NULL;
	ta_status status = TA_INTERNAL;

	if (!secret || secret_len == 0 || secret_len > INT_MAX)
		return TA_INTERNAL;
	if (jwt_new(&jwt) != 0)
		return TA_INTERNAL;
	if (jwt_add_grant_int(jwt, "user_id", (long)c->user_id) != 0 ||
	    jwt_add_grant(jwt, "username", c->username ? c->username : "") !=
	        0 ||
	    jwt_add_grant(jwt, "email", c->email ? c->email : "") != 0 ||
	    jwt_add_grant(jwt, "role", c->role ? c->role : "user") != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)c->iat) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)c->exp) != 0)
		goto out;
	if (jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret,
	        (int)secret_len) != 0)
		goto out;
	if (!(s = jwt_encode_str(jwt)))
		goto out;
	*token = s;
	status = TA_OK;
out:
	jwt_free(jwt);
	return status;
}

/*
 * Reads an integer claim. jwt_get_grant_int cannot tell a missing claim
 * from a string or a float (it returns 0 for both), so the claim's JSON
 * text is parsed here: only an optional '-' and digits count.
 */
static bool
grant_int(jwt_t *jwt, const char *name, int64_t *out)
{
	char *js = jwt_get_grants_json(jwt, name);
	const char *p = js;
	char *end;
	long long v;
	bool ok = false;

	if (!js)
		return false;
	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		goto out;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p)
		goto out;
	errno = 0;
	v = strtoll(js, &end, 10);
	if (errno || *end)
		goto out;
	*out = v;
	ok = true;
out:
	free(js);
	return ok;
}

ta_status
ta_jwt_verify(const char *secret, size_t secret_len, const char *token,
    int64_t now, ta_claims *out, const char **reason)
{
	jwt_t *jwt = NULL;
	ta_claims c = {0};
	const char *s;

	*reason = REASON_INVALID;
	/* libjwt verifies nothing with a NULL key: never let one through. */
	if (!secret || secret_len == 0 || secret_len > INT_MAX || !token ||
	    !*token ||
	    strnlen(token, JWT_MAX_TOKEN_BYTES + 1) > JWT_MAX_TOKEN_BYTES)
		return TA_UNAUTHENTICATED;
	if (jwt_decode(&jwt, token, (const unsigned char *)secret,
	        (int)secret_len) != 0)
		return TA_UNAUTHENTICATED;
	/* Pinned: an HS384/HS512 token signed with the same secret decodes. */
	if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		goto out;
	if (!grant_int(jwt, "exp", &c.exp) ||
	    !grant_int(jwt, "user_id", &c.user_id) || c.user_id <= 0)
		goto out;
	if (!grant_int(jwt, "iat", &c.iat))
		c.iat = 0;
	/* Only a token whose signature checked out is called expired. */
	if (c.exp <= now) {
		*reason = REASON_EXPIRED;
		goto out;
	}
	c.username = ta_xstrdup((s = jwt_get_grant(jwt, "username")) ? s : "");
	c.email = ta_xstrdup((s = jwt_get_grant(jwt, "email")) ? s : "");
	c.role = ta_xstrdup((s = jwt_get_grant(jwt, "role")) ? s : "user");
	*out = c;
	*reason = NULL;
	jwt_free(jwt);
	return TA_OK;
out:
	jwt_free(jwt);
	return TA_UNAUTHENTICATED;
}
