/*
 * The users table as auth-svc sees it: the request checks of register and
 * login (pure, no SQL), the prepared statements, and the three queries.
 */
#ifndef TA_AUTH_USERS_H
#define TA_AUTH_USERS_H

#include <stdbool.h>
#include <stdint.h>

#include "idem.h"
#include "pg.h"
#include "status.h"
#include "violations.h"

/* Indexes into auth_user_stmts. */
enum {
	AUTH_SQL_INSERT = 0,
	AUTH_SQL_FIND_BY_USERNAME,
	AUTH_SQL_FIND_BY_ID, /* auth-svc/token_user.c */
	AUTH_SQL_SET_HASH,
	AUTH_SQL_INSERT_KEYED,
	AUTH_SQL_REPLAY,
	AUTH_SQL_KEY_LOOKUP,
	AUTH_SQL_KEYS_PURGE,
	AUTH_SQL_COUNT
};

/* The statement table each serving thread's ta_pg prepares. */
extern const ta_pg_stmt auth_user_stmts[AUTH_SQL_COUNT];

/* A row of users; strings owned (auth_user_fini). */
typedef struct auth_user {
	int64_t id;
	char *username;
	char *email;
	char *role;
	char *password_hash; /* never logged; wiped by auth_user_fini */
	int64_t created_s;   /* created_at as unix seconds and nanos */
	int32_t created_ns;
	int64_t generation; /* token_generation (docs/sessions.md) */
} auth_user;

void auth_user_fini(auth_user *u);

/*
 * Appends one violation per bad field of a registration: username (the
 * rules of auth_username_prepare, identifier.h), email (required, at most
 * 100 characters, one address) and password (required, at most 1024
 * bytes). A username that passes leaves its NFC form in *username_nfc
 * (caller frees; NULL otherwise), the form to store.
 */
void auth_user_check_register(const char *username, const char *email,
    const char *password, char **username_nfc, ta_violations *v);

/*
 * Appends a violation named field when password breaks registration's
 * rules (required, at most 1024 bytes); field is short (< 24 bytes).
 */
void auth_user_check_password(
    const char *field, const char *password, ta_violations *v);

/* Appends a violation for a missing username or password. */
void auth_user_check_login(
    const char *username, const char *password, ta_violations *v);

/*
 * Inserts a user. On TA_OK *out holds id, username, email and created_at.
 * TA_ALREADY_EXISTS when the username or email is taken (the unique
 * constraints decide); TA_UNAVAILABLE, TA_INTERNAL from ta_pg_exec.
 */
ta_status auth_user_insert(ta_pg *pg, const char *username, const char *email,
    const char *password_hash, auth_user *out);

/*
 * auth_user_insert with an idempotency key (non-empty, borrowed) and the
 * request's fingerprint fp (hex, idem.h): the first call with key inserts
 * the user and records key and fp (*outcome TA_IDEM_NEW); a later one with
 * the same fp, or a concurrent one that loses the race, inserts nothing
 * and fills *out with the user the first made (TA_IDEM_REPLAY); one with
 * another fp is TA_OK with TA_IDEM_MISMATCH and *out untouched.
 * TA_FAILED_PRECONDITION when a key stored without a fingerprint was used
 * for another username; otherwise as auth_user_insert.
 */
ta_status auth_user_insert_keyed(ta_pg *pg, const char *key, const char *fp,
    const char *username, const char *email, const char *password_hash,
    auth_user *out, ta_idem_outcome *outcome);

/* The user with exactly this username; TA_NOT_FOUND when there is none. */
ta_status auth_user_find(ta_pg *pg, const char *username, auth_user *out);

/*
 * The users row with this id: id, username, email, role, created_at and
 * token_generation into *out (password_hash stays NULL; caller auth_user_fini's it).
 * TA_NOT_FOUND when there is none; TA_UNAVAILABLE, TA_INTERNAL from the
 * database.
 */
ta_status auth_user_find_by_id(ta_pg *pg, int64_t id, auth_user *out);

/*
 * The user a login names: the exact username when one is stored (legacy
 * rows keep working as typed), else the NFC form of it, the form new
 * registrations are stored in. TA_NOT_FOUND when neither is.
 */
ta_status auth_user_find_login(
    ta_pg *pg, const char *username, auth_user *out);

/*
 * Replaces the password hash of user id, but only while it still is
 * old_hash (a concurrent change wins). TA_NOT_FOUND when it was not.
 */
ta_status auth_user_set_hash(
    ta_pg *pg, int64_t id, const char *old_hash, const char *new_hash);

#endif
