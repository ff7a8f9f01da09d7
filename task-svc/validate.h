/*
 * Task validation: pure functions from a request message to the column
 * values of a statement, collecting every field violation at once. No SQL,
 * no sockets.
 */
#ifndef TA_TASK_SVC_VALIDATE_H
#define TA_TASK_SVC_VALIDATE_H

#include <stdbool.h>
#include <stdint.h>

#include "taskapi/v1/task.pb-c.h"
#include "violations.h"

#define TASK_TITLE_MAX 200 /* code points, as varchar(200) counts */
/* Code points; bounds what one task adds to a list (README "Limits"). */
#define TASK_DESCRIPTION_MAX 10000

/* Column values as text parameters; NULL is SQL NULL. */
typedef struct task_values {
	const char *title;       /* borrowed from the request */
	const char *description; /* borrowed; "" becomes NULL */
	const char *status;      /* "pending", static */
	const char *priority;    /* "medium", static */
	const char *due_date;    /* NULL or points to due_buf */
	char due_buf[40];
} task_values;

/* Which columns an update sets (the others keep their value). */
enum {
	TASK_SET_TITLE = 1 << 0,
	TASK_SET_DESCRIPTION = 1 << 1,
	TASK_SET_STATUS = 1 << 2,
	TASK_SET_PRIORITY = 1 << 3,
	TASK_SET_DUE_DATE = 1 << 4,
};

/*
 * Checks a create request and fills *out (which borrows from rq); UNSPECIFIED
 * status and priority become the defaults. Returns false, with the
 * violations appended to v, when any field is invalid.
 */
bool task_validate_create(const Taskapi__V1__CreateTaskRequest *rq,
    task_values *out, ta_violations *v);

/*
 * Checks an update request: the fields named by rq->update_mask are
 * validated (an unset one clears description/due_date, and is invalid for
 * title/status/priority) and *set gets their TASK_SET_* bits. Returns false
 * with violations in v when anything is invalid, an unknown mask path
 * included.
 */
bool task_validate_update(const Taskapi__V1__UpdateTaskRequest *rq,
    task_values *out, unsigned *set, ta_violations *v);

/* Number of UTF-8 code points of s; -1 when s is not valid UTF-8. */
long task_utf8_count(const char *s);

/* "in_progress" for TASK_STATUS_IN_PROGRESS; NULL for others/UNSPECIFIED. */
const char *task_status_to_db(int status);
const char *task_priority_to_db(int priority);

/* The enum value of a column value; UNSPECIFIED (0) when unknown. */
Taskapi__V1__TaskStatus task_status_from_db(const char *s);
Taskapi__V1__TaskPriority task_priority_from_db(const char *s);

#endif
