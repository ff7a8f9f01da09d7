/*
 * The session handlers of AuthService (session_service.h): refresh token
 * rotation with reuse detection, logout, the caller's own user, and the
 * revocation list the edge caches. Password change is in password_service.c.
 * Refresh tokens and access tokens are never logged.
 */
#include "session_service.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "alloc.h"
#include "jwt.h"
#include "handler_fail.h"
#include "log.h"
#include "service.h"
#include "sessions.h"
#include "token_user.h"

#define BAD_REFRESH "Invalid refresh token"
/* About one login in this many deletes refresh tokens a day past expiry. */
#define PURGE_EVERY 256
/* The most users one revocation list carries (a reply stays < 8 MiB). */
#define REVOCATIONS_MAX 100000
/* How far back a revocation still matters beyond an access token's life:
 * the verifiers' leeway and one edge refresh period at most. */
#define REVOCATION_SLACK_S (TA_JWT_LEEWAY_S + 60)

ta_status
auth_session_start(
    const ta_rpc_ctx *ctx, const auth_user *u, char out[AUTH_REFRESH_MAX])
{
	const auth_app *app = ctx->app;
	char hash[AUTH_REFRESH_HEX], family[AUTH_REFRESH_FAMILY];
	ta_status status;

	auth_refresh_new(out);
	auth_refresh_hash(out, hash);
	auth_refresh_family_new(family);
	status = auth_session_insert(ctx->thread_state, hash, u->id, family,
	    u->generation, app->refresh_ttl_s);
	if (status != TA_OK) {
		sodium_memzero(out, AUTH_REFRESH_MAX);
		ta_log(TA_LOG_WARN, "session_start_failed",
		    "could not store a refresh token",
		    TA_S("request_id", ctx->request_id),
		    TA_I("user_id", u->id));
	} else if (randombytes_uniform(PURGE_EVERY) == 0 &&
	           auth_session_purge(ctx->thread_state) != TA_OK) {
		/* Housekeeping only: the login stands. */
		ta_log(TA_LOG_WARN, "session_purge_failed",
		    "could not delete expired refresh tokens",
		    TA_S("request_id", ctx->request_id));
	}
	return status;
}

/* The call's key: the same envelope arriving again has the same one. */
static void
call_key_of(const ta_rpc_ctx *ctx, char out[AUTH_REFRESH_HEX])
{
	auth_refresh_call_key(
	    ctx->request_id, ctx->idempotency_key, ctx->deadline_ms, out);
}

