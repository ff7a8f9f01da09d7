/*
 * task-svc validation: title, enums, due date range, update mask, and all
 * violations reported at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* validate.c is part of the task-svc executable, not of a library: the
 * test compiles it in. */
#include "validate.h"

static Google__Protobuf__Timestamp
ts_of(int64_t seconds, int32_t nanos)
{
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;

	ts.seconds = seconds;
	ts.nanos = nanos;
	return ts;
}

/* n copies of the UTF-8 sequence unit, in a static buffer. */
static char *
repeat(const char *unit, int n)
{
	static char buf[4096];
	size_t len = strlen(unit);

	assert_true(len * (size_t)n < sizeof buf);
	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		memcpy(buf + len * (size_t)i, unit, len + 1);
	return buf;
}

static bool
has(const ta_violations *v, const char *field, const char *message)
{
	for (size_t i = 0; i < v->n; i++) {
		if (strcmp(v->items[i].field, field) == 0 &&
		    strcmp(v->items[i].message, message) == 0)
			return true;
	}
	return false;
}

static bool
create_ok(const char *title)
{
	Taskapi__V1__CreateTaskRequest rq =
	    TASKAPI__V1__CREATE_TASK_REQUEST__INIT;
	ta_violations v = {0};
	task_values out;
	bool ok;

	rq.title = (char *)title;
	ok = task_validate_create(&rq, &out, &v);
	assert_int_equal(ok, v.n == 0);
	ta_violations_fini(&v);
	return ok;
}

static void
test_title(void **state)
{
	(void)state;
	assert_true(create_ok("Buy milk"));
	assert_true(create_ok(" x "));
	assert_false(create_ok(""));
	assert_false(create_ok("   "));
	assert_false(create_ok(" \t\r\n "));
	/* Unicode blanks trim away too (NBSP, ideographic space, BOM). */
	assert_false(create_ok("\xC2\xA0\xE3\x80\x80\xEF\xBB\xBF"));
	assert_true(create_ok(repeat("a", 200)));
	assert_false(create_ok(repeat("a", 201)));
	/* Code points, not bytes: 200 'é' (400 bytes) is fine. */
	assert_true(create_ok(repeat("\xC3\xA9", 200)));
	assert_false(create_ok(repeat("\xC3\xA9", 201)));
	assert_true(create_ok(repeat("\xF0\x9F\x98\x80", 200)));
	assert_false(create_ok(repeat("\xF0\x9F\x98\x80", 201)));
	/* Invalid UTF-8 and overlong forms are rejected. */
	assert_false(create_ok("bad \xC3"));
	assert_false(create_ok("bad \xC0\xAF"));
	assert_false(create_ok("bad \xED\xA0\x80"));
}

static void
test_title_messages(void **state)
{
	Taskapi__V1__CreateTaskRequest rq =
	    TASKAPI__V1__CREATE_TASK_REQUEST__INIT;
	ta_violations v = {0};
	task_values out;

	(void)state;
	rq.title = "  ";
	assert_false(task_validate_create(&rq, &out, &v));
	assert_int_equal(v.n, 1);
	assert_true(has(&v, "title", "title is required"));
	ta_violations_fini(&v);

	rq.title = repeat("\xC3\xA9", 201);
	assert_false(task_validate_create(&rq, &out, &v));
	assert_true(has(&v, "title", "title must be at most 200 characters"));
	ta_violations_fini(&v);
}

/* Issue 9: a description is capped so one task's size in a list is. */
static void
test_description_limit(void **state)
{
	Taskapi__V1__CreateTaskRequest rq =
	    TASKAPI__V1__CREATE_TASK_REQUEST__INIT;
	Taskapi__V1__UpdateTaskRequest up =
	    TASKAPI__V1__UPDATE_TASK_REQUEST__INIT;
	Google__Protobuf__StringValue d = GOOGLE__PROTOBUF__STRING_VALUE__INIT;
	Google__Protobuf__FieldMask mask = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
	char *paths[] = {"description"};
	size_t unit = 4, max = TASK_DESCRIPTION_MAX;
	char *big = malloc((max + 1) * unit + 1);
	ta_violations v = {0};
	task_values out;
	unsigned set;

	(void)state;
	/* Code points: 10000 four-byte characters are fine, one more not. */
	for (size_t i = 0; i <= max; i++)
		memcpy(big + i * unit, "\xF0\x9F\x98\x80", unit);
	big[max * unit] = '\0';
	rq.title = "t";
	d.value = big;
	rq.description = &d;
	assert_true(task_validate_create(&rq, &out, &v));
	assert_ptr_equal(out.description, big);
	big[max * unit] = '\xF0';
	big[(max + 1) * unit] = '\0';
	assert_false(task_validate_create(&rq, &out, &v));
	assert_true(has(&v, "description",
	    "description must be at most 10000 characters"));
	ta_violations_fini(&v);
	/* The same rule on update. */
	up.id = 1;
	up.description = &d;
	mask.n_paths = 1;
	mask.paths = paths;
	up.update_mask = &mask;
	assert_false(task_validate_update(&up, &out, &set, &v));
	assert_true(has(&v, "description",
	    "description must be at most 10000 characters"));
	ta_violations_fini(&v);
	free(big);
}

