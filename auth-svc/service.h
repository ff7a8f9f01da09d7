/*
 * auth-svc's AuthService: RegisterUser, Login, ValidateToken and the
 * session methods (session_service.h), served by the RPC server's threads. The process state they share is one auth_app,
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
#include "refresh_token.h"
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
	/* Derives rotated refresh tokens (refresh_token.h). */
	unsigned char refresh_key[AUTH_REFRESH_KEY_BYTES];
	int64_t refresh_ttl_s; /* REFRESH_TTL_S */
} auth_app;

/*
 * Fills a: the hashing cost and lifetime as given, a gate of
 * hash_concurrency slots, a dummy hash of a random password and the
 * fingerprint key derived from jwt's secret (a new secret, new
 * fingerprints: docs/identifiers.md). jwt's strings are borrowed and must
 * outlive a. TA_INTERNAL when the semaphore or the hash cannot be made.
 * The refresh rotation key is derived from jwt's secret too.
 * a->db, a->limits and a->refresh_ttl_s are left for the caller to set.
 */
ta_status auth_app_init(auth_app *a, const auth_pw_params *pw,
    unsigned hash_concurrency, const ta_jwt_cfg *jwt, int64_t lifetime_s);
void auth_app_fini(auth_app *a);

/*
 * The AuthService implementation (static storage). Its handlers expect
 * ctx->app to be an auth_app and ctx->thread_state the thread's ta_pg
 * prepared with auth_user_stmts, auth_limit_stmts and auth_session_stmts,
 * in that order.
 */
ProtobufCService *auth_service(void);

#endif
