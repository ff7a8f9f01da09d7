/*
 * The users table: registration and login checks (pure functions), the
 * prepared statements of auth-svc and the queries that run them.
 */
#include "users.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"
#include "identifier.h"

/* Bounds of the users columns (varchar counts characters) and of hashing. */
#define EMAIL_MAX_CHARS 100
#define PASSWORD_MAX_BYTES 1024

const ta_pg_stmt auth_user_stmts[AUTH_SQL_COUNT] = {
    [AUTH_SQL_INSERT] = {"auth_user_insert",
        "INSERT INTO users (username, email, password_hash) "
        "VALUES ($1, $2, $3) RETURNING id, username, email, created_at",
        false},
    [AUTH_SQL_FIND_BY_USERNAME] = {"auth_user_find",
        "SELECT id, username, email, password_hash, role, created_at, "
        "token_generation FROM users WHERE username = $1",
        true},
    /* The primary key: one index probe per token checked. */
    [AUTH_SQL_FIND_BY_ID] = {"auth_user_find_by_id",
        "SELECT id, username, email, NULL, role, created_at, "
        "token_generation FROM users WHERE id = $1",
        true},
    [AUTH_SQL_SET_HASH] = {"auth_user_set_hash",
        "UPDATE users SET password_hash = $3, "
        "updated_at = CURRENT_TIMESTAMP "
        "WHERE id = $1 AND password_hash = $2",
        false},
    /*
     * A registration with an idempotency key ($4) and request fingerprint
     * ($5): the key row takes the new user's id and the user is inserted
     * only when the key row was. A taken
     * username or email still fails the whole statement (23505), key row
     * included. When the key exists (or a concurrent call holding it
     * commits first) no row comes back, and AUTH_SQL_KEY_LOOKUP and
     * AUTH_SQL_REPLAY, new statements with new snapshots, compare the
     * fingerprints and read the user the first call made.
     */
    [AUTH_SQL_INSERT_KEYED] = {"auth_user_insert_keyed",
        "WITH k AS (INSERT INTO idempotency_keys "
        "(method, user_id, key, result_id, fingerprint) VALUES "
        "('RegisterUser', 0, $4, nextval(pg_get_serial_sequence('users', "
        "'id')), decode($5, 'hex')) "
        "ON CONFLICT DO NOTHING RETURNING result_id) "
        "INSERT INTO users (id, username, email, password_hash) "
        "SELECT k.result_id, $1, $2, $3 FROM k "
        "RETURNING id, username, email, created_at",
        false},
    /* Only for the same username: a key replays nobody else's user. */
    [AUTH_SQL_REPLAY] = {"auth_user_replay",
        "SELECT id, username, email, created_at FROM users "
        "WHERE username = $2 AND id = (SELECT result_id "
        "FROM idempotency_keys WHERE method = 'RegisterUser' "
        "AND user_id = 0 AND key = $1)",
        true},
    [AUTH_SQL_KEY_LOOKUP] = {"auth_key_lookup", TA_IDEM_SQL_LOOKUP, true},
    [AUTH_SQL_KEYS_PURGE] = {"auth_keys_purge", TA_IDEM_SQL_PURGE, false},
};

void
auth_user_fini(auth_user *u)
{
	free(u->username);
	free(u->email);
	free(u->role);
	if (u->password_hash) {
		sodium_memzero(u->password_hash, strlen(u->password_hash));
		free(u->password_hash);
	}
	*u = (auth_user){0};
}

/* One '@', a non-empty local part, a domain with an inner dot. */
static bool
looks_like_address(const char *email)
{
	const char *at = strchr(email, '@');
	const char *domain, *dot;
	size_t dlen;

	if (!at || at == email || strchr(at + 1, '@'))
		return false;
	domain = at + 1;
	dlen = strlen(domain);
	if (dlen < 3 || domain[0] == '.' || domain[dlen - 1] == '.')
		return false;
	dot = strchr(domain, '.');
	return dot != NULL && !strstr(domain, "..");
}

void
auth_user_check_register(const char *username, const char *email,
    const char *password, char **username_nfc, ta_violations *v)
{
	auth_text_scan t;

	auth_username_prepare(username, username_nfc, v);

	if (!email || !*email) {
		ta_violations_add(v, "email", "email is required");
	} else if (!(t = auth_text_scan_of(email)).is_utf8) {
		ta_violations_add(v, "email", "email must be valid UTF-8");
	} else if (t.chars > EMAIL_MAX_CHARS) {
		ta_violations_add(
		    v, "email", "email must be at most 100 characters");
	} else if (t.has_control || t.has_space || !looks_like_address(email)) {
		ta_violations_add(
		    v, "email", "email must be a valid email address");
	}

	auth_user_check_password("password", password, v);
}

void
auth_user_check_password(
    const char *field, const char *password, ta_violations *v)
{
	char msg[64];

	if (!password || !*password) {
		snprintf(msg, sizeof msg, "%s is required", field);
		ta_violations_add(v, field, msg);
	} else if (strnlen(password, PASSWORD_MAX_BYTES + 1) >
	           PASSWORD_MAX_BYTES) {
		snprintf(
		    msg, sizeof msg, "%s must be at most 1024 bytes", field);
		ta_violations_add(v, field, msg);
	}
}

void
auth_user_check_login(
    const char *username, const char *password, ta_violations *v)
{
	if (!username || !*username)
		ta_violations_add(v, "username", "username is required");
	if (!password || !*password)
		ta_violations_add(v, "password", "password is required");
}

static char *
dup_value(const PGresult *res, int col)
{
	return ta_xstrdup(PQgetvalue(res, 0, col));
}

