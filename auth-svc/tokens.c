/* Issuing and checking auth-svc's tokens over common/jwt.h. */
#include "tokens.h"

ta_status
auth_token_issue(
    const auth_tokens *t, const auth_user *u, int64_t now, char **token)
{
	ta_claims c = {
	    .user_id = u->id,
	    .username = u->username,
	    .email = u->email,
	    .role = u->role ? u->role : "user",
	    .iat = now,
	    .exp = now + t->lifetime_s,
	    .generation = u->generation,
	};

	return ta_jwt_issue(&t->jwt, &c, token);
}

ta_status
auth_token_check(const auth_tokens *t, const char *token, int64_t now,
    ta_claims *out, const char **message)
{
	if (!token || !*token) {
		*message = "No authentication token provided";
		return TA_UNAUTHENTICATED;
	}
	return ta_jwt_verify(&t->jwt, token, now, out, message);
}
