/*
 * task-svc's SQL: the statement table and the store functions over the
 * tasks table, plus the conversion of a row into a Taskapi__V1__Task.
 */
#include "tasks.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "log.h"

#define TASK_COLS                                                              \
	"id, user_id, title, description, status, priority, due_date, "        \
	"created_at, updated_at"

/* Parameters in text form; timestamps come as "...+00" and the columns
 * are UTC `timestamp`s, hence AT TIME ZONE 'UTC'. */
enum {
	SQL_CREATE,
	SQL_LIST,
	SQL_GET,
	SQL_EXISTS,
	SQL_UPDATE,
	SQL_DELETE,
	SQL_CREATE_KEYED,
	SQL_REPLAY,
	SQL_KEYS_PURGE,
	SQL_DELETE_KEYED,
	SQL_DELETE_REPLAY,
};

const ta_pg_stmt task_stmts[] = {
    [SQL_CREATE] = {"task_create",
        "INSERT INTO tasks (user_id, title, description, status, priority, "
        "due_date) VALUES ($1, $2, $3, $4, $5, "
        "$6::timestamptz AT TIME ZONE 'UTC') RETURNING " TASK_COLS,
        false},
    [SQL_LIST] = {"task_list",
        "SELECT " TASK_COLS " FROM tasks WHERE user_id = $1 "
        "ORDER BY created_at DESC, id DESC",
        true},
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
     * A create with an idempotency key ($7): the key row takes the new
     * task's id, and the task is inserted only when the key row was. When
     * the key exists (or a concurrent call holding it commits first) no row
     * comes back, and SQL_REPLAY, a new statement with a new snapshot,
     * reads the task the first call created.
     */
    [SQL_CREATE_KEYED] = {"task_create_keyed",
        "WITH k AS (INSERT INTO idempotency_keys "
        "(method, user_id, key, result_id) VALUES ('CreateTask', $1, $7, "
        "nextval(pg_get_serial_sequence('tasks', 'id'))) "
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
    [SQL_KEYS_PURGE] = {"task_keys_purge",
        "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid "
        "FROM idempotency_keys WHERE created_at < now() - interval '24 hours' "
        "LIMIT 1000)",
        false},
    /*
     * A delete with an idempotency key ($3): the key row is written in the
     * same statement, only when the task was deleted (a data-modifying
     * CTE runs whether or not the query reads it). A repeat finds no task
     * and SQL_DELETE_REPLAY (new snapshot: sees a concurrent first call
     * that committed while this one waited for the row lock) finds the
     * key of this very task.
     */
    [SQL_DELETE_KEYED] = {"task_delete_keyed",
        "WITH d AS (DELETE FROM tasks WHERE id = $1 AND user_id = $2 "
        "RETURNING id), k AS (INSERT INTO idempotency_keys "
        "(method, user_id, key, result_id) SELECT 'DeleteTask', $2, $3, d.id "
        "FROM d ON CONFLICT DO NOTHING) SELECT id FROM d",
        false},
    [SQL_DELETE_REPLAY] = {"task_delete_replay",
        "SELECT 1 FROM idempotency_keys WHERE method = 'DeleteTask' "
        "AND user_id = $2 AND key = $3 AND result_id = $1",
        true},
};
const size_t task_nstmts = sizeof task_stmts / sizeof task_stmts[0];

/* A Task and the sub-messages it points to, in one allocation per row. */
struct task_row {
	Taskapi__V1__Task task;
	Google__Protobuf__StringValue description;
	Google__Protobuf__Timestamp due_date, created_at, updated_at;
};

enum {
	C_ID,
	C_USER_ID,
	C_TITLE,
	C_DESC,
	C_STATUS,
	C_PRIORITY,
	C_DUE,
	C_CREATED,
	C_UPDATED
};

void
task_set_fini(task_set *s)
{
	PQclear(s->res);
	free(s->tasks);
	free(s->rows);
	memset(s, 0, sizeof *s);
}

static const char *const col_names[] = {"id", "user_id", "title",
    "description", "status", "priority", "due_date", "created_at",
    "updated_at"};

/*
 * A nullable timestamp column into *ts; *field stays NULL for NULL. A
 * value beyond RFC 3339's years (infinity, > 9999, BC) is clamped and
 * logged: the task stays readable and fixable (issue 9).
 */
static bool
row_timestamp(const PGresult *res, int r, int c,
    Google__Protobuf__Timestamp *ts, Google__Protobuf__Timestamp **field)
{
	int64_t s;
	int32_t ns;

	if (PQgetisnull(res, r, c))
		return true;
	switch (ta_pg_timestamp_clamped(PQgetvalue(res, r, c), &s, &ns)) {
	case TA_PG_TS_INVALID:
		return false;
	case TA_PG_TS_CLAMPED:
		ta_log(TA_LOG_WARN, "task_timestamp_clamped",
		    "a task timestamp is beyond years 1-9999; sent clamped",
		    TA_S("task_id", PQgetvalue(res, r, C_ID)),
		    TA_S("column", col_names[c]),
		    TA_S("value", PQgetvalue(res, r, c)));
		break;
	case TA_PG_TS_EXACT:
		break;
	}
	google__protobuf__timestamp__init(ts);
	ts->seconds = s;
	ts->nanos = ns;
	*field = ts;
	return true;
}

static bool
row_to_task(const PGresult *res, int r, struct task_row *row)
{
	Taskapi__V1__Task *t = &row->task;

	taskapi__v1__task__init(t);
	t->id = strtoll(PQgetvalue(res, r, C_ID), NULL, 10);
	t->user_id = strtoll(PQgetvalue(res, r, C_USER_ID), NULL, 10);
	t->title = PQgetvalue(res, r, C_TITLE);
	if (!PQgetisnull(res, r, C_DESC)) {
		google__protobuf__string_value__init(&row->description);
		row->description.value = PQgetvalue(res, r, C_DESC);
		t->description = &row->description;
	}
	/* Rows written by the old service may hold NULL status/priority
	 * (the columns allow it): UNSPECIFIED then. */
	t->status = task_status_from_db(PQgetvalue(res, r, C_STATUS));
	t->priority = task_priority_from_db(PQgetvalue(res, r, C_PRIORITY));
	return row_timestamp(res, r, C_DUE, &row->due_date, &t->due_date) &&
	       row_timestamp(
	           res, r, C_CREATED, &row->created_at, &t->created_at) &&
	       row_timestamp(
	           res, r, C_UPDATED, &row->updated_at, &t->updated_at);
}

/*
 * Takes res (on success and failure) and builds the set from its rows. A
 * row that does not convert fails the whole set (TA_INTERNAL), unless
 * is_list: a list leaves it out (logged) rather than fail for every
 * other task of the user.
 */
static ta_status
set_from_result(PGresult *res, bool is_list, task_set *out)
{
	size_t n = (size_t)PQntuples(res), k = 0;
	task_set s = {.res = res};

	if (n > 0) {
		s.rows = ta_xcalloc(n, sizeof *s.rows);
		s.tasks = ta_xcalloc(n, sizeof *s.tasks);
	}
	for (size_t i = 0; i < n; i++) {
		if (!row_to_task(res, (int)i, &s.rows[k])) {
			ta_log(is_list ? TA_LOG_WARN : TA_LOG_ERROR,
			    "task_row_invalid",
			    is_list ? "a task row does not convert; left out "
			              "of the list"
			            : "a task row does not convert",
			    TA_S("id", PQgetvalue(res, (int)i, C_ID)));
			if (is_list)
				continue;
			task_set_fini(&s);
			return TA_INTERNAL;
		}
		s.tasks[k] = &s.rows[k].task;
		k++;
	}
	s.n = k;
	*out = s;
	return TA_OK;
}

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
	return set_from_result(res, false, out);
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
	return set_from_result(res, false, out);
}

