/*
 * The reading methods of TaskService: GetTask and ListTasks (one page, its
 * cursor). Handlers of the table in service.c; same contract.
 */
#ifndef TA_TASK_SVC_READ_SERVICE_H
#define TA_TASK_SVC_READ_SERVICE_H

#include "taskapi/v1/task.pb-c.h"

void task_get_task(Taskapi__V1__TaskService_Service *svc,
    const Taskapi__V1__GetTaskRequest *in,
    Taskapi__V1__GetTaskReply_Closure closure, void *closure_data);
void task_list_tasks(Taskapi__V1__TaskService_Service *svc,
    const Taskapi__V1__ListTasksRequest *in,
    Taskapi__V1__ListTasksReply_Closure closure, void *closure_data);

#endif
