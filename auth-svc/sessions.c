/*
 * The session statements of auth-svc and the queries that run them
 * (sessions.h). Every change that must not race is one statement.
 */
#include "sessions.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"

#define IDX(i) ((i)-AUTH_ALL_SQL_COUNT)

const ta_pg_stmt auth_session_stmts[IDX(AUTH_SESSION_SQL_END)] = {
    [IDX(AUTH_SESSION_SQL_INSERT)] = {"auth_session_insert",
        "INSERT INTO refresh_tokens (token_hash, user_id, family_id, "
        "generation, expires_at) VALUES ($1, $2, $3, $4, "
        "now() + make_interval(secs => $5::bigint))",
        false},
    /*
     * The spend and the successor in one statement. A concurrent spend
     * of the same row waits for the row lock, then re-checks spent_at
     * and finds it set: exactly one of them returns a row. A token whose
     * generation is behind its user's (password changed, logout of all
     * sessions) is dead even before the revocation reaches it.
     */
    [IDX(AUTH_SESSION_SQL_SPEND)] = {"auth_session_spend",
        "WITH s AS (UPDATE refresh_tokens r SET spent_at = now(), "
        "spent_key = $2 FROM users u "
        "WHERE r.token_hash = $1 AND r.spent_at IS NULL "
        "AND r.revoked_at IS NULL AND r.expires_at > now() "
        "AND u.id = r.user_id AND u.token_generation = r.generation "
        "RETURNING r.user_id, r.family_id, r.generation) "
        "INSERT INTO refresh_tokens (token_hash, user_id, family_id, "
        "generation, expires_at) SELECT $3, user_id, family_id, "
        "generation, now() + make_interval(secs => $4::bigint) FROM s "
        "RETURNING user_id",
        false},
    [IDX(AUTH_SESSION_SQL_LOOKUP)] = {"auth_session_lookup",
        "SELECT r.user_id, r.family_id, r.spent_key, "
        "r.spent_at IS NOT NULL, r.revoked_at IS NULL "
        "AND r.expires_at > now() AND u.token_generation = r.generation "
        "FROM refresh_tokens r JOIN users u ON u.id = r.user_id "
        "WHERE r.token_hash = $1",
        true},
    [IDX(AUTH_SESSION_SQL_REVOKE_FAMILY)] = {"auth_session_revoke_family",
        "UPDATE refresh_tokens SET revoked_at = now() "
        "WHERE family_id = $1 AND revoked_at IS NULL",
        false},
    [IDX(AUTH_SESSION_SQL_REVOKE_OWN)] = {"auth_session_revoke_own",
        "UPDATE refresh_tokens SET revoked_at = now() "
        "WHERE revoked_at IS NULL AND family_id = (SELECT family_id "
        "FROM refresh_tokens WHERE token_hash = $1 AND user_id = $2)",
        false},
    [IDX(AUTH_SESSION_SQL_REVOKE_USER)] = {"auth_session_revoke_user",
        "UPDATE refresh_tokens SET revoked_at = now() "
        "WHERE user_id = $1 AND revoked_at IS NULL",
        false},
    [IDX(AUTH_SESSION_SQL_SECRET)] = {"auth_session_secret",
        "SELECT password_hash, generation_key IS NOT DISTINCT FROM $2 "
        "FROM users WHERE id = $1",
        true},
    /* A re-sent call (same key) moves the generation once. */
    [IDX(AUTH_SESSION_SQL_END_ALL)] = {"auth_session_end_all",
        "UPDATE users SET token_generation = token_generation + 1, "
        "generation_changed_at = now(), generation_key = $2 "
        "WHERE id = $1 AND generation_key IS DISTINCT FROM $2",
        false},
    [IDX(AUTH_SESSION_SQL_SET_PASSWORD)] = {"auth_session_set_password",
        "UPDATE users SET password_hash = $3, "
        "token_generation = token_generation + 1, "
        "generation_changed_at = now(), generation_key = $4, "
        "updated_at = CURRENT_TIMESTAMP "
        "WHERE id = $1 AND password_hash = $2",
        false},
    [IDX(AUTH_SESSION_SQL_REVOCATIONS)] = {"auth_session_revocations",
        "SELECT id, token_generation, "
        "floor(extract(epoch FROM generation_changed_at))::bigint "
        "FROM users WHERE generation_changed_at >= to_timestamp($1) "
        "ORDER BY id LIMIT $2",
        true},
    [IDX(AUTH_SESSION_SQL_PURGE)] = {"auth_session_purge",
        "DELETE FROM refresh_tokens "
        "WHERE expires_at < now() - interval '1 day'",
        false},
};

static void
int_text(int64_t v, char buf[24])
{
	snprintf(buf, 24, "%" PRId64, v);
}

/* Runs a statement whose result only has to succeed. */
static ta_status
exec_only(ta_pg *pg, size_t stmt, int n, const char *const *params)
{
	PGresult *res = NULL;
	ta_status status = ta_pg_exec(pg, stmt, n, params, &res);

	if (status == TA_OK)
		PQclear(res);
	return status;
}

ta_status
auth_session_insert(ta_pg *pg, const char *hash, int64_t user_id,
    const char *family, int64_t generation, int64_t ttl_s)
{
	char id[24], gen[24], ttl[24];
	const char *params[] = {hash, id, family, gen, ttl};

	int_text(user_id, id);
	int_text(generation, gen);
	int_text(ttl_s, ttl);
	return exec_only(pg, AUTH_SESSION_SQL_INSERT, 5, params);
}

