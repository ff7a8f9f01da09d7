/*
 * ListTasks request checks (list_query.h): the semantic rules of the
 * GET /tasks parameters, which the edge only converts.
 */
#include "list_query.h"

#include <stdio.h>
#include <string.h>

#include "civil_time.h"
#include "validate.h"

static const char *const sort_names[TASK_SORT_N] = {
    [TASK_SORT_CREATED_AT] = "created_at",
    [TASK_SORT_UPDATED_AT] = "updated_at",
    [TASK_SORT_DUE_DATE] = "due_date",
    [TASK_SORT_PRIORITY] = "priority",
    [TASK_SORT_TITLE] = "title",
};

static bool
sort_from(const char *s, task_list_query *out)
{
	out->sort = TASK_SORT_CREATED_AT;
	out->is_desc = true;
	if (!s || !*s)
		return true;
	out->is_desc = s[0] == '-';
	s += out->is_desc;
	for (int i = 0; i < TASK_SORT_N; i++)
		if (strcmp(s, sort_names[i]) == 0) {
			out->sort = (task_list_sort)i;
			return true;
		}
	return false;
}

/*
 * A repeated enum as a text[] literal of its column values ("{a,b}") and
 * a mask; false when a value is UNSPECIFIED or unknown.
 */
static bool
enum_list(const int *vals, size_t n, const char *(*to_db)(int), char *buf,
    size_t cap, unsigned *mask, const char **out)
{
	size_t at = 0;

	*mask = 0;
	*out = NULL;
	if (n == 0)
		return true;
	buf[at++] = '{';
	for (size_t i = 0; i < n; i++) {
		const char *name = to_db(vals[i]);

		if (!name || vals[i] < 0 || vals[i] > 30)
			return false;
		if (*mask & (1u << vals[i]))
			continue;
		*mask |= 1u << vals[i];
		if (at + strlen(name) + 2 >= cap)
			return false;
		if (at > 1)
			buf[at++] = ',';
		memcpy(buf + at, name, strlen(name));
		at += strlen(name);
	}
	buf[at++] = '}';
	buf[at] = '\0';
	*out = buf;
	return true;
}

/*
 * RFC 3339 with microseconds, the columns' precision: rounded up for an
 * upper bound (is_ceil), down for a lower one, so that "before" and
 * "after" stay strict at any nanosecond.
 */
static const char *
timestamp_text(
    const Google__Protobuf__Timestamp *ts, bool is_ceil, char *buf, size_t cap)
{
	int64_t s;
	int32_t us;
	size_t n;

	if (!ts)
		return NULL;
	s = ts->seconds;
	us = ts->nanos / 1000;
	if (is_ceil && ts->nanos % 1000)
		us++;
	if (us >= 1000000) {
		s++;
		us -= 1000000;
	}
	ta_rfc3339_format(s, 0, buf, cap);
	/* "...:SS.000Z" -> "...:SS.uuuuuuZ" */
	n = strlen(buf);
	if (n >= 5 && cap > n + 3)
		snprintf(buf + n - 4, cap - (n - 4), "%06dZ", (int)us);
	return buf;
}

void
task_list_like_pattern(const char *s, char *out)
{
	size_t at = 0;

	out[at++] = '%';
	for (; *s; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			out[at++] = '\\';
		out[at++] = *s;
	}
	out[at++] = '%';
	out[at] = '\0';
}

static bool
timestamp_ok(const Google__Protobuf__Timestamp *ts)
{
	return !ts || (ts->seconds >= TA_CIVIL_SECONDS_MIN &&
	                  ts->seconds <= TA_CIVIL_SECONDS_MAX &&
	                  ts->nanos >= 0 && ts->nanos < 1000000000);
}

bool
task_list_query_from(const Taskapi__V1__ListTasksRequest *rq,
    task_list_query *out, ta_violations *v)
{
	size_t before = v->n;
	long qlen;

	memset(out, 0, sizeof *out);
	out->limit = TASK_LIST_LIMIT_MAX;
	if (rq->limit) {
		if (rq->limit->value < 1 ||
		    rq->limit->value > TASK_LIST_LIMIT_MAX)
			ta_violations_add(
			    v, "limit", "limit must be between 1 and 1000");
		else
			out->limit = rq->limit->value;
	}
	if (!enum_list((const int *)rq->status, rq->n_status, task_status_to_db,
	        out->status_buf, sizeof out->status_buf, &out->status_mask,
	        &out->status))
		ta_violations_add(v, "status",
		    "status must be a comma list of: pending, in_progress, "
		    "completed");
	if (!enum_list((const int *)rq->priority, rq->n_priority,
	        task_priority_to_db, out->priority_buf,
	        sizeof out->priority_buf, &out->priority_mask, &out->priority))
		ta_violations_add(v, "priority",
		    "priority must be a comma list of: low, medium, high");
	if (!timestamp_ok(rq->due_before))
		ta_violations_add(
		    v, "due_before", "due_before is out of range");
	if (!timestamp_ok(rq->due_after))
		ta_violations_add(v, "due_after", "due_after is out of range");
	out->due_before = timestamp_text(rq->due_before, true,
	    out->due_before_buf, sizeof out->due_before_buf);
	out->due_after = timestamp_text(rq->due_after, false,
	    out->due_after_buf, sizeof out->due_after_buf);
	out->q = rq->q ? rq->q : "";
	qlen = task_utf8_count(out->q);
	if (qlen < 0 || qlen > TASK_LIST_Q_MAX)
		ta_violations_add(
		    v, "q", "q must be at most 200 characters of UTF-8");
	else if (*out->q) {
		task_list_like_pattern(out->q, out->q_buf);
		out->q_pattern = out->q_buf;
	}
	if (!sort_from(rq->sort, out))
		ta_violations_add(v, "sort",
		    "sort must be one of: created_at, updated_at, due_date, "
		    "priority, title, each optionally prefixed with -");
	out->cursor = rq->cursor ? rq->cursor : "";
	return v->n == before;
}

void
task_list_query_fp(const task_list_query *q, int64_t user_id,
    const uint8_t key[TASK_CURSOR_KEY_BYTES], uint8_t fp[TASK_CURSOR_FP_BYTES])
{
	char head[160];
	const void *parts[2];
	size_t lens[2];

	/* Everything but q is short and has no separator in it. */
	snprintf(head, sizeof head, "%lld|%d|%d|%x|%x|%s|%s",
	    (long long)user_id, (int)q->sort, (int)q->is_desc, q->status_mask,
	    q->priority_mask, q->due_before ? q->due_before : "-",
	    q->due_after ? q->due_after : "-");
	parts[0] = head;
	lens[0] = strlen(head);
	parts[1] = q->q;
	lens[1] = strlen(q->q);
	task_cursor_fingerprint(key, parts, lens, 2, fp);
}
