/*
 * The refresh_tokens table and the users columns that end sessions
 * (migration 0009, docs/sessions.md): the prepared statements and the
 * queries of Login, RefreshSession, Logout, ChangePassword and
 * ListRevocations. Tokens are only ever passed in as their digests.
 */
#ifndef TA_AUTH_SESSIONS_H
#define TA_AUTH_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "login_limits.h"
#include "pg.h"
#include "refresh_token.h"
#include "status.h"

/* Indexes of auth_session_stmts in the combined statement table. */
enum {
	AUTH_SESSION_SQL_INSERT = AUTH_ALL_SQL_COUNT,
	AUTH_SESSION_SQL_SPEND,
	AUTH_SESSION_SQL_LOOKUP,
	AUTH_SESSION_SQL_REVOKE_FAMILY,
	AUTH_SESSION_SQL_REVOKE_OWN,
	AUTH_SESSION_SQL_REVOKE_USER,
	AUTH_SESSION_SQL_SECRET,
	AUTH_SESSION_SQL_END_ALL,
	AUTH_SESSION_SQL_SET_PASSWORD,
	AUTH_SESSION_SQL_REVOCATIONS,
	AUTH_SESSION_SQL_PURGE,
	AUTH_SESSION_SQL_END /* the whole table's length */
};

/* Rows AUTH_ALL_SQL_COUNT.. of auth-svc's statement table. */
extern const ta_pg_stmt
    auth_session_stmts[AUTH_SESSION_SQL_END - AUTH_ALL_SQL_COUNT];

/*
 * Stores the digest hash of a new token of user_id at generation, in
 * family, living ttl_s seconds.
 */
ta_status auth_session_insert(ta_pg *pg, const char *hash, int64_t user_id,
    const char *family, int64_t generation, int64_t ttl_s);

/* How a spend ended (auth_session_spend). */
typedef enum auth_spend_outcome {
	AUTH_SPEND_OK = 0, /* spent now; next_hash stored */
	AUTH_SPEND_REPLAY, /* this very call spent it before: answer again */
	AUTH_SPEND_REUSED, /* spent by another call: family revoked */
	AUTH_SPEND_DEAD,   /* unknown, expired, revoked or generation behind */
} auth_spend_outcome;

/*
 * Spends the token whose digest is hash in call call_key, atomically
 * with storing next_hash (its successor, living ttl_s) in the same family:
 * of two calls racing on one token exactly one spends it. When nothing
 * was spent, tells why; a reuse revokes the family here. *user_id is set
 * for OK, REPLAY and REUSED. TA_UNAVAILABLE / TA_INTERNAL from the
 * database.
 */
ta_status auth_session_spend(ta_pg *pg, const char *hash, const char *call_key,
    const char *next_hash, int64_t ttl_s, auth_spend_outcome *outcome,
    int64_t *user_id);

/*
 * Revokes the family of the token whose digest is hash, only if it
 * belongs to user_id (another user's token, or none: nothing happens).
 */
ta_status auth_session_revoke_own(ta_pg *pg, const char *hash, int64_t user_id);

/* Revokes every refresh token of user_id. */
ta_status auth_session_revoke_user(ta_pg *pg, int64_t user_id);

/*
 * The row facts ChangePassword and Logout need: the password hash (owned,
 * caller frees after wiping; NULL with TA_NOT_FOUND when no such user)
 * and whether call_key is the key that last moved the generation.
 */
ta_status auth_session_secret(ta_pg *pg, int64_t user_id, const char *call_key,
    char **password_hash, bool *is_same_call);

/*
 * Ends every session of user_id: its generation goes up by one (unless
 * call_key already moved it: a re-sent call) and its refresh tokens are
 * revoked.
 */
ta_status auth_session_end_all(
    ta_pg *pg, int64_t user_id, const char *call_key);

/*
 * Sets user_id's password hash to new_hash while it still is old_hash,
 * and ends every session as auth_session_end_all does. TA_ABORTED when a
 * concurrent change won.
 */
ta_status auth_session_set_password(ta_pg *pg, int64_t user_id,
    const char *old_hash, const char *new_hash, const char *call_key);

/* One user whose sessions were ended. */
typedef struct auth_revocation {
	int64_t user_id;
	int64_t generation;
	int64_t changed_s; /* unix seconds */
} auth_revocation;

/*
 * The users whose generation moved at or after since_s (unix seconds),
 * at most max of them, in *out (caller frees) and *n.
 */
ta_status auth_session_revocations(
    ta_pg *pg, int64_t since_s, size_t max, auth_revocation **out, size_t *n);

/* Deletes refresh tokens expired for a day (housekeeping). */
ta_status auth_session_purge(ta_pg *pg);

#endif
