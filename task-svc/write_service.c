/*
 * TaskService's changing handlers: CreateTask, UpdateTask and DeleteTask.
 * Each checks the principal, validates, runs the store function (keyed by
 * the call's idempotency key, conditional on If-Match) and replies. Every
 * query is scoped by the principal's user id; replies live on the
 * handler's stack and the rows they point into are freed after the
 * closure has packed them.
 */
#include "write_service.h"

#include <stdbool.h>
#include <stdint.h>

#include "etag.h"
#include "handler.h"
#include "idem.h"
#include "rpc.h"
#include "tasks.h"
#include "validate.h"

/*
 * A task insert that the foreign key refused (SQLSTATE 23503, which
 * ta_pg_exec reports as FAILED_PRECONDITION): the token's user was deleted.
 * That is a 400, not a 412 (no If-Match is involved).
 */
#define USER_GONE "The user of this token no longer exists"

void
task_create_task(Taskapi__V1__TaskService_Service *svc,
    const Taskapi__V1__CreateTaskRequest *in,
    Taskapi__V1__CreateTaskReply_Closure closure, void *closure_data)
{
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	Taskapi__V1__CreateTaskReply reply =
	    TASKAPI__V1__CREATE_TASK_REPLY__INIT;
	ta_violations v = {0};
	task_values vals;
	task_set set = {0};
	ta_status status;
	ta_idem_outcome outcome = TA_IDEM_NEW;
	char fp[TA_IDEM_HEX_BYTES], etag[TA_ETAG_MAX];
	int64_t uid;

	(void)svc;
	if (!(uid = task_handler_user(ctx)))
		goto out;
	if (!task_validate_create(in, &vals, &v)) {
		task_handler_report(ctx, &v);
		goto out;
	}
	if (!task_handler_key_fits(ctx))
		goto out;
	if (ctx->idempotency_key[0]) {
		ta_idem_fingerprint(&in->base, NULL, fp);
		status = task_store_create_keyed(ctx->thread_state, uid,
		    ctx->idempotency_key, fp, &vals, &set, &outcome);
	} else
		status = task_store_create(ctx->thread_state, uid, &vals, &set);
	if (status == TA_ALREADY_EXISTS) {
		ta_rpc_fail(ctx, status,
		    "This Idempotency-Key was used for a task that has since "
		    "been deleted");
		goto out;
	}
	if (status == TA_FAILED_PRECONDITION) {
		ta_rpc_fail(ctx, TA_INVALID_ARGUMENT, USER_GONE);
		goto out;
	}
	if (status != TA_OK) {
		task_handler_fail(ctx, status);
		goto out;
	}
	/* A refused key leaves set empty. */
	if (!task_handler_outcome(ctx, uid, set.n ? set.tasks[0]->id : 0,
	        outcome, "repeated create answered with the first result"))
		goto out;
	reply.message = "Task created successfully";
	reply.task = set.tasks[0];
	ta_etag_format(reply.task->id, set.version, etag);
	reply.etag = etag;
	closure(&reply, closure_data);
	task_set_fini(&set);
	ta_violations_fini(&v);
	return;
out:
	ta_violations_fini(&v);
	closure(NULL, closure_data);
}

void
task_update_task(Taskapi__V1__TaskService_Service *svc,
    const Taskapi__V1__UpdateTaskRequest *in,
    Taskapi__V1__UpdateTaskReply_Closure closure, void *closure_data)
{
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	Taskapi__V1__UpdateTaskReply reply =
	    TASKAPI__V1__UPDATE_TASK_REPLY__INIT;
	ta_violations v = {0};
	task_values vals;
	task_set set = {0};
	task_cond cond;
	int64_t versions[TA_ETAG_LIST_MAX];
	ta_idem_outcome outcome = TA_IDEM_NEW;
	char fp[TA_IDEM_HEX_BYTES], etag[TA_ETAG_MAX];
	ta_status status;
	unsigned mask;
	int64_t uid;

	(void)svc;
	if (!(uid = task_handler_user(ctx)))
		goto out;
	/* An id that cannot exist is NOT_FOUND before any validation, as
	 * for a task that does not exist. */
	if (!task_handler_is_task_id(in->id)) {
		task_handler_fail(ctx, TA_NOT_FOUND);
		goto out;
	}
	/* Both run ("|", not "||"): every violation is reported at once. */
	if (!task_validate_update(in, &vals, &mask, &v) |
	    !task_handler_cond(in->id, in->if_match, &cond, versions, &v)) {
		task_handler_report(ctx, &v);
		goto out;
	}
	if (!task_handler_key_fits(ctx))
		goto out;
	ta_idem_fingerprint(&in->base, NULL, fp);
	status = task_store_update(ctx->thread_state, uid, in->id, mask, &vals,
	    &cond, ctx->idempotency_key, fp, &set, &outcome);
	if (status != TA_OK) {
		task_handler_fail(ctx, status);
		goto out;
	}
	if (!task_handler_outcome(ctx, uid, in->id, outcome,
	        "repeated update answered with the task as it is"))
		goto out;
	reply.message = "Task updated successfully";
	reply.task = set.tasks[0];
	ta_etag_format(reply.task->id, set.version, etag);
	reply.etag = etag;
	closure(&reply, closure_data);
	task_set_fini(&set);
	ta_violations_fini(&v);
	return;
out:
	ta_violations_fini(&v);
	closure(NULL, closure_data);
}

void
task_delete_task(Taskapi__V1__TaskService_Service *svc,
    const Taskapi__V1__DeleteTaskRequest *in,
    Taskapi__V1__DeleteTaskReply_Closure closure, void *closure_data)
{
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	Taskapi__V1__DeleteTaskReply reply =
	    TASKAPI__V1__DELETE_TASK_REPLY__INIT;
	ta_status status = TA_NOT_FOUND;
	ta_idem_outcome outcome = TA_IDEM_NEW;
	ta_violations v = {0};
	task_cond cond;
	int64_t versions[TA_ETAG_LIST_MAX];
	char fp[TA_IDEM_HEX_BYTES];
	int64_t uid;

	(void)svc;
	if (!(uid = task_handler_user(ctx)) || !task_handler_key_fits(ctx)) {
		closure(NULL, closure_data);
		return;
	}
	if (!task_handler_cond(in->id, in->if_match, &cond, versions, &v)) {
		task_handler_report(ctx, &v);
		ta_violations_fini(&v);
		closure(NULL, closure_data);
		return;
	}
	ta_idem_fingerprint(&in->base, NULL, fp);
	if (task_handler_is_task_id(in->id))
		status = task_store_delete(ctx->thread_state, uid, in->id,
		    &cond, ctx->idempotency_key, fp, &outcome);
	if (status != TA_OK) {
		task_handler_fail(ctx, status);
		closure(NULL, closure_data);
		return;
	}
	if (!task_handler_outcome(ctx, uid, in->id, outcome,
	        "repeated delete answered with the first result")) {
		closure(NULL, closure_data);
		return;
	}
	reply.message = "Task deleted successfully";
	closure(&reply, closure_data);
}
