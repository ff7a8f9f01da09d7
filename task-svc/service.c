/*
 * TaskService handlers: check the principal, validate, run the store
 * function, and reply. Every query is scoped by the principal's user id.
 * Replies live on the handler's stack; the rows they point into are freed
 * after the closure has packed them.
 */
#include "service.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "etag.h"
#include "idem.h"
#include "cursor.h"
#include "list_query.h"
#include "list_store.h"
#include "log.h"
#include "pg.h"
#include "rpc.h"
#include "tasks.h"
#include "validate.h"

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

/*
 * A task insert that the foreign key refused (SQLSTATE 23503, which
 * ta_pg_exec reports as FAILED_PRECONDITION): the token's user was deleted.
 * That is a 400, not a 412 (no If-Match is involved).
 */
#define USER_GONE "The user of this token no longer exists"

static void
fail(ta_rpc_ctx *ctx, ta_status status)
{
	const char *message = "Internal server error";

	for (size_t i = 0; i < sizeof fail_messages / sizeof fail_messages[0];
	     i++) {
		if (fail_messages[i].status == status)
			message = fail_messages[i].message;
	}
	ta_rpc_fail(ctx, status, message);
}

/* The caller's user id, or 0 (and the call failed) when anonymous. */
static int64_t
user_of(ta_rpc_ctx *ctx)
{
	const Taskapi__V1__Principal *p = ctx->principal;

	/* users.id is an int4 serial: nothing else names a user. */
	if (!p || p->user_id <= 0 || p->user_id > INT32_MAX) {
		fail(ctx, TA_UNAUTHENTICATED);
		return 0;
	}
	return p->user_id;
}

/* Task ids are int4 serials: anything else cannot exist. */
static bool
is_task_id(int64_t id)
{
	return id > 0 && id <= INT32_MAX;
}

static void
report(ta_rpc_ctx *ctx, const ta_violations *v)
{
	for (size_t i = 0; i < v->n; i++)
		ta_rpc_violation(ctx, v->items[i].field, v->items[i].message);
}

/* Refuses a call whose key was first used for another request. */
static void
log_key_reuse(ta_rpc_ctx *ctx, int64_t uid)
{
	ta_log(TA_LOG_INFO, "idempotency_key_reused",
	    "idempotency key reused for a different request",
	    TA_S("request_id", ctx->request_id), TA_I("user_id", uid));
	ta_idem_refuse(ctx);
}

/* Refuses a key longer than the edge's limit; false when it did. */
static bool
key_fits(ta_rpc_ctx *ctx)
{
	if (strlen(ctx->idempotency_key) <= TA_IDEM_KEY_MAX)
		return true;
	ta_rpc_fail(ctx, TA_INVALID_ARGUMENT, TA_IDEM_KEY_TOO_LONG);
	return false;
}

/*
 * The condition of if_match (borrowed; "" for none) on task id into *cond,
 * its versions in versions (room for TA_ETAG_LIST_MAX); false with a
 * violation on if_match when the value is malformed.
 */
static bool
cond_of(int64_t id, const char *if_match, task_cond *cond, int64_t *versions,
    ta_violations *v)
{
	*cond = (task_cond){.versions = versions};
	if (!if_match || !*if_match)
		return true;
	if (ta_etag_list_check(if_match, &cond->is_any) != TA_OK) {
		ta_violations_add(v, "if_match",
		    "must be * or a list of entity tags");
		return false;
	}
	cond->is_conditional = true;
	cond->n = ta_etag_list_versions(if_match, id, versions,
	    TA_ETAG_LIST_MAX);
	return true;
}

