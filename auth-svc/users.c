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

/* Bounds of the users columns (varchar counts characters) and of hashing. */
#define USERNAME_MAX_CHARS 50
#define EMAIL_MAX_CHARS 100
#define PASSWORD_MAX_BYTES 1024

const ta_pg_stmt auth_user_stmts[AUTH_SQL_COUNT] = {
    [AUTH_SQL_INSERT] = {"auth_user_insert",
        "INSERT INTO users (username, email, password_hash) "
        "VALUES ($1, $2, $3) RETURNING id, username, email, created_at",
        false},
    [AUTH_SQL_FIND_BY_USERNAME] = {"auth_user_find",
        "SELECT id, username, email, password_hash, role, created_at "
        "FROM users WHERE username = $1",
        true},
    /* The primary key: one index probe per token checked. */
    [AUTH_SQL_FIND_BY_ID] = {"auth_user_find_by_id",
        "SELECT id, username, email, role, created_at "
        "FROM users WHERE id = $1",
        true},
    [AUTH_SQL_SET_HASH] = {"auth_user_set_hash",
        "UPDATE users SET password_hash = $3, "
        "updated_at = CURRENT_TIMESTAMP "
        "WHERE id = $1 AND password_hash = $2",
        false},
    /*
     * A registration with an idempotency key ($4): the key row takes the new
     * user's id and the user is inserted only when the key row was. A taken
     * username or email still fails the whole statement (23505), key row
     * included. When the key exists (or a concurrent call holding it
     * commits first) no row comes back, and AUTH_SQL_REPLAY, a new
     * statement with a new snapshot, reads the user the first call made.
     */
    [AUTH_SQL_INSERT_KEYED] = {"auth_user_insert_keyed",
        "WITH k AS (INSERT INTO idempotency_keys "
        "(method, user_id, key, result_id) VALUES ('RegisterUser', 0, $4, "
        "nextval(pg_get_serial_sequence('users', 'id'))) "
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
    [AUTH_SQL_KEY_EXISTS] = {"auth_key_exists",
        "SELECT 1 FROM idempotency_keys WHERE method = 'RegisterUser' "
        "AND user_id = 0 AND key = $1",
        true},
    [AUTH_SQL_KEYS_PURGE] = {"auth_keys_purge",
        "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid "
        "FROM idempotency_keys WHERE created_at < now() - interval '24 hours' "
        "LIMIT 1000)",
        false},
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

/* What the text of a field is made of. */
typedef struct text_scan {
	bool is_utf8;     /* well-formed UTF-8 (no overlongs, surrogates) */
	bool has_control; /* C0, DEL or C1 control characters */
	bool has_space;   /* any white space */
	size_t chars;     /* code points (valid only when is_utf8) */
} text_scan;

/* Decodes one code point at s; returns its length, 0 when malformed. */
static size_t
utf8_next(const unsigned char *s, uint32_t *cp)
{
	size_t n;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xE0) == 0xC0) {
		n = 2, c = s[0] & 0x1F, min = 0x80;
	} else if ((s[0] & 0xF0) == 0xE0) {
		n = 3, c = s[0] & 0x0F, min = 0x800;
	} else if ((s[0] & 0xF8) == 0xF0) {
		n = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0; /* also stops at the NUL */
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

static text_scan
scan(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	text_scan r = {.is_utf8 = true};
	uint32_t cp;
	size_t n;

	while (*s) {
		if (!(n = utf8_next(s, &cp))) {
			r.is_utf8 = false;
			return r;
		}
		if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
			r.has_control = true;
		if (cp == ' ' || cp == 0xA0 || cp == 0x1680 ||
		    (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
		    cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
		    cp == 0x3000 || (cp >= 0x09 && cp <= 0x0D))
			r.has_space = true;
		r.chars++;
		s += n;
	}
	return r;
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
    const char *password, ta_violations *v)
{
	text_scan t;

	if (!username || !*username) {
		ta_violations_add(v, "username", "username is required");
	} else if (!(t = scan(username)).is_utf8) {
		ta_violations_add(
		    v, "username", "username must be valid UTF-8");
	} else if (t.chars > USERNAME_MAX_CHARS) {
		ta_violations_add(
		    v, "username", "username must be at most 50 characters");
	} else if (t.has_control) {
		ta_violations_add(v, "username",
		    "username must not contain control characters");
	}

	if (!email || !*email) {
		ta_violations_add(v, "email", "email is required");
	} else if (!(t = scan(email)).is_utf8) {
		ta_violations_add(v, "email", "email must be valid UTF-8");
	} else if (t.chars > EMAIL_MAX_CHARS) {
		ta_violations_add(
		    v, "email", "email must be at most 100 characters");
	} else if (t.has_control || t.has_space || !looks_like_address(email)) {
		ta_violations_add(
		    v, "email", "email must be a valid email address");
	}

	if (!password || !*password) {
		ta_violations_add(v, "password", "password is required");
	} else if (strnlen(password, PASSWORD_MAX_BYTES + 1) >
	           PASSWORD_MAX_BYTES) {
		ta_violations_add(
		    v, "password", "password must be at most 1024 bytes");
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

/* Every this many keyed registrations, a thread deletes expired keys. */
#define PURGE_EVERY 256

static void
purge_keys(ta_pg *pg)
{
	static atomic_uint calls;
	PGresult *res;

	/* Opportunistic: a failure only delays the cleanup (logged). */
	if (atomic_fetch_add(&calls, 1) % PURGE_EVERY != 0)
		return;
	if (ta_pg_exec(pg, AUTH_SQL_KEYS_PURGE, 0, NULL, &res) == TA_OK)
		PQclear(res);
}

ta_status
auth_user_insert_keyed(ta_pg *pg, const char *key, const char *username,
    const char *email, const char *password_hash, auth_user *out,
    bool *is_replay)
{
	const char *params[] = {username, email, password_hash, key};
	const char *replay_params[] = {key, username};
	PGresult *res = NULL;
	ta_status status;

	purge_keys(pg);
	/* Twice at most: a key purged between the two statements of the
	 * first round is simply created in the second. */
	for (int round = 0; round < 2; round++) {
		status = ta_pg_exec(pg, AUTH_SQL_INSERT_KEYED, 4, params, &res);
		if (status != TA_OK)
			return status;
		if (PQntuples(res) > 0) {
			*is_replay = false;
			break;
		}
		PQclear(res);
		status =
		    ta_pg_exec(pg, AUTH_SQL_REPLAY, 2, replay_params, &res);
		if (status != TA_OK)
			return status;
		if (PQntuples(res) > 0) {
			*is_replay = true;
			break;
		}
		PQclear(res);
		res = NULL;
		/* The key holds, for another username (or a deleted user). */
		status =
		    ta_pg_exec(pg, AUTH_SQL_KEY_EXISTS, 1, params + 3, &res);
		if (status != TA_OK)
			return status;
		if (PQntuples(res) > 0) {
			PQclear(res);
			return TA_FAILED_PRECONDITION;
		}
		PQclear(res);
		res = NULL;
	}
	if (!res)
		return TA_ABORTED; /* the key came and went twice: give up */
	status = inserted_user(res, out);
	PQclear(res);
	return status;
}

ta_status
auth_user_find(ta_pg *pg, const char *username, auth_user *out)
{
	const char *params[] = {username};
	PGresult *res = NULL;
	auth_user u = {0};
	ta_status status;

	status = ta_pg_exec(pg, AUTH_SQL_FIND_BY_USERNAME, 1, params, &res);
	if (status != TA_OK)
		return status;
	if (PQntuples(res) == 0) {
		status = TA_NOT_FOUND;
		goto out;
	}
	if (PQnfields(res) != 6) {
		status = TA_INTERNAL;
		goto out;
	}
	u.id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	u.username = dup_value(res, 1);
	u.email = dup_value(res, 2);
	u.password_hash = dup_value(res, 3);
	u.role = dup_value(res, 4);
	if (!read_created(res, 5, &u)) {
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
