/*
 * Task field rules (title, description, status, priority, due date) and the
 * update mask, as pure functions over the request messages.
 */
#include "validate.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pg.h"
#include "text_rules.h"
#include "utf8.h"

/* Indexed by the enum values; 0 (UNSPECIFIED) has no column value. */
static const char *const status_names[] = {
    NULL, "pending", "in_progress", "completed"};
static const char *const priority_names[] = {NULL, "low", "medium", "high"};
#define NAMES_N 4

static const char status_msg[] =
    "status must be one of: pending, in_progress, completed";
static const char priority_msg[] = "priority must be one of: low, medium, high";
static const char due_msg[] =
    "due_date must be a valid date between years 1 and 9999";

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z as unix seconds. */
#define DUE_MIN_S (-62135596800LL)
#define DUE_MAX_S 253402300799LL

/*
 * What counts as blank around a title: ASCII white space and the Unicode
 * spaces JavaScript's trim() removes (the old service trimmed with it).
 */
static const char *const blanks[] = {" ", "\t", "\n", "\v", "\f", "\r",
    "\xC2\xA0", "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x81", "\xE2\x80\x82",
    "\xE2\x80\x83", "\xE2\x80\x84", "\xE2\x80\x85", "\xE2\x80\x86",
    "\xE2\x80\x87", "\xE2\x80\x88", "\xE2\x80\x89", "\xE2\x80\x8A",
    "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F",
    "\xE3\x80\x80", "\xEF\xBB\xBF", NULL};

/* Length of the blank at s, 0 when s does not start with one. */
static size_t
blank_len(const char *s)
{
	for (const char *const *b = blanks; *b; b++) {
		size_t n = strlen(*b);

		if (strncmp(s, *b, n) == 0)
			return n;
	}
	return 0;
}

static bool
is_blank(const char *s)
{
	size_t n;

	while ((n = blank_len(s)) > 0)
		s += n;
	return *s == '\0';
}

long
task_utf8_count(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long count = 0;
	size_t n;

	for (; *p; p += n, count++)
		if (!(n = ta_utf8_next(p, SIZE_MAX, NULL)))
			return -1;
	return count;
}

const char *
task_status_to_db(int status)
{
	return status > 0 && status < NAMES_N ? status_names[status] : NULL;
}

const char *
task_priority_to_db(int priority)
{
	return priority > 0 && priority < NAMES_N ? priority_names[priority]
	                                          : NULL;
}

static int
index_of(const char *const *names, const char *s)
{
	for (int i = 1; s && i < NAMES_N; i++) {
		if (strcmp(names[i], s) == 0)
			return i;
	}
	return 0;
}

Taskapi__V1__TaskStatus
task_status_from_db(const char *s)
{
	return (Taskapi__V1__TaskStatus)index_of(status_names, s);
}

Taskapi__V1__TaskPriority
task_priority_from_db(const char *s)
{
	return (Taskapi__V1__TaskPriority)index_of(priority_names, s);
}

static void
check_title(const char *title, task_values *out, ta_violations *v)
{
	const char *problem;
	long n;

	if (!title || is_blank(title)) {
		ta_violations_add(v, "title", "title is required");
		return;
	}
	n = task_utf8_count(title);
	if (n < 0)
		ta_violations_add(v, "title", "title must be valid UTF-8");
	else if (n > TASK_TITLE_MAX)
		ta_violations_add(
		    v, "title", "title must be at most 200 characters");
	else if ((problem = task_title_problem(title)) != NULL)
		ta_violations_add(v, "title", problem);
	else
		out->title = title;
}

/* The old service stored an empty description as NULL. */
static void
check_description(
    const Google__Protobuf__StringValue *d, task_values *out, ta_violations *v)
{
	const char *problem;
	long n;

	out->description = NULL;
	if (!d || !d->value || !*d->value)
		return;
	n = task_utf8_count(d->value);
	if (n < 0)
		ta_violations_add(
		    v, "description", "description must be valid UTF-8");
	else if (n > TASK_DESCRIPTION_MAX)
		ta_violations_add(v, "description",
		    "description must be at most 10000 characters");
	else if ((problem = task_description_problem(d->value)) != NULL)
		ta_violations_add(v, "description", problem);
	else
		out->description = d->value;
}

