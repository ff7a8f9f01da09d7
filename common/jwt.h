/*
 * HS256 JSON Web Tokens through libjwt, with the checks libjwt 1.10 does not
 * do itself and the rules of RFC 8725 (docs/tokens.md): the algorithm is
 * pinned to HS256, the key is never NULL, iss, aud and typ are set and
 * required, exp, iat and nbf are checked with TA_JWT_LEEWAY_S of clock skew,
 * a crit header is refused and user_id must be an id users.id can hold.
 */
#ifndef TA_COMMON_JWT_H
#define TA_COMMON_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Clock skew allowed on exp, iat and nbf (RFC 8725 asks for a small one). */
#define TA_JWT_LEEWAY_S 30

/* The header typ: the only value libjwt 1.10 writes and accepts. */
#define TA_JWT_TYP "JWT"

/*
 * The keys and the expected claims of a process's tokens; everything
 * borrowed (the configuration, lives for the process).
 */
typedef struct ta_jwt_cfg {
	const char *secret; /* JWT_SECRET: signs and verifies */
	size_t secret_len;
	const char *previous; /* JWT_SECRET_PREVIOUS: verifies; NULL: none */
	size_t previous_len;
	const char *issuer;   /* JWT_ISSUER: iss set and required */
	const char *audience; /* JWT_AUDIENCE: aud set and required */
} ta_jwt_cfg;

/*
 * Fills cfg from the configured strings (borrowed). previous may be NULL or
 * "" for none.
 */
void ta_jwt_cfg_init(ta_jwt_cfg *cfg, const char *secret, const char *previous,
    const char *issuer, const char *audience);

/* The claims of a taskapi token; strings are owned (ta_claims_fini). */
typedef struct ta_claims {
	int64_t user_id;
	char *username;
	char *email;
	char *role;
	int64_t iat;
	int64_t exp;
	/* "gen": the user's token generation at issue (docs/sessions.md);
	 * absent is 0. A token whose gen is below the user's is revoked. */
	int64_t generation;
} ta_claims;

void ta_claims_fini(ta_claims *c);

/*
 * Signs c (user_id, username, email, role, iat, exp as given) with
 * cfg->secret, adding iss and aud from cfg. *token is set on TA_OK and
 * freed by the caller with free(). TA_INTERNAL when libjwt fails.
 */
ta_status ta_jwt_issue(const ta_jwt_cfg *cfg, const ta_claims *c, char **token);

/*
 * Verifies token at time now (unix seconds): an HS256 signature with
 * cfg->secret or else cfg->previous; header typ "JWT" and no crit; iss and
 * aud as in cfg (aud a string or an array holding it); integer exp and iat,
 * integer nbf if present; iat and nbf at most now + TA_JWT_LEEWAY_S; user_id
 * an integer in 1..2147483647; username a string; gen, if present, an
 * integer >= 0 (out->generation; 0 when absent). On TA_OK fills *out
 * (caller finis it). Otherwise TA_UNAUTHENTICATED with *reason the public
 * message: "Token has expired" for a token otherwise valid whose exp +
 * TA_JWT_LEEWAY_S has passed, "Invalid token" for the rest.
 */
ta_status ta_jwt_verify(const ta_jwt_cfg *cfg, const char *token, int64_t now,
    ta_claims *out, const char **reason);

/*
 * Whether secret (len bytes) is fit to sign tokens: at least 32 bytes, at
 * least 8 distinct bytes (so never one character repeated) and no
 * well-known placeholder ("changeme", "your-secret-key", ...). On
 * TA_INVALID_ARGUMENT err holds a one-line reason naming name (the
 * variable), never the value.
 */
ta_status ta_jwt_secret_check(
    const char *name, const char *secret, size_t len, char *err, size_t errlen);

/*
 * ta_jwt_secret_check of cfg->secret as JWT_SECRET and, when set,
 * cfg->previous as JWT_SECRET_PREVIOUS: what each process checks at start.
 */
ta_status ta_jwt_cfg_check(const ta_jwt_cfg *cfg, char *err, size_t errlen);

#endif
