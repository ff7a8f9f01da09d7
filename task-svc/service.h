/* The taskapi.v1.TaskService handlers of task-svc. */
#ifndef TA_TASK_SVC_SERVICE_H
#define TA_TASK_SVC_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "cursor.h"
#include "pg.h"

/* Bytes of JSON a page may take besides its tasks: the reply's other
 * keys and a cursor. */
#define TASK_PAGE_OVERHEAD 2048

/* What task-svc's handlers read from the server's app pointer (main.c). */
typedef struct task_app {
	const ta_db_cfg *db;   /* borrowed: the process's configuration */
	size_t page_max_bytes; /* PAGE_MAX_BYTES */
	uint8_t cursor_key[TASK_CURSOR_KEY_BYTES]; /* from RPC_AUTH_KEY */
} task_app;

/*
 * The TaskService implementation (static storage). Its handlers expect
 * ctx->thread_state to be the serving thread's ta_pg over task_stmts, and
 * ctx->app a task_app.
 */
ProtobufCService *task_service(void);

#endif