/* Every this many keyed creates, a thread deletes expired keys. */
#define PURGE_EVERY 256

static void
purge_keys(ta_pg *pg)
{
	static atomic_uint calls;
	PGresult *res;

	/* Opportunistic: a failure only delays the cleanup (logged). */
	if (atomic_fetch_add(&calls, 1) % PURGE_EVERY != 0)
		return;
	if (ta_pg_exec(pg, SQL_KEYS_PURGE, 0, NULL, &res) == TA_OK)
		PQclear(res);
}

ta_status
task_store_create_keyed(ta_pg *pg, int64_t user_id, const char *key,
    const task_values *v, task_set *out, bool *is_replay)
{
	char uid[24];
	const char *params[] = {uid, v->title, v->description, v->status,
	    v->priority, v->due_date, key};
	const char *replay[] = {uid, key};
	PGresult *res;
	ta_status status;

	snprintf(uid, sizeof uid, "%" PRId64, user_id);
	purge_keys(pg);
	/* Twice at most: a key purged between the two statements of the
	 * first round is simply created in the second. */
	for (int round = 0; round < 2; round++) {
		status = ta_pg_exec(pg, SQL_CREATE_KEYED, 7, params, &res);
		if (status != TA_OK)
			return status;
		if (PQntuples(res) > 0) {
			*is_replay = false;
			return set_from_result(res, false, out);
		}
		PQclear(res);
		status = ta_pg_exec(pg, SQL_REPLAY, 2, replay, &res);
		if (status != TA_OK)
			return status;
		if (PQntuples(res) > 0) {
			*is_replay = true;
			return set_from_result(res, false, out);
		}
		PQclear(res);
	}
	/* The key holds, but the task it created was deleted since. */
	return TA_ALREADY_EXISTS;
}

ta_status
task_store_list(ta_pg *pg, int64_t user_id, task_set *out)
{
	char uid[24];
	const char *params[] = {uid};
	PGresult *res;
	ta_status status;

	snprintf(uid, sizeof uid, "%" PRId64, user_id);
	if ((status = ta_pg_exec(pg, SQL_LIST, 1, params, &res)) != TA_OK)
		return status;
	return set_from_result(res, true, out);
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
    bool *is_replay)
{
	char sid[24], uid[24];
	const char *params[] = {sid, uid, key};
	bool is_keyed = key && *key;
	PGresult *res;
	ta_status status;

	snprintf(sid, sizeof sid, "%" PRId64, id);
	snprintf(uid, sizeof uid, "%" PRId64, user_id);
	*is_replay = false;
	if (is_keyed)
		purge_keys(pg);
	status = ta_pg_exec(pg, is_keyed ? SQL_DELETE_KEYED : SQL_DELETE,
	    is_keyed ? 3 : 2, params, &res);
	if (status != TA_OK)
		return status;
	if (PQntuples(res) > 0) {
		PQclear(res);
		return TA_OK;
	}
	PQclear(res);
	if (is_keyed) {
		status = ta_pg_exec(pg, SQL_DELETE_REPLAY, 3, params, &res);
		if (status != TA_OK)
			return status;
		*is_replay = PQntuples(res) > 0;
		PQclear(res);
		if (*is_replay)
			return TA_OK;
	}
	return missing_status(pg, sid);
}
