/*
 * The user a bearer token names, as the database has it now: a valid
 * token of a deleted user (or of an id that now holds someone else) names
 * nobody. For ValidateToken, and for any handler that acts as the token's
 * user.
 */
#ifndef TA_AUTH_TOKEN_USER_H
#define TA_AUTH_TOKEN_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "pg.h"
#include "status.h"
#include "tokens.h"
#include "users.h"

/*
 * Checks token at now (auth_token_check), then requires its user to exist
 * with the username the token carries and a token generation no higher
 * than the token's "gen" (docs/sessions.md). On TA_OK *out is that row (caller
 * auth_user_fini's it). TA_UNAUTHENTICATED with *message the public
 * sentence ("No authentication token provided", "Token has expired",
 * "Invalid token", the last also for a user who is gone or a token
 * whose sessions were ended);
 * TA_UNAVAILABLE or TA_INTERNAL when the database fails (*message NULL).
 */
ta_status auth_token_user(const auth_tokens *t, ta_pg *pg, const char *token,
    int64_t now, auth_user *out, const char **message);

/*
 * auth_token_user for a call that ends sessions (Logout, ChangePassword),
 * identified by call_key (refresh_token.h): also reads the row's password
 * hash into *password_hash (owned: wipe and free) and whether call_key
 * is the call that last moved the user's generation (*is_same_call). Such
 * a call, arriving again, is let through although its own token's
 * generation is now behind. Statuses and *message as auth_token_user.
 */
ta_status auth_token_caller(const auth_tokens *t, ta_pg *pg, const char *token,
    int64_t now, const char *call_key, auth_user *out, char **password_hash,
    bool *is_same_call, const char **message);

#endif
