/*
 * What every TaskService handler does the same way (handler.h): the
 * caller's id, the client-safe failure messages, If-Match conditions and
 * the idempotency key rules.
 */
#include "handler.h"

#include <string.h>

#include "etag.h"
#include "log.h"

/* Client-safe messages of the failures a handler passes on. */
static const struct {
	ta_status status;
	const char *message;
} fail_messages[] = {
    {TA_NOT_FOUND, "Task not found"},
    {TA_PERMISSION_DENIED, "You do not have permission to access this task"},
    {TA_UNAUTHENTICATED, "Authentication required"},
    {TA_UNAVAILABLE, "Service temporarily unavailable"},
    {TA_ABORTED, "The request conflicted with another one; retry it"},
    {TA_INVALID_ARGUMENT, "Invalid task data"},
    {TA_FAILED_PRECONDITION,
        "The task has changed: If-Match does not match its current ETag"},
};

void
task_handler_fail(ta_rpc_ctx *ctx, ta_status status)
{
	const char *message = "Internal server error";

	for (size_t i = 0; i < sizeof fail_messages / sizeof fail_messages[0];
	     i++) {
		if (fail_messages[i].status == status)
			message = fail_messages[i].message;
	}
	ta_rpc_fail(ctx, status, message);
}

int64_t
task_handler_user(ta_rpc_ctx *ctx)
{
	const Taskapi__V1__Principal *p = ctx->principal;

	/* users.id is an int4 serial: nothing else names a user. */
	if (!p || p->user_id <= 0 || p->user_id > INT32_MAX) {
		task_handler_fail(ctx, TA_UNAUTHENTICATED);
		return 0;
	}
	return p->user_id;
}

bool
task_handler_is_task_id(int64_t id)
{
	return id > 0 && id <= INT32_MAX;
}

void
task_handler_report(ta_rpc_ctx *ctx, const ta_violations *v)
{
	for (size_t i = 0; i < v->n; i++)
		ta_rpc_violation(ctx, v->items[i].field, v->items[i].message);
}

bool
task_handler_key_fits(ta_rpc_ctx *ctx)
{
	if (strlen(ctx->idempotency_key) <= TA_IDEM_KEY_MAX)
		return true;
	ta_rpc_fail(ctx, TA_INVALID_ARGUMENT, TA_IDEM_KEY_TOO_LONG);
	return false;
}

bool
task_handler_cond(int64_t id, const char *if_match, task_cond *cond,
    int64_t *versions, ta_violations *v)
{
	*cond = (task_cond){.versions = versions};
	if (!if_match || !*if_match)
		return true;
	if (ta_etag_list_check(if_match, &cond->is_any) != TA_OK) {
		ta_violations_add(
		    v, "if_match", "must be * or a list of entity tags");
		return false;
	}
	cond->is_conditional = true;
	cond->n =
	    ta_etag_list_versions(if_match, id, versions, TA_ETAG_LIST_MAX);
	return true;
}

bool
task_handler_outcome(ta_rpc_ctx *ctx, int64_t uid, int64_t task_id,
    ta_idem_outcome outcome, const char *msg)
{
	if (outcome == TA_IDEM_MISMATCH) {
		ta_log(TA_LOG_INFO, "idempotency_key_reused",
		    "idempotency key reused for a different request",
		    TA_S("request_id", ctx->request_id), TA_I("user_id", uid));
		ta_idem_refuse(ctx);
		return false;
	}
	if (outcome == TA_IDEM_REPLAY)
		ta_log(TA_LOG_INFO, "idempotent_replay", msg,
		    TA_S("request_id", ctx->request_id), TA_I("user_id", uid),
		    TA_I("task_id", task_id));
	return true;
}