static void
impl_create_task(Taskapi__V1__TaskService_Service *svc,
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
	if (!(uid = user_of(ctx)))
		goto out;
	if (!task_validate_create(in, &vals, &v)) {
		report(ctx, &v);
		goto out;
	}
	if (strlen(ctx->idempotency_key) > TA_IDEM_KEY_MAX) {
		ta_rpc_fail(ctx, TA_INVALID_ARGUMENT, TA_IDEM_KEY_TOO_LONG);
		goto out;
	}
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
		fail(ctx, status);
		goto out;
	}
	if (outcome == TA_IDEM_MISMATCH) {
		log_key_reuse(ctx, uid);
		goto out;
	}
	if (outcome == TA_IDEM_REPLAY)
		ta_log(TA_LOG_INFO, "idempotent_replay",
		    "repeated create answered with the first result",
		    TA_S("request_id", ctx->request_id), TA_I("user_id", uid),
		    TA_I("task_id", set.tasks[0]->id));
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

/*
 * The page's position: the cursor read back when q has one (else *after
 * NULL). false after the call failed: a cursor this service did not issue
 * for this user, these filters and this sort.
 */
static bool
page_start(ta_rpc_ctx *ctx, const task_app *app, const task_list_query *q,
    int64_t uid, task_cursor *c, const task_cursor **after)
{
	uint8_t fp[TASK_CURSOR_FP_BYTES];
	task_cursor_error why;

	*after = NULL;
	if (!*q->cursor)
		return true;
	task_list_query_fp(q, uid, app->cursor_key, fp);
	if (task_cursor_decode(app->cursor_key, fp, q->cursor, c, &why) ==
	    TA_OK) {
		*after = c;
		return true;
	}
	ta_rpc_violation(ctx, "cursor",
	    why == TASK_CURSOR_OTHER_LIST
	        ? "cursor belongs to another list: repeat the filters, q and "
	          "sort of the request that returned it"
	        : "cursor is not a next_cursor of this service (malformed, "
	          "altered or expired by a key rotation): start again without "
	          "it");
	return false;
}

static void
impl_list_tasks(Taskapi__V1__TaskService_Service *svc,
    const Taskapi__V1__ListTasksRequest *in,
    Taskapi__V1__ListTasksReply_Closure closure, void *closure_data)
{
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	const task_app *app = ctx->app;
	Taskapi__V1__ListTasksReply reply = TASKAPI__V1__LIST_TASKS_REPLY__INIT;
	Google__Protobuf__StringValue next = GOOGLE__PROTOBUF__STRING_VALUE__INIT;
	char next_text[TASK_CURSOR_TEXT_MAX + 1];
	uint8_t fp[TASK_CURSOR_FP_BYTES];
	const task_cursor *after;
	task_list_query q;
	task_cursor c;
	task_page page;
	ta_violations v = {0};
	ta_status status;
	int64_t uid;

	(void)svc;
	if (!(uid = user_of(ctx)))
		goto out;
	if (!task_list_query_from(in, &q, &v)) {
		report(ctx, &v);
		goto out;
	}
	if (!page_start(ctx, app, &q, uid, &c, &after))
		goto out;
	status = task_store_list_page(ctx->thread_state, uid, &q, after,
	    app->page_max_bytes - TASK_PAGE_OVERHEAD, &page);
	if (status != TA_OK) {
		fail(ctx, status);
		goto out;
	}
	if (page.has_next) {
		task_list_query_fp(&q, uid, app->cursor_key, fp);
		if (task_cursor_encode(app->cursor_key, fp, &page.next,
		        next_text, sizeof next_text) != TA_OK) {
			task_set_fini(&page.set);
			fail(ctx, TA_INTERNAL);
			goto out;
		}
		next.value = next_text;
		reply.next_cursor = &next;
	}
	reply.n_tasks = page.set.n;
	reply.tasks = page.set.tasks;
	reply.count = (int32_t)page.set.n;
	closure(&reply, closure_data);
	task_set_fini(&page.set);
	ta_violations_fini(&v);
	return;
out:
	ta_violations_fini(&v);
	closure(NULL, closure_data);
}

