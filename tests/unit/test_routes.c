/* Route table and matcher of the edge: every row, specificity, 404/405. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "routes.h"
#include "taskapi/v1/task.pb-c.h"

static int
setup(void **state)
{
	size_t n;
	const edge_route *rows = edge_route_table(&n);
	char err[256];
	edge_router *r = NULL;

	if (edge_router_new(rows, n, &r, err, sizeof err) != TA_OK)
		return -1;
	*state = r;
	return 0;
}

static int
teardown(void **state)
{
	edge_router_free(*state);
	return 0;
}

static const edge_resolved_route *
must_match(void **state, const char *method, const char *path)
{
	edge_match m;

	assert_int_equal(edge_route_match(*state, method, path, &m), TA_OK);
	assert_non_null(m.route);
	return m.route;
}

static void
test_every_row(void **state)
{
	static const struct {
		const char *method, *path, *full, *pattern;
		int success;
	} cases[] = {
	    {"POST", "/auth/register", "/taskapi.v1.AuthService/RegisterUser",
	        "/auth/register", 201},
	    {"POST", "/auth/login", "/taskapi.v1.AuthService/Login",
	        "/auth/login", 200},
	    {"POST", "/auth/validate", "/taskapi.v1.AuthService/ValidateToken",
	        "/auth/validate", 200},
	    {"GET", "/auth/health", "/taskapi.v1.Health/Check", "/auth/health",
	        200},
	    {"GET", "/tasks/health", "/taskapi.v1.Health/Check",
	        "/tasks/health", 200},
	    {"POST", "/tasks", "/taskapi.v1.TaskService/CreateTask", "/tasks",
	        201},
	    {"GET", "/tasks", "/taskapi.v1.TaskService/ListTasks", "/tasks",
	        200},
	    {"GET", "/tasks/7", "/taskapi.v1.TaskService/GetTask",
	        "/tasks/{id}", 200},
	    {"PUT", "/tasks/7", "/taskapi.v1.TaskService/UpdateTask",
	        "/tasks/{id}", 200},
	    {"DELETE", "/tasks/7", "/taskapi.v1.TaskService/DeleteTask",
	        "/tasks/{id}", 200},
	    {"GET", "/health", "", "/health", 200},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const edge_resolved_route *r =
		    must_match(state, cases[i].method, cases[i].path);

		assert_string_equal(r->full_method, cases[i].full);
		assert_string_equal(r->row->pattern, cases[i].pattern);
		assert_string_equal(r->row->method, cases[i].method);
		assert_int_equal(r->row->success, cases[i].success);
	}
}

static void
test_flags_and_descriptors(void **state)
{
	const edge_resolved_route *r = must_match(state, "PUT", "/tasks/1");

	assert_int_equal(r->row->flags, EDGE_ROUTE_AUTH | EDGE_ROUTE_BODY |
	                                    EDGE_ROUTE_MASK |
	                                    EDGE_ROUTE_CONDITIONAL);
	assert_int_equal(r->row->backend, EDGE_BACKEND_TASK);
	/* PATCH is the same update, also taking a merge patch. */
	assert_ptr_equal(must_match(state, "PATCH", "/tasks/1")->md, r->md);
	assert_int_equal(must_match(state, "PATCH", "/tasks/1")->row->flags,
	    r->row->flags | EDGE_ROUTE_MERGE_PATCH);
	assert_int_equal(must_match(state, "DELETE", "/tasks/1")->row->flags,
	    EDGE_ROUTE_AUTH | EDGE_ROUTE_CONDITIONAL);
	assert_int_equal(must_match(state, "GET", "/tasks/1")->row->flags,
	    EDGE_ROUTE_AUTH);
	assert_ptr_equal(
	    r->md->input, &taskapi__v1__update_task_request__descriptor);
	assert_ptr_equal(
	    r->md->output, &taskapi__v1__update_task_reply__descriptor);

	r = must_match(state, "POST", "/auth/validate");
	assert_int_equal(r->row->flags, EDGE_ROUTE_TOKEN);
	assert_int_equal(r->row->backend, EDGE_BACKEND_AUTH);

	r = must_match(state, "GET", "/health");
	assert_null(r->md);
	assert_int_equal(r->row->backend, EDGE_BACKEND_NONE);

	r = must_match(state, "GET", "/tasks/health");
	assert_true(r->row->flags & EDGE_ROUTE_HEALTH);
	assert_false(r->row->flags & EDGE_ROUTE_AUTH);
}

