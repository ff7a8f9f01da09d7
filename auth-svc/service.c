/*
 * The AuthService handler table and its first three handlers (the
 * session ones are in session_service.c). Each runs on an
 * RPC serving thread with that thread's ta_pg; passwords are hashed inside
 * the process-wide gate and wiped once used.
 */
#include "service.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "alloc.h"
#include "handler_fail.h"
#include "log.h"
#include "identifier.h"
#include "login_guard.h"
#include "pw_check.h"
#include "rpc.h"
#include "session_service.h"
#include "taskapi/v1/auth.pb-c.h"
#include "token_user.h"
#include "users.h"
#include "violations.h"

/* Login refuses longer passwords unhashed; registration allows no more. */
#define LOGIN_PASSWORD_MAX_BYTES 1024

static void auth_register_user(Taskapi__V1__AuthService_Service *service,
    const Taskapi__V1__RegisterRequest *input,
    Taskapi__V1__RegisterReply_Closure closure, void *closure_data);
static void auth_login(Taskapi__V1__AuthService_Service *service,
    const Taskapi__V1__LoginRequest *input,
    Taskapi__V1__LoginReply_Closure closure, void *closure_data);
static void auth_validate_token(Taskapi__V1__AuthService_Service *service,
    const Taskapi__V1__ValidateTokenRequest *input,
    Taskapi__V1__ValidateTokenReply_Closure closure, void *closure_data);

/* Slots in the order of the service descriptor's methods. */
static Taskapi__V1__AuthService_Service auth_service_impl =
    TASKAPI__V1__AUTH_SERVICE__INIT(auth_);

/* The client-safe sentence for each failure a handler can end with. */
static const char *const fail_messages[] = {
    [TA_INVALID_ARGUMENT] = "Invalid request",
    [TA_DEADLINE_EXCEEDED] = "Deadline exceeded",
    [TA_ALREADY_EXISTS] = "Username or email already exists",
    [TA_UNAVAILABLE] = "Service temporarily unavailable",
    [TA_UNAUTHENTICATED] = "Invalid username or password",
    [TA_ABORTED] = "The request conflicted with another one; retry it",
};

static void
fail(ta_rpc_ctx *ctx, ta_status status)
{
	const char *m = NULL;

	if ((size_t)status < sizeof fail_messages / sizeof fail_messages[0])
		m = fail_messages[status];
	ta_rpc_fail(ctx, status, m ? m : "Internal server error");
}

static void
report_violations(ta_rpc_ctx *ctx, const ta_violations *v)
{
	for (size_t i = 0; i < v->n; i++)
		ta_rpc_violation(ctx, v->items[i].field, v->items[i].message);
}

