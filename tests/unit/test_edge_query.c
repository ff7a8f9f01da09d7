/* Query parameters -> request message (query.h), on ListTasksRequest and
 * GetTaskRequest (a route with a path parameter). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "query.h"
#include "transcode.h"
#include "taskapi/v1/task.pb-c.h"

#define P(k, v)                                                                \
	{                                                                      \
		k, sizeof k - 1, v, sizeof v - 1                               \
	}

static Taskapi__V1__ListTasksRequest *
fill(const edge_query_param *q, size_t n, ta_status want, ta_violations *v)
{
	ProtobufCMessage *m =
	    ta_message_new(&taskapi__v1__list_tasks_request__descriptor);

	assert_int_equal(edge_query_fill(m, q, n, NULL, 0, v), want);
	return (Taskapi__V1__ListTasksRequest *)m;
}

static void
test_every_type(void **state)
{
	static const edge_query_param q[] = {P("limit", "25"),
	    P("cursor", "abc_-"), P("status", "pending%2Ccompleted"),
	    P("priority", "high"), P("due_before", "2030-01-02T03:04:05Z"),
	    P("due_after", "2029-12-31"), P("q", "50%25+off%2B"),
	    P("sort", "-title")};
	ta_violations v = {0};
	Taskapi__V1__ListTasksRequest *r = fill(q, 8, TA_OK, &v);

	(void)state;
	assert_int_equal(v.n, 0);
	assert_non_null(r->limit);
	assert_int_equal(r->limit->value, 25);
	assert_string_equal(r->cursor, "abc_-");
	assert_int_equal(r->n_status, 2);
	assert_int_equal(
	    r->status[0], TASKAPI__V1__TASK_STATUS__TASK_STATUS_PENDING);
	assert_int_equal(
	    r->status[1], TASKAPI__V1__TASK_STATUS__TASK_STATUS_COMPLETED);
	assert_int_equal(r->n_priority, 1);
	assert_int_equal(
	    r->priority[0], TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_HIGH);
	assert_non_null(r->due_before);
	assert_int_equal(r->due_before->seconds, 1893553445);
	assert_non_null(r->due_after);
	assert_int_equal(r->due_after->seconds, 1893369600);
	assert_string_equal(r->q, "50% off+");
	assert_string_equal(r->sort, "-title");
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void
test_absent_and_zero(void **state)
{
	static const edge_query_param q[] = {P("limit", "0")};
	ta_violations v = {0};
	Taskapi__V1__ListTasksRequest *r = fill(NULL, 0, TA_OK, &v);

	(void)state;
	/* Absent limit is unset, limit=0 is present: the worker tells. */
	assert_null(r->limit);
	assert_null(r->due_before);
	assert_int_equal(r->n_status, 0);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	r = fill(q, 1, TA_OK, &v);
	assert_non_null(r->limit);
	assert_int_equal(r->limit->value, 0);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* Each refused alone, with its violation naming want. */
static void
expect_refused(const edge_query_param *q, size_t n, const char *want)
{
	ta_violations v = {0};
	Taskapi__V1__ListTasksRequest *r = fill(q, n, TA_INVALID_ARGUMENT, &v);

	assert_true(v.n >= 1);
	assert_string_equal(v.items[0].field, want);
	assert_non_null(strstr(v.items[0].message, want));
	ta_violations_fini(&v);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void
test_refused(void **state)
{
	static const edge_query_param unknown[] = {P("colour", "red")};
	static const edge_query_param twice[] = {P("q", "a"), P("q", "b")};
	static const edge_query_param bare[] = {{"q", 1, NULL, 0}};
	static const edge_query_param nul[] = {P("q", "a%00b")};
	static const edge_query_param ctl[] = {P("q", "a%0Ab")};
	static const edge_query_param utf[] = {P("q", "%C3%28")};
	static const edge_query_param esc1[] = {P("q", "50%")};
	static const edge_query_param esc2[] = {P("q", "%4")};
	static const edge_query_param esc3[] = {P("q", "%zz")};
	static const edge_query_param twice_esc[] = {
	    P("q", "a"), P("%71", "b")};
	static const edge_query_param abc[] = {P("limit", "abc")};
	static const edge_query_param big[] = {P("limit", "99999999999")};
	static const edge_query_param frac[] = {P("limit", "1.5")};
	static const edge_query_param ts[] = {P("due_before", "tomorrow")};
	static const edge_query_param badkey[] = {P("a%00b", "x")};
	static const edge_query_param badesc[] = {P("q%", "x")};
	static const edge_query_param nokey[] = {{"", 0, "x", 1}};
	static const edge_query_param upper[] = {P("Limit", "5")};

	(void)state;
	expect_refused(unknown, 1, "colour");
	expect_refused(twice, 2, "q");
	expect_refused(bare, 1, "q");
	expect_refused(nul, 1, "q");
	expect_refused(ctl, 1, "q");
	expect_refused(utf, 1, "q");
	expect_refused(esc1, 1, "q");
	expect_refused(esc2, 1, "q");
	expect_refused(esc3, 1, "q");
	expect_refused(twice_esc, 2, "q");
	expect_refused(abc, 1, "limit");
	expect_refused(big, 1, "limit");
	expect_refused(frac, 1, "limit");
	expect_refused(ts, 1, "due_before");
	expect_refused(badkey, 1, "query");
	expect_refused(badesc, 1, "query");
	expect_refused(nokey, 1, "query");
	expect_refused(upper, 1, "Limit");
}

/* An unknown enum name is the worker's to refuse: stored as unrecognized,
 * as in a JSON body. */
static void
test_enum_unrecognized(void **state)
{
	static const edge_query_param q[] = {P("status", "pending,done,")};
	ta_violations v = {0};
	Taskapi__V1__ListTasksRequest *r = fill(q, 1, TA_OK, &v);

	(void)state;
	assert_int_equal(r->n_status, 3);
	assert_int_equal((int)r->status[1], TA_ENUM_UNRECOGNIZED);
	assert_int_equal((int)r->status[2], TA_ENUM_UNRECOGNIZED);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* A path parameter's field cannot be set from the query. */
static void
test_path_field_refused(void **state)
{
	static const edge_query_param q[] = {P("id", "7")};
	edge_param path = {"id}", 2, "5", 1};
	ProtobufCMessage *m =
	    ta_message_new(&taskapi__v1__get_task_request__descriptor);
	ta_violations v = {0};

	(void)state;
	assert_int_equal(
	    edge_query_fill(m, q, 1, &path, 1, &v), TA_INVALID_ARGUMENT);
	assert_string_equal(v.items[0].field, "id");
	ta_violations_fini(&v);
	assert_int_equal(edge_query_fill(m, q, 1, NULL, 0, &v), TA_OK);
	assert_int_equal(((Taskapi__V1__GetTaskRequest *)m)->id, 7);
	protobuf_c_message_free_unpacked(m, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_type),
	    cmocka_unit_test(test_absent_and_zero),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_enum_unrecognized),
	    cmocka_unit_test(test_path_field_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
