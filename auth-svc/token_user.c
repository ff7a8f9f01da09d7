/* The user behind a token: the token's checks, then the users row by id. */
#include "token_user.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

#define USER_GONE "Invalid token"

ta_status
auth_user_find_by_id(ta_pg *pg, int64_t id, auth_user *out)
{
	char idbuf[24];
	const char *params[] = {idbuf};
	PGresult *res = NULL;
	auth_user u = {0};
	ta_status status;

	snprintf(idbuf, sizeof idbuf, "%" PRId64, id);
	status = ta_pg_exec(pg, AUTH_SQL_FIND_BY_ID, 1, params, &res);
	if (status != TA_OK)
		return status;
	if (PQntuples(res) == 0) {
		status = TA_NOT_FOUND;
		goto out;
	}
	if (PQntuples(res) != 1 || PQnfields(res) != 5) {
		status = TA_INTERNAL;
		goto out;
	}
	u.id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	u.username = ta_xstrdup(PQgetvalue(res, 0, 1));
	u.email = ta_xstrdup(PQgetvalue(res, 0, 2));
	u.role = ta_xstrdup(PQgetvalue(res, 0, 3));
	/* Old rows may lack created_at: left at the epoch. */
	if (!PQgetisnull(res, 0, 4) &&
	    !ta_pg_parse_timestamp(
	        PQgetvalue(res, 0, 4), &u.created_s, &u.created_ns)) {
		status = TA_INTERNAL;
		goto out;
	}
	*out = u;
	u = (auth_user){0};
out:
	auth_user_fini(&u);
	PQclear(res);
	return status;
}

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
