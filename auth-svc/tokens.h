/*
 * The tokens auth-svc hands out and checks: HS256 JWTs through
 * common/jwt.h, with the lifetime and the public messages of the API.
 */
#ifndef TA_AUTH_TOKENS_H
#define TA_AUTH_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "jwt.h"
#include "status.h"
#include "users.h"

typedef struct auth_tokens {
	ta_jwt_cfg jwt;     /* strings borrowed: the configuration */
	int64_t lifetime_s; /* JWT_EXPIRATION */
} auth_tokens;

/*
 * A token for u (id, username, email, role, generation) issued at now, expiring
 * at now + lifetime. *token is freed by the caller with free(). TA_INTERNAL
 * when signing fails.
 */
ta_status auth_token_issue(
    const auth_tokens *t, const auth_user *u, int64_t now, char **token);

/*
 * Checks a bearer token at now. On TA_OK *out holds its claims (caller
 * ta_claims_fini's them). Otherwise TA_UNAUTHENTICATED and *message is the
 * public sentence: "No authentication token provided" for an empty token,
 * "Token has expired" or "Invalid token".
 */
ta_status auth_token_check(const auth_tokens *t, const char *token, int64_t now,
    ta_claims *out, const char **message);

#endif
