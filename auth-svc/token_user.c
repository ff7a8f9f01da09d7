/* The user behind a token: the token's checks, then the users row by id. */
#include "token_user.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"

#define USER_GONE "Invalid token"

ta_status
auth_token_user(const auth_tokens *t, ta_pg *pg, const char *token, int64_t now,
    auth_user *out, const char **message)
{
	ta_claims c = {0};
	auth_user u = {0};
	ta_status status;

	*message = NULL;
	if ((status = auth_token_check(t, token, now, &c, message)) != TA_OK)
		return status;
	status = auth_user_find_by_id(pg, c.user_id, &u);
	/*
	 * Ids are never reused by the sequence, but a restored or re-seeded
	 * table can give one to someone else: the username must agree too.
	 */
	if (status == TA_NOT_FOUND ||
	    (status == TA_OK && strcmp(u.username, c.username) != 0)) {
		*message = USER_GONE;
		status = TA_UNAUTHENTICATED;
	}
	if (status == TA_OK) {
		*out = u;
		u = (auth_user){0};
	}
	auth_user_fini(&u);
	ta_claims_fini(&c);
	return status;
}
