/*
 * TaskService's reading handlers: GetTask, and ListTasks with its cursor
 * (read back, checked against the caller and the list's filters, and
 * issued for the next page). Every query is scoped by the principal's
 * user id; replies live on the handler's stack and the rows they point
 * into are freed after the closure has packed them.
 */
#include "read_service.h"

#include <stdbool.h>
#include <stdint.h>

#include "cursor.h"
#include "etag.h"
#include "handler.h"
#include "list_query.h"
#include "list_store.h"
#include "rpc.h"
#include "service.h"
#include "tasks.h"

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

void
task_list_tasks(Taskapi__V1__TaskService_Service *svc,
    const Taskapi__V1__ListTasksRequest *in,
    Taskapi__V1__ListTasksReply_Closure closure, void *closure_data)
{
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	const task_app *app = ctx->app;
	Taskapi__V1__ListTasksReply reply = TASKAPI__V1__LIST_TASKS_REPLY__INIT;
	Google__Protobuf__StringValue next =
	    GOOGLE__PROTOBUF__STRING_VALUE__INIT;
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
	if (!(uid = task_handler_user(ctx)))
		goto out;
	if (!task_list_query_from(in, &q, &v)) {
		task_handler_report(ctx, &v);
		goto out;
	}
	if (!page_start(ctx, app, &q, uid, &c, &after))
		goto out;
	status = task_store_list_page(ctx->thread_state, uid, &q, after,
	    app->page_max_bytes - TASK_PAGE_OVERHEAD, &page);
	if (status != TA_OK) {
		task_handler_fail(ctx, status);
		goto out;
	}
	if (page.has_next) {
		task_list_query_fp(&q, uid, app->cursor_key, fp);
		if (task_cursor_encode(app->cursor_key, fp, &page.next,
		        next_text, sizeof next_text) != TA_OK) {
			task_set_fini(&page.set);
			task_handler_fail(ctx, TA_INTERNAL);
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

void
task_get_task(Taskapi__V1__TaskService_Service *svc,
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
	if (!(uid = task_handler_user(ctx))) {
		closure(NULL, closure_data);
		return;
	}
	if (task_handler_is_task_id(in->id))
		status = task_store_get(ctx->thread_state, uid, in->id, &set);
	if (status != TA_OK) {
		task_handler_fail(ctx, status);
		closure(NULL, closure_data);
		return;
	}
	reply.task = set.tasks[0];
	ta_etag_format(reply.task->id, set.version, etag);
	reply.etag = etag;
	closure(&reply, closure_data);
	task_set_fini(&set);
}
