/*
 * The stub TaskService handlers shared by test_rpc.c (the runtime over
 * nng) and test_rpc_dispatch.c (the dispatcher without sockets):
 * CreateTask, ListTasks, GetTask and DeleteTask. The including file
 * defines, before including it, STUB_BIG (the title length of GetTask's
 * over-the-cap reply) and `static void stub_seen(ta_rpc_ctx *ctx)` (runs
 * first in every handler); after it, its own tsvc_update_task and the
 * service, TASKAPI__V1__TASK_SERVICE__INIT(tsvc_).
 */
#ifndef TA_TESTS_UNIT_TASK_SERVICE_STUB_H
#define TA_TESTS_UNIT_TASK_SERVICE_STUB_H

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "rpc.h"
#include "taskapi/v1/task.pb-c.h"

/* Fails with two violations on an empty title; else echoes the title (as
 * the task's) and the idempotency key (as the message). */
static void
tsvc_create_task(Taskapi__V1__TaskService_Service *service,
    const Taskapi__V1__CreateTaskRequest *input,
    Taskapi__V1__CreateTaskReply_Closure closure, void *closure_data)
{
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	Taskapi__V1__CreateTaskReply reply =
	    TASKAPI__V1__CREATE_TASK_REPLY__INIT;
	Taskapi__V1__Task task = TASKAPI__V1__TASK__INIT;

	(void)service;
	stub_seen(ctx);
	if (!input->title[0]) {
		ta_rpc_violation(ctx, "title", "title is required");
		ta_rpc_violation(ctx, "status", "status is invalid");
		assert_true(ta_rpc_has_violations(ctx));
		closure(NULL, closure_data);
		return;
	}
	assert_false(ta_rpc_has_violations(ctx));
	task.title = input->title;
	reply.task = &task;
	reply.message = (char *)ctx->idempotency_key;
	closure(&reply, closure_data);
}

/* Fails with a status and message of its own. */
static void
tsvc_list_tasks(Taskapi__V1__TaskService_Service *service,
    const Taskapi__V1__ListTasksRequest *input,
    Taskapi__V1__ListTasksReply_Closure closure, void *closure_data)
{
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);

	(void)service;
	(void)input;
	stub_seen(ctx);
	ta_rpc_fail(ctx, TA_PERMISSION_DENIED, "not yours");
	closure(NULL, closure_data);
}

/*
 * Echoes id, the principal's user id and username (as title) and the
 * request id (as description). Misbehaves for negative ids: -2 replies
 * NULL without a status, -3 the wrong type, -4 a title of STUB_BIG bytes,
 * -5 twice.
 */
static void
tsvc_get_task(Taskapi__V1__TaskService_Service *service,
    const Taskapi__V1__GetTaskRequest *input,
    Taskapi__V1__GetTaskReply_Closure closure, void *closure_data)
{
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	Taskapi__V1__GetTaskReply reply = TASKAPI__V1__GET_TASK_REPLY__INIT;
	Taskapi__V1__Task task = TASKAPI__V1__TASK__INIT;
	Google__Protobuf__StringValue desc =
	    GOOGLE__PROTOBUF__STRING_VALUE__INIT;
	char *big = NULL;

	(void)service;
	stub_seen(ctx);
	task.id = input->id;
	task.user_id = ctx->principal ? ctx->principal->user_id : 0;
	task.title = ctx->principal ? ctx->principal->username : "anonymous";
	desc.value = (char *)ctx->request_id;
	task.description = &desc;
	task.status = TASKAPI__V1__TASK_STATUS__TASK_STATUS_IN_PROGRESS;
	reply.task = &task;
	if (input->id == -2) {
		closure(NULL, closure_data);
		return;
	}
	if (input->id == -3) {
		/* Deliberately the wrong type, as a buggy handler would. */
		closure((const Taskapi__V1__GetTaskReply *)(void *)&task,
		    closure_data);
		return;
	}
	if (input->id == -4) {
		big = ta_xmalloc(STUB_BIG + 1);
		memset(big, 'x', STUB_BIG);
		big[STUB_BIG] = '\0';
		task.title = big;
	}
	closure(&reply, closure_data);
	if (input->id == -5)
		closure(&reply, closure_data);
	free(big);
}

/* Never calls its closure. */
static void
tsvc_delete_task(Taskapi__V1__TaskService_Service *service,
    const Taskapi__V1__DeleteTaskRequest *input,
    Taskapi__V1__DeleteTaskReply_Closure closure, void *closure_data)
{
	(void)service;
	(void)input;
	(void)closure;
	stub_seen(ta_rpc_ctx_of(closure_data));
}

#endif