static void
check_due_date(
    const Google__Protobuf__Timestamp *ts, task_values *out, ta_violations *v)
{
	out->due_date = NULL;
	if (!ts)
		return;
	if (ts->seconds < DUE_MIN_S || ts->seconds > DUE_MAX_S ||
	    ts->nanos < 0 || ts->nanos > 999999999) {
		ta_violations_add(v, "due_date", due_msg);
		return;
	}
	ta_pg_format_timestamp(
	    ts->seconds, ts->nanos, out->due_buf, sizeof out->due_buf);
	out->due_date = out->due_buf;
}

static void
check_status(int status, task_values *out, ta_violations *v)
{
	if (!(out->status = task_status_to_db(status)))
		ta_violations_add(v, "status", status_msg);
}

static void
check_priority(int priority, task_values *out, ta_violations *v)
{
	if (!(out->priority = task_priority_to_db(priority)))
		ta_violations_add(v, "priority", priority_msg);
}

bool
task_validate_create(const Taskapi__V1__CreateTaskRequest *rq, task_values *out,
    ta_violations *v)
{
	size_t before = v->n;

	memset(out, 0, sizeof *out);
	check_title(rq->title, out, v);
	check_description(rq->description, out, v);
	/* UNSPECIFIED on create means the column default. */
	check_status(rq->status ? (int)rq->status
	                        : TASKAPI__V1__TASK_STATUS__TASK_STATUS_PENDING,
	    out, v);
	check_priority(rq->priority
	                   ? (int)rq->priority
	                   : TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_MEDIUM,
	    out, v);
	check_due_date(rq->due_date, out, v);
	return v->n == before;
}

/* The update mask: one row per path a client may name. */
typedef struct mask_field {
	const char *path;
	unsigned bit;
	void (*check)(const Taskapi__V1__UpdateTaskRequest *rq,
	    task_values *out, ta_violations *v);
} mask_field;

static void
mask_title(const Taskapi__V1__UpdateTaskRequest *rq, task_values *out,
    ta_violations *v)
{
	check_title(rq->title, out, v);
}

static void
mask_description(const Taskapi__V1__UpdateTaskRequest *rq, task_values *out,
    ta_violations *v)
{
	check_description(rq->description, out, v);
}

static void
mask_status(const Taskapi__V1__UpdateTaskRequest *rq, task_values *out,
    ta_violations *v)
{
	check_status((int)rq->status, out, v);
}

static void
mask_priority(const Taskapi__V1__UpdateTaskRequest *rq, task_values *out,
    ta_violations *v)
{
	check_priority((int)rq->priority, out, v);
}

static void
mask_due_date(const Taskapi__V1__UpdateTaskRequest *rq, task_values *out,
    ta_violations *v)
{
	check_due_date(rq->due_date, out, v);
}

static const mask_field mask_fields[] = {
    {"title", TASK_SET_TITLE, mask_title},
    {"description", TASK_SET_DESCRIPTION, mask_description},
    {"status", TASK_SET_STATUS, mask_status},
    {"priority", TASK_SET_PRIORITY, mask_priority},
    {"due_date", TASK_SET_DUE_DATE, mask_due_date},
};
#define MASK_N (sizeof mask_fields / sizeof mask_fields[0])

bool
task_validate_update(const Taskapi__V1__UpdateTaskRequest *rq, task_values *out,
    unsigned *set, ta_violations *v)
{
	const Google__Protobuf__FieldMask *m = rq->update_mask;
	size_t before = v->n;
	unsigned bits = 0;

	memset(out, 0, sizeof *out);
	for (size_t i = 0; m && i < m->n_paths; i++) {
		const char *path = m->paths[i] ? m->paths[i] : "";
		size_t f = 0;

		while (f < MASK_N && strcmp(mask_fields[f].path, path) != 0)
			f++;
		if (f == MASK_N) {
			char msg[256];
			long n = task_utf8_count(path);

			/* The path is echoed back: only if it is short and
			 * valid UTF-8. */
			if (n < 0 || n > 40)
				path = "(invalid)";
			snprintf(msg, sizeof msg,
			    "update_mask: unknown field %s", path);
			ta_violations_add(v, "update_mask", msg);
			continue;
		}
		/* A path named twice is checked once. */
		if (bits & mask_fields[f].bit)
			continue;
		bits |= mask_fields[f].bit;
		mask_fields[f].check(rq, out, v);
	}
	/* An update that names no field is a client mistake, not a no-op. */
	if (bits == 0 && v->n == before)
		ta_violations_add(v, "body",
		    "at least one of title, description, status, priority, "
		    "due_date is required");
	*set = bits;
	return v->n == before;
}