static void
impl_get_task(Taskapi__V1__TaskService_Service *svc,
    const Taskapi__V1__GetTaskRequest *in,
    Taskapi__V1__GetTaskReply_Closure closure, void *closure_data)
{
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	Taskapi__V1__GetTaskReply reply = TASKAPI__V1__GET_TASK_REPLY__INIT;
	task_set set = {0};
	ta_status status = TA_NOT_FOUND;
	char etag[TA_ETAG_MAX];
	int64_t uid;

	(void)svc;
	if (!(uid = user_of(ctx))) {
		closure(NULL, closure_data);
		return;
	}
	if (is_task_id(in->id))
		status = task_store_get(ctx->thread_state, uid, in->id, &set);
	if (status != TA_OK) {
		fail(ctx, status);
		closure(NULL, closure_data);
		return;
	}
	reply.task = set.tasks[0];
	ta_etag_format(reply.task->id, set.version, etag);
	reply.etag = etag;
	closure(&reply, closure_data);
	task_set_fini(&set);
}

static void
impl_update_task(Taskapi__V1__TaskService_Service *svc,
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
	if (!(uid = user_of(ctx)))
		goto out;
	/* An id that cannot exist is NOT_FOUND before any validation, as
	 * for a task that does not exist. */
	if (!is_task_id(in->id)) {
		fail(ctx, TA_NOT_FOUND);
		goto out;
	}
	/* Both run ("|", not "||"): every violation is reported at once. */
	if (!task_validate_update(in, &vals, &mask, &v) |
	    !cond_of(in->id, in->if_match, &cond, versions, &v)) {
		report(ctx, &v);
		goto out;
	}
	if (!key_fits(ctx))
		goto out;
	ta_idem_fingerprint(&in->base, NULL, fp);
	status = task_store_update(ctx->thread_state, uid, in->id, mask, &vals,
	    &cond, ctx->idempotency_key, fp, &set, &outcome);
	if (status != TA_OK) {
		fail(ctx, status);
		goto out;
	}
	if (outcome == TA_IDEM_MISMATCH) {
		log_key_reuse(ctx, uid);
		goto out;
	}
	if (outcome == TA_IDEM_REPLAY)
		ta_log(TA_LOG_INFO, "idempotent_replay",
		    "repeated update answered with the task as it is",
		    TA_S("request_id", ctx->request_id), TA_I("user_id", uid),
		    TA_I("task_id", in->id));
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

static void
impl_delete_task(Taskapi__V1__TaskService_Service *svc,
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
	if (!(uid = user_of(ctx)) || !key_fits(ctx)) {
		closure(NULL, closure_data);
		return;
	}
	if (!cond_of(in->id, in->if_match, &cond, versions, &v)) {
		report(ctx, &v);
		ta_violations_fini(&v);
		closure(NULL, closure_data);
		return;
	}
	ta_idem_fingerprint(&in->base, NULL, fp);
	if (is_task_id(in->id))
		status = task_store_delete(ctx->thread_state, uid, in->id,
		    &cond, ctx->idempotency_key, fp, &outcome);
	if (status != TA_OK) {
		fail(ctx, status);
		closure(NULL, closure_data);
		return;
	}
	if (outcome == TA_IDEM_MISMATCH) {
		log_key_reuse(ctx, uid);
		closure(NULL, closure_data);
		return;
	}
	if (outcome == TA_IDEM_REPLAY)
		ta_log(TA_LOG_INFO, "idempotent_replay",
		    "repeated delete answered with the first result",
		    TA_S("request_id", ctx->request_id), TA_I("user_id", uid),
		    TA_I("task_id", in->id));
	reply.message = "Task deleted successfully";
	closure(&reply, closure_data);
}

static Taskapi__V1__TaskService_Service service =
    TASKAPI__V1__TASK_SERVICE__INIT(impl_);

ProtobufCService *
task_service(void)
{
	return &service.base;
}
