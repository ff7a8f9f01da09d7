/*
 * One page of a user's tasks from the database: the keyset statement of
 * the page's sort (list_sql.h), cut at the page's limit and byte budget.
 */
#ifndef TA_TASK_SVC_LIST_STORE_H
#define TA_TASK_SVC_LIST_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"
#include "list_query.h"
#include "pg.h"
#include "status.h"
#include "tasks.h"

/* A page: its tasks, and where the next one starts when there is one. */
typedef struct task_page {
	task_set set; /* task_set_fini frees it */
	bool has_next;
	task_cursor next;
} task_page;

/*
 * Fills *out (caller's storage) with the tasks of user_id that q selects,
 * in q's order, after the row after names (NULL: from the start): at most
 * q->limit of them, and no more than fit budget bytes of JSON
 * (list_budget.h), but always at least one when one is left, however
 * large. A row that does not convert is left out (logged). Database
 * failures as ta_pg_exec maps them; TA_INVALID_ARGUMENT when the cursor's
 * sort key does not read as the sort's type (a cursor of another
 * version).
 */
ta_status task_store_list_page(ta_pg *pg, int64_t user_id,
    const task_list_query *q, const task_cursor *after, size_t budget,
    task_page *out);

#endif
