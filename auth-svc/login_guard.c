/*
 * Login's use of the failed-login limits: the checks around Login's one
 * password verification, and the answers and log lines they make. Never
 * logs the username (it may be a mistyped password) or any password.
 */
#include "login_guard.h"

#include <stdint.h>

#include "log.h"

#define LOCKED_MESSAGE "Too many failed login attempts; try again later"
#define BAD_LOGIN_MESSAGE "Invalid username or password"

bool
auth_login_guard_admit(ta_rpc_ctx *ctx, const auth_limit_cfg *c,
    const char *username, auth_limit_keys *k)
{
	auth_limit_verdict v = {0};
	Taskapi__V1__RateLimit rl = TASKAPI__V1__RATE_LIMIT__INIT;
	ta_status status;

	auth_limit_keys_of(username, ctx->client_addr, ctx->idempotency_key,
	    ctx->request_id, k);
	status = auth_limit_check(ctx->thread_state, c, k, &v);
	if (status != TA_OK) {
		ta_rpc_fail(ctx, status, "Service temporarily unavailable");
		return false;
	}
	if (v.retry_after_s > 0) {
		rl.policy = AUTH_LIMIT_POLICY;
		rl.quota = (uint32_t)v.quota;
		rl.retry_after_s = v.retry_after_s > UINT32_MAX
		                       ? UINT32_MAX
		                       : (uint32_t)v.retry_after_s;
		ta_log(TA_LOG_INFO, "login_locked",
		    "login refused: too many failures",
		    TA_S("request_id", ctx->request_id),
		    TA_S("client_addr", k->addr),
		    TA_I("retry_after_s", v.retry_after_s));
		ta_rpc_fail_limited(ctx, LOCKED_MESSAGE, &rl);
		return false;
	}
	if (v.is_repeat) {
		/* Same answer as the first time, without hashing again. */
		ta_log(TA_LOG_INFO, "login_repeat",
		    "repeated failed login answered from the record",
		    TA_S("request_id", ctx->request_id));
		ta_rpc_fail(ctx, TA_UNAUTHENTICATED, BAD_LOGIN_MESSAGE);
		return false;
	}
	return true;
}

void
auth_login_guard_failed(
    const ta_rpc_ctx *ctx, const auth_limit_cfg *c, const auth_limit_keys *k)
{
	ta_log(TA_LOG_INFO, "login_failed", "login failed",
	    TA_S("request_id", ctx->request_id), TA_S("client_addr", k->addr));
	if (auth_limit_fail(ctx->thread_state, c, k) != TA_OK)
		ta_log(TA_LOG_WARN, "login_failure_not_counted",
		    "could not count a failed login",
		    TA_S("request_id", ctx->request_id));
}

void
auth_login_guard_passed(const ta_rpc_ctx *ctx, const auth_limit_keys *k)
{
	if (auth_limit_reset(ctx->thread_state, k) != TA_OK)
		ta_log(TA_LOG_WARN, "login_failures_not_reset",
		    "could not forget the failures after a login",
		    TA_S("request_id", ctx->request_id));
}
