/*
 * HS256 JSON Web Tokens through libjwt, with the checks libjwt 1.10 does not
 * do itself: the algorithm is pinned to HS256 (none and every other
 * algorithm are refused), exp is checked, the key is never NULL.
 */
#ifndef TA_COMMON_JWT_H
#define TA_COMMON_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* The claims of a taskapi token; strings are owned (ta_claims_fini). */
typedef struct ta_claims {
	int64_t user_id;
	char *username;
	char *email;
	char *role;
	int64_t iat;
	int64_t exp;
} ta_claims;

void ta_claims_fini(ta_claims *c);

/*
 * Signs c (user_id, username, email, role, iat, exp as given) with secret.
 * *token is set on TA_OK and freed by the caller with free(). TA_INTERNAL
 * when libjwt fails.
 */
ta_status ta_jwt_issue(const char *secret, size_t secret_len,
    const ta_claims *c, char **token);

/*
 * Verifies token at time now (unix seconds): HS256 signature with secret,
 * exp > now, user_id present. On TA_OK fills *out (caller finis it).
 * Otherwise TA_UNAUTHENTICATED with *reason the public message: "Token has
 * expired" for a valid signature past exp, "Invalid token" for the rest.
 */
ta_status ta_jwt_verify(const char *secret, size_t secret_len,
    const char *token, int64_t now, ta_claims *out, const char **reason);

#endif
