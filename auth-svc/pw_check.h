/*
 * Password work on behalf of one call: the hashing gate entered with the
 * call's deadline, Argon2id hashing and the verification Login and
 * ChangePassword share (unknown users cost one verification too).
 */
#ifndef TA_AUTH_PW_CHECK_H
#define TA_AUTH_PW_CHECK_H

#include <stdbool.h>

#include "rpc.h"
#include "service.h"
#include "users.h"

/*
 * Takes a hashing slot by ctx's deadline. TA_DEADLINE_EXCEEDED (logged)
 * when none was free in time. Pair TA_OK with auth_pw_gate_leave.
 */
ta_status auth_pw_gate_enter_for(auth_app *app, const ta_rpc_ctx *ctx);

/*
 * An Argon2id hash of pw into out; the caller holds a gate slot.
 * TA_INTERNAL (logged) when libsodium fails.
 */
ta_status auth_pw_hash_for(auth_app *app, const ta_rpc_ctx *ctx, const char *pw,
    char out[AUTH_PW_HASH_MAX]);

/*
 * Verifies pw for u (NULL: no such user) inside a gate slot. Unknown users
 * and unknown hash formats are verified against the dummy hash, so every
 * failure costs about one Argon2id verification. When u's hash is legacy
 * or weaker than configured, *new_hash receives a fresh one (has_new_hash
 * NULL: no fresh hash is made, for a caller that replaces the password
 * anyway). Statuses of auth_pw_gate_enter_for.
 */
ta_status auth_pw_check(auth_app *app, const ta_rpc_ctx *ctx,
    const auth_user *u, const char *pw, bool *is_match,
    char new_hash[AUTH_PW_HASH_MAX], bool *has_new_hash);

/*
 * Wipes a password string of an unpacked request (the RPC server frees
 * the request after the handler). NULL and "" are left alone.
 */
void auth_pw_wipe(const char *password);

#endif
