/*
 * How much of a user's task list one ListTasks reply carries: until list
 * pages exist (API v1.1), the reply holds the newest tasks whose JSON
 * rendering fits TASK_LIST_JSON_MAX, and says when older ones were left
 * out, so no stored data can make GET /tasks fail for good (issue 9).
 * Pure: no SQL, no sockets.
 */
#ifndef TA_TASK_SVC_LIST_BUDGET_H
#define TA_TASK_SVC_LIST_BUDGET_H

#include <stddef.h>

#include "taskapi/v1/task.pb-c.h"

/* Bytes of JSON the tasks of one list may render to (edge's GET /tasks). */
#define TASK_LIST_JSON_MAX (2u * 1024u * 1024u)

/*
 * Bytes of one task's JSON besides its title and description strings:
 * 228 with every field at its longest (ids of 10 digits, "in_progress",
 * three timestamps), plus the comma, rounded up.
 */
#define TASK_JSON_FIXED 256u

/* An upper bound of the bytes t renders to in a list (edge, cJSON). */
size_t task_json_size(const Taskapi__V1__Task *t);

/*
 * How many of tasks[0..n), newest first, fit budget bytes together (by
 * task_json_size): the longest prefix that does. 0 when the first alone
 * does not fit.
 */
size_t task_list_fit(Taskapi__V1__Task *const *tasks, size_t n, size_t budget);

#endif
