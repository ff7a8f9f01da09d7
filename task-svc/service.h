/* The taskapi.v1.TaskService handlers of task-svc. */
#ifndef TA_TASK_SVC_SERVICE_H
#define TA_TASK_SVC_SERVICE_H

#include <protobuf-c/protobuf-c.h>

/*
 * The TaskService implementation (static storage). Its handlers expect
 * ctx->thread_state to be the serving thread's ta_pg over task_stmts.
 */
ProtobufCService *task_service(void);

#endif
