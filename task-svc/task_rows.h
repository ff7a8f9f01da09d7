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

/* Column numbers of TASK_COLS; SQL_LIST adds total after them. */
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
	TASK_COL_TOTAL,
};

/* Statements that return one task add its version after TASK_COLS (where
 * SQL_LIST has total): task_rows_to_set reads it into task_set.version. */
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