static void
auth_register_user(Taskapi__V1__AuthService_Service *service,
    const Taskapi__V1__RegisterRequest *input,
    Taskapi__V1__RegisterReply_Closure closure, void *closure_data)
{
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	auth_app *app = ctx->app;
	ta_violations v = {0};
	char hash[AUTH_PW_HASH_MAX];
	auth_user u = {0};
	Google__Protobuf__Timestamp created = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Taskapi__V1__User user = TASKAPI__V1__USER__INIT;
	Taskapi__V1__RegisterReply reply = TASKAPI__V1__REGISTER_REPLY__INIT;
	ta_status status;
	ta_idem_outcome outcome = TA_IDEM_NEW;
	char fp[TA_IDEM_HEX_BYTES];
	char *username = NULL; /* NFC: what is stored and replayed */
	bool has_replied = false, is_replay;

	(void)service;
	auth_user_check_register(
	    input->username, input->email, input->password, &username, &v);
	if (strlen(ctx->idempotency_key) > TA_IDEM_KEY_MAX)
		ta_violations_add(&v, "idempotency_key", TA_IDEM_KEY_TOO_LONG);
	if (v.n) {
		report_violations(ctx, &v);
		goto out;
	}
	/* Before the password is wiped: the fingerprint covers it. */
	if (ctx->idempotency_key[0])
		ta_idem_fingerprint(&input->base, app->idem_key, fp);
	if ((status = auth_pw_gate_enter_for(app, ctx)) != TA_OK) {
		fail(ctx, status);
		goto out;
	}
	status = auth_pw_hash_for(app, ctx, input->password, hash);
	auth_pw_gate_leave(&app->gate);
	auth_pw_wipe(input->password);
	if (status != TA_OK) {
		fail(ctx, status);
		goto out;
	}
	/* The unique constraints decide a race: no lookup before. */
	if (ctx->idempotency_key[0])
		status = auth_user_insert_keyed(ctx->thread_state,
		    ctx->idempotency_key, fp, username, input->email, hash, &u,
		    &outcome);
	else
		status = auth_user_insert(
		    ctx->thread_state, username, input->email, hash, &u);
	if (status == TA_FAILED_PRECONDITION) {
		ta_rpc_fail(ctx, TA_ALREADY_EXISTS,
		    "This Idempotency-Key was used for another registration");
		goto out;
	}
	if (status != TA_OK) {
		fail(ctx, status);
		goto out;
	}
	if (outcome == TA_IDEM_MISMATCH) {
		ta_log(TA_LOG_INFO, "idempotency_key_reused",
		    "idempotency key reused for a different request",
		    TA_S("request_id", ctx->request_id));
		ta_idem_refuse(ctx);
		goto out;
	}
	is_replay = outcome == TA_IDEM_REPLAY;
	ta_log(TA_LOG_INFO, is_replay ? "idempotent_replay" : "user_registered",
	    is_replay ? "repeated registration answered with the first result"
	              : "user registered",
	    TA_S("request_id", ctx->request_id), TA_I("user_id", u.id));
	created.seconds = u.created_s;
	created.nanos = u.created_ns;
	user.id = u.id;
	user.username = u.username;
	user.email = u.email;
	user.created_at = &created;
	reply.message = "User registered successfully";
	reply.user = &user;
	closure(&reply, closure_data);
	has_replied = true;
out:
	auth_pw_wipe(input->password);
	sodium_memzero(hash, sizeof hash);
	free(username);
	auth_user_fini(&u);
	ta_violations_fini(&v);
	if (!has_replied)
		closure(NULL, closure_data);
}

/* Stores new_hash for u; a failure costs only the upgrade, not the login. */
static void
upgrade_hash(const ta_rpc_ctx *ctx, const auth_user *u, const char *new_hash)
{
	const char *from = auth_pw_kind_of(u->password_hash) == AUTH_PW_BCRYPT
	                       ? "bcrypt"
	                       : "argon2id";
	ta_status status = auth_user_set_hash(
	    ctx->thread_state, u->id, u->password_hash, new_hash);

	if (status == TA_OK)
		ta_log(TA_LOG_INFO, "password_rehashed",
		    "password hash upgraded to argon2id",
		    TA_S("request_id", ctx->request_id), TA_I("user_id", u->id),
		    TA_S("from", from));
	else
		ta_log(TA_LOG_WARN, "password_rehash_failed",
		    "could not store the upgraded password hash",
		    TA_S("request_id", ctx->request_id), TA_I("user_id", u->id),
		    TA_S("code", ta_status_name(status)));
}

