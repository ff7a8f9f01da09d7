/*
 * How much of a user's task list one ListTasks page carries: the tasks
 * whose JSON rendering fits the page's budget (PAGE_MAX_BYTES), the page
 * ending early otherwise and next_cursor going on from there, so no
 * stored data can make GET /tasks fail or grow past that size (issue 9,
 * issue 12). Pure: no SQL, no sockets.
 */
#ifndef TA_TASK_SVC_LIST_BUDGET_H
#define TA_TASK_SVC_LIST_BUDGET_H

#include <stddef.h>

#include "taskapi/v1/task.pb-c.h"

/*
 * Bytes of one task's JSON besides its title and description strings:
 * 228 with every field at its longest (ids of 10 digits, "in_progress",
 * three timestamps), plus the comma, rounded up.
 */
#define TASK_JSON_FIXED 256u

/* An upper bound of the bytes t renders to in a list (edge, cJSON). */
size_t task_json_size(const Taskapi__V1__Task *t);

/*
 * How many of tasks[0..n), in page order, fit budget bytes together (by
 * task_json_size): the longest prefix that does. 0 when the first alone
 * does not fit.
 */
size_t task_list_fit(Taskapi__V1__Task *const *tasks, size_t n, size_t budget);

#endif
