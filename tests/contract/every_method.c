/*
 * Every method is answered: walks the AuthService, TaskService and Health
 * service descriptors and calls every method on the real worker that serves
 * it (auth-svc, task-svc, against the PostgreSQL named by DB_*), once with
 * a valid request (with a principal where the method needs one) and once
 * with a payload that does not decode. Each call must get a reply with the
 * status the method defines: no timeout, no crash, and never UNIMPLEMENTED
 * for a declared method. A method without a case here fails the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "alloc.h"
#include "harness.h"
#include "taskapi/v1/auth.pb-c.h"
#include "taskapi/v1/health.pb-c.h"
#include "taskapi/v1/task.pb-c.h"

/* State the valid calls build up, in descriptor order. */
typedef struct walk {
	char username[96];
	char email[128];
	char *token;     /* from Login; owned */
	char *refresh;   /* from Login, then RefreshSession; owned */
	int64_t task_id; /* from CreateTask */
	Taskapi__V1__Principal principal;
} walk;

/*
 * A valid request of one method. build fills *out (static storage) and
 * says whether the call needs the principal; check looks at the unpacked
 * reply and may record state for later methods.
 */
typedef struct method_case {
	const char *method; /* "/taskapi.v1.TaskService/GetTask" */
	ProtobufCMessage *(*build)(walk *w, int *needs_principal);
	void (*check)(walk *w, const ProtobufCMessage *reply);
} method_case;

static walk W;
static ta_test_proc auth_proc, task_proc;

static ProtobufCMessage *
b_register(walk *w, int *needs_principal)
{
	static Taskapi__V1__RegisterRequest m;

	taskapi__v1__register_request__init(&m);
	m.username = w->username;
	m.email = w->email;
	m.password = "every-method-pass-1";
	*needs_principal = 0;
	return &m.base;
}

static void
c_register(walk *w, const ProtobufCMessage *reply)
{
	const Taskapi__V1__RegisterReply *r = (const void *)reply;

	assert_non_null(r->user);
	assert_true(r->user->id > 0);
	assert_string_equal(r->user->username, w->username);
	w->principal.user_id = r->user->id;
}

static ProtobufCMessage *
b_login(walk *w, int *needs_principal)
{
	static Taskapi__V1__LoginRequest m;

	taskapi__v1__login_request__init(&m);
	m.username = w->username;
	m.password = "every-method-pass-1";
	*needs_principal = 0;
	return &m.base;
}

static void
c_login(walk *w, const ProtobufCMessage *reply)
{
	const Taskapi__V1__LoginReply *r = (const void *)reply;

	assert_true(strlen(r->token) > 20);
	w->token = ta_xstrdup(r->token);
	assert_int_equal(strlen(r->refresh_token), 43);
	assert_true(r->expires_in > 0);
	w->refresh = ta_xstrdup(r->refresh_token);
}

static ProtobufCMessage *
b_validate(walk *w, int *needs_principal)
{
	static Taskapi__V1__ValidateTokenRequest m;

	taskapi__v1__validate_token_request__init(&m);
	assert_non_null(w->token);
	m.token = w->token;
	*needs_principal = 0;
	return &m.base;
}

static void
c_validate(walk *w, const ProtobufCMessage *reply)
{
	const Taskapi__V1__ValidateTokenReply *r = (const void *)reply;

	assert_true(r->valid);
	assert_non_null(r->user);
	assert_int_equal(r->user->user_id, w->principal.user_id);
}

static ProtobufCMessage *
b_refresh(walk *w, int *needs_principal)
{
	static Taskapi__V1__RefreshSessionRequest m;

	taskapi__v1__refresh_session_request__init(&m);
	m.refresh_token = w->refresh;
	*needs_principal = 0;
	return &m.base;
}

static void
c_refresh(walk *w, const ProtobufCMessage *reply)
{
	const Taskapi__V1__RefreshSessionReply *r = (const void *)reply;

	assert_true(strlen(r->token) > 20);
	assert_int_equal(strlen(r->refresh_token), 43);
	assert_string_not_equal(r->refresh_token, w->refresh);
	free(w->refresh);
	w->refresh = ta_xstrdup(r->refresh_token);
}

static ProtobufCMessage *
b_logout(walk *w, int *needs_principal)
{
	static Taskapi__V1__LogoutRequest m;

	taskapi__v1__logout_request__init(&m);
	m.token = w->token;
	m.refresh_token = w->refresh;
	*needs_principal = 1;
	return &m.base;
}

