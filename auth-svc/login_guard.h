/*
 * Login's use of the failed-login limits (login_limits.h): refuse a locked
 * attempt before hashing, count a failure, forget failures on success.
 */
#ifndef TA_AUTH_LOGIN_GUARD_H
#define TA_AUTH_LOGIN_GUARD_H

#include <stdbool.h>

#include "login_limits.h"
#include "rpc.h"

/* The policy name the 429's RateLimit headers carry. */
#define AUTH_LIMIT_POLICY "login-failures"

/*
 * Fills k for this call and decides whether username may be tried now.
 * false: the call has failed already (ta_rpc_fail*) and must not hash:
 * RESOURCE_EXHAUSTED with the lock's RateLimit (HTTP 429) when locked,
 * UNAUTHENTICATED for a repeat of a call that already failed, or the
 * database's status.
 */
bool auth_login_guard_admit(ta_rpc_ctx *ctx, const auth_limit_cfg *c,
    const char *username, auth_limit_keys *k);

/* Counts a failed attempt (a database error is logged, never answered). */
void auth_login_guard_failed(
    const ta_rpc_ctx *ctx, const auth_limit_cfg *c, const auth_limit_keys *k);

/* A successful login forgets the failures of its pair and account. */
void auth_login_guard_passed(const ta_rpc_ctx *ctx, const auth_limit_keys *k);

#endif