static void
test_create_defaults(void **state)
{
	Taskapi__V1__CreateTaskRequest rq =
	    TASKAPI__V1__CREATE_TASK_REQUEST__INIT;
	Google__Protobuf__StringValue d = GOOGLE__PROTOBUF__STRING_VALUE__INIT;
	ta_violations v = {0};
	task_values out;

	(void)state;
	rq.title = "t";
	assert_true(task_validate_create(&rq, &out, &v));
	assert_string_equal(out.title, "t");
	assert_string_equal(out.status, "pending");
	assert_string_equal(out.priority, "medium");
	assert_null(out.description);
	assert_null(out.due_date);

	/* An empty description is stored as NULL. */
	d.value = "";
	rq.description = &d;
	assert_true(task_validate_create(&rq, &out, &v));
	assert_null(out.description);
	d.value = "some words";
	assert_true(task_validate_create(&rq, &out, &v));
	assert_string_equal(out.description, "some words");
	assert_int_equal(v.n, 0);
}

static void
test_enums(void **state)
{
	Taskapi__V1__CreateTaskRequest rq =
	    TASKAPI__V1__CREATE_TASK_REQUEST__INIT;
	ta_violations v = {0};
	task_values out;

	(void)state;
	rq.title = "t";
	rq.status = TASKAPI__V1__TASK_STATUS__TASK_STATUS_IN_PROGRESS;
	rq.priority = TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_HIGH;
	assert_true(task_validate_create(&rq, &out, &v));
	assert_string_equal(out.status, "in_progress");
	assert_string_equal(out.priority, "high");
	rq.status = TASKAPI__V1__TASK_STATUS__TASK_STATUS_COMPLETED;
	rq.priority = TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_LOW;
	assert_true(task_validate_create(&rq, &out, &v));
	assert_string_equal(out.status, "completed");
	assert_string_equal(out.priority, "low");

	/* Values outside the enum (open enums carry any number). */
	rq.status = (Taskapi__V1__TaskStatus)4;
	rq.priority = (Taskapi__V1__TaskPriority)-1;
	assert_false(task_validate_create(&rq, &out, &v));
	assert_int_equal(v.n, 2);
	assert_true(has(&v, "status",
	    "status must be one of: pending, in_progress, completed"));
	assert_true(
	    has(&v, "priority", "priority must be one of: low, medium, high"));
	ta_violations_fini(&v);

	assert_string_equal(task_status_to_db(1), "pending");
	assert_null(task_status_to_db(0));
	assert_null(task_priority_to_db(99));
	assert_int_equal(task_status_from_db("in_progress"),
	    TASKAPI__V1__TASK_STATUS__TASK_STATUS_IN_PROGRESS);
	assert_int_equal(task_priority_from_db("high"),
	    TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_HIGH);
	assert_int_equal(task_status_from_db("done"), 0);
	assert_int_equal(task_priority_from_db(NULL), 0);
}

static bool
due_ok(int64_t seconds, int32_t nanos, const char *want)
{
	Taskapi__V1__CreateTaskRequest rq =
	    TASKAPI__V1__CREATE_TASK_REQUEST__INIT;
	Google__Protobuf__Timestamp ts = ts_of(seconds, nanos);
	ta_violations v = {0};
	task_values out;
	bool ok;

	rq.title = "t";
	rq.due_date = &ts;
	ok = task_validate_create(&rq, &out, &v);
	if (ok && want)
		assert_string_equal(out.due_date, want);
	if (!ok)
		assert_true(has(&v, "due_date",
		    "due_date must be a valid date between years 1 and 9999"));
	ta_violations_fini(&v);
	return ok;
}

