/*
 * Internal to task-svc's store (tasks.c, task_change.c): the statement
 * indices of task_stmts, the column lists and SQL fragments they share,
 * and the lookups after an owner-scoped statement matched nothing.
 */
#ifndef TA_TASK_SVC_TASK_SQL_H
#define TA_TASK_SVC_TASK_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "pg.h"
#include "status.h"
#include "task_rows.h"
#include "tasks.h"

/* A statement returning one task adds its version (TASK_COL_VERSION). */
#define TASK_ONE_COLS TASK_COLS ", version"

/*
 * The If-Match condition on the row's version: the bigint[] parameter p is
 * NULL for no condition (or "*": the row exists), else the versions that
 * match ("{}" matches none).
 */
#define TASK_SQL_COND(p)                                                       \
	"(" p "::bigint[] IS NULL OR version = ANY(" p "::bigint[]))"

/*
 * One update statement for any subset of columns: $3, $5, ... say whether
 * the column is in the update mask; $13 is the If-Match condition; every
 * update bumps version. extra adds to the WHERE clause.
 */
#define TASK_SQL_UPDATE(extra)                                                 \
	"UPDATE tasks SET "                                                    \
	"title = CASE WHEN $3::boolean THEN $4 ELSE title END, "               \
	"description = CASE WHEN $5::boolean THEN $6 ELSE description END, "   \
	"status = CASE WHEN $7::boolean THEN $8 ELSE status END, "             \
	"priority = CASE WHEN $9::boolean THEN $10 ELSE priority END, "        \
	"due_date = CASE WHEN $11::boolean "                                   \
	"THEN $12::timestamptz AT TIME ZONE 'UTC' ELSE due_date END, "         \
	"updated_at = CURRENT_TIMESTAMP, version = version + 1 "               \
	"WHERE id = $1 AND user_id = $2 AND " TASK_SQL_COND("$13") extra       \
	    " RETURNING " TASK_ONE_COLS

/* Parameters in text form; timestamps come as "...+00" and the columns
 * are UTC `timestamp`s, hence AT TIME ZONE 'UTC'. */
enum {
	SQL_CREATE,
	SQL_GET,
	SQL_EXISTS,
	SQL_UPDATE,
	SQL_DELETE,
	SQL_CREATE_KEYED,
	SQL_REPLAY,
	SQL_KEYS_PURGE,
	SQL_DELETE_KEYED,
	SQL_KEY_LOOKUP,
	SQL_UPDATE_KEYED,
	SQL_LIST_FIRST, /* TASK_LIST_NSTMTS of them (list_sql.h) */
};

/*
 * After an owner-scoped statement on task sid of user uid matched
 * nothing: TA_NOT_FOUND when no task has that id, TA_PERMISSION_DENIED
 * when another user's, TA_FAILED_PRECONDITION when the caller's (only an
 * If-Match condition can have missed it: is_conditional).
 */
ta_status task_missing_status(
    ta_pg *pg, const char *sid, const char *uid, bool is_conditional);

/*
 * Runs an owner-scoped statement (params[0] the task id, params[1] the
 * user id) expected to return the task row into *out; no row:
 * task_missing_status.
 */
ta_status task_one(ta_pg *pg, size_t stmt, int nparams,
    const char *const *params, bool is_conditional, task_set *out);

#endif