static void
c_empty(walk *w, const ProtobufCMessage *reply)
{
	(void)w;
	assert_non_null(reply);
}

static ProtobufCMessage *
b_get_me(walk *w, int *needs_principal)
{
	static Taskapi__V1__GetMeRequest m;

	taskapi__v1__get_me_request__init(&m);
	m.token = w->token;
	*needs_principal = 1;
	return &m.base;
}

static void
c_get_me(walk *w, const ProtobufCMessage *reply)
{
	const Taskapi__V1__GetMeReply *r = (const void *)reply;

	assert_non_null(r->user);
	assert_int_equal(r->user->id, w->principal.user_id);
	assert_string_equal(r->user->role, "user");
	assert_non_null(r->user->created_at);
}

static ProtobufCMessage *
b_change_password(walk *w, int *needs_principal)
{
	static Taskapi__V1__ChangePasswordRequest m;

	taskapi__v1__change_password_request__init(&m);
	m.token = w->token;
	m.current_password = "every-method-pass-1";
	m.new_password = "every-method-pass-2";
	*needs_principal = 1;
	return &m.base;
}

static ProtobufCMessage *
b_list_revocations(walk *w, int *needs_principal)
{
	static Taskapi__V1__ListRevocationsRequest m;

	(void)w;
	taskapi__v1__list_revocations_request__init(&m);
	*needs_principal = 0;
	return &m.base;
}

static void
c_list_revocations(walk *w, const ProtobufCMessage *reply)
{
	const Taskapi__V1__ListRevocationsReply *r = (const void *)reply;
	int found = 0;

	/* ChangePassword above moved this user's generation to 1. */
	for (size_t i = 0; i < r->n_revocations; i++)
		if (r->revocations[i]->user_id == w->principal.user_id)
			found = r->revocations[i]->generation == 1;
	assert_true(found);
	assert_true(r->window_s > 0);
}

static ProtobufCMessage *
b_create(walk *w, int *needs_principal)
{
	static Taskapi__V1__CreateTaskRequest m;

	(void)w;
	taskapi__v1__create_task_request__init(&m);
	m.title = "every method";
	*needs_principal = 1;
	return &m.base;
}

static void
c_create(walk *w, const ProtobufCMessage *reply)
{
	const Taskapi__V1__CreateTaskReply *r = (const void *)reply;

	assert_non_null(r->task);
	assert_int_equal(r->task->user_id, w->principal.user_id);
	w->task_id = r->task->id;
}

static ProtobufCMessage *
b_list(walk *w, int *needs_principal)
{
	static Taskapi__V1__ListTasksRequest m;

	(void)w;
	taskapi__v1__list_tasks_request__init(&m);
	*needs_principal = 1;
	return &m.base;
}

static void
c_list(walk *w, const ProtobufCMessage *reply)
{
	const Taskapi__V1__ListTasksReply *r = (const void *)reply;

	assert_int_equal(r->n_tasks, 1);
	assert_int_equal(r->count, 1);
	assert_int_equal(r->tasks[0]->id, w->task_id);
}

static ProtobufCMessage *
b_get(walk *w, int *needs_principal)
{
	static Taskapi__V1__GetTaskRequest m;

	taskapi__v1__get_task_request__init(&m);
	m.id = w->task_id;
	*needs_principal = 1;
	return &m.base;
}

static void
c_get(walk *w, const ProtobufCMessage *reply)
{
	const Taskapi__V1__GetTaskReply *r = (const void *)reply;

	assert_non_null(r->task);
	assert_int_equal(r->task->id, w->task_id);
}

static ProtobufCMessage *
b_update(walk *w, int *needs_principal)
{
	static Taskapi__V1__UpdateTaskRequest m;
	static Google__Protobuf__FieldMask mask;
	static char *paths[] = {"status"};

	taskapi__v1__update_task_request__init(&m);
	google__protobuf__field_mask__init(&mask);
	mask.n_paths = 1;
	mask.paths = paths;
	m.id = w->task_id;
	m.status = TASKAPI__V1__TASK_STATUS__TASK_STATUS_COMPLETED;
	m.update_mask = &mask;
	*needs_principal = 1;
	return &m.base;
}

static void
c_update(walk *w, const ProtobufCMessage *reply)
{
	const Taskapi__V1__UpdateTaskReply *r = (const void *)reply;

	(void)w;
	assert_non_null(r->task);
	assert_int_equal(
	    r->task->status, TASKAPI__V1__TASK_STATUS__TASK_STATUS_COMPLETED);
}

