/*
 * The conversion of tasks rows (the TASK_COLS of tasks.c, in that order)
 * into a task_set, shared by the store functions.
 */
#ifndef TA_TASK_SVC_TASK_ROWS_H
#define TA_TASK_SVC_TASK_ROWS_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "status.h"
#include "tasks.h"

/* The columns every task statement returns, in this order. */
#define TASK_COLS                                                              \
	"id, user_id, title, description, status, priority, due_date, "        \
	"created_at, updated_at"

/* Column numbers of TASK_COLS; the list statements (list_sql.h) add the
 * sort key and the number of rows read after them. */
enum {
	TASK_COL_ID,
	TASK_COL_USER_ID,
	TASK_COL_TITLE,
	TASK_COL_DESC,
	TASK_COL_STATUS,
	TASK_COL_PRIORITY,
	TASK_COL_DUE,
	TASK_COL_CREATED,
	TASK_COL_UPDATED,
	TASK_COL_SORT_KEY,
	TASK_COL_ROWS_READ,
};

/* Statements that return one task add its version after TASK_COLS (where
 * the list statements have their sort key): task_rows_to_set reads it into
 * task_set.version. */
enum { TASK_COL_VERSION = TASK_COL_UPDATED + 1 };

/*
 * Takes res (on success and failure) and fills *out from its rows. A
 * timestamp beyond years 1-9999 is clamped (task_timestamp_clamped,
 * warn). A row that does not convert fails the whole set (TA_INTERNAL,
 * logged), unless is_list: a list leaves it out (logged) rather than fail
 * for every other task of the user. Unless is_list, a TASK_COL_VERSION
 * column fills out->version (of the first row).
 */
ta_status task_rows_to_set(PGresult *res, bool is_list, task_set *out);

#endif
