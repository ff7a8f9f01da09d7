/*
 * task-svc's store functions that change a task: update and delete, each
 * under an optional If-Match condition checked in the changing statement
 * itself, and with an optional idempotency key (task_sql.h, tasks.h).
 */
#include "tasks.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "etag.h"
#include "idem.h"
#include "task_rows.h"
#include "task_sql.h"

ta_status
task_missing_status(
    ta_pg *pg, const char *sid, const char *uid, bool is_conditional)
{
	const char *params[] = {sid};
	PGresult *res;
	ta_status status;

	if ((status = ta_pg_exec(pg, SQL_EXISTS, 1, params, &res)) != TA_OK)
		return status;
	if (PQntuples(res) == 0)
		status = TA_NOT_FOUND;
	else if (!is_conditional || strcmp(PQgetvalue(res, 0, 0), uid) != 0)
		status = TA_PERMISSION_DENIED;
	else
		status = TA_FAILED_PRECONDITION; // 404 and 403 rank first
	PQclear(res);
	return status;
}

ta_status
task_one(ta_pg *pg, size_t stmt, int nparams, const char *const *params,
    bool is_conditional, task_set *out)
{
	PGresult *res;
	ta_status status;

	if ((status = ta_pg_exec(pg, stmt, nparams, params, &res)) != TA_OK)
		return status;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return task_missing_status(
		    pg, params[0], params[1], is_conditional);
	}
	return task_rows_to_set(res, false, out);
}

/*
 * The version condition as a bigint[] literal in buf: NULL for none (no
 * If-Match, or "*": the owner-scoped statement needs the row to exist).
 */
static const char *
cond_param(const task_cond *cond, char *buf, size_t cap)
{
	size_t used = 0;

	if (!cond || !cond->is_conditional || cond->is_any)
		return NULL;
	buf[used++] = '{';
	for (size_t i = 0; i < cond->n && used + 24 < cap; i++)
		used += (size_t)snprintf(buf + used, cap - used, "%s%" PRId64,
		    i ? "," : "", cond->versions[i]);
	snprintf(buf + used, cap - used, "}");
	return buf;
}

static bool
is_conditional(const task_cond *cond)
{
	return cond && cond->is_conditional;
}

static const char *
flag(unsigned set, unsigned bit)
{
	return set & bit ? "true" : "false";
}

#define COND_CAP (TA_ETAG_LIST_MAX * 21 + 3)

static ta_idem_method update_task = {
    .method = "UpdateTask",
    .lookup = SQL_KEY_LOOKUP,
    .purge = SQL_KEYS_PURGE,
};

/*
 * A keyed update that changed nothing: a repeat of the key's first,
 * successful update of this task reads the task (TA_IDEM_REPLAY); the
 * key used for another request is TA_IDEM_MISMATCH; otherwise
 * TA_NOT_FOUND (not this key's).
 */
static ta_status
update_replay(ta_pg *pg, int64_t user_id, int64_t id, const char *key,
    const char *fp, const char *const *params, task_set *out,
    ta_idem_outcome *outcome)
{
	int64_t first_id;
	bool is_same;
	ta_status status;

	status = ta_idem_lookup(pg, update_task.lookup, update_task.method,
	    user_id, key, fp, &first_id, &is_same);
	if (status != TA_OK)
		return status;
	if (!is_same || first_id != id) {
		*outcome = TA_IDEM_MISMATCH;
		return TA_OK;
	}
	*outcome = TA_IDEM_REPLAY;
	return task_one(pg, SQL_GET, 2, params, false, out);
}

ta_status
task_store_update(ta_pg *pg, int64_t user_id, int64_t id, unsigned set,
    const task_values *v, const task_cond *cond, const char *key,
    const char *fp, task_set *out, ta_idem_outcome *outcome)
{
	char sid[24], uid[24], cbuf[COND_CAP];
	const char *params[] = {sid, uid, flag(set, TASK_SET_TITLE), v->title,
	    flag(set, TASK_SET_DESCRIPTION), v->description,
	    flag(set, TASK_SET_STATUS), v->status, flag(set, TASK_SET_PRIORITY),
	    v->priority, flag(set, TASK_SET_DUE_DATE), v->due_date,
	    cond_param(cond, cbuf, sizeof cbuf), key, fp};
	bool is_keyed = key && *key;
	PGresult *res;
	ta_status status;

	snprintf(sid, sizeof sid, "%" PRId64, id);
	snprintf(uid, sizeof uid, "%" PRId64, user_id);
	*outcome = TA_IDEM_NEW;
	if (!is_keyed)
		return task_one(
		    pg, SQL_UPDATE, 13, params, is_conditional(cond), out);
	ta_idem_purge(pg, &update_task);
	if ((status = ta_pg_exec(pg, SQL_UPDATE_KEYED, 15, params, &res)) !=
	    TA_OK)
		return status;
	if (PQntuples(res) > 0)
		return task_rows_to_set(res, false, out);
	PQclear(res);
	status = update_replay(pg, user_id, id, key, fp, params, out, outcome);
	if (status != TA_NOT_FOUND)
		return status;
	return task_missing_status(pg, sid, uid, is_conditional(cond));
}

static ta_idem_method delete_task = {
    .method = "DeleteTask",
    .lookup = SQL_KEY_LOOKUP,
    .purge = SQL_KEYS_PURGE,
};

ta_status
task_store_delete(ta_pg *pg, int64_t user_id, int64_t id, const task_cond *cond,
    const char *key, const char *fp, ta_idem_outcome *outcome)
{
	char sid[24], uid[24], cbuf[COND_CAP];
	const char *c = cond_param(cond, cbuf, sizeof cbuf);
	const char *params[] = {sid, uid, key, fp, c};
	const char *plain[] = {sid, uid, c};
	bool is_keyed = key && *key, is_same;
	int64_t first_id;
	PGresult *res;
	ta_status status;

	snprintf(sid, sizeof sid, "%" PRId64, id);
	snprintf(uid, sizeof uid, "%" PRId64, user_id);
	*outcome = TA_IDEM_NEW;
	if (is_keyed)
		ta_idem_purge(pg, &delete_task);
	status = is_keyed ? ta_pg_exec(pg, SQL_DELETE_KEYED, 5, params, &res)
	                  : ta_pg_exec(pg, SQL_DELETE, 3, plain, &res);
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
	return task_missing_status(pg, sid, uid, is_conditional(cond));
}