static void
test_literal_beats_param(void **state)
{
	edge_match m;

	assert_string_equal(
	    must_match(state, "GET", "/tasks/health")->full_method,
	    "/taskapi.v1.Health/Check");
	/* /tasks/health is the health path: PUT there is 405, not UpdateTask.
	 */
	assert_int_equal(edge_route_match(*state, "PUT", "/tasks/health", &m),
	    TA_UNIMPLEMENTED);
	assert_string_equal(m.pattern, "/tasks/health");
	assert_string_equal(m.allow, "GET, HEAD, OPTIONS");
}

static void
test_params(void **state)
{
	edge_match m;

	assert_int_equal(
	    edge_route_match(*state, "GET", "/tasks/12345", &m), TA_OK);
	assert_int_equal(m.nparams, 1);
	assert_int_equal(m.params[0].name_len, 2);
	assert_memory_equal(m.params[0].name, "id", 2);
	assert_int_equal(m.params[0].value_len, 5);
	assert_memory_equal(m.params[0].value, "12345", 5);

	/* The matcher does not judge ids: set_text does (400). */
	assert_int_equal(
	    edge_route_match(*state, "DELETE", "/tasks/abc", &m), TA_OK);
	assert_memory_equal(m.params[0].value, "abc", 3);
	assert_int_equal(m.params[0].value_len, 3);

	/* Query strings are ignored, also for the parameter's value. */
	assert_int_equal(
	    edge_route_match(*state, "GET", "/tasks/9?x=1/2", &m), TA_OK);
	assert_int_equal(m.params[0].value_len, 1);
	assert_memory_equal(m.params[0].value, "9", 1);
}

static void
test_trailing_slash_and_query(void **state)
{
	assert_string_equal(must_match(state, "GET", "/tasks/")->full_method,
	    "/taskapi.v1.TaskService/ListTasks");
	assert_string_equal(must_match(state, "POST", "/tasks/")->full_method,
	    "/taskapi.v1.TaskService/CreateTask");
	assert_string_equal(must_match(state, "GET", "/tasks/5/")->full_method,
	    "/taskapi.v1.TaskService/GetTask");
	assert_string_equal(
	    must_match(state, "GET", "/tasks?status=done")->full_method,
	    "/taskapi.v1.TaskService/ListTasks");
	assert_string_equal(
	    must_match(state, "GET", "/health/")->row->pattern, "/health");
}

static void
test_not_found(void **state)
{
	static const char *const paths[] = {"/", "", "tasks", "/nope",
	    "/tasks//", "/tasks/1/2", "/auth", "/auth/", "/auth/unknown",
	    "/TASKS", "//tasks", "/tasks/1//", "/healthz"};
	edge_match m;

	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		assert_int_equal(edge_route_match(*state, "GET", paths[i], &m),
		    TA_NOT_FOUND);
}

/* Issue 9: the raw path is routed; each segment is decoded after. */
static void
test_raw_path(void **state)
{
	static const char *const not_found[] = {"/tasks%2F100", "/tasks%2f100",
	    "%2Ftasks%2F1", "/tasks/1%3F/../../x", "/tasks/../health",
	    "/tasks/./1", "/tasks/%2e%2E", "/tasks/..", "/tasks/.",
	    "/tasks/1%00", "/tasks/%zz", "/tasks/1%0A", "/tasks/%", "/tas%73k"};
	edge_match m;
	char long_id[EDGE_PARAM_MAX + 16];

	for (size_t i = 0; i < sizeof not_found / sizeof not_found[0]; i++)
		assert_int_equal(
		    edge_route_match(*state, "DELETE", not_found[i], &m),
		    TA_NOT_FOUND);
	/* An escaped unreserved character is the character itself. */
	assert_string_equal(must_match(state, "GET", "/t%61sks")->full_method,
	    "/taskapi.v1.TaskService/ListTasks");
	/* Parameters are decoded; an escaped "/" or "?" stays data. */
	assert_int_equal(
	    edge_route_match(*state, "GET", "/tasks/%31%32", &m), TA_OK);
	assert_int_equal(m.params[0].value_len, 2);
	assert_memory_equal(m.params[0].value, "12", 2);
	assert_int_equal(
	    edge_route_match(*state, "GET", "/tasks/1%2F2%3F", &m), TA_OK);
	assert_string_equal(m.pattern, "/tasks/{id}");
	assert_int_equal(m.params[0].value_len, 4);
	assert_memory_equal(m.params[0].value, "1/2?", 4);
	memset(long_id, '1', sizeof long_id);
	memcpy(long_id, "/tasks/", 7);
	long_id[sizeof long_id - 1] = '\0';
	assert_int_equal(
	    edge_route_match(*state, "GET", long_id, &m), TA_NOT_FOUND);
}