/* Fails with the sentence for a database status. */
void
auth_refresh_session(Taskapi__V1__AuthService_Service *service,
    const Taskapi__V1__RefreshSessionRequest *input,
    Taskapi__V1__RefreshSessionReply_Closure closure, void *closure_data)
{
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	auth_app *app = ctx->app;
	char hash[AUTH_REFRESH_HEX], key[AUTH_REFRESH_HEX];
	char next[AUTH_REFRESH_MAX], next_hash[AUTH_REFRESH_HEX];
	Taskapi__V1__RefreshSessionReply reply =
	    TASKAPI__V1__REFRESH_SESSION_REPLY__INIT;
	auth_spend_outcome outcome = AUTH_SPEND_DEAD;
	auth_user u = {0};
	int64_t user_id = 0;
	char *token = NULL;
	ta_status status;

	(void)service;
	next[0] = '\0';
	if (!input->refresh_token || !*input->refresh_token) {
		ta_rpc_violation(
		    ctx, "refresh_token", "refresh_token is required");
		goto fail;
	}
	/* Garbage costs no SQL. */
	if (!auth_refresh_is_well_formed(input->refresh_token)) {
		ta_rpc_fail(ctx, TA_UNAUTHENTICATED, BAD_REFRESH);
		goto fail;
	}
	auth_refresh_hash(input->refresh_token, hash);
	call_key_of(ctx, key);
	auth_refresh_next(app->refresh_key, hash, key, next);
	auth_refresh_hash(next, next_hash);
	status = auth_session_spend(ctx->thread_state, hash, key, next_hash,
	    app->refresh_ttl_s, &outcome, &user_id);
	if (status != TA_OK) {
		auth_fail_db(ctx, status);
		goto fail;
	}
	if (outcome == AUTH_SPEND_REUSED)
		ta_log(TA_LOG_WARN, "refresh_token_reused",
		    "a spent refresh token was presented: its family is "
		    "revoked",
		    TA_S("request_id", ctx->request_id),
		    TA_I("user_id", user_id),
		    TA_S("client_addr", ctx->client_addr));
	if (outcome == AUTH_SPEND_REUSED || outcome == AUTH_SPEND_DEAD) {
		ta_rpc_fail(ctx, TA_UNAUTHENTICATED, BAD_REFRESH);
		goto fail;
	}
	status = auth_user_find_by_id(ctx->thread_state, user_id, &u);
	if (status == TA_NOT_FOUND) {
		ta_rpc_fail(ctx, TA_UNAUTHENTICATED, BAD_REFRESH);
		goto fail;
	}
	if (status == TA_OK)
		status = auth_token_issue(
		    &app->tokens, &u, (int64_t)time(NULL), &token);
	if (status != TA_OK) {
		auth_fail_db(ctx, status);
		goto fail;
	}
	ta_log(TA_LOG_INFO,
	    outcome == AUTH_SPEND_REPLAY ? "session_refresh_repeat"
	                                 : "session_refreshed",
	    outcome == AUTH_SPEND_REPLAY
	        ? "repeated refresh answered with the same token"
	        : "refresh token rotated",
	    TA_S("request_id", ctx->request_id), TA_I("user_id", user_id));
	reply.token = token;
	reply.refresh_token = next;
	reply.expires_in = app->tokens.lifetime_s;
	closure(&reply, closure_data);
	goto out;
fail:
	closure(NULL, closure_data);
out:
	sodium_memzero(next, sizeof next);
	auth_pw_secret_free(token);
	auth_user_fini(&u);
}

void
auth_logout(Taskapi__V1__AuthService_Service *service,
    const Taskapi__V1__LogoutRequest *input,
    Taskapi__V1__LogoutReply_Closure closure, void *closure_data)
{
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	auth_app *app = ctx->app;
	Taskapi__V1__LogoutReply reply = TASKAPI__V1__LOGOUT_REPLY__INIT;
	char key[AUTH_REFRESH_HEX], hash[AUTH_REFRESH_HEX];
	const char *message = NULL;
	char *pw_hash = NULL;
	bool is_same_call = false;
	auth_user u = {0};
	ta_status status;

	(void)service;
	if (!input->all && (!input->refresh_token || !*input->refresh_token)) {
		ta_rpc_violation(ctx, "refresh_token",
		    "refresh_token is required unless all is true");
		closure(NULL, closure_data);
		return;
	}
	call_key_of(ctx, key);
	status = auth_token_caller(&app->tokens, ctx->thread_state,
	    input->token, (int64_t)time(NULL), key, &u, &pw_hash, &is_same_call,
	    &message);
	if (status != TA_OK) {
		auth_fail_check(ctx, status, message);
		closure(NULL, closure_data);
		return;
	}
	if (input->all) {
		status = auth_session_end_all(ctx->thread_state, u.id, key);
	} else if (auth_refresh_is_well_formed(input->refresh_token)) {
		/* Another user's token, or none: nothing, and the same 204. */
		auth_refresh_hash(input->refresh_token, hash);
		status = auth_session_revoke_own(ctx->thread_state, hash, u.id);
	}
	if (status == TA_OK) {
		ta_log(TA_LOG_INFO,
		    input->all ? "sessions_ended" : "session_ended",
		    input->all ? "every session of the user ended" : "logout",
		    TA_S("request_id", ctx->request_id), TA_I("user_id", u.id));
		closure(&reply, closure_data);
	} else {
		auth_fail_db(ctx, status);
		closure(NULL, closure_data);
	}
	auth_pw_secret_free(pw_hash);
	auth_user_fini(&u);
}

