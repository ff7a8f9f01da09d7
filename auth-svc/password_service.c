/*
 * ChangePassword (session_service.h): the caller's current password is
 * checked like a login (a wrong one counts as a failed login for the
 * account and address, and a locked pair gets 429 before any hashing),
 * the new one is hashed with Argon2id inside the hashing gate, and every
 * session of the user ends with the change. Passwords are wiped once used
 * and never logged.
 */
#include "session_service.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "handler_fail.h"
#include "log.h"
#include "login_guard.h"
#include "pw_check.h"
#include "service.h"
#include "sessions.h"
#include "token_user.h"
#include "violations.h"

#define WRONG_CURRENT "Current password is incorrect"

/* The checks of the body; true when it may go on. */
static bool
input_ok(ta_rpc_ctx *ctx, const Taskapi__V1__ChangePasswordRequest *in)
{
	ta_violations v = {0};
	bool ok;

	if (!in->current_password || !*in->current_password)
		ta_violations_add(
		    &v, "current_password", "current_password is required");
	auth_user_check_password("new_password", in->new_password, &v);
	for (size_t i = 0; i < v.n; i++)
		ta_rpc_violation(ctx, v.items[i].field, v.items[i].message);
	ok = v.n == 0;
	ta_violations_fini(&v);
	return ok;
}

/* Hashes pw inside the gate into out. */
static ta_status
hash_new(auth_app *app, const ta_rpc_ctx *ctx, const char *pw,
    char out[AUTH_PW_HASH_MAX])
{
	ta_status status = auth_pw_gate_enter_for(app, ctx);

	if (status != TA_OK)
		return status;
	status = auth_pw_hash_for(app, ctx, pw, out);
	auth_pw_gate_leave(&app->gate);
	return status;
}

void
auth_change_password(Taskapi__V1__AuthService_Service *service,
    const Taskapi__V1__ChangePasswordRequest *input,
    Taskapi__V1__ChangePasswordReply_Closure closure, void *closure_data)
{
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	auth_app *app = ctx->app;
	Taskapi__V1__ChangePasswordReply reply =
	    TASKAPI__V1__CHANGE_PASSWORD_REPLY__INIT;
	char key[AUTH_REFRESH_HEX], new_hash[AUTH_PW_HASH_MAX];
	const char *message = NULL;
	char *old_hash = NULL;
	bool is_same_call = false, is_match = false;
	bool has_replied = false;
	auth_limit_keys keys;
	auth_user u = {0};
	ta_status status;

	(void)service;
	new_hash[0] = '\0';
	if (!input_ok(ctx, input))
		goto out;
	auth_refresh_call_key(
	    ctx->request_id, ctx->idempotency_key, ctx->deadline_ms, key);
	status = auth_token_caller(&app->tokens, ctx->thread_state,
	    input->token, (int64_t)time(NULL), key, &u, &old_hash,
	    &is_same_call, &message);
	if (status != TA_OK) {
		auth_fail_check(ctx, status, message);
		goto out;
	}
	if (is_same_call) {
		/* This very call changed it already (an nng re-send). */
		ta_log(TA_LOG_INFO, "password_change_repeat",
		    "repeated password change answered again",
		    TA_S("request_id", ctx->request_id), TA_I("user_id", u.id));
		goto ok;
	}
	/* A wrong current password is a failed login for this account. */
	if (!auth_login_guard_admit(ctx, &app->limits, u.username, &keys))
		goto out;
	u.password_hash = old_hash;
	old_hash = NULL;
	/* No upgrade of a legacy hash: it is replaced below anyway. */
	status = auth_pw_check(
	    app, ctx, &u, input->current_password, &is_match, NULL, NULL);
	auth_pw_wipe(input->current_password);
	if (status != TA_OK) {
		auth_fail_db(ctx, status);
		goto out;
	}
	if (!is_match) {
		auth_login_guard_failed(ctx, &app->limits, &keys);
		ta_rpc_fail(ctx, TA_UNAUTHENTICATED, WRONG_CURRENT);
		goto out;
	}
	auth_login_guard_passed(ctx, &keys);
	if ((status = hash_new(app, ctx, input->new_password, new_hash)) ==
	    TA_OK)
		status = auth_session_set_password(
		    ctx->thread_state, u.id, u.password_hash, new_hash, key);
	if (status != TA_OK) {
		auth_fail_db(ctx, status);
		goto out;
	}
	ta_log(TA_LOG_INFO, "password_changed",
	    "password changed; every session ended",
	    TA_S("request_id", ctx->request_id), TA_I("user_id", u.id));
ok:
	closure(&reply, closure_data);
	has_replied = true;
out:
	auth_pw_wipe(input->current_password);
	auth_pw_wipe(input->new_password);
	sodium_memzero(new_hash, sizeof new_hash);
	auth_pw_secret_free(old_hash);
	auth_user_fini(&u);
	if (!has_replied)
		closure(NULL, closure_data);
}
