/*
 * Failed-login limits of auth-svc (docs/login-limits.md): consecutive
 * failures counted in PostgreSQL per (submitted username, client address)
 * and per username across all addresses, with an exponentially growing
 * lockout past a threshold, checked before any password is hashed.
 */
#ifndef TA_AUTH_LOGIN_LIMITS_H
#define TA_AUTH_LOGIN_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "pg.h"
#include "status.h"
#include "users.h"

/* The policy (auth-svc's config table). */
typedef struct auth_limit_cfg {
	long pair_limit;    /* LOGIN_FAILURE_LIMIT: per username and address */
	long account_limit; /* LOGIN_ACCOUNT_FAILURE_LIMIT; 0: off */
	long base_s;        /* LOGIN_LOCKOUT_BASE_S: first lockout */
	long max_s;         /* LOGIN_LOCKOUT_MAX_S: longest lockout */
} auth_limit_cfg;

/* Indexes of auth_limit_stmts in the combined statement table. */
enum {
	AUTH_LIMIT_SQL_CHECK = AUTH_SQL_COUNT,
	AUTH_LIMIT_SQL_FAIL,
	AUTH_LIMIT_SQL_RESET,
	AUTH_LIMIT_SQL_PURGE,
	AUTH_ALL_SQL_COUNT
};

/* Rows AUTH_SQL_COUNT.. of auth-svc's statement table. */
extern const ta_pg_stmt auth_limit_stmts[AUTH_ALL_SQL_COUNT - AUTH_SQL_COUNT];

/* Room for a key written by auth_limit_keys, NUL included. */
#define AUTH_LIMIT_KEY_MAX 65
/* Room for a client address as stored, NUL included. */
#define AUTH_LIMIT_ADDR_MAX 46

/* The identity of one login attempt, as the table stores it. */
typedef struct auth_limit_keys {
	char user[AUTH_LIMIT_KEY_MAX];  /* hex BLAKE2b-256 of the username */
	char addr[AUTH_LIMIT_ADDR_MAX]; /* client address, or "" */
	char call[AUTH_LIMIT_KEY_MAX];  /* hex digest of addr and call key */
} auth_limit_keys;

/*
 * Fills k for username and the envelope's client_addr and call keys
 * (all borrowed, never NULL). An address of anything but hex digits, '.'
 * and ':' (at most 45 bytes) is stored as "" (unknown); the call key is the
 * idempotency key, else the request id, and k->call is "" when both are
 * empty. Pure.
 */
void auth_limit_keys_of(const char *username, const char *client_addr,
    const char *idempotency_key, const char *request_id, auth_limit_keys *k);

/* What the table says about an attempt before it is hashed. */
typedef struct auth_limit_verdict {
	int64_t retry_after_s; /* > 0: locked for this long */
	long quota;            /* the limit that locked it */
	bool is_repeat;        /* this very call already failed and counted */
} auth_limit_verdict;

/*
 * Reads the lockouts that apply to k: the pair's own, and the account-wide
 * one when this address has failed on this username before. TA_UNAVAILABLE
 * or TA_INTERNAL from the database.
 */
ta_status auth_limit_check(ta_pg *pg, const auth_limit_cfg *c,
    const auth_limit_keys *k, auth_limit_verdict *out);

/*
 * Counts one failure of k (pair and account rows), locking what reached
 * its limit; a repeat of the last counted call is not counted again.
 */
ta_status auth_limit_fail(
    ta_pg *pg, const auth_limit_cfg *c, const auth_limit_keys *k);

/* A success: forgets the pair's and the account-wide failures. */
ta_status auth_limit_reset(ta_pg *pg, const auth_limit_keys *k);

#endif
