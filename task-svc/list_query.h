/*
 * ListTasks requests checked and turned into what the list statement and
 * its cursor need: the sort, the filters as text parameters, the list's
 * identity for cursor binding. Pure: no SQL, no sockets.
 */
#ifndef TA_TASK_SVC_LIST_QUERY_H
#define TA_TASK_SVC_LIST_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "cursor.h"
#include "taskapi/v1/task.pb-c.h"
#include "violations.h"

#define TASK_LIST_LIMIT_MAX 1000 /* also the default */
#define TASK_LIST_Q_MAX 200      /* code points */

/* The sort keys, in the order of list_sql.h's statements. */
typedef enum task_list_sort {
	TASK_SORT_CREATED_AT,
	TASK_SORT_UPDATED_AT,
	TASK_SORT_DUE_DATE,
	TASK_SORT_PRIORITY,
	TASK_SORT_TITLE,
	TASK_SORT_N,
} task_list_sort;

/* One checked ListTasks request. Text parameters are NULL for "any". */
typedef struct task_list_query {
	task_list_sort sort;
	bool is_desc;
	int limit;            /* 1..TASK_LIST_LIMIT_MAX */
	unsigned status_mask; /* bit n: TaskStatus value n; 0: any */
	unsigned priority_mask;
	const char *status;   /* "{pending,completed}" in status_buf, or NULL */
	const char *priority; /* likewise in priority_buf */
	const char *due_before; /* RFC 3339 in due_before_buf, or NULL */
	const char *due_after;
	const char *q_pattern; /* ILIKE pattern in q_buf, or NULL */
	const char *q;         /* borrowed from the request; "" for none */
	const char *cursor;    /* borrowed; "" for the first page */
	char status_buf[48], priority_buf[32];
	char due_before_buf[40], due_after_buf[40];
	char q_buf[4 * TASK_LIST_Q_MAX * 2 + 3];
} task_list_query;

/*
 * Checks rq and fills *out (borrows from rq): limit 1..1000 (absent:
 * 1000), statuses and priorities named (not UNSPECIFIED, not unknown), q
 * at most 200 characters of UTF-8, sort one of the five names with an
 * optional "-" (empty: -created_at). false with violations in v (named
 * after the field) otherwise. The cursor is checked by task_list_cursor_fp
 * and task_cursor_decode, not here.
 */
bool task_list_query_from(const Taskapi__V1__ListTasksRequest *rq,
    task_list_query *out, ta_violations *v);

/* The fingerprint binding a cursor to user_id and every field of q but
 * the limit and the cursor itself. */
void task_list_query_fp(const task_list_query *q, int64_t user_id,
    const uint8_t key[TASK_CURSOR_KEY_BYTES], uint8_t fp[TASK_CURSOR_FP_BYTES]);

/*
 * Writes s as an ILIKE pattern matching any text that contains s: "%",
 * "_" and "\" escaped with "\", "%" on both sides. out holds at least
 * 2 * strlen(s) + 3 bytes.
 */
void task_list_like_pattern(const char *s, char *out);

#endif
