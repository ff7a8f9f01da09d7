/*
 * auth-svc's AuthService: RegisterUser, Login and ValidateToken, served by
 * the RPC server's threads. The process state they share is one auth_app,
 * built by main and read-only once serving starts (the gate is
 * thread-safe).
 */
#ifndef TA_AUTH_SERVICE_H
#define TA_AUTH_SERVICE_H

#include <protobuf-c/protobuf-c.h>

#include "idem.h"
#include "login_limits.h"
#include "passwords.h"
#include "pg.h"
#include "status.h"
#include "tokens.h"

typedef struct auth_app {
	auth_pw_params pw; /* cost of new hashes */
	auth_pw_gate gate; /* HASH_CONCURRENCY */
	auth_tokens tokens;
	const ta_db_cfg *db; /* borrowed: each thread's connection */
	auth_limit_cfg limits; /* failed-login lockouts (login_limits.h) */
	/* Verified against for unknown users, so they take as long. */
	char dummy_hash[AUTH_PW_HASH_MAX];
	/* Keys registration fingerprints (they cover the password). */
	unsigned char idem_key[TA_IDEM_KEY_BYTES];
} auth_app;

/*
 * Fills a: the hashing cost and lifetime as given, a gate of
 * hash_concurrency slots, a dummy hash of a random password and the
 * fingerprint key derived from jwt's secret (a new secret, new
 * fingerprints: docs/identifiers.md). jwt's strings are borrowed and must
 * outlive a. TA_INTERNAL when the semaphore or the hash cannot be made.
 * a->db and a->limits are left for the caller to set.
 */
ta_status auth_app_init(auth_app *a, const auth_pw_params *pw,
    unsigned hash_concurrency, const ta_jwt_cfg *jwt, int64_t lifetime_s);
void auth_app_fini(auth_app *a);

/*
 * The AuthService implementation (static storage). Its handlers expect
 * ctx->app to be an auth_app and ctx->thread_state the thread's ta_pg
 * prepared with auth_user_stmts followed by auth_limit_stmts.
 */
ProtobufCService *auth_service(void);

#endif
