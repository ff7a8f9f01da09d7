/* One page of a user's tasks (list_store.h). */
#include "list_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "list_budget.h"
#include "task_rows.h"

/* The result row a task of the set came from (the set may skip rows). */
static int
row_of(const PGresult *res, int64_t id, int from)
{
	char want[24];

	snprintf(want, sizeof want, "%" PRId64, id);
	for (int r = from; r < PQntuples(res); r++)
		if (strcmp(PQgetvalue(res, r, TASK_COL_ID), want) == 0)
			return r;
	return -1;
}

ta_status
task_store_list_page(ta_pg *pg, int64_t user_id, const task_list_query *q,
    const task_cursor *after, size_t budget, task_page *out)
{
	char uid[24], rows[24], fixed[24], bytes[24], last_id[24];
	const char *params[11] = {uid, q->status, q->priority, q->due_before,
	    q->due_after, q->q_pattern, rows, fixed, bytes, NULL, last_id};
	size_t stmt = task_list_stmt0 + (size_t)q->sort * 4 +
	              (q->is_desc ? 2 : 0) + (after ? 1 : 0);
	PGresult *res;
	ta_status status;
	size_t kept;
	long long nread;
	int last = -1;

	snprintf(uid, sizeof uid, "%" PRId64, user_id);
	/* One row more than the page: tells whether another page follows. */
	snprintf(rows, sizeof rows, "%d", q->limit + 1);
	snprintf(fixed, sizeof fixed, "%u", TASK_JSON_FIXED);
	snprintf(bytes, sizeof bytes, "%zu", budget);
	if (after) {
		params[9] = after->sort_key;
		snprintf(last_id, sizeof last_id, "%" PRId64, after->id);
	}
	status = ta_pg_exec(pg, stmt, after ? 11 : 9, params, &res);
	if (status != TA_OK)
		return status;
	nread = PQntuples(res) > 0
	            ? strtoll(PQgetvalue(res, 0, TASK_COL_ROWS_READ), NULL, 10)
	            : 0;
	memset(out, 0, sizeof *out);
	if ((status = task_rows_to_set(res, true, &out->set)) != TA_OK)
		return status;
	kept = out->set.n < (size_t)q->limit ? out->set.n : (size_t)q->limit;
	/* The SQL cut counts stored bytes; JSON escapes may need more. A
	 * task larger than the budget still makes a page of its own. */
	kept = task_list_fit(out->set.tasks, kept, budget);
	if (kept == 0 && out->set.n > 0)
		kept = 1;
	out->set.n = kept;
	if (kept > 0)
		last = row_of(res, out->set.tasks[kept - 1]->id, (int)kept - 1);
	else if (PQntuples(res) > 0) /* every row read failed to convert */
		last =
		    (PQntuples(res) < q->limit ? PQntuples(res) : q->limit) - 1;
	if (last >= 0 && last + 1 < nread) {
		const char *key = PQgetvalue(res, last, TASK_COL_SORT_KEY);

		if (strlen(key) > TASK_CURSOR_SORT_KEY_MAX) {
			task_set_fini(&out->set);
			return TA_INTERNAL;
		}
		out->has_next = true;
		strcpy(out->next.sort_key, key);
		out->next.id =
		    strtoll(PQgetvalue(res, last, TASK_COL_ID), NULL, 10);
	}
	return TA_OK;
}