static ProtobufCMessage *
b_delete(walk *w, int *needs_principal)
{
	static Taskapi__V1__DeleteTaskRequest m;

	taskapi__v1__delete_task_request__init(&m);
	m.id = w->task_id;
	*needs_principal = 1;
	return &m.base;
}

static void
c_delete(walk *w, const ProtobufCMessage *reply)
{
	const Taskapi__V1__DeleteTaskReply *r = (const void *)reply;

	(void)w;
	assert_true(strlen(r->message) > 0);
}

static ProtobufCMessage *
b_health(walk *w, int *needs_principal)
{
	static Taskapi__V1__HealthCheckRequest m;

	(void)w;
	taskapi__v1__health_check_request__init(&m);
	*needs_principal = 0;
	return &m.base;
}

static void
c_health(walk *w, const ProtobufCMessage *reply)
{
	const Taskapi__V1__HealthCheckReply *r = (const void *)reply;

	(void)w;
	assert_string_equal(r->status, "healthy");
}

static const method_case cases[] = {
    {"/taskapi.v1.AuthService/RegisterUser", b_register, c_register},
    {"/taskapi.v1.AuthService/Login", b_login, c_login},
    {"/taskapi.v1.AuthService/ValidateToken", b_validate, c_validate},
    {"/taskapi.v1.AuthService/RefreshSession", b_refresh, c_refresh},
    {"/taskapi.v1.AuthService/Logout", b_logout, c_empty},
    {"/taskapi.v1.AuthService/GetMe", b_get_me, c_get_me},
    {"/taskapi.v1.AuthService/ChangePassword", b_change_password, c_empty},
    {"/taskapi.v1.AuthService/ListRevocations", b_list_revocations,
        c_list_revocations},
    {"/taskapi.v1.TaskService/CreateTask", b_create, c_create},
    {"/taskapi.v1.TaskService/ListTasks", b_list, c_list},
    {"/taskapi.v1.TaskService/GetTask", b_get, c_get},
    {"/taskapi.v1.TaskService/UpdateTask", b_update, c_update},
    {"/taskapi.v1.TaskService/DeleteTask", b_delete, c_delete},
    {"/taskapi.v1.Health/Check", b_health, c_health},
};

static const method_case *
case_of(const char *method)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (strcmp(cases[i].method, method) == 0)
			return &cases[i];
	return NULL;
}

/* Calls method with a payload that is not a valid protobuf message. */
static int32_t
call_undecodable(const ta_test_proc *p, const char *method)
{
	/* Field 1, length-delimited, 127 bytes announced, 2 present. */
	static uint8_t junk[] = {0x0a, 0x7f, 'x', 'y'};
	Taskapi__V1__RequestEnvelope env = TASKAPI__V1__REQUEST_ENVELOPE__INIT;
	uint8_t buf[512];
	Taskapi__V1__ReplyEnvelope *r;
	int32_t code;

	env.method = (char *)method;
	env.request_id = "every-method-bad";
	env.principal = &W.principal;
	env.payload.data = junk;
	env.payload.len = sizeof junk;
	assert_true(
	    taskapi__v1__request_envelope__get_packed_size(&env) <= sizeof buf);
	r = ta_test_raw_call_signed(
	    p->rpc_url, buf, taskapi__v1__request_envelope__pack(&env, buf));
	code = r->code;
	assert_int_equal(r->payload.len, 0);
	taskapi__v1__reply_envelope__free_unpacked(r, NULL);
	return code;
}

/* Walks one service descriptor on one worker; returns methods called. */
static unsigned
walk_service(const ta_test_proc *p, const ProtobufCServiceDescriptor *sd)
{
	ta_rpc_client *c = ta_test_client(p);
	char name[128];

	for (unsigned i = 0; i < sd->n_methods; i++) {
		const ProtobufCMethodDescriptor *md = &sd->methods[i];
		const method_case *mc;
		ProtobufCMessage *rq, *out = NULL;
		ta_rpc_call *call;
		int needs_principal = 0;
		int32_t bad;

		ta_rpc_method_name(sd, i, name, sizeof name);
		if (!(mc = case_of(name)))
			fail_msg(
			    "%s: declared but not covered by this test", name);
		rq = mc->build(&W, &needs_principal);
		assert_ptr_equal(rq->descriptor, md->input);
		call = ta_test_call(
		    c, sd, md->name, needs_principal ? &W.principal : NULL, rq);
		if (call->status != TA_OK)
			fail_msg("%s: valid request answered %d (%s)", name,
			    call->status, call->message);
		assert_non_null(call->reply);
		assert_int_equal(
		    ta_rpc_call_unpack(call, md->output, &out), TA_OK);
		mc->check(&W, out);
		protobuf_c_message_free_unpacked(out, NULL);
		ta_rpc_call_free(call);

		bad = call_undecodable(p, name);
		if (bad != TA_INVALID_ARGUMENT)
			fail_msg("%s: undecodable request answered %d, want "
			         "INVALID_ARGUMENT",
			    name, bad);
		printf(
		    "%-40s valid: OK  undecodable: INVALID_ARGUMENT\n", name);
	}
	ta_rpc_client_close(c);
	return sd->n_methods;
}

