/*
 * task-svc's SQL: the statement table and the store functions over the
 * tasks table (rows become messages in task_rows.c).
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
#include "log.h"

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
	SQL_LIST_FIRST, /* TASK_LIST_NSTMTS of them (list_sql.h) */
};

const size_t task_list_stmt0 = SQL_LIST_FIRST;

const ta_pg_stmt task_stmts[] = {
    [SQL_CREATE] = {"task_create",
        "INSERT INTO tasks (user_id, title, description, status, priority, "
        "due_date) VALUES ($1, $2, $3, $4, $5, "
        "$6::timestamptz AT TIME ZONE 'UTC') RETURNING " TASK_COLS,
        false},
    [SQL_GET] = {"task_get",
        "SELECT " TASK_COLS " FROM tasks WHERE id = $1 AND user_id = $2", true},
    [SQL_EXISTS] = {"task_exists", "SELECT 1 FROM tasks WHERE id = $1", true},
    /* One statement for any subset of columns: $3, $5, ... say whether
     * the column is in the update mask. */
    [SQL_UPDATE] = {"task_update",
        "UPDATE tasks SET "
        "title = CASE WHEN $3::boolean THEN $4 ELSE title END, "
        "description = CASE WHEN $5::boolean THEN $6 ELSE description END, "
        "status = CASE WHEN $7::boolean THEN $8 ELSE status END, "
        "priority = CASE WHEN $9::boolean THEN $10 ELSE priority END, "
        "due_date = CASE WHEN $11::boolean "
        "THEN $12::timestamptz AT TIME ZONE 'UTC' ELSE due_date END, "
        "updated_at = CURRENT_TIMESTAMP "
        "WHERE id = $1 AND user_id = $2 RETURNING " TASK_COLS,
        false},
    [SQL_DELETE] = {"task_delete",
        "DELETE FROM tasks WHERE id = $1 AND user_id = $2 RETURNING id", false},
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
        "$6::timestamptz AT TIME ZONE 'UTC' FROM k RETURNING " TASK_COLS ") "
        "SELECT " TASK_COLS " FROM t",
        false},
    [SQL_REPLAY] = {"task_create_replay",
        "SELECT " TASK_COLS " FROM tasks WHERE user_id = $1 AND id = "
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
        "AND NOT EXISTS (SELECT 1 FROM idempotency_keys WHERE "
        "method = 'DeleteTask' AND user_id = $2 AND key = $3 AND "
        "fingerprint <> decode($4, 'hex')) RETURNING id), k AS (INSERT INTO idempotency_keys "
        "(method, user_id, key, result_id, fingerprint) SELECT "
        "'DeleteTask', $2, $3, d.id, decode($4, 'hex') "
        "FROM d ON CONFLICT DO NOTHING) SELECT id FROM d",
        false},
    [SQL_KEY_LOOKUP] = {"task_key_lookup", TA_IDEM_SQL_LOOKUP, true},
    TASK_LIST_STMTS,
};
const size_t task_nstmts = sizeof task_stmts / sizeof task_stmts[0];

/* After an owner-scoped statement matched nothing: 403 or 404. */
static ta_status
missing_status(ta_pg *pg, const char *sid)
{
	const char *params[] = {sid};
	PGresult *res;
	ta_status status;

	if ((status = ta_pg_exec(pg, SQL_EXISTS, 1, params, &res)) != TA_OK)
		return status;
	status = PQntuples(res) > 0 ? TA_PERMISSION_DENIED : TA_NOT_FOUND;
	PQclear(res);
	return status;
}

/* Runs an owner-scoped statement expected to return the task row. */
static ta_status
one_task(ta_pg *pg, size_t stmt, int nparams, const char *const *params,
    task_set *out)
{
	PGresult *res;
	ta_status status;

	if ((status = ta_pg_exec(pg, stmt, nparams, params, &res)) != TA_OK)
		return status;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return missing_status(pg, params[0]);
	}
	return task_rows_to_set(res, false, out);
}

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
static ta_idem_method delete_task = {
    .method = "DeleteTask",
    .lookup = SQL_KEY_LOOKUP,
    .purge = SQL_KEYS_PURGE,
};

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
	return one_task(pg, SQL_GET, 2, params, out);
}

static const char *
flag(unsigned set, unsigned bit)
{
	return set & bit ? "true" : "false";
}

ta_status
task_store_update(ta_pg *pg, int64_t user_id, int64_t id, unsigned set,
    const task_values *v, task_set *out)
{
	char sid[24], uid[24];
	const char *params[] = {sid, uid, flag(set, TASK_SET_TITLE), v->title,
	    flag(set, TASK_SET_DESCRIPTION), v->description,
	    flag(set, TASK_SET_STATUS), v->status, flag(set, TASK_SET_PRIORITY),
	    v->priority, flag(set, TASK_SET_DUE_DATE), v->due_date};

	snprintf(sid, sizeof sid, "%" PRId64, id);
	snprintf(uid, sizeof uid, "%" PRId64, user_id);
	return one_task(pg, SQL_UPDATE, 12, params, out);
}

ta_status
task_store_delete(ta_pg *pg, int64_t user_id, int64_t id, const char *key,
    const char *fp, ta_idem_outcome *outcome)
{
	char sid[24], uid[24];
	const char *params[] = {sid, uid, key, fp};
	bool is_keyed = key && *key, is_same;
	int64_t first_id;
	PGresult *res;
	ta_status status;

	snprintf(sid, sizeof sid, "%" PRId64, id);
	snprintf(uid, sizeof uid, "%" PRId64, user_id);
	*outcome = TA_IDEM_NEW;
	if (is_keyed)
		ta_idem_purge(pg, &delete_task);
	status = ta_pg_exec(pg, is_keyed ? SQL_DELETE_KEYED : SQL_DELETE,
	    is_keyed ? 4 : 2, params, &res);
	if (status != TA_OK)
		return status;
	if (PQntuples(res) > 0) {
		PQclear(res);
		return TA_OK;
	}
	PQclear(res);
	if (is_keyed) {
		status = ta_idem_lookup(pg, delete_task.lookup,
		    delete_task.method, user_id, key, fp, &first_id, &is_same);
		if (status != TA_OK && status != TA_NOT_FOUND)
			return status;
		if (status == TA_OK && !is_same) {
			*outcome = TA_IDEM_MISMATCH;
			return TA_OK;
		}
		if (status == TA_OK && first_id == id) {
			*outcome = TA_IDEM_REPLAY;
			return TA_OK;
		}
	}
	return missing_status(pg, sid);
}
