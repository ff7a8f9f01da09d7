/*
 * Password work on behalf of a call (pw_check.h): the hashing gate with
 * the call's deadline, Argon2id hashing and verification, logged with the
 * call's request id. Shared by Login, RegisterUser and ChangePassword.
 */
#include "pw_check.h"

#include <string.h>

#include "log.h"

ta_status
auth_pw_gate_enter_for(auth_app *app, const ta_rpc_ctx *ctx)
{
	ta_status status = auth_pw_gate_enter(&app->gate, ctx->deadline_ms);

	if (status == TA_DEADLINE_EXCEEDED)
		ta_log(TA_LOG_WARN, "hash_queue_timeout",
		    "deadline passed while waiting for a hashing slot",
		    TA_S("request_id", ctx->request_id));
	return status;
}

ta_status
auth_pw_hash_for(auth_app *app, const ta_rpc_ctx *ctx, const char *pw,
    char out[AUTH_PW_HASH_MAX])
{
	ta_status status = auth_pw_hash(&app->pw, pw, strlen(pw), out);

	if (status != TA_OK)
		ta_log(TA_LOG_ERROR, "password_hash_failed",
		    "argon2id hashing failed (memory?)",
		    TA_S("request_id", ctx->request_id));
	return status;
}

/*
 * Verifies pw for u (NULL: no such user) inside a gate slot. Unknown users
 * and unknown hash formats are verified against the dummy hash, so every
 * failure costs about one Argon2id verification. When u's hash is legacy
 * or weaker than configured, *new_hash receives a fresh one.
 */
ta_status
auth_pw_check(auth_app *app, const ta_rpc_ctx *ctx, const auth_user *u,
    const char *pw, bool *is_match, char new_hash[AUTH_PW_HASH_MAX],
    bool *has_new_hash)
{
	size_t len = strlen(pw);
	ta_status status;

	*is_match = false;
	if (has_new_hash)
		*has_new_hash = false;
	if ((status = auth_pw_gate_enter_for(app, ctx)) != TA_OK)
		return status;
	if (!u) {
		(void)auth_pw_verify(app->dummy_hash, pw, len);
	} else if (auth_pw_kind_of(u->password_hash) == AUTH_PW_UNKNOWN) {
		ta_log(TA_LOG_WARN, "unknown_hash_format",
		    "stored password hash has an unknown format",
		    TA_S("request_id", ctx->request_id),
		    TA_I("user_id", u->id));
		(void)auth_pw_verify(app->dummy_hash, pw, len);
	} else {
		*is_match = auth_pw_verify(u->password_hash, pw, len);
	}
	if (has_new_hash && *is_match &&
	    auth_pw_needs_rehash(&app->pw, u->password_hash))
		*has_new_hash =
		    auth_pw_hash_for(app, ctx, pw, new_hash) == TA_OK;
	auth_pw_gate_leave(&app->gate);
	return TA_OK;
}

/*
 * The unpacked request is freed by the RPC server after the handler; wipe
 * the password in it first. protobuf-c allocated the string (an unset one
 * is the shared empty string, which has no bytes to wipe).
 */
void
auth_pw_wipe(const char *password)
{
	size_t n = password ? strlen(password) : 0;

	if (n)
		sodium_memzero((char *)password, n);
}
