/*
 * The tasks table: task-svc's statement table and the store functions that
 * run them, every one scoped by the caller's user id. Rows come back as
 * Taskapi__V1__Task messages that borrow their strings from the result.
 */
#ifndef TA_TASK_SVC_TASKS_H
#define TA_TASK_SVC_TASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "idem.h"
#include "pg.h"
#include "status.h"
#include "taskapi/v1/task.pb-c.h"
#include "validate.h"

/* The statements of task-svc, prepared on every connection. */
extern const ta_pg_stmt task_stmts[];
extern const size_t task_nstmts;
/* The index of the first list statement (list_sql.h) in task_stmts. */
extern const size_t task_list_stmt0;

struct task_row;

/*
 * Tasks read by one store call. tasks[i] point into rows, and their strings
 * into res: all of it lives until task_set_fini.
 */
typedef struct task_set {
	PGresult *res;
	size_t n;
	int64_t version; /* of tasks[0], for its ETag; 0 for a list */
	Taskapi__V1__Task **tasks;
	struct task_row *rows;
} task_set;

void task_set_fini(task_set *s);

/*
 * Each fills *out (caller's storage, zeroed) on TA_OK and leaves it empty
 * otherwise. get/update/delete: TA_NOT_FOUND when no task has that id,
 * TA_PERMISSION_DENIED when it belongs to another user. Database failures
 * come back as ta_pg_exec maps them (already logged).
 */
ta_status task_store_create(
    ta_pg *pg, int64_t user_id, const task_values *v, task_set *out);
/*
 * task_store_create with an idempotency key (non-empty, borrowed) and the
 * request's fingerprint fp (hex, idem.h): the first call with (user_id,
 * key) creates the task and records key and fp (*outcome TA_IDEM_NEW); a
 * later one with the same fp, or a concurrent one that loses the race,
 * creates nothing and fills *out with the task the first created
 * (TA_IDEM_REPLAY); one with another fp gets TA_OK, TA_IDEM_MISMATCH and
 * *out empty. TA_ALREADY_EXISTS when the key is known but its task has
 * been deleted.
 */
ta_status task_store_create_keyed(ta_pg *pg, int64_t user_id, const char *key,
    const char *fp, const task_values *v, task_set *out,
    ta_idem_outcome *outcome);
ta_status task_store_get(ta_pg *pg, int64_t user_id, int64_t id, task_set *out);

/*
 * The If-Match of an update or delete (etag.h): the versions the row must
 * have for the change to happen, checked in the changing statement.
 */
typedef struct task_cond {
	bool is_conditional; /* false: no If-Match, change unconditionally */
	bool is_any;         /* "*": any version of an existing row */
	const int64_t *versions; /* borrowed; n of them; none matches none */
	size_t n;
} task_cond;

/*
 * Updates the columns in set (TASK_SET_*) of task id of user_id, and its
 * version by one, when cond holds; TA_FAILED_PRECONDITION (nothing
 * changed) when the task is the caller's but cond does not hold, after
 * TA_NOT_FOUND and TA_PERMISSION_DENIED. With an idempotency key
 * (non-empty, borrowed) and the request's fingerprint fp the update runs
 * at most once per key: the key row is written in the same statement,
 * and a repeat with the same key and fp changes nothing and reads the task
 * (*outcome TA_IDEM_REPLAY, TA_OK: the first delivery succeeded); the same
 * key with another fp is TA_OK with TA_IDEM_MISMATCH and *out empty.
 */
ta_status task_store_update(ta_pg *pg, int64_t user_id, int64_t id,
    unsigned set, const task_values *v, const task_cond *cond,
    const char *key, const char *fp, task_set *out,
    ta_idem_outcome *outcome);
/*
 * Deletes task id of user_id when cond holds (else TA_FAILED_PRECONDITION
 * as for an update). With an idempotency key (non-empty,
 * borrowed) the delete records it with the request's fingerprint fp, and
 * a repeat with the same key and fp, once the first has deleted the task,
 * is TA_OK with *outcome TA_IDEM_REPLAY (an edge re-send after a dropped
 * connection); the same key with another fp is TA_OK with
 * TA_IDEM_MISMATCH and deletes nothing. Without a key, or with another
 * key, a gone task is TA_NOT_FOUND as always.
 */
ta_status task_store_delete(ta_pg *pg, int64_t user_id, int64_t id,
    const task_cond *cond, const char *key, const char *fp,
    ta_idem_outcome *outcome);

#endif
