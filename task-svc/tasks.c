/*
 * task-svc's SQL: the statement table and the store functions that create
 * and read tasks (changes: task_change.c; rows become messages in
 * task_rows.c).
 */
#include "tasks.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "idem.h"
#include "list_sql.h"
#include "task_rows.h"
#include "task_sql.h"
#include "log.h"

const size_t task_list_stmt0 = SQL_LIST_FIRST;

const ta_pg_stmt task_stmts[] = {
    [SQL_CREATE] = {"task_create",
        "INSERT INTO tasks (user_id, title, description, status, priority, "
        "due_date) VALUES ($1, $2, $3, $4, $5, "
        "$6::timestamptz AT TIME ZONE 'UTC') RETURNING " TASK_ONE_COLS,
        false},
    [SQL_GET] = {"task_get",
        "SELECT " TASK_ONE_COLS " FROM tasks WHERE id = $1 AND user_id = $2",
        true},
    [SQL_EXISTS] = {"task_exists", "SELECT user_id FROM tasks WHERE id = $1",
        true},
    [SQL_UPDATE] = {"task_update", TASK_SQL_UPDATE(""), false},
    [SQL_DELETE] = {"task_delete",
        "DELETE FROM tasks WHERE id = $1 AND user_id = $2 AND " TASK_SQL_COND(
            "$3") " RETURNING id",
        false},
    /*
     * A create with an idempotency key ($7) and request fingerprint ($8):
     * the key row takes the new task's id, and the task is inserted only
     * when the key row was. When
     * the key exists (or a concurrent call holding it commits first) no row
     * comes back, and SQL_REPLAY, a new statement with a new snapshot,
     * reads the task the first call created.
     */
    [SQL_CREATE_KEYED] = {"task_create_keyed",
        "WITH k AS (INSERT INTO idempotency_keys "
        "(method, user_id, key, result_id, fingerprint) VALUES "
        "('CreateTask', $1, $7, nextval(pg_get_serial_sequence('tasks', "
        "'id')), decode($8, 'hex')) "
        "ON CONFLICT DO NOTHING RETURNING result_id), "
        "t AS (INSERT INTO tasks (id, user_id, title, description, status, "
        "priority, due_date) SELECT k.result_id, $1, $2, $3, $4, $5, "
        "$6::timestamptz AT TIME ZONE 'UTC' FROM k RETURNING " TASK_ONE_COLS
        ") SELECT " TASK_ONE_COLS " FROM t",
        false},
    [SQL_REPLAY] = {"task_create_replay",
        "SELECT " TASK_ONE_COLS " FROM tasks WHERE user_id = $1 AND id = "
        "(SELECT result_id FROM idempotency_keys WHERE method = 'CreateTask' "
        "AND user_id = $1 AND key = $2)",
        true},
    [SQL_KEYS_PURGE] = {"task_keys_purge", TA_IDEM_SQL_PURGE, false},
    /*
     * A delete with an idempotency key ($3) and request fingerprint
     * ($4): the key row is written in the
     * same statement, only when the task was deleted (a data-modifying
     * CTE runs whether or not the query reads it). A repeat finds no task
     * and SQL_KEY_LOOKUP (new snapshot: sees a concurrent first call
     * that committed while this one waited for the row lock) finds the
     * key of this very task. A key first used for another request (its
     * fingerprint differs) deletes nothing; one without a fingerprint
     * (older than the column) does not stop the delete, as before.
     */
    [SQL_DELETE_KEYED] = {"task_delete_keyed",
        "WITH d AS (DELETE FROM tasks WHERE id = $1 AND user_id = $2 "
        "AND " TASK_SQL_COND("$5") " AND NOT EXISTS (SELECT 1 FROM idempotency_keys WHERE "
        "method = 'DeleteTask' AND user_id = $2 AND key = $3 AND "
        "fingerprint <> decode($4, 'hex')) RETURNING id), k AS (INSERT INTO idempotency_keys "
        "(method, user_id, key, result_id, fingerprint) SELECT "
        "'DeleteTask', $2, $3, d.id, decode($4, 'hex') "
        "FROM d ON CONFLICT DO NOTHING) SELECT id FROM d",
        false},
    [SQL_KEY_LOOKUP] = {"task_key_lookup", TA_IDEM_SQL_LOOKUP, true},
    /*
     * A conditional update with an idempotency key ($14) and fingerprint
     * ($15): the key row is written in the same statement, only when the
     * task was updated; a key already known updates nothing, so a repeat
     * (an edge re-send after the first delivery succeeded) does not meet
     * the version the first one left and answers with the task instead
     * (task_store_update).
     */
    [SQL_UPDATE_KEYED] = {"task_update_keyed",
        "WITH u AS (" TASK_SQL_UPDATE(
            " AND NOT EXISTS (SELECT 1 FROM idempotency_keys WHERE "
            "method = 'UpdateTask' AND user_id = $2 AND key = $14)") "), "
        "k AS (INSERT INTO idempotency_keys (method, user_id, key, "
        "result_id, fingerprint) SELECT 'UpdateTask', $2, $14, u.id, "
        "decode($15, 'hex') FROM u ON CONFLICT DO NOTHING) "
        "SELECT * FROM u",
        false},
    TASK_LIST_STMTS,
};
const size_t task_nstmts = sizeof task_stmts / sizeof task_stmts[0];

ta_status
task_store_create(
    ta_pg *pg, int64_t user_id, const task_values *v, task_set *out)
{
	char uid[24];
	const char *params[] = {
	    uid, v->title, v->description, v->status, v->priority, v->due_date};
	PGresult *res;
	ta_status status;

	snprintf(uid, sizeof uid, "%" PRId64, user_id);
	if ((status = ta_pg_exec(pg, SQL_CREATE, 6, params, &res)) != TA_OK)
		return status;
	return task_rows_to_set(res, false, out);
}

static ta_idem_method create_task = {
    .method = "CreateTask",
    .create = SQL_CREATE_KEYED,
    .replay = SQL_REPLAY,
    .lookup = SQL_KEY_LOOKUP,
    .purge = SQL_KEYS_PURGE,
};

/*
 * A keyed delete creates nothing to replay (task_store_delete): only its
 * lookup and purge are used, never ta_idem_create.
 */
ta_status
task_store_create_keyed(ta_pg *pg, int64_t user_id, const char *key,
    const char *fp, const task_values *v, task_set *out,
    ta_idem_outcome *outcome)
{
	char uid[24];
	const char *params[] = {uid, v->title, v->description, v->status,
	    v->priority, v->due_date, key, fp};
	const char *replay[] = {uid, key};
	PGresult *res = NULL;
	ta_status status;

	snprintf(uid, sizeof uid, "%" PRId64, user_id);
	status = ta_idem_create(pg, &create_task, user_id, key, fp,
	    (ta_idem_params){8, params}, (ta_idem_params){2, replay}, &res,
	    outcome);
	if (status != TA_OK || *outcome == TA_IDEM_MISMATCH)
		return status;
	/* The key holds, but the task it created was deleted since. */
	if (*outcome == TA_IDEM_GONE)
		return TA_ALREADY_EXISTS;
	return task_rows_to_set(res, false, out);
}

ta_status
task_store_get(ta_pg *pg, int64_t user_id, int64_t id, task_set *out)
{
	char sid[24], uid[24];
	const char *params[] = {sid, uid};

	snprintf(sid, sizeof sid, "%" PRId64, id);
	snprintf(uid, sizeof uid, "%" PRId64, user_id);
	return task_one(pg, SQL_GET, 2, params, false, out);
}
