/*
 * Rows of the tasks table as Taskapi__V1__Task messages (see
 * task_rows.h): strings borrowed from the result, timestamps clamped into
 * RFC 3339's years.
 */
#include "task_rows.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "log.h"
#include "validate.h"

/* A Task and the sub-messages it points to, in one allocation per row. */
struct task_row {
	Taskapi__V1__Task task;
	Google__Protobuf__StringValue description;
	Google__Protobuf__Timestamp due_date, created_at, updated_at;
};

void
task_set_fini(task_set *s)
{
	PQclear(s->res);
	free(s->tasks);
	free(s->rows);
	memset(s, 0, sizeof *s);
}

static const char *const col_names[] = {"id", "user_id", "title", "description",
    "status", "priority", "due_date", "created_at", "updated_at"};

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
		    TA_S("task_id", PQgetvalue(res, r, TASK_COL_ID)),
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
	t->id = strtoll(PQgetvalue(res, r, TASK_COL_ID), NULL, 10);
	t->user_id = strtoll(PQgetvalue(res, r, TASK_COL_USER_ID), NULL, 10);
	t->title = PQgetvalue(res, r, TASK_COL_TITLE);
	if (!PQgetisnull(res, r, TASK_COL_DESC)) {
		google__protobuf__string_value__init(&row->description);
		row->description.value = PQgetvalue(res, r, TASK_COL_DESC);
		t->description = &row->description;
	}
	/* Rows written by the old service may hold NULL status/priority
	 * (the columns allow it): UNSPECIFIED then. */
	t->status = task_status_from_db(PQgetvalue(res, r, TASK_COL_STATUS));
	t->priority =
	    task_priority_from_db(PQgetvalue(res, r, TASK_COL_PRIORITY));
	return row_timestamp(
	           res, r, TASK_COL_DUE, &row->due_date, &t->due_date) &&
	       row_timestamp(res, r, TASK_COL_CREATED, &row->created_at,
	           &t->created_at) &&
	       row_timestamp(
	           res, r, TASK_COL_UPDATED, &row->updated_at, &t->updated_at);
}

ta_status
task_rows_to_set(PGresult *res, bool is_list, task_set *out)
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
			    TA_S("id", PQgetvalue(res, (int)i, TASK_COL_ID)));
			if (is_list)
				continue;
			task_set_fini(&s);
			return TA_INTERNAL;
		}
		s.tasks[k] = &s.rows[k].task;
		k++;
	}
	s.n = k;
	if (!is_list && k > 0 && PQnfields(res) > TASK_COL_VERSION)
		s.version = strtoll(PQgetvalue(res, 0, TASK_COL_VERSION), NULL, 10);
	*out = s;
	return TA_OK;
}