void
auth_get_me(Taskapi__V1__AuthService_Service *service,
    const Taskapi__V1__GetMeRequest *input,
    Taskapi__V1__GetMeReply_Closure closure, void *closure_data)
{
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	auth_app *app = ctx->app;
	Google__Protobuf__Timestamp created = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Taskapi__V1__MeUser user = TASKAPI__V1__ME_USER__INIT;
	Taskapi__V1__GetMeReply reply = TASKAPI__V1__GET_ME_REPLY__INIT;
	const char *message = NULL;
	auth_user u = {0};
	ta_status status;

	(void)service;
	/* A deleted user (or ended sessions) is refused here. */
	status = auth_token_user(&app->tokens, ctx->thread_state, input->token,
	    (int64_t)time(NULL), &u, &message);
	if (status != TA_OK) {
		auth_fail_check(ctx, status, message);
		closure(NULL, closure_data);
		return;
	}
	created.seconds = u.created_s;
	created.nanos = u.created_ns;
	user.id = u.id;
	user.username = u.username;
	user.email = u.email;
	user.role = u.role ? u.role : "user";
	user.created_at = &created;
	reply.user = &user;
	closure(&reply, closure_data);
	auth_user_fini(&u);
}

void
auth_list_revocations(Taskapi__V1__AuthService_Service *service,
    const Taskapi__V1__ListRevocationsRequest *input,
    Taskapi__V1__ListRevocationsReply_Closure closure, void *closure_data)
{
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	auth_app *app = ctx->app;
	Taskapi__V1__ListRevocationsReply reply =
	    TASKAPI__V1__LIST_REVOCATIONS_REPLY__INIT;
	Taskapi__V1__Revocation *items = NULL, **ptrs = NULL;
	Google__Protobuf__Timestamp *times = NULL;
	auth_revocation *list = NULL;
	int64_t window = app->tokens.lifetime_s + REVOCATION_SLACK_S;
	int64_t since = (int64_t)time(NULL) - window;
	size_t n = 0;
	ta_status status;

	(void)service;
	/* Not Health: only a caller holding the internal key may list. */
	if (!ctx->is_caller_verified) {
		ta_rpc_fail(
		    ctx, TA_UNAUTHENTICATED, "caller not authenticated");
		closure(NULL, closure_data);
		return;
	}
	if (input->since > since)
		since = input->since;
	status = auth_session_revocations(
	    ctx->thread_state, since, REVOCATIONS_MAX, &list, &n);
	if (status != TA_OK) {
		auth_fail_db(ctx, status);
		closure(NULL, closure_data);
		return;
	}
	if (n == REVOCATIONS_MAX)
		ta_log(TA_LOG_WARN, "revocations_truncated",
		    "more users ended their sessions than one list carries",
		    TA_S("request_id", ctx->request_id),
		    TA_I("max", REVOCATIONS_MAX));
	items = ta_xcalloc(n ? n : 1, sizeof *items);
	ptrs = ta_xcalloc(n ? n : 1, sizeof *ptrs);
	times = ta_xcalloc(n ? n : 1, sizeof *times);
	for (size_t i = 0; i < n; i++) {
		items[i] =
		    (Taskapi__V1__Revocation)TASKAPI__V1__REVOCATION__INIT;
		times[i] = (Google__Protobuf__Timestamp)
		    GOOGLE__PROTOBUF__TIMESTAMP__INIT;
		times[i].seconds = list[i].changed_s;
		items[i].user_id = list[i].user_id;
		items[i].generation = list[i].generation;
		items[i].changed_at = &times[i];
		ptrs[i] = &items[i];
	}
	reply.n_revocations = n;
	reply.revocations = ptrs;
	reply.window_s = window;
	closure(&reply, closure_data);
	free(items);
	free(ptrs);
	free(times);
	free(list);
}
