/*
 * The changing methods of TaskService: CreateTask, UpdateTask and
 * DeleteTask, each keyed (idempotency key) and the last two conditional
 * (If-Match). Handlers of the table in service.c; same contract.
 */
#ifndef TA_TASK_SVC_WRITE_SERVICE_H
#define TA_TASK_SVC_WRITE_SERVICE_H

#include "taskapi/v1/task.pb-c.h"

void task_create_task(Taskapi__V1__TaskService_Service *svc,
    const Taskapi__V1__CreateTaskRequest *in,
    Taskapi__V1__CreateTaskReply_Closure closure, void *closure_data);
void task_update_task(Taskapi__V1__TaskService_Service *svc,
    const Taskapi__V1__UpdateTaskRequest *in,
    Taskapi__V1__UpdateTaskReply_Closure closure, void *closure_data);
void task_delete_task(Taskapi__V1__TaskService_Service *svc,
    const Taskapi__V1__DeleteTaskRequest *in,
    Taskapi__V1__DeleteTaskReply_Closure closure, void *closure_data);

#endif
