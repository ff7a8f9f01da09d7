/*
 * HS256 tokens through libjwt 1.10.2, plus the checks that version leaves
 * to its caller: a NULL key skips the signature, exp, iat and nbf are never
 * looked at, crit is ignored and any algorithm the header names is
 * accepted. Claim rules are in docs/tokens.md. No globals: thread-safe.
 */
#include "jwt.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <jwt.h>

#include "alloc.h"

/* Longer tokens are refused before libjwt parses them. */
#define JWT_MAX_TOKEN_BYTES 8192

/* users.id is a SERIAL (int4): no other id can name a user. */
#define JWT_USER_ID_MAX INT64_C(2147483647)

#define REASON_INVALID "Invalid token"
#define REASON_EXPIRED "Token has expired"

void
ta_jwt_cfg_init(ta_jwt_cfg *cfg, const char *secret, const char *previous,
    const char *issuer, const char *audience)
{
	*cfg = (ta_jwt_cfg){.secret = secret,
	    .secret_len = secret ? strlen(secret) : 0,
	    .issuer = issuer,
	    .audience = audience};
	if (previous && *previous) {
		cfg->previous = previous;
		cfg->previous_len = strlen(previous);
	}
}

void
ta_claims_fini(ta_claims *c)
{
	free(c->username);
	free(c->email);
	free(c->role);
	c->username = c->email = c->role = NULL;
}

static bool
key_ok(const char *key, size_t len)
{
	return key && len > 0 && len <= INT_MAX;
}

ta_status
ta_jwt_issue(const ta_jwt_cfg *cfg, const ta_claims *c, char **token)
{
	jwt_t *jwt = NULL;
	char *s = NULL;
	ta_status status = TA_INTERNAL;

	if (!key_ok(cfg->secret, cfg->secret_len) || !cfg->issuer ||
	    !cfg->audience)
		return TA_INTERNAL;
	if (jwt_new(&jwt) != 0)
		return TA_INTERNAL;
	/* libjwt writes the header itself: alg, and typ "JWT" always. */
	if (jwt_add_grant(jwt, "iss", cfg->issuer) != 0 ||
	    jwt_add_grant(jwt, "aud", cfg->audience) != 0 ||
	    jwt_add_grant_int(jwt, "user_id", (long)c->user_id) != 0 ||
	    jwt_add_grant(jwt, "username", c->username ? c->username : "") !=
	        0 ||
	    jwt_add_grant(jwt, "email", c->email ? c->email : "") != 0 ||
	    jwt_add_grant(jwt, "role", c->role ? c->role : "user") != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)c->iat) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)c->exp) != 0)
		goto out;
	/* Sessions (docs/sessions.md): absent means generation 0. */
	if (c->generation > 0 &&
	    jwt_add_grant_int(jwt, "gen", (long)c->generation) != 0)
		goto out;
	if (jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)cfg->secret,
	        (int)cfg->secret_len) != 0)
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
 * text is parsed here: only an optional '-' and digits count (1.0, 1e3
 * and "2" do not).
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

/* RFC 7519 4.1.3: aud is one string or an array of them; want among them. */
static bool
aud_ok(jwt_t *jwt, const char *want)
{
	const char *s = jwt_get_grant(jwt, "aud");
	char *js;
	cJSON *arr, *it;
	bool ok = false;

	if (s)
		return strcmp(s, want) == 0;
	if (!(js = jwt_get_grants_json(jwt, "aud")))
		return false;
	if ((arr = cJSON_Parse(js)) && cJSON_IsArray(arr)) {
		cJSON_ArrayForEach(it, arr)
		{
			if (cJSON_IsString(it) &&
			    strcmp(it->valuestring, want) == 0)
				ok = true;
		}
	}
	cJSON_Delete(arr);
	free(js);
	return ok;
}

/*
 * The header: HS256 only (an HS384/HS512 token signed with the same secret
 * decodes), typ present (libjwt refuses any value but "JWT" itself) and no
 * crit: RFC 7515 4.1.11 makes a token naming extensions we do not
 * understand invalid, and we understand none.
 */