/* HEAD is served wherever GET is. */
static void
test_head(void **state)
{
	edge_match m;

	assert_string_equal(must_match(state, "HEAD", "/tasks/3")->full_method,
	    "/taskapi.v1.TaskService/GetTask");
	assert_string_equal(
	    must_match(state, "HEAD", "/health")->row->pattern, "/health");
	assert_int_equal(edge_route_match(*state, "HEAD", "/auth/login", &m),
	    TA_UNIMPLEMENTED);
	assert_string_equal(m.allow, "POST, OPTIONS");
}

/* An update naming no field reads instead (routes.h noop_md). */
static void
test_noop(void **state)
{
	const edge_resolved_route *rt = must_match(state, "PUT", "/tasks/1");

	assert_non_null(rt->noop_md);
	assert_string_equal(
	    rt->noop_full_method, "/taskapi.v1.TaskService/GetTask");
	assert_string_equal(rt->noop_message, "Task updated successfully");
	assert_null(must_match(state, "GET", "/tasks/1")->noop_md);
}

static void
test_method_not_allowed(void **state)
{
	edge_match m;

	assert_int_equal(edge_route_match(*state, "POST", "/tasks/1", &m),
	    TA_UNIMPLEMENTED);
	assert_null(m.route);
	assert_string_equal(m.pattern, "/tasks/{id}");
	assert_string_equal(m.allow, "GET, HEAD, PUT, PATCH, DELETE, OPTIONS");

	assert_int_equal(
	    edge_route_match(*state, "DELETE", "/tasks", &m), TA_UNIMPLEMENTED);
	assert_string_equal(m.allow, "POST, GET, HEAD, OPTIONS");

	assert_int_equal(edge_route_match(*state, "GET", "/auth/login", &m),
	    TA_UNIMPLEMENTED);
	assert_string_equal(m.allow, "POST, OPTIONS");

	/* Methods are case-sensitive; HEAD is served where GET is. */
	assert_int_equal(
	    edge_route_match(*state, "get", "/health", &m), TA_UNIMPLEMENTED);
	assert_string_equal(m.allow, "GET, HEAD, OPTIONS");
	assert_int_equal(
	    edge_route_match(*state, "HEAD", "/health", &m), TA_OK);
}

static void
test_bad_tables_fail(void **state)
{
	static const edge_route typo[] = {{"GET", "/tasks/{id}",
	    EDGE_BACKEND_TASK, &taskapi__v1__task_service__descriptor, "GetTsk",
	    EDGE_ROUTE_AUTH, 200}};
	static const edge_route twice[] = {
	    {"GET", "/health", EDGE_BACKEND_NONE, NULL, NULL, 0, 200},
	    {"GET", "/health", EDGE_BACKEND_NONE, NULL, NULL, 0, 200}};
	static const edge_route bad_pattern[] = {
	    {"GET", "/tasks/{id", EDGE_BACKEND_NONE, NULL, NULL, 0, 200}};
	static const edge_route no_service[] = {
	    {"GET", "/x", EDGE_BACKEND_TASK, NULL, "GetTask", 0, 200}};
	edge_router *r = NULL;
	char err[256];

	(void)state;
	assert_int_equal(
	    edge_router_new(typo, 1, &r, err, sizeof err), TA_INVALID_ARGUMENT);
	assert_null(r);
	assert_non_null(strstr(err, "GetTsk"));
	assert_int_equal(edge_router_new(twice, 2, &r, err, sizeof err),
	    TA_INVALID_ARGUMENT);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(edge_router_new(bad_pattern, 1, &r, err, sizeof err),
	    TA_INVALID_ARGUMENT);
	assert_int_equal(edge_router_new(no_service, 1, &r, err, sizeof err),
	    TA_INVALID_ARGUMENT);
	assert_null(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_row),
	    cmocka_unit_test(test_flags_and_descriptors),
	    cmocka_unit_test(test_literal_beats_param),
	    cmocka_unit_test(test_params),
	    cmocka_unit_test(test_trailing_slash_and_query),
	    cmocka_unit_test(test_not_found),
	    cmocka_unit_test(test_method_not_allowed),
	    cmocka_unit_test(test_raw_path),
	    cmocka_unit_test(test_head),
	    cmocka_unit_test(test_noop),
	    cmocka_unit_test(test_bad_tables_fail),
	};

	return cmocka_run_group_tests_name(
	    "edge_routes", tests, setup, teardown);
}