/* created_at of row 0, column col, into u; false when it does not parse. */
static bool
read_created(const PGresult *res, int col, auth_user *u)
{
	if (PQgetisnull(res, 0, col))
		return true; // old rows may lack it: left at the epoch
	return ta_pg_parse_timestamp(
	    PQgetvalue(res, 0, col), &u->created_s, &u->created_ns);
}

/* id, username, email, created_at of the single row of res into *out. */
static ta_status
inserted_user(const PGresult *res, auth_user *out)
{
	auth_user u = {0};

	if (PQntuples(res) != 1 || PQnfields(res) != 4)
		return TA_INTERNAL;
	u.id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	u.username = dup_value(res, 1);
	u.email = dup_value(res, 2);
	if (!read_created(res, 3, &u)) {
		auth_user_fini(&u);
		return TA_INTERNAL;
	}
	*out = u;
	return TA_OK;
}

ta_status
auth_user_insert(ta_pg *pg, const char *username, const char *email,
    const char *password_hash, auth_user *out)
{
	const char *params[] = {username, email, password_hash};
	PGresult *res = NULL;
	ta_status status;

	status = ta_pg_exec(pg, AUTH_SQL_INSERT, 3, params, &res);
	if (status != TA_OK)
		return status;
	status = inserted_user(res, out);
	PQclear(res);
	return status;
}

/* Registration's keys: user_id is always 0 (nobody is signed in). */
static ta_idem_method register_user = {
    .method = "RegisterUser",
    .create = AUTH_SQL_INSERT_KEYED,
    .replay = AUTH_SQL_REPLAY,
    .lookup = AUTH_SQL_KEY_LOOKUP,
    .purge = AUTH_SQL_KEYS_PURGE,
};

ta_status
auth_user_insert_keyed(ta_pg *pg, const char *key, const char *fp,
    const char *username, const char *email, const char *password_hash,
    auth_user *out, ta_idem_outcome *outcome)
{
	const char *params[] = {username, email, password_hash, key, fp};
	const char *replay_params[] = {key, username};
	PGresult *res = NULL;
	ta_status status;

	status = ta_idem_create(pg, &register_user, 0, key, fp,
	    (ta_idem_params){5, params}, (ta_idem_params){2, replay_params},
	    &res, outcome);
	if (status != TA_OK || *outcome == TA_IDEM_MISMATCH)
		return status;
	/* A key without a fingerprint, for another username (or a deleted
	 * user). */
	if (*outcome == TA_IDEM_GONE)
		return TA_FAILED_PRECONDITION;
	status = inserted_user(res, out);
	PQclear(res);
	return status;
}

/*
 * The one row stmt finds for param, as id, username, email, password_hash
 * (NULL: left NULL), role, created_at, token_generation, into *out.
 */
static ta_status
find_one(ta_pg *pg, int stmt, const char *param, auth_user *out)
{
	const char *params[] = {param};
	PGresult *res = NULL;
	auth_user u = {0};
	ta_status status;

	status = ta_pg_exec(pg, stmt, 1, params, &res);
	if (status != TA_OK)
		return status;
	if (PQntuples(res) == 0) {
		status = TA_NOT_FOUND;
		goto out;
	}
	if (PQnfields(res) != 7) {
		status = TA_INTERNAL;
		goto out;
	}
	u.id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	u.username = dup_value(res, 1);
	u.email = dup_value(res, 2);
	u.password_hash = PQgetisnull(res, 0, 3) ? NULL : dup_value(res, 3);
	u.role = dup_value(res, 4);
	if (!read_created(res, 5, &u)) {
		status = TA_INTERNAL;
		goto out;
	}
	u.generation = strtoll(PQgetvalue(res, 0, 6), NULL, 10);
	*out = u;
	u = (auth_user){0};
out:
	auth_user_fini(&u);
	PQclear(res);
	return status;
}

ta_status
auth_user_find(ta_pg *pg, const char *username, auth_user *out)
{
	return find_one(pg, AUTH_SQL_FIND_BY_USERNAME, username, out);
}

ta_status
auth_user_find_by_id(ta_pg *pg, int64_t id, auth_user *out)
{
	char idbuf[24];

	snprintf(idbuf, sizeof idbuf, "%" PRId64, id);
	return find_one(pg, AUTH_SQL_FIND_BY_ID, idbuf, out);
}

ta_status
auth_user_find_login(ta_pg *pg, const char *username, auth_user *out)
{
	char *nfc;
	ta_status status = auth_user_find(pg, username, out);

	/* The exact bytes first: a stored legacy name (NFD, say) keeps
	 * logging in as typed. Then the NFC form new names are stored in. */
	if (status != TA_NOT_FOUND)
		return status;
	if (!(nfc = auth_identifier_nfc(username)))
		return TA_NOT_FOUND;
	if (strcmp(nfc, username) != 0)
		status = auth_user_find(pg, nfc, out);
	free(nfc);
	return status;
}

ta_status
auth_user_set_hash(
    ta_pg *pg, int64_t id, const char *old_hash, const char *new_hash)
{
	char idbuf[24];
	const char *params[] = {idbuf, old_hash, new_hash};
	PGresult *res = NULL;
	ta_status status;

	snprintf(idbuf, sizeof idbuf, "%" PRId64, id);
	status = ta_pg_exec(pg, AUTH_SQL_SET_HASH, 3, params, &res);
	if (status != TA_OK)
		return status;
	if (strcmp(PQcmdTuples(res), "1") != 0)
		status = TA_NOT_FOUND;
	PQclear(res);
	return status;
}