static bool
header_ok(jwt_t *jwt)
{
	char *crit;

	if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		return false;
	if (!jwt_get_header(jwt, "typ") ||
	    strcasecmp(jwt_get_header(jwt, "typ"), TA_JWT_TYP) != 0)
		return false;
	if ((crit = jwt_get_headers_json(jwt, "crit"))) {
		free(crit);
		return false;
	}
	return true;
}

/* The claims every token must carry, typed; fills c's numbers. */
static bool
claims_ok(jwt_t *jwt, const ta_jwt_cfg *cfg, ta_claims *c, int64_t *nbf)
{
	const char *iss = jwt_get_grant(jwt, "iss");
	char *js;

	if (!iss || strcmp(iss, cfg->issuer) != 0 ||
	    !aud_ok(jwt, cfg->audience))
		return false;
	if (!grant_int(jwt, "exp", &c->exp) || !grant_int(jwt, "iat", &c->iat))
		return false;
	if (!grant_int(jwt, "user_id", &c->user_id) || c->user_id < 1 ||
	    c->user_id > JWT_USER_ID_MAX)
		return false;
	if (!jwt_get_grant(jwt, "username"))
		return false;
	/* nbf is optional, but one that is there must be an integer. */
	if (!grant_int(jwt, "nbf", nbf)) {
		if ((js = jwt_get_grants_json(jwt, "nbf"))) {
			free(js);
			return false;
		}
		*nbf = INT64_MIN;
	}
	/* gen is optional (0), but one that is there is a count. */
	if (!grant_int(jwt, "gen", &c->generation)) {
		if ((js = jwt_get_grants_json(jwt, "gen"))) {
			free(js);
			return false;
		}
		c->generation = 0;
	}
	return c->generation >= 0;
}

/* jwt_decode with the current secret, then with the previous one. */
static bool
decode(const ta_jwt_cfg *cfg, const char *token, jwt_t **jwt)
{
	if (jwt_decode(jwt, token, (const unsigned char *)cfg->secret,
	        (int)cfg->secret_len) == 0)
		return true;
	*jwt = NULL;
	if (!key_ok(cfg->previous, cfg->previous_len))
		return false;
	if (jwt_decode(jwt, token, (const unsigned char *)cfg->previous,
	        (int)cfg->previous_len) == 0)
		return true;
	*jwt = NULL;
	return false;
}

ta_status
ta_jwt_verify(const ta_jwt_cfg *cfg, const char *token, int64_t now,
    ta_claims *out, const char **reason)
{
	jwt_t *jwt = NULL;
	ta_claims c = {0};
	int64_t nbf;
	const char *s;

	*reason = REASON_INVALID;
	/* libjwt verifies nothing with a NULL key: never let one through. */
	if (!key_ok(cfg->secret, cfg->secret_len) || !cfg->issuer ||
	    !cfg->audience || !token || !*token ||
	    strnlen(token, JWT_MAX_TOKEN_BYTES + 1) > JWT_MAX_TOKEN_BYTES)
		return TA_UNAUTHENTICATED;
	if (!decode(cfg, token, &jwt))
		return TA_UNAUTHENTICATED;
	if (!header_ok(jwt))
		goto out;
	/*
	 * Signed with our key and past exp: "Token has expired" whatever else
	 * it lacks, so that a token of the old service (no iss or aud) that
	 * has run out tells its client what the old service told it.
	 */
	if (grant_int(jwt, "exp", &c.exp) && c.exp <= now - TA_JWT_LEEWAY_S) {
		*reason = REASON_EXPIRED;
		goto out;
	}
	if (!claims_ok(jwt, cfg, &c, &nbf))
		goto out;
	/* Issued or valid only in the future: not ours to accept yet. */
	if (c.iat > now + TA_JWT_LEEWAY_S || nbf > now + TA_JWT_LEEWAY_S)
		goto out;
	c.username = ta_xstrdup(jwt_get_grant(jwt, "username"));
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
