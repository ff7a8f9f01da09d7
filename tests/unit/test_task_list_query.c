/* ListTasks request checks (list_query.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "list_query.h"

static Taskapi__V1__ListTasksRequest
empty(void)
{
	Taskapi__V1__ListTasksRequest rq =
	    TASKAPI__V1__LIST_TASKS_REQUEST__INIT;

	return rq;
}

static void
test_defaults(void **state)
{
	Taskapi__V1__ListTasksRequest rq = empty();
	task_list_query q;
	ta_violations v = {0};

	(void)state;
	assert_true(task_list_query_from(&rq, &q, &v));
	assert_int_equal(q.limit, 1000);
	assert_int_equal(q.sort, TASK_SORT_CREATED_AT);
	assert_true(q.is_desc);
	assert_null(q.status);
	assert_null(q.priority);
	assert_null(q.due_before);
	assert_null(q.q_pattern);
	assert_string_equal(q.cursor, "");
}

/* Exactly one violation, on field. */
static void
expect_bad(const Taskapi__V1__ListTasksRequest *rq, const char *field)
{
	task_list_query q;
	ta_violations v = {0};

	assert_false(task_list_query_from(rq, &q, &v));
	assert_int_equal(v.n, 1);
	assert_string_equal(v.items[0].field, field);
	ta_violations_fini(&v);
}

static void
test_limits_and_names(void **state)
{
	static const char *const bad_sorts[] = {
	    "id", "-", "--title", "+title", "title ", "Title", "created_at,id"};
	static const char *const sorts[] = {
	    "created_at", "-updated_at", "due_date", "-priority", "title"};
	Google__Protobuf__Int32Value lim = GOOGLE__PROTOBUF__INT32_VALUE__INIT;
	Taskapi__V1__ListTasksRequest rq = empty();
	task_list_query q;
	ta_violations v = {0};
	char q201[202];

	(void)state;
	rq.limit = &lim;
	lim.value = 0;
	expect_bad(&rq, "limit");
	lim.value = 1001;
	expect_bad(&rq, "limit");
	lim.value = -5;
	expect_bad(&rq, "limit");
	lim.value = 1;
	assert_true(task_list_query_from(&rq, &q, &v));
	assert_int_equal(q.limit, 1);
	lim.value = 1000;
	assert_true(task_list_query_from(&rq, &q, &v));
	rq = empty();
	for (size_t i = 0; i < sizeof bad_sorts / sizeof bad_sorts[0]; i++) {
		rq.sort = (char *)bad_sorts[i];
		expect_bad(&rq, "sort");
	}
	for (size_t i = 0; i < sizeof sorts / sizeof sorts[0]; i++) {
		rq.sort = (char *)sorts[i];
		assert_true(task_list_query_from(&rq, &q, &v));
		assert_int_equal(q.sort, (task_list_sort)i);
		assert_int_equal(q.is_desc, sorts[i][0] == '-');
	}
	rq = empty();
	memset(q201, 'x', 201);
	q201[201] = '\0';
	rq.q = q201;
	expect_bad(&rq, "q");
	q201[200] = '\0';
	assert_true(task_list_query_from(&rq, &q, &v));
	rq.q = "\xc3\x28";
	expect_bad(&rq, "q");
}

static void
test_enums(void **state)
{
	Taskapi__V1__TaskStatus st[3] = {
	    TASKAPI__V1__TASK_STATUS__TASK_STATUS_COMPLETED,
	    TASKAPI__V1__TASK_STATUS__TASK_STATUS_PENDING,
	    TASKAPI__V1__TASK_STATUS__TASK_STATUS_COMPLETED};
	Taskapi__V1__TaskPriority pr[1] = {
	    TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_UNSPECIFIED};
	Taskapi__V1__ListTasksRequest rq = empty();
	task_list_query q;
	ta_violations v = {0};

	(void)state;
	rq.n_status = 3;
	rq.status = st;
	assert_true(task_list_query_from(&rq, &q, &v));
	assert_string_equal(q.status, "{completed,pending}");
	st[1] = (Taskapi__V1__TaskStatus)-1; /* a name the edge did not know */
	expect_bad(&rq, "status");
	rq = empty();
	rq.n_priority = 1;
	rq.priority = pr;
	expect_bad(&rq, "priority");
	pr[0] = (Taskapi__V1__TaskPriority)99;
	expect_bad(&rq, "priority");
}

static void
test_like_pattern(void **state)
{
	char out[64];

	(void)state;
	task_list_like_pattern("50%_a\\b", out);
	assert_string_equal(out, "%50\\%\\_a\\\\b%");
	task_list_like_pattern("", out);
	assert_string_equal(out, "%%");
}

/* Microseconds, rounded so that before/after stay strict. */
static void
test_due_bounds(void **state)
{
	Google__Protobuf__Timestamp b = GOOGLE__PROTOBUF__TIMESTAMP__INIT,
	                            a = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Taskapi__V1__ListTasksRequest rq = empty();
	task_list_query q;
	ta_violations v = {0};

	(void)state;
	b.seconds = 1893553445;
	b.nanos = 999999500;
	a.seconds = 1893553445;
	a.nanos = 1500;
	rq.due_before = &b;
	rq.due_after = &a;
	assert_true(task_list_query_from(&rq, &q, &v));
	assert_string_equal(q.due_before, "2030-01-02T03:04:06.000000Z");
	assert_string_equal(q.due_after, "2030-01-02T03:04:05.000001Z");
}

/* The fingerprint changes with every part of the list, not the limit. */
static void
test_fingerprint(void **state)
{
	Google__Protobuf__Int32Value lim = GOOGLE__PROTOBUF__INT32_VALUE__INIT;
	Taskapi__V1__ListTasksRequest rq = empty();
	uint8_t key[TASK_CURSOR_KEY_BYTES] = {1}, a[TASK_CURSOR_FP_BYTES],
	        b[TASK_CURSOR_FP_BYTES];
	task_list_query q;
	ta_violations v = {0};

	(void)state;
	assert_true(sodium_init() >= 0);
	assert_true(task_list_query_from(&rq, &q, &v));
	task_list_query_fp(&q, 5, key, a);
	task_list_query_fp(&q, 6, key, b);
	assert_memory_not_equal(a, b, sizeof a);
	rq.limit = &lim;
	lim.value = 3;
	assert_true(task_list_query_from(&rq, &q, &v));
	task_list_query_fp(&q, 5, key, b);
	assert_memory_equal(a, b, sizeof a);
	rq.q = "x";
	assert_true(task_list_query_from(&rq, &q, &v));
	task_list_query_fp(&q, 5, key, b);
	assert_memory_not_equal(a, b, sizeof a);
	rq.q = "";
	rq.sort = "created_at";
	assert_true(task_list_query_from(&rq, &q, &v));
	task_list_query_fp(&q, 5, key, b);
	assert_memory_not_equal(a, b, sizeof a);
	rq.sort = "-created_at"; /* the default, spelt out */
	assert_true(task_list_query_from(&rq, &q, &v));
	task_list_query_fp(&q, 5, key, b);
	assert_memory_equal(a, b, sizeof a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_limits_and_names),
	    cmocka_unit_test(test_enums),
	    cmocka_unit_test(test_like_pattern),
	    cmocka_unit_test(test_due_bounds),
	    cmocka_unit_test(test_fingerprint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