static void
test_due_date(void **state)
{
	(void)state;
	assert_true(
	    due_ok(1740910504, 221312000, "2025-03-02 10:15:04.221312+00"));
	assert_true(due_ok(-62135596800LL, 0, "0001-01-01 00:00:00.000000+00"));
	assert_true(
	    due_ok(253402300799LL, 999999999, "9999-12-31 23:59:59.999999+00"));
	assert_false(due_ok(-62135596801LL, 0, NULL));
	assert_false(due_ok(253402300800LL, 0, NULL));
	assert_false(due_ok(INT64_MAX, 0, NULL));
	assert_false(due_ok(INT64_MIN, 0, NULL));
	assert_false(due_ok(0, -1, NULL));
	assert_false(due_ok(0, 1000000000, NULL));
}

static void
test_all_at_once(void **state)
{
	Taskapi__V1__CreateTaskRequest rq =
	    TASKAPI__V1__CREATE_TASK_REQUEST__INIT;
	Google__Protobuf__Timestamp ts = ts_of(INT64_MAX, 0);
	ta_violations v = {0};
	task_values out;

	(void)state;
	rq.title = "";
	rq.status = (Taskapi__V1__TaskStatus)9;
	rq.priority = (Taskapi__V1__TaskPriority)9;
	rq.due_date = &ts;
	assert_false(task_validate_create(&rq, &out, &v));
	assert_int_equal(v.n, 4);
	assert_string_equal(v.items[0].field, "title");
	assert_string_equal(v.items[1].field, "status");
	assert_string_equal(v.items[2].field, "priority");
	assert_string_equal(v.items[3].field, "due_date");
	ta_violations_fini(&v);
}

static void
test_update_mask(void **state)
{
	Taskapi__V1__UpdateTaskRequest rq =
	    TASKAPI__V1__UPDATE_TASK_REQUEST__INIT;
	Google__Protobuf__FieldMask m = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
	char *paths[6];
	ta_violations v = {0};
	task_values out;
	unsigned set = 99;

	(void)state;
	/* No mask: nothing to change is a client error (an empty PUT). */
	assert_false(task_validate_update(&rq, &out, &set, &v));
	assert_int_equal(set, 0);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.items[0].field, "body");
	ta_violations_fini(&v);

	/* Masked but unset: description and due_date clear; the title would
	 * be empty and status UNSPECIFIED, both invalid. */
	rq.update_mask = &m;
	m.paths = paths;
	paths[0] = "description";
	paths[1] = "due_date";
	m.n_paths = 2;
	assert_true(task_validate_update(&rq, &out, &set, &v));
	assert_int_equal(set, TASK_SET_DESCRIPTION | TASK_SET_DUE_DATE);
	assert_null(out.description);
	assert_null(out.due_date);

	paths[0] = "title";
	paths[1] = "status";
	paths[2] = "priority";
	m.n_paths = 3;
	assert_false(task_validate_update(&rq, &out, &set, &v));
	assert_int_equal(v.n, 3);
	assert_true(has(&v, "title", "title is required"));
	assert_true(has(&v, "status",
	    "status must be one of: pending, in_progress, completed"));
	assert_true(
	    has(&v, "priority", "priority must be one of: low, medium, high"));
	ta_violations_fini(&v);

	/* Only masked fields are looked at: a bad status outside the mask
	 * is ignored. */
	rq.title = "new";
	rq.status = (Taskapi__V1__TaskStatus)42;
	paths[0] = "title";
	paths[1] = "title";
	m.n_paths = 2;
	assert_true(task_validate_update(&rq, &out, &set, &v));
	assert_int_equal(set, TASK_SET_TITLE);
	assert_string_equal(out.title, "new");

	paths[0] = "title";
	paths[1] = "owner";
	paths[2] = "";
	m.n_paths = 3;
	assert_false(task_validate_update(&rq, &out, &set, &v));
	assert_int_equal(v.n, 2);
	assert_true(has(&v, "update_mask", "update_mask: unknown field owner"));
	assert_true(has(&v, "update_mask", "update_mask: unknown field "));
	ta_violations_fini(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_title),
	    cmocka_unit_test(test_title_messages),
	    cmocka_unit_test(test_description_limit),
	    cmocka_unit_test(test_create_defaults),
	    cmocka_unit_test(test_enums),
	    cmocka_unit_test(test_due_date),
	    cmocka_unit_test(test_all_at_once),
	    cmocka_unit_test(test_update_mask),
	};

	return cmocka_run_group_tests_name("task_validate", tests, NULL, NULL);
}