/* Why nothing was spent: the row as it is now. */
static ta_status
judge(ta_pg *pg, const char *hash, const char *call_key,
    auth_spend_outcome *outcome, int64_t *user_id)
{
	const char *params[] = {hash};
	PGresult *res = NULL;
	ta_status status;
	bool is_spent, is_live;
	char *family;

	status = ta_pg_exec(pg, AUTH_SESSION_SQL_LOOKUP, 1, params, &res);
	if (status != TA_OK)
		return status;
	*outcome = AUTH_SPEND_DEAD;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return TA_OK;
	}
	*user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	is_spent = PQgetvalue(res, 0, 3)[0] == 't';
	is_live = PQgetvalue(res, 0, 4)[0] == 't';
	if (is_spent && is_live && !PQgetisnull(res, 0, 2) &&
	    strcmp(PQgetvalue(res, 0, 2), call_key) == 0) {
		*outcome = AUTH_SPEND_REPLAY;
	} else if (is_spent && !PQgetisnull(res, 0, 2) &&
	           strcmp(PQgetvalue(res, 0, 2), call_key) != 0) {
		/* Someone holds a spent token: end the whole login. */
		family = ta_xstrdup(PQgetvalue(res, 0, 1));
		const char *fp[] = {family};
		status = exec_only(pg, AUTH_SESSION_SQL_REVOKE_FAMILY, 1, fp);
		free(family);
		*outcome = AUTH_SPEND_REUSED;
	}
	PQclear(res);
	return status;
}

ta_status
auth_session_spend(ta_pg *pg, const char *hash, const char *call_key,
    const char *next_hash, int64_t ttl_s, auth_spend_outcome *outcome,
    int64_t *user_id)
{
	char ttl[24];
	const char *params[] = {hash, call_key, next_hash, ttl};
	PGresult *res = NULL;
	ta_status status;

	int_text(ttl_s, ttl);
	status = ta_pg_exec(pg, AUTH_SESSION_SQL_SPEND, 4, params, &res);
	if (status != TA_OK)
		return status;
	if (PQntuples(res) == 1) {
		*user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		*outcome = AUTH_SPEND_OK;
		PQclear(res);
		return TA_OK;
	}
	PQclear(res);
	return judge(pg, hash, call_key, outcome, user_id);
}

ta_status
auth_session_revoke_own(ta_pg *pg, const char *hash, int64_t user_id)
{
	char id[24];
	const char *params[] = {hash, id};

	int_text(user_id, id);
	return exec_only(pg, AUTH_SESSION_SQL_REVOKE_OWN, 2, params);
}

ta_status
auth_session_revoke_user(ta_pg *pg, int64_t user_id)
{
	char id[24];
	const char *params[] = {id};

	int_text(user_id, id);
	return exec_only(pg, AUTH_SESSION_SQL_REVOKE_USER, 1, params);
}

ta_status
auth_session_secret(ta_pg *pg, int64_t user_id, const char *call_key,
    char **password_hash, bool *is_same_call)
{
	char id[24];
	const char *params[] = {id, call_key};
	PGresult *res = NULL;
	ta_status status;

	int_text(user_id, id);
	status = ta_pg_exec(pg, AUTH_SESSION_SQL_SECRET, 2, params, &res);
	if (status != TA_OK)
		return status;
	if (PQntuples(res) != 1) {
		status = TA_NOT_FOUND;
	} else {
		*password_hash = ta_xstrdup(PQgetvalue(res, 0, 0));
		*is_same_call = PQgetvalue(res, 0, 1)[0] == 't';
	}
	PQclear(res);
	return status;
}

ta_status
auth_session_end_all(ta_pg *pg, int64_t user_id, const char *call_key)
{
	char id[24];
	const char *params[] = {id, call_key};
	ta_status status;

	int_text(user_id, id);
	status = exec_only(pg, AUTH_SESSION_SQL_END_ALL, 2, params);
	/* Also when the generation had moved already: converges. */
	if (status == TA_OK)
		status = auth_session_revoke_user(pg, user_id);
	return status;
}

ta_status
auth_session_set_password(ta_pg *pg, int64_t user_id, const char *old_hash,
    const char *new_hash, const char *call_key)
{
	char id[24];
	const char *params[] = {id, old_hash, new_hash, call_key};
	PGresult *res = NULL;
	ta_status status;

	int_text(user_id, id);
	status = ta_pg_exec(pg, AUTH_SESSION_SQL_SET_PASSWORD, 4, params, &res);
	if (status != TA_OK)
		return status;
	if (strcmp(PQcmdTuples(res), "1") != 0)
		status = TA_ABORTED;
	PQclear(res);
	if (status == TA_OK)
		status = auth_session_revoke_user(pg, user_id);
	return status;
}

ta_status
auth_session_revocations(
    ta_pg *pg, int64_t since_s, size_t max, auth_revocation **out, size_t *n)
{
	char since[24], limit[24];
	const char *params[] = {since, limit};
	PGresult *res = NULL;
	auth_revocation *list;
	ta_status status;
	int rows;

	int_text(since_s, since);
	int_text((int64_t)max, limit);
	status = ta_pg_exec(pg, AUTH_SESSION_SQL_REVOCATIONS, 2, params, &res);
	if (status != TA_OK)
		return status;
	rows = PQntuples(res);
	list = ta_xcalloc(rows ? (size_t)rows : 1, sizeof *list);
	for (int i = 0; i < rows; i++) {
		list[i].user_id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		list[i].generation = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		list[i].changed_s = strtoll(PQgetvalue(res, i, 2), NULL, 10);
	}
	PQclear(res);
	*out = list;
	*n = (size_t)rows;
	return TA_OK;
}

ta_status
auth_session_purge(ta_pg *pg)
{
	return exec_only(pg, AUTH_SESSION_SQL_PURGE, 0, NULL);
}
