/*
 * The edge's call builder (edge-api/request_build.h) with no HTTP server:
 * each route kind's request message from a route match, headers and body
 * bytes, the builder's refusals, and a reply message rendered to its
 * answer (ETag taken out, 204, 304, 412, the noop's message).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "etag.h"
#include "request_build.h"
#include "taskapi/v1/auth.pb-c.h"
#include "taskapi/v1/task.pb-c.h"

static edge_router *router;

static int
setup(void **state)
{
	size_t n = 0;
	const edge_route *rows = edge_route_table(&n);
	char err[256];

	(void)state;
	return edge_router_new(rows, n, &router, err, sizeof err) == TA_OK ? 0
	                                                                   : -1;
}

static int
teardown(void **state)
{
	(void)state;
	edge_router_free(router);
	return 0;
}

/* A request to method path with the route's match; body may be NULL. */
typedef struct req {
	edge_match m;
	edge_build_in in;
	edge_build_out out;
} req;

static void
req_init(req *r, const char *method, const char *path, const char *body)
{
	memset(r, 0, sizeof *r);
	assert_int_equal(edge_route_match(router, method, path, &r->m), TA_OK);
	r->in.route = r->m.route;
	r->in.params = r->m.params;
	r->in.nparams = r->m.nparams;
	r->in.body = body;
	r->in.len = body ? strlen(body) : 0;
	r->in.request_id = "test";
}

static void
req_fini(req *r)
{
	if (r->out.request)
		protobuf_c_message_free_unpacked(r->out.request, NULL);
	ta_violations_fini(&r->out.details);
}

static void
test_path_param_fills_id_and_wins_over_body(void **state)
{
	req r;
	const Taskapi__V1__GetTaskRequest *get;
	const Taskapi__V1__UpdateTaskRequest *upd;

	(void)state;
	req_init(&r, "GET", "/tasks/42", NULL);
	assert_int_equal(edge_request_build(&r.in, &r.out), EDGE_BUILD_OK);
	get = (const Taskapi__V1__GetTaskRequest *)r.out.request;
	assert_ptr_equal(r.out.request->descriptor,
	    &taskapi__v1__get_task_request__descriptor);
	assert_int_equal(get->id, 42);
	req_fini(&r);

	/* A body key named like the parameter neither overrides the id nor
	 * enters the update mask. */
	req_init(&r, "PUT", "/tasks/7", "{\"id\":9,\"title\":\"t\"}");
	r.in.content_type = "application/json";
	assert_int_equal(edge_request_build(&r.in, &r.out), EDGE_BUILD_OK);
	upd = (const Taskapi__V1__UpdateTaskRequest *)r.out.request;
	assert_int_equal(upd->id, 7);
	assert_string_equal(upd->title, "t");
	assert_non_null(upd->update_mask);
	assert_int_equal(upd->update_mask->n_paths, 1);
	assert_string_equal(upd->update_mask->paths[0], "title");
	assert_false(r.out.is_noop);
	req_fini(&r);
}

static void
test_path_param_out_of_range_is_invalid(void **state)
{
	req r;

	(void)state;
	req_init(&r, "GET", "/tasks/99999999999999999999", NULL);
	assert_int_equal(edge_request_build(&r.in, &r.out), EDGE_BUILD_INVALID);
	assert_null(r.out.request);
	assert_string_equal(r.out.message, "Validation failed");
	assert_int_equal(r.out.details.n, 1);
	assert_string_equal(r.out.details.items[0].field, "id");
	req_fini(&r);
}

static void
test_body_fills_create(void **state)
{
	req r;
	const Taskapi__V1__CreateTaskRequest *c;

	(void)state;
	req_init(&r, "POST", "/tasks",
	    "{\"title\":\"Buy milk\",\"priority\":\"high\"}");
	r.in.content_type = "application/json; charset=utf-8";
	assert_int_equal(edge_request_build(&r.in, &r.out), EDGE_BUILD_OK);
	c = (const Taskapi__V1__CreateTaskRequest *)r.out.request;
	assert_string_equal(c->title, "Buy milk");
	assert_int_equal(
	    c->priority, TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_HIGH);
	req_fini(&r);

	/* An empty body is {}: the worker reports what is missing. */
	req_init(&r, "POST", "/tasks", NULL);
	assert_int_equal(edge_request_build(&r.in, &r.out), EDGE_BUILD_OK);
	c = (const Taskapi__V1__CreateTaskRequest *)r.out.request;
	assert_string_equal(c->title, "");
	req_fini(&r);
}

