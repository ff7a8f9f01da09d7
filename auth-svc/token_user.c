/* The user behind a token: the token's checks, then the users row by id. */
#include "token_user.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"
#include "sessions.h"

#define USER_GONE "Invalid token"

/*
 * The checks of both: token, row, username, generation (unless the row's
 * generation was moved by this very call: call_key, NULL for none).
 */
static ta_status
token_row(const auth_tokens *t, ta_pg *pg, const char *token, int64_t now,
    const char *call_key, auth_user *out, char **password_hash,
    bool *is_same_call, const char **message)
{
	ta_claims c = {0};
	auth_user u = {0};
	ta_status status;

	*message = NULL;
	if ((status = auth_token_check(t, token, now, &c, message)) != TA_OK)
		return status;
	status = auth_user_find_by_id(pg, c.user_id, &u);
	if (status == TA_OK && call_key) {
		status = auth_session_secret(
		    pg, c.user_id, call_key, password_hash, is_same_call);
		if (status == TA_OK && *is_same_call)
			c.generation = u.generation;
	}
	/*
	 * Ids are never reused by the sequence, but a restored or re-seeded
	 * table can give one to someone else: the username must agree too.
	 */
	/* A generation behind the row's: its sessions were ended since. */
	if (status == TA_NOT_FOUND ||
	    (status == TA_OK && (strcmp(u.username, c.username) != 0 ||
	                            c.generation < u.generation))) {
		*message = USER_GONE;
		status = TA_UNAUTHENTICATED;
	}
	if (status == TA_OK) {
		*out = u;
		u = (auth_user){0};
	} else if (call_key && *password_hash) {
		sodium_memzero(*password_hash, strlen(*password_hash));
		free(*password_hash);
		*password_hash = NULL;
	}
	auth_user_fini(&u);
	ta_claims_fini(&c);
	return status;
}

ta_status
auth_token_user(const auth_tokens *t, ta_pg *pg, const char *token, int64_t now,
    auth_user *out, const char **message)
{
	return token_row(t, pg, token, now, NULL, out, NULL, NULL, message);
}

ta_status
auth_token_caller(const auth_tokens *t, ta_pg *pg, const char *token,
    int64_t now, const char *call_key, auth_user *out, char **password_hash,
    bool *is_same_call, const char **message)
{
	*password_hash = NULL;
	*is_same_call = false;
	return token_row(t, pg, token, now, call_key, out, password_hash,
	    is_same_call, message);
}