static void
auth_login(Taskapi__V1__AuthService_Service *service,
    const Taskapi__V1__LoginRequest *input,
    Taskapi__V1__LoginReply_Closure closure, void *closure_data)
{
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	auth_app *app = ctx->app;
	ta_violations v = {0};
	auth_user u = {0};
	auth_limit_keys keys;
	char new_hash[AUTH_PW_HASH_MAX];
	char *token = NULL;
	char refresh[AUTH_REFRESH_MAX] = "";
	Taskapi__V1__LoginUser user = TASKAPI__V1__LOGIN_USER__INIT;
	Taskapi__V1__LoginReply reply = TASKAPI__V1__LOGIN_REPLY__INIT;
	bool is_match = false, has_new_hash = false, has_replied = false;
	bool is_admitted;
	char *nfc;
	ta_status status;

	(void)service;
	auth_user_check_login(input->username, input->password, &v);
	if (v.n) {
		report_violations(ctx, &v);
		goto out;
	}
	/*
	 * Before any hashing: a locked pair costs no Argon2id. Counted under
	 * the NFC form, which the lookup also tries, so that NFC and NFD
	 * spellings of one name share one count.
	 */
	nfc = auth_identifier_nfc(input->username);
	is_admitted = auth_login_guard_admit(
	    ctx, &app->limits, nfc ? nfc : input->username, &keys);
	free(nfc);
	if (!is_admitted)
		goto out;
	if (strnlen(input->password, LOGIN_PASSWORD_MAX_BYTES + 1) >
	    LOGIN_PASSWORD_MAX_BYTES) {
		auth_login_guard_failed(ctx, &app->limits, &keys);
		fail(ctx, TA_UNAUTHENTICATED);
		goto out;
	}
	status = auth_user_find_login(ctx->thread_state, input->username, &u);
	if (status != TA_OK && status != TA_NOT_FOUND) {
		fail(ctx, status);
		goto out;
	}
	status = auth_pw_check(app, ctx, status == TA_OK ? &u : NULL,
	    input->password, &is_match, new_hash, &has_new_hash);
	auth_pw_wipe(input->password);
	if (status == TA_OK && !is_match)
		auth_login_guard_failed(ctx, &app->limits, &keys);
	if (status != TA_OK || !is_match) {
		fail(ctx, status != TA_OK ? status : TA_UNAUTHENTICATED);
		goto out;
	}
	auth_login_guard_passed(ctx, &keys);
	if (has_new_hash)
		upgrade_hash(ctx, &u, new_hash);
	if ((status = auth_token_issue(
	         &app->tokens, &u, (int64_t)time(NULL), &token)) != TA_OK) {
		ta_log(TA_LOG_ERROR, "token_issue_failed",
		    "could not sign a token",
		    TA_S("request_id", ctx->request_id), TA_I("user_id", u.id));
		fail(ctx, status);
		goto out;
	}
	/* A new login is a new session: a refresh token of its own family. */
	if ((status = auth_session_start(ctx, &u, refresh)) != TA_OK) {
		fail(ctx, status);
		goto out;
	}
	reply.refresh_token = refresh;
	reply.expires_in = app->tokens.lifetime_s;
	user.id = u.id;
	user.username = u.username;
	user.email = u.email;
	reply.message = "Login successful";
	reply.token = token;
	reply.user = &user;
	closure(&reply, closure_data);
	has_replied = true;
out:
	auth_pw_wipe(input->password);
	sodium_memzero(new_hash, sizeof new_hash);
	sodium_memzero(refresh, sizeof refresh);
	auth_pw_secret_free(token);
	auth_user_fini(&u);
	ta_violations_fini(&v);
	if (!has_replied)
		closure(NULL, closure_data);
}

static void
auth_validate_token(Taskapi__V1__AuthService_Service *service,
    const Taskapi__V1__ValidateTokenRequest *input,
    Taskapi__V1__ValidateTokenReply_Closure closure, void *closure_data)
{
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	auth_app *app = ctx->app;
	auth_user u = {0};
	const char *message = NULL;
	Taskapi__V1__TokenUser user = TASKAPI__V1__TOKEN_USER__INIT;
	Taskapi__V1__ValidateTokenReply reply =
	    TASKAPI__V1__VALIDATE_TOKEN_REPLY__INIT;
	ta_status status;

	(void)service;
	/* A deleted user's token is refused here, not only when it expires. */
	status = auth_token_user(&app->tokens, ctx->thread_state, input->token,
	    (int64_t)time(NULL), &u, &message);
	if (status != TA_OK) {
		auth_fail_check(ctx, status, message);
		closure(NULL, closure_data);
		return;
	}
	user.user_id = u.id;
	user.username = u.username;
	user.email = u.email;
	reply.valid = true;
	reply.user = &user;
	closure(&reply, closure_data);
	auth_user_fini(&u);
}

ProtobufCService *
auth_service(void)
{
	return &auth_service_impl.base;
}