static void
test_every_method_answered(void **state)
{
	unsigned n = 0;

	(void)state;
	n += walk_service(&auth_proc, &taskapi__v1__auth_service__descriptor);
	n += walk_service(&auth_proc, &taskapi__v1__health__descriptor);
	n += walk_service(&task_proc, &taskapi__v1__task_service__descriptor);
	n += walk_service(&task_proc, &taskapi__v1__health__descriptor);
	assert_int_equal(n, 8 + 1 + 5 + 1);
}

/*
 * The one place UNIMPLEMENTED is right: a method the worker does not
 * declare (a newer edge calling an older worker, or the wrong worker).
 */
static void
test_undeclared_method_is_unimplemented(void **state)
{
	Taskapi__V1__HealthCheckRequest rq =
	    TASKAPI__V1__HEALTH_CHECK_REQUEST__INIT;
	const ta_test_proc *procs[] = {&auth_proc, &task_proc};
	const char *methods[] = {"/taskapi.v1.TaskService/ArchiveTask",
	    "/taskapi.v1.AuthService/RegisterUser",
	    "/taskapi.v1.TaskService/CreateTask"};
	uint8_t payload[16], buf[256];

	(void)state;
	for (size_t p = 0; p < 2; p++) {
		for (size_t m = 0; m < 3; m++) {
			Taskapi__V1__RequestEnvelope env =
			    TASKAPI__V1__REQUEST_ENVELOPE__INIT;
			Taskapi__V1__ReplyEnvelope *r;

			/* Each worker serves its own service only. */
			if ((p == 0 && m == 1) || (p == 1 && m == 2))
				continue;
			env.method = (char *)methods[m];
			env.principal = &W.principal;
			env.payload.data = payload;
			env.payload.len =
			    taskapi__v1__health_check_request__pack(
			        &rq, payload);
			r = ta_test_raw_call_signed(procs[p]->rpc_url, buf,
			    taskapi__v1__request_envelope__pack(&env, buf));
			assert_int_equal(r->code, TA_UNIMPLEMENTED);
			taskapi__v1__reply_envelope__free_unpacked(r, NULL);
		}
	}
}

static int
setup(void **state)
{
	(void)state;
	snprintf(W.username, sizeof W.username, "em-%s", ta_test_unique());
	snprintf(W.email, sizeof W.email, "%s@example.test", W.username);
	taskapi__v1__principal__init(&W.principal);
	W.principal.username = W.username;
	W.principal.email = W.email;
	W.principal.role = "user";
	ta_test_start(&auth_proc, "auth-svc", NULL);
	ta_test_start(&task_proc, "task-svc", NULL);
	return 0;
}

static void
delete_user(void)
{
	const char *keys[] = {
	    "host", "port", "dbname", "user", "password", NULL};
	const char *vals[] = {getenv("DB_HOST"), getenv("DB_PORT"),
	    getenv("DB_NAME"), getenv("DB_USER"), getenv("DB_PASSWORD"), NULL};
	const char *params[] = {W.username};
	PGconn *db = PQconnectdbParams(keys, vals, 0);
	PGresult *res;

	if (PQstatus(db) == CONNECTION_OK) {
		res = PQexecParams(db, "DELETE FROM users WHERE username = $1",
		    1, NULL, params, NULL, NULL, 0);
		PQclear(res);
	}
	PQfinish(db);
}

static int
teardown(void **state)
{
	(void)state;
	/* Exit status 0 after SIGTERM: neither worker crashed on the way. */
	if (auth_proc.pid > 0)
		assert_int_equal(ta_test_stop(&auth_proc), 0);
	if (task_proc.pid > 0)
		assert_int_equal(ta_test_stop(&task_proc), 0);
	delete_user();
	free(W.token);
	free(W.refresh);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_method_answered),
	    cmocka_unit_test(test_undeclared_method_is_unimplemented),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