static void
test_body_refusals(void **state)
{
	static const struct {
		const char *ct, *body;
		edge_build_result res;
		edge_rejection why;
		const char *field;
	} cases[] = {
	    /* A body without Content-Type is not JSON. */
	    {NULL, "{}", EDGE_BUILD_REJECTED, EDGE_REJECT_NOT_JSON, NULL},
	    {"text/plain", "{}", EDGE_BUILD_REJECTED, EDGE_REJECT_NOT_JSON,
	        NULL},
	    /* merge-patch only where the route takes it (PATCH). */
	    {"application/merge-patch+json", "{}", EDGE_BUILD_REJECTED,
	        EDGE_REJECT_NOT_JSON, NULL},
	    {"application/json; charset=latin1", "{}", EDGE_BUILD_REJECTED,
	        EDGE_REJECT_CHARSET, NULL},
	    {"application/json", "[1]", EDGE_BUILD_REJECTED,
	        EDGE_REJECT_NOT_OBJECT, NULL},
	    {"application/json", "{\"title\":", EDGE_BUILD_INVALID, 0, "body"},
	    {"application/json", "{\"title\":\"a\",\"title\":\"b\"}",
	        EDGE_BUILD_INVALID, 0, "title"},
	    {"application/json", "{\"title\":5}", EDGE_BUILD_INVALID, 0,
	        "title"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		req r;

		req_init(&r, "POST", "/tasks", cases[i].body);
		r.in.content_type = cases[i].ct;
		assert_int_equal(
		    edge_request_build(&r.in, &r.out), cases[i].res);
		assert_null(r.out.request);
		if (cases[i].res == EDGE_BUILD_REJECTED) {
			assert_int_equal(r.out.why, cases[i].why);
			assert_int_equal(r.out.details.n, 0);
		} else {
			assert_non_null(r.out.message);
			assert_true(r.out.details.n >= 1);
			assert_string_equal(
			    r.out.details.items[0].field, cases[i].field);
		}
		req_fini(&r);
	}
}

static void
test_merge_patch_mask_and_noop(void **state)
{
	req r;
	const Taskapi__V1__UpdateTaskRequest *upd;

	(void)state;
	req_init(&r, "PATCH", "/tasks/3", "{\"description\":null}");
	r.in.content_type = "application/merge-patch+json";
	assert_int_equal(edge_request_build(&r.in, &r.out), EDGE_BUILD_OK);
	upd = (const Taskapi__V1__UpdateTaskRequest *)r.out.request;
	assert_int_equal(upd->id, 3);
	assert_null(upd->description);
	assert_int_equal(upd->update_mask->n_paths, 1);
	assert_string_equal(upd->update_mask->paths[0], "description");
	req_fini(&r);

	/* Naming no field reads instead: the noop RPC's message, no if_match
	 * (the edge checks If-Match on what it read). */
	req_init(&r, "PATCH", "/tasks/3", "{}");
	r.in.content_type = "application/merge-patch+json";
	r.in.if_match = "\"3-1\"";
	assert_int_equal(edge_request_build(&r.in, &r.out), EDGE_BUILD_OK);
	assert_true(r.out.is_noop);
	assert_ptr_equal(r.out.request->descriptor,
	    &taskapi__v1__get_task_request__descriptor);
	assert_int_equal(
	    ((const Taskapi__V1__GetTaskRequest *)r.out.request)->id, 3);
	req_fini(&r);
}

static void
test_if_match_header_fills_field_not_body(void **state)
{
	req r;
	const Taskapi__V1__UpdateTaskRequest *upd;

	(void)state;
	req_init(&r, "PUT", "/tasks/5",
	    "{\"title\":\"x\",\"if_match\":\"\\\"5-9\\\"\"}");
	r.in.content_type = "application/json";
	r.in.if_match = "\"5-2\"";
	assert_int_equal(edge_request_build(&r.in, &r.out), EDGE_BUILD_OK);
	upd = (const Taskapi__V1__UpdateTaskRequest *)r.out.request;
	assert_string_equal(upd->if_match, "\"5-2\"");
	assert_int_equal(upd->update_mask->n_paths, 1);
	req_fini(&r);

	/* Without the header the body key is ignored. */
	req_init(&r, "DELETE", "/tasks/5", NULL);
	assert_int_equal(edge_request_build(&r.in, &r.out), EDGE_BUILD_OK);
	assert_string_equal(
	    ((const Taskapi__V1__DeleteTaskRequest *)r.out.request)->if_match,
	    "");
	req_fini(&r);
}

static void
test_query_fills_list(void **state)
{
	const edge_query_param q[] = {
	    {"limit", 5, "10", 2},
	    {"status", 6, "pending", 7},
	    {"q", 1, "milk", 4},
	};
	const edge_query_param bad[] = {{"limit", 5, "ten", 3}};
	const Taskapi__V1__ListTasksRequest *l;
	req r;

	(void)state;
	req_init(&r, "GET", "/tasks", NULL);
	r.in.query = q;
	r.in.nquery = 3;
	assert_int_equal(edge_request_build(&r.in, &r.out), EDGE_BUILD_OK);
	l = (const Taskapi__V1__ListTasksRequest *)r.out.request;
	assert_non_null(l->limit);
	assert_int_equal(l->limit->value, 10);
	assert_int_equal(l->n_status, 1);
	assert_string_equal(l->q, "milk");
	req_fini(&r);

	req_init(&r, "GET", "/tasks", NULL);
	r.in.query = bad;
	r.in.nquery = 1;
	assert_int_equal(edge_request_build(&r.in, &r.out), EDGE_BUILD_INVALID);
	assert_string_equal(r.out.message, "Validation failed");
	assert_string_equal(r.out.details.items[0].field, "limit");
	req_fini(&r);
}

static void
test_token_from_authorization(void **state)
{
	req r;

	(void)state;
	req_init(&r, "POST", "/auth/validate", NULL);
	r.in.authorization = "Bearer abc.def.ghi";
	assert_int_equal(edge_request_build(&r.in, &r.out), EDGE_BUILD_OK);
	assert_string_equal(
	    ((const Taskapi__V1__ValidateTokenRequest *)r.out.request)->token,
	    "abc.def.ghi");
	req_fini(&r);

	/* auth-svc judges a missing or malformed one: "" is sent. */
	req_init(&r, "POST", "/auth/validate", NULL);
	r.in.authorization = "Basic xyz";
	assert_int_equal(edge_request_build(&r.in, &r.out), EDGE_BUILD_OK);
	assert_string_equal(
	    ((const Taskapi__V1__ValidateTokenRequest *)r.out.request)->token,
	    "");
	req_fini(&r);
}

/* A GetTaskReply of task 8 at version 2; strings are static. */
static void
task_reply(Taskapi__V1__GetTaskReply *reply, Taskapi__V1__Task *task,
    char etag[TA_ETAG_MAX])
{
	*task = (Taskapi__V1__Task)TASKAPI__V1__TASK__INIT;
	task->id = 8;
	task->title = "t";
	*reply = (Taskapi__V1__GetTaskReply)TASKAPI__V1__GET_TASK_REPLY__INIT;
	reply->task = task;
	ta_etag_format(8, 2, etag);
	reply->etag = etag;
}

static void
test_render_takes_etag_out(void **state)
{
	Taskapi__V1__GetTaskReply reply;
	Taskapi__V1__Task task;
	char etag[TA_ETAG_MAX];
	edge_match m;
	edge_rendered out;

	(void)state;
	task_reply(&reply, &task, etag);
	assert_int_equal(
	    edge_route_match(router, "GET", "/tasks/8", &m), TA_OK);
	assert_int_equal(
	    edge_reply_render(&reply.base,
	        &(edge_render_in){.route = m.route, .method = "GET"}, &out),
	    TA_OK);
	assert_int_equal(out.status, 200);
	assert_false(out.is_conditional);
	assert_string_equal(out.etag, "\"8-2\"");
	assert_non_null(out.body);
	assert_null(strstr(out.body, "etag"));
	assert_non_null(strstr(out.body, "\"task\":{\"id\":8"));
	free(out.body);
}

static void
test_render_conditional_answers(void **state)
{
	Taskapi__V1__GetTaskReply reply;
	Taskapi__V1__Task task;
	char etag[TA_ETAG_MAX];
	edge_match m;
	edge_rendered out;

	(void)state;
	task_reply(&reply, &task, etag);
	assert_int_equal(
	    edge_route_match(router, "GET", "/tasks/8", &m), TA_OK);
	/* If-None-Match that matches: 304, no body, the tag kept. */
	assert_int_equal(edge_reply_render(&reply.base,
	                     &(edge_render_in){.route = m.route,
	                         .method = "GET",
	                         .if_none_match = "W/\"8-2\""},
	                     &out),
	    TA_OK);
	assert_int_equal(out.status, 304);
	assert_true(out.is_conditional);
	assert_null(out.body);
	assert_string_equal(out.etag, "\"8-2\"");
	/* One that does not match: the body. */
	assert_int_equal(edge_reply_render(&reply.base,
	                     &(edge_render_in){.route = m.route,
	                         .method = "GET",
	                         .if_none_match = "\"8-1\""},
	                     &out),
	    TA_OK);
	assert_int_equal(out.status, 200);
	free(out.body);

	/* A noop update answered by a read: If-Match decides 412, else the
	 * read with the update's message. */
	assert_int_equal(
	    edge_route_match(router, "PATCH", "/tasks/8", &m), TA_OK);
	assert_int_equal(edge_reply_render(&reply.base,
	                     &(edge_render_in){.route = m.route,
	                         .is_noop = true,
	                         .method = "PATCH",
	                         .if_match = "\"8-1\""},
	                     &out),
	    TA_OK);
	assert_int_equal(out.status, 412);
	assert_true(out.is_conditional);
	assert_null(out.body);
	assert_int_equal(edge_reply_render(&reply.base,
	                     &(edge_render_in){.route = m.route,
	                         .is_noop = true,
	                         .method = "PATCH",
	                         .if_match = "\"8-2\""},
	                     &out),
	    TA_OK);
	assert_int_equal(out.status, 200);
	assert_non_null(
	    strstr(out.body, "\"message\":\"Task updated successfully\""));
	free(out.body);
}

static void
test_render_no_content(void **state)
{
	Taskapi__V1__LogoutReply reply = TASKAPI__V1__LOGOUT_REPLY__INIT;
	edge_match m;
	edge_rendered out;

	(void)state;
	assert_int_equal(
	    edge_route_match(router, "POST", "/auth/logout", &m), TA_OK);
	assert_int_equal(m.route->row->success, 204);
	assert_int_equal(
	    edge_reply_render(&reply.base,
	        &(edge_render_in){.route = m.route, .method = "POST"}, &out),
	    TA_OK);
	assert_int_equal(out.status, 204);
	assert_false(out.is_conditional);
	assert_null(out.body);
	assert_string_equal(out.etag, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_param_fills_id_and_wins_over_body),
	    cmocka_unit_test(test_path_param_out_of_range_is_invalid),
	    cmocka_unit_test(test_body_fills_create),
	    cmocka_unit_test(test_body_refusals),
	    cmocka_unit_test(test_merge_patch_mask_and_noop),
	    cmocka_unit_test(test_if_match_header_fills_field_not_body),
	    cmocka_unit_test(test_query_fills_list),
	    cmocka_unit_test(test_token_from_authorization),
	    cmocka_unit_test(test_render_takes_etag_out),
	    cmocka_unit_test(test_render_conditional_answers),
	    cmocka_unit_test(test_render_no_content),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
