/*
 * Wire fixtures of the taskapi.v1 contract, checked against protobuf-c:
 * every fixture in tests/contract/fixtures/ is built here by hand, packed
 * and compared byte for byte with the committed .bin, and the .bin is
 * unpacked and compared field by field with the hand-built message; the
 * .unknown.bin twins (a newer peer's extra fields, tags 100+) must decode
 * to the same known content.
 *
 * Design notes: without arguments this is a cmocka suite (run by ctest as
 * contract.wire_fixtures). The Python contract tests use the other modes
 * to put protobuf-c on one side of a comparison:
 *   --list                   fixture names and their message types
 *   --emit <fixture>         the hand-built message, packed, on stdout
 *   --dump <message>         unpack stdin, print it as a canonical tree
 *                            (JSON: proto field names, unset fields left
 *                            out, enums by name, bytes in base64); exit 1
 *                            when it does not decode
 *   --call <url>             send stdin (a packed RequestEnvelope) on an
 *                            nng REQ socket, write the reply envelope's
 *                            bytes on stdout; exit 3 on a transport error
 *                            or no answer within 10 s
 * Every message lives in static storage: the program is short-lived.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <protobuf-c/protobuf-c.h>

#include "google/protobuf/field_mask.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"
#include "taskapi/v1/auth.pb-c.h"
#include "taskapi/v1/envelope.pb-c.h"
#include "taskapi/v1/health.pb-c.h"
#include "taskapi/v1/task.pb-c.h"

#define MAX_FIXTURE (64 * 1024)

/* ---- the expected messages, built by hand ---- */

static const char TOKEN[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
			    "eyJ1c2VyX2lkIjo0Mn0.c2lnbmF0dXJl";
static const char PASSWORD[] = "correct horse battery staple";
static const char BEANS[] = "Caf\xc3\xa9 \xe2\x98\x95 \xe2\x80\x94 buy beans";
static const char BAGS[] = "two bags, \"whole\" beans\nno decaf";

static Google__Protobuf__Timestamp *
ts(Google__Protobuf__Timestamp *t, int64_t seconds, int32_t nanos)
{
	google__protobuf__timestamp__init(t);
	t->seconds = seconds;
	t->nanos = nanos;
	return t;
}

/* The task of CreateTaskReply and the first of ListTasksReply. */
static Taskapi__V1__Task *
task_full(void)
{
	static Taskapi__V1__Task t;
	static Google__Protobuf__StringValue d;
	static Google__Protobuf__Timestamp due, created, updated;

	taskapi__v1__task__init(&t);
	google__protobuf__string_value__init(&d);
	d.value = (char *)BAGS;
	t.id = INT64_C(9007199254740993);	/* 2^53 + 1: not a double */
	t.user_id = 42;
	t.title = (char *)BEANS;
	t.description = &d;
	t.status = TASKAPI__V1__TASK_STATUS__TASK_STATUS_IN_PROGRESS;
	t.priority = TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_HIGH;
	t.due_date = ts(&due, 1735689599, 0);
	t.created_at = ts(&created, 1732792504, 221000000);
	t.updated_at = ts(&updated, 1732792504, 221000000);
	return &t;
}

/* A task without description or due date; title and updated_at vary. */
static Taskapi__V1__Task *
task_min(Taskapi__V1__Task *t, Google__Protobuf__Timestamp *c,
    Google__Protobuf__Timestamp *u)
{
	taskapi__v1__task__init(t);
	t->id = 7;
	t->user_id = 42;
	t->title = "Water plants";
	t->status = TASKAPI__V1__TASK_STATUS__TASK_STATUS_PENDING;
	t->priority = TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_MEDIUM;
	t->created_at = ts(c, 1732700000, 5000);
	t->updated_at = ts(u, 1732700001, 0);
	return t;
}

static ProtobufCMessage *
b_register_request(void)
{
	static Taskapi__V1__RegisterRequest m;

	taskapi__v1__register_request__init(&m);
	m.username = "alice";
	m.email = "alice@example.com";
	m.password = (char *)PASSWORD;
	return &m.base;
}

static ProtobufCMessage *
b_register_reply(void)
{
	static Taskapi__V1__RegisterReply m;
	static Taskapi__V1__User u;
	static Google__Protobuf__Timestamp c;

	taskapi__v1__register_reply__init(&m);
	taskapi__v1__user__init(&u);
	u.id = 42;
	u.username = "alice";
	u.email = "alice@example.com";
	u.created_at = ts(&c, 1732792504, 221000000);
	m.message = "User registered successfully";
	m.user = &u;
	return &m.base;
}

static ProtobufCMessage *
b_login_request(void)
{
	static Taskapi__V1__LoginRequest m;

	taskapi__v1__login_request__init(&m);
	m.username = "alice";
	m.password = (char *)PASSWORD;
	return &m.base;
}

static ProtobufCMessage *
b_login_reply(void)
{
	static Taskapi__V1__LoginReply m;
	static Taskapi__V1__LoginUser u;

	taskapi__v1__login_reply__init(&m);
	taskapi__v1__login_user__init(&u);
	u.id = 42;
	u.username = "alice";
	u.email = "alice@example.com";
	m.message = "Login successful";
	m.token = (char *)TOKEN;
	m.user = &u;
	return &m.base;
}

/* ---- sessions (docs/sessions.md) ---- */

static const char REFRESH[] = "R8Yh0H5yL6wT3q8u0Kc9bXvN2sP4mZ1aJ7eQ5dW3fGk";
static const char REFRESH_NEXT[] =
    "pQ2wE4rT6yU8iO0aS2dF4gH6jK8lZ0xC2vB4nM6qW8e";

static ProtobufCMessage *
b_login_reply_sessions(void)
{
	static Taskapi__V1__LoginReply m;

	m = *(Taskapi__V1__LoginReply *)b_login_reply();
	m.refresh_token = (char *)REFRESH;
	m.expires_in = 3600;
	return &m.base;
}

static ProtobufCMessage *
b_refresh_session_request(void)
{
	static Taskapi__V1__RefreshSessionRequest m;

	taskapi__v1__refresh_session_request__init(&m);
	m.refresh_token = (char *)REFRESH;
	return &m.base;
}

static ProtobufCMessage *
b_refresh_session_reply(void)
{
	static Taskapi__V1__RefreshSessionReply m;

	taskapi__v1__refresh_session_reply__init(&m);
	m.token = (char *)TOKEN;
	m.refresh_token = (char *)REFRESH_NEXT;
	m.expires_in = 3600;
	return &m.base;
}

static ProtobufCMessage *
b_logout_request(void)
{
	static Taskapi__V1__LogoutRequest m;

	taskapi__v1__logout_request__init(&m);
	m.token = (char *)TOKEN;
	m.refresh_token = (char *)REFRESH;
	m.all = 1;
	return &m.base;
}

static ProtobufCMessage *
b_logout_reply(void)
{
	static Taskapi__V1__LogoutReply m;

	taskapi__v1__logout_reply__init(&m);
	return &m.base;
}

static ProtobufCMessage *
b_get_me_request(void)
{
	static Taskapi__V1__GetMeRequest m;

	taskapi__v1__get_me_request__init(&m);
	m.token = (char *)TOKEN;
	return &m.base;
}

static ProtobufCMessage *
b_get_me_reply(void)
{
	static Taskapi__V1__GetMeReply m;
	static Taskapi__V1__MeUser u;
	static Google__Protobuf__Timestamp c;

	taskapi__v1__get_me_reply__init(&m);
	taskapi__v1__me_user__init(&u);
	u.id = 42;
	u.username = "alice";
	u.email = "alice@example.com";
	u.role = "user";
	u.created_at = ts(&c, 1732792504, 221000000);
	m.user = &u;
	return &m.base;
}

static ProtobufCMessage *
b_change_password_request(void)
{
	static Taskapi__V1__ChangePasswordRequest m;

	taskapi__v1__change_password_request__init(&m);
	m.token = (char *)TOKEN;
	m.current_password = (char *)PASSWORD;
	m.new_password = "Tr0ub4dor & 3, \xc3\xa9t\xc3\xa9";
	return &m.base;
}

static ProtobufCMessage *
b_change_password_reply(void)
{
	static Taskapi__V1__ChangePasswordReply m;

	taskapi__v1__change_password_reply__init(&m);
	return &m.base;
}

static ProtobufCMessage *
b_list_revocations_request(void)
{
	static Taskapi__V1__ListRevocationsRequest m;

	taskapi__v1__list_revocations_request__init(&m);
	m.since = 1732792504;
	return &m.base;
}

static ProtobufCMessage *
b_list_revocations_reply(void)
{
	static Taskapi__V1__ListRevocationsReply m;
	static Taskapi__V1__Revocation r[2];
	static Taskapi__V1__Revocation *rp[2];
	static Google__Protobuf__Timestamp c[2];

	taskapi__v1__list_revocations_reply__init(&m);
	for (size_t i = 0; i < 2; i++) {
		taskapi__v1__revocation__init(&r[i]);
		rp[i] = &r[i];
	}
	r[0].user_id = 42;
	r[0].generation = 3;
	r[0].changed_at = ts(&c[0], 1732792504, 0);
	r[1].user_id = 2147483647;
	r[1].generation = 1;
	r[1].changed_at = ts(&c[1], 1732796104, 0);
	m.n_revocations = 2;
	m.revocations = rp;
	m.window_s = 3690;
	return &m.base;
}

static ProtobufCMessage *
b_validate_token_request(void)
{
	static Taskapi__V1__ValidateTokenRequest m;

	taskapi__v1__validate_token_request__init(&m);
	m.token = (char *)TOKEN;
	return &m.base;
}

static ProtobufCMessage *
b_validate_token_reply(void)
{
	static Taskapi__V1__ValidateTokenReply m;
	static Taskapi__V1__TokenUser u;

	taskapi__v1__validate_token_reply__init(&m);
	taskapi__v1__token_user__init(&u);
	u.user_id = 42;
	u.username = "alice";
	u.email = "alice@example.com";
	m.valid = 1;
	m.user = &u;
	return &m.base;
}

static ProtobufCMessage *
b_health_check_request(void)
{
	static Taskapi__V1__HealthCheckRequest m;

	taskapi__v1__health_check_request__init(&m);
	return &m.base;
}

static ProtobufCMessage *
b_health_check_reply(void)
{
	static Taskapi__V1__HealthCheckReply m;

	taskapi__v1__health_check_reply__init(&m);
	m.status = "healthy";
	m.service = "task-service";
	return &m.base;
}

static ProtobufCMessage *
b_create_task_request(void)
{
	static Taskapi__V1__CreateTaskRequest m;
	static Google__Protobuf__StringValue d;
	static Google__Protobuf__Timestamp due;

	taskapi__v1__create_task_request__init(&m);
	google__protobuf__string_value__init(&d);
	d.value = (char *)BAGS;
	m.title = (char *)BEANS;
	m.description = &d;
	m.status = TASKAPI__V1__TASK_STATUS__TASK_STATUS_IN_PROGRESS;
	m.priority = TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_HIGH;
	m.due_date = ts(&due, 1735689599, 0);
	return &m.base;
}

static ProtobufCMessage *
b_create_task_request_minimal(void)
{
	static Taskapi__V1__CreateTaskRequest m;

	taskapi__v1__create_task_request__init(&m);
	m.title = "x";
	return &m.base;
}

static ProtobufCMessage *
b_create_task_reply(void)
{
	static Taskapi__V1__CreateTaskReply m;

	taskapi__v1__create_task_reply__init(&m);
	m.message = "Task created successfully";
	m.task = task_full();
	return &m.base;
}

static ProtobufCMessage *
b_list_tasks_request(void)
{
	static Taskapi__V1__ListTasksRequest m;

	taskapi__v1__list_tasks_request__init(&m);
	return &m.base;
}

/* Every field of API v1.1's page request set. */
static ProtobufCMessage *
b_list_tasks_request_filters(void)
{
	static Taskapi__V1__ListTasksRequest m;
	static Google__Protobuf__Int32Value limit;
	static Google__Protobuf__Timestamp before, after;
	static Taskapi__V1__TaskStatus status[2];
	static Taskapi__V1__TaskPriority priority[1];

	taskapi__v1__list_tasks_request__init(&m);
	google__protobuf__int32_value__init(&limit);
	limit.value = 25;
	m.limit = &limit;
	m.cursor = "AQ3x9kq_-w";
	status[0] = TASKAPI__V1__TASK_STATUS__TASK_STATUS_PENDING;
	status[1] = TASKAPI__V1__TASK_STATUS__TASK_STATUS_COMPLETED;
	m.n_status = 2;
	m.status = status;
	priority[0] = TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_HIGH;
	m.n_priority = 1;
	m.priority = priority;
	m.due_before = ts(&before, 1893553445, 0);
	m.due_after = ts(&after, 1893369600, 500000);
	m.q = "50% off \u2615";
	m.sort = "-title";
	return &m.base;
}

/* A page that another follows (next_cursor set). */
static ProtobufCMessage *
b_list_tasks_reply_page(void)
{
	static Taskapi__V1__ListTasksReply m;
	static Taskapi__V1__Task t, *tasks[1];
	static Google__Protobuf__Timestamp c, u;
	static Google__Protobuf__StringValue next;

	taskapi__v1__list_tasks_reply__init(&m);
	tasks[0] = task_min(&t, &c, &u);
	m.n_tasks = 1;
	m.tasks = tasks;
	m.count = 1;
	google__protobuf__string_value__init(&next);
	next.value = "AQ3x9kq_-w";
	m.next_cursor = &next;
	return &m.base;
}

static ProtobufCMessage *
b_list_tasks_reply(void)
{
	static Taskapi__V1__ListTasksReply m;
	static Taskapi__V1__Task t2, *tasks[2];
	static Google__Protobuf__Timestamp c, u;

	taskapi__v1__list_tasks_reply__init(&m);
	tasks[0] = task_full();
	tasks[1] = task_min(&t2, &c, &u);
	m.n_tasks = 2;
	m.tasks = tasks;
	m.count = 2;
	return &m.base;
}

static ProtobufCMessage *
b_list_tasks_reply_empty(void)
{
	static Taskapi__V1__ListTasksReply m;

	taskapi__v1__list_tasks_reply__init(&m);
	return &m.base;
}

static ProtobufCMessage *
b_get_task_request(void)
{
	static Taskapi__V1__GetTaskRequest m;

	taskapi__v1__get_task_request__init(&m);
	m.id = 7;
	return &m.base;
}

static ProtobufCMessage *
b_get_task_request_negative(void)
{
	static Taskapi__V1__GetTaskRequest m;

	taskapi__v1__get_task_request__init(&m);
	m.id = -1;	/* int64: a ten-byte varint on the wire */
	return &m.base;
}

static ProtobufCMessage *
b_get_task_reply(void)
{
	static Taskapi__V1__GetTaskReply m;
	static Taskapi__V1__Task t;
	static Google__Protobuf__Timestamp c, u;

	taskapi__v1__get_task_reply__init(&m);
	m.task = task_min(&t, &c, &u);
	return &m.base;
}

static ProtobufCMessage *
b_update_task_request(void)
{
	static Taskapi__V1__UpdateTaskRequest m;
	static Google__Protobuf__FieldMask mask;
	static char *paths[] = {"title", "status", "description"};

	taskapi__v1__update_task_request__init(&m);
	google__protobuf__field_mask__init(&mask);
	mask.n_paths = 3;
	mask.paths = paths;
	m.id = 7;
	m.title = "Water all plants";
	m.status = TASKAPI__V1__TASK_STATUS__TASK_STATUS_COMPLETED;
	m.update_mask = &mask;	/* description in the mask, unset: cleared */
	return &m.base;
}

static ProtobufCMessage *
b_update_task_reply(void)
{
	static Taskapi__V1__UpdateTaskReply m;
	static Taskapi__V1__Task t;
	static Google__Protobuf__Timestamp c, u;

	taskapi__v1__update_task_reply__init(&m);
	m.message = "Task updated successfully";
	m.task = task_min(&t, &c, &u);
	t.title = "Water all plants";
	t.status = TASKAPI__V1__TASK_STATUS__TASK_STATUS_COMPLETED;
	ts(&u, 1732792504, 999999999);
	return &m.base;
}

static ProtobufCMessage *
b_delete_task_request(void)
{
	static Taskapi__V1__DeleteTaskRequest m;

	taskapi__v1__delete_task_request__init(&m);
	m.id = 7;
	return &m.base;
}

/* The v1.1 fields: a reply's etag, a change's if_match. */
static ProtobufCMessage *
b_create_task_reply_etag(void)
{
	Taskapi__V1__CreateTaskReply *m =
	    (Taskapi__V1__CreateTaskReply *)b_create_task_reply();

	m->etag = "\"9007199254740993-1\"";
	return &m->base;
}

static ProtobufCMessage *
b_get_task_reply_etag(void)
{
	Taskapi__V1__GetTaskReply *m =
	    (Taskapi__V1__GetTaskReply *)b_get_task_reply();

	m->etag = "\"7-3\"";
	return &m->base;
}

static ProtobufCMessage *
b_update_task_request_conditional(void)
{
	Taskapi__V1__UpdateTaskRequest *m =
	    (Taskapi__V1__UpdateTaskRequest *)b_update_task_request();

	m->if_match = "\"7-3\", W/\"7-2\"";
	return &m->base;
}

static ProtobufCMessage *
b_update_task_reply_etag(void)
{
	Taskapi__V1__UpdateTaskReply *m =
	    (Taskapi__V1__UpdateTaskReply *)b_update_task_reply();

	m->etag = "\"7-4\"";
	return &m->base;
}

static ProtobufCMessage *
b_delete_task_request_conditional(void)
{
	Taskapi__V1__DeleteTaskRequest *m =
	    (Taskapi__V1__DeleteTaskRequest *)b_delete_task_request();

	m->if_match = "*";
	return &m->base;
}

static ProtobufCMessage *
b_delete_task_reply(void)
{
	static Taskapi__V1__DeleteTaskReply m;

	taskapi__v1__delete_task_reply__init(&m);
	m.message = "Task deleted successfully";
	return &m.base;
}

static ProtobufCMessage *
b_request_envelope(void)
{
	static Taskapi__V1__RequestEnvelope m;
	static Taskapi__V1__Principal p;
	static Google__Protobuf__Timestamp dl;
	static Taskapi__V1__CreateTaskRequest rq;
	static uint8_t payload[16];

	taskapi__v1__request_envelope__init(&m);
	taskapi__v1__principal__init(&p);
	taskapi__v1__create_task_request__init(&rq);
	p.user_id = 42;
	p.username = "alice";
	p.email = "alice@example.com";
	p.role = "user";
	rq.title = "x";
	m.method = "/taskapi.v1.TaskService/CreateTask";
	m.request_id = "9f2c41d0";
	m.deadline = ts(&dl, 1732792509, 221000000);
	m.principal = &p;
	m.payload.data = payload;
	m.payload.len = taskapi__v1__create_task_request__pack(&rq, payload);
	m.idempotency_key = "c0ffee-0001";
	return &m.base;
}

static ProtobufCMessage *
b_reply_envelope(void)
{
	static Taskapi__V1__ReplyEnvelope m;
	static Taskapi__V1__DeleteTaskReply r;
	static uint8_t payload[64];

	taskapi__v1__reply_envelope__init(&m);
	taskapi__v1__delete_task_reply__init(&r);
	r.message = "Task deleted successfully";
	m.payload.data = payload;
	m.payload.len = taskapi__v1__delete_task_reply__pack(&r, payload);
	return &m.base;
}

static ProtobufCMessage *
b_reply_envelope_invalid(void)
{
	static Taskapi__V1__ReplyEnvelope m;
	static Taskapi__V1__FieldViolation v[2], *pv[2];

	taskapi__v1__reply_envelope__init(&m);
	for (int i = 0; i < 2; i++) {
		taskapi__v1__field_violation__init(&v[i]);
		pv[i] = &v[i];
	}
	v[0].field = "title";
	v[0].message = "title is required";
	v[1].field = "priority";
	v[1].message = "priority must be one of: low, medium, high";
	m.code = 3;
	m.message = "Validation failed";
	m.n_details = 2;
	m.details = pv;
	return &m.base;
}

typedef struct fixture {
	const char *name;	/* fixtures/<name>.bin, .json, .unknown.bin */
	const ProtobufCMessageDescriptor *desc;
	ProtobufCMessage *(*build)(void);
} fixture;

static const fixture fixtures[] = {
    {"RegisterRequest", &taskapi__v1__register_request__descriptor,
        b_register_request},
    {"RegisterReply", &taskapi__v1__register_reply__descriptor,
        b_register_reply},
    {"LoginRequest", &taskapi__v1__login_request__descriptor,
        b_login_request},
    {"LoginReply", &taskapi__v1__login_reply__descriptor, b_login_reply},
    {"LoginReply.sessions", &taskapi__v1__login_reply__descriptor,
        b_login_reply_sessions},
    {"RefreshSessionRequest",
        &taskapi__v1__refresh_session_request__descriptor,
        b_refresh_session_request},
    {"RefreshSessionReply", &taskapi__v1__refresh_session_reply__descriptor,
        b_refresh_session_reply},
    {"LogoutRequest", &taskapi__v1__logout_request__descriptor,
        b_logout_request},
    {"LogoutReply", &taskapi__v1__logout_reply__descriptor, b_logout_reply},
    {"GetMeRequest", &taskapi__v1__get_me_request__descriptor,
        b_get_me_request},
    {"GetMeReply", &taskapi__v1__get_me_reply__descriptor, b_get_me_reply},
    {"ChangePasswordRequest",
        &taskapi__v1__change_password_request__descriptor,
        b_change_password_request},
    {"ChangePasswordReply", &taskapi__v1__change_password_reply__descriptor,
        b_change_password_reply},
    {"ListRevocationsRequest",
        &taskapi__v1__list_revocations_request__descriptor,
        b_list_revocations_request},
    {"ListRevocationsReply",
        &taskapi__v1__list_revocations_reply__descriptor,
        b_list_revocations_reply},
    {"ValidateTokenRequest", &taskapi__v1__validate_token_request__descriptor,
        b_validate_token_request},
    {"ValidateTokenReply", &taskapi__v1__validate_token_reply__descriptor,
        b_validate_token_reply},
    {"HealthCheckRequest", &taskapi__v1__health_check_request__descriptor,
        b_health_check_request},
    {"HealthCheckReply", &taskapi__v1__health_check_reply__descriptor,
        b_health_check_reply},
    {"CreateTaskRequest", &taskapi__v1__create_task_request__descriptor,
        b_create_task_request},
    {"CreateTaskRequest.minimal",
        &taskapi__v1__create_task_request__descriptor,
        b_create_task_request_minimal},
    {"CreateTaskReply", &taskapi__v1__create_task_reply__descriptor,
        b_create_task_reply},
    {"ListTasksRequest", &taskapi__v1__list_tasks_request__descriptor,
        b_list_tasks_request},
    {"ListTasksReply", &taskapi__v1__list_tasks_reply__descriptor,
        b_list_tasks_reply},
    {"ListTasksReply.empty", &taskapi__v1__list_tasks_reply__descriptor,
        b_list_tasks_reply_empty},
    {"ListTasksRequest.filters", &taskapi__v1__list_tasks_request__descriptor,
        b_list_tasks_request_filters},
    {"ListTasksReply.page", &taskapi__v1__list_tasks_reply__descriptor,
        b_list_tasks_reply_page},
    {"GetTaskRequest", &taskapi__v1__get_task_request__descriptor,
        b_get_task_request},
    {"GetTaskRequest.negative", &taskapi__v1__get_task_request__descriptor,
        b_get_task_request_negative},
    {"GetTaskReply", &taskapi__v1__get_task_reply__descriptor,
        b_get_task_reply},
    {"UpdateTaskRequest", &taskapi__v1__update_task_request__descriptor,
        b_update_task_request},
    {"UpdateTaskReply", &taskapi__v1__update_task_reply__descriptor,
        b_update_task_reply},
    {"DeleteTaskRequest", &taskapi__v1__delete_task_request__descriptor,
        b_delete_task_request},
    {"DeleteTaskReply", &taskapi__v1__delete_task_reply__descriptor,
        b_delete_task_reply},
    {"CreateTaskReply.etag", &taskapi__v1__create_task_reply__descriptor,
        b_create_task_reply_etag},
    {"GetTaskReply.etag", &taskapi__v1__get_task_reply__descriptor,
        b_get_task_reply_etag},
    {"UpdateTaskRequest.conditional",
        &taskapi__v1__update_task_request__descriptor,
        b_update_task_request_conditional},
    {"UpdateTaskReply.etag", &taskapi__v1__update_task_reply__descriptor,
        b_update_task_reply_etag},
    {"DeleteTaskRequest.conditional",
        &taskapi__v1__delete_task_request__descriptor,
        b_delete_task_request_conditional},
    {"RequestEnvelope", &taskapi__v1__request_envelope__descriptor,
        b_request_envelope},
    {"ReplyEnvelope", &taskapi__v1__reply_envelope__descriptor,
        b_reply_envelope},
    {"ReplyEnvelope.invalid", &taskapi__v1__reply_envelope__descriptor,
        b_reply_envelope_invalid},
};
#define NFIXTURES (sizeof fixtures / sizeof fixtures[0])

static const ProtobufCServiceDescriptor *const services[] = {
    &taskapi__v1__auth_service__descriptor,
    &taskapi__v1__task_service__descriptor,
    &taskapi__v1__health__descriptor,
};

/* Unknown fields every .unknown.bin carries at its top level. */
#define UNKNOWN_TOP_LEVEL 6

/* ---- generic walks over protobuf-c descriptors ---- */

static size_t
elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default:
		/* float/double: not in the contract; a new one needs code here */
		fprintf(stderr, "wire_fixtures: field type %d unsupported\n",
		    (int)t);
		abort();
	}
}

/* Signed view of an integer-like value (uint64 beyond INT64_MAX wraps). */
static int64_t
int_value(ProtobufCType t, const void *p)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		return *(const int32_t *)p;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return *(const uint32_t *)p;
	case PROTOBUF_C_TYPE_BOOL:
		return *(const protobuf_c_boolean *)p != 0;
	default:
		return *(const int64_t *)p;
	}
}

static const char *
str_value(const void *p)
{
	const char *s = *(const char *const *)p;

	return s ? s : "";
}

/* Whether a value equals the proto3 default (an unset field). */
static int
is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return str_value(p)[0] == '\0';
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(const ProtobufCMessage *const *)p == NULL;
	default:
		return int_value(f->type, p) == 0;
	}
}

/* Number of values present (0 or 1 for a singular field). */
static size_t
field_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;

	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		fprintf(stderr, "wire_fixtures: oneof %s unsupported\n",
		    f->name);
		abort();
	}
	switch (f->label) {
	case PROTOBUF_C_LABEL_REPEATED:
		return *(const size_t *)(base + f->quantifier_offset);
	case PROTOBUF_C_LABEL_OPTIONAL:
		if (f->type != PROTOBUF_C_TYPE_MESSAGE &&
		    f->type != PROTOBUF_C_TYPE_STRING)
			return *(const protobuf_c_boolean *)(base +
			           f->quantifier_offset)
			           ? 1
			           : 0;
		return !is_default(f, base + f->offset);
	default:
		return !is_default(f, base + f->offset);
	}
}

/* Address of value i of field f. */
static const void *
field_value(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    size_t i)
{
	const char *base = (const char *)m;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const char *const *)(base + f->offset) +
		       i * elem_size(f->type);
	return base + f->offset;
}

static int msg_diff(const ProtobufCMessage *a, const ProtobufCMessage *b,
    char *path, size_t cap);

static int
value_diff(const ProtobufCFieldDescriptor *f, const void *a, const void *b,
    char *path, size_t cap)
{
	const ProtobufCBinaryData *x, *y;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return strcmp(str_value(a), str_value(b)) != 0;
	case PROTOBUF_C_TYPE_BYTES:
		x = a;
		y = b;
		return x->len != y->len ||
		       (x->len && memcmp(x->data, y->data, x->len) != 0);
	case PROTOBUF_C_TYPE_MESSAGE:
		return msg_diff(*(const ProtobufCMessage *const *)a,
		    *(const ProtobufCMessage *const *)b, path, cap);
	default:
		return int_value(f->type, a) != int_value(f->type, b);
	}
}

/*
 * Compares the known fields of a and b (unknown fields are ignored).
 * Returns 0 when equal; otherwise 1, with the path of the first difference
 * appended to path ("task.created_at.nanos").
 */
static int
msg_diff(const ProtobufCMessage *a, const ProtobufCMessage *b, char *path,
    size_t cap)
{
	const ProtobufCMessageDescriptor *d;
	size_t len = strlen(path);

	if (!a || !b)
		return a != b;
	if (a->descriptor != b->descriptor) {
		snprintf(path + len, cap - len, "%s(type)", len ? "." : "");
		return 1;
	}
	d = a->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		size_t n = field_count(a, f);

		snprintf(path + len, cap - len, "%s%s", len ? "." : "",
		    f->name);
		if (n != field_count(b, f))
			return 1;
		for (size_t k = 0; k < n; k++) {
			size_t l2 = strlen(path);

			if (f->label == PROTOBUF_C_LABEL_REPEATED)
				snprintf(path + l2, cap - l2, "[%zu]", k);
			if (value_diff(f, field_value(a, f, k),
			        field_value(b, f, k), path, cap))
				return 1;
			path[l2] = '\0';
		}
		path[len] = '\0';
	}
	return 0;
}

static void
put_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);	/* UTF-8 passes through */
	}
	fputc('"', out);
}

static void
put_base64(FILE *out, const uint8_t *p, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"abcdefghijklmnopqrstuvwxyz0123456789+/";

	fputc('"', out);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		fputc(a[v >> 18 & 63], out);
		fputc(a[v >> 12 & 63], out);
		fputc(i + 1 < n ? a[v >> 6 & 63] : '=', out);
		fputc(i + 2 < n ? a[v & 63] : '=', out);
	}
	fputc('"', out);
}

static void dump_msg(FILE *out, const ProtobufCMessage *m);

static void
dump_value(FILE *out, const ProtobufCFieldDescriptor *f, const void *p)
{
	const ProtobufCEnumValue *ev;
	const ProtobufCBinaryData *b;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		put_json_string(out, str_value(p));
		break;
	case PROTOBUF_C_TYPE_BYTES:
		b = p;
		put_base64(out, b->data, b->len);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		dump_msg(out, *(const ProtobufCMessage *const *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		fputs(int_value(f->type, p) ? "true" : "false", out);
		break;
	case PROTOBUF_C_TYPE_ENUM:
		ev = protobuf_c_enum_descriptor_get_value(
		    f->descriptor, *(const int32_t *)p);
		if (ev)
			put_json_string(out, ev->name);
		else	/* a value from a newer contract: its number */
			fprintf(out, "%d", *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		fprintf(out, "%llu", (unsigned long long)*(const uint64_t *)p);
		break;
	default:
		fprintf(out, "%lld", (long long)int_value(f->type, p));
		break;
	}
}

/* The canonical tree of m as JSON (see the file comment). */
static void
dump_msg(FILE *out, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	int first = 1;

	fputc('{', out);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		size_t n = field_count(m, f);

		if (n == 0)
			continue;
		fprintf(out, "%s\"%s\":", first ? "" : ",", f->name);
		first = 0;
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			fputc('[', out);
		for (size_t k = 0; k < n; k++) {
			if (k)
				fputc(',', out);
			dump_value(out, f, field_value(m, f, k));
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			fputc(']', out);
	}
	fputc('}', out);
}

/* ---- fixture files ---- */

/* Reads fixtures/<name><suffix> into buf; returns its length, -1 if absent. */
static long
read_fixture(const char *name, const char *suffix, uint8_t *buf, size_t cap)
{
	const char *src = getenv("TA_SOURCE_DIR");
	char path[1024];
	FILE *f;
	size_t n;

	if (!src || !*src)
		fail_msg("TA_SOURCE_DIR must name the source tree");
	snprintf(path, sizeof path, "%s/tests/contract/fixtures/%s%s", src,
	    name, suffix);
	if (!(f = fopen(path, "rb")))
		return -1;
	n = fread(buf, 1, cap, f);
	if (n == cap)
		fail_msg("%s: larger than %zu bytes", path, cap);
	fclose(f);
	return (long)n;
}

static void
hexdump(const char *what, const uint8_t *p, size_t n)
{
	fprintf(stderr, "  %s (%zu bytes):", what, n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, " %02x", p[i]);
	fputc('\n', stderr);
}

/* ---- tests ---- */

static int
has_fixture_for(const ProtobufCMessageDescriptor *d)
{
	for (size_t i = 0; i < NFIXTURES; i++)
		if (fixtures[i].desc == d)
			return 1;
	return 0;
}

/* Every request and reply message of every RPC, and both envelopes. */
static void
test_every_rpc_message_has_a_fixture(void **state)
{
	static uint8_t buf[MAX_FIXTURE];
	int missing = 0;

	(void)state;
	for (size_t s = 0; s < sizeof services / sizeof services[0]; s++) {
		const ProtobufCServiceDescriptor *sd = services[s];

		for (unsigned i = 0; i < sd->n_methods; i++) {
			const ProtobufCMethodDescriptor *md = &sd->methods[i];

			if (!has_fixture_for(md->input) ||
			    !has_fixture_for(md->output)) {
				fprintf(stderr, "no fixture for %s.%s\n",
				    sd->name, md->name);
				missing++;
			}
		}
	}
	if (!has_fixture_for(&taskapi__v1__request_envelope__descriptor) ||
	    !has_fixture_for(&taskapi__v1__reply_envelope__descriptor))
		missing++;
	for (size_t i = 0; i < NFIXTURES; i++) {
		const char *sfx[] = {".bin", ".json", ".unknown.bin"};

		for (size_t k = 0; k < 3; k++) {
			if (read_fixture(fixtures[i].name, sfx[k], buf,
			        sizeof buf) < 0) {
				fprintf(stderr, "missing fixtures/%s%s\n",
				    fixtures[i].name, sfx[k]);
				missing++;
			}
		}
	}
	assert_int_equal(missing, 0);
}

/*
 * The hand-built message packs to exactly the fixture's bytes (both are
 * canonical: fields in number order, defaults left out), and the fixture
 * unpacks to the hand-built content, field by field.
 */
static void
test_fixtures_match(void **state)
{
	static uint8_t bin[MAX_FIXTURE], packed[MAX_FIXTURE];
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < NFIXTURES; i++) {
		const fixture *fx = &fixtures[i];
		ProtobufCMessage *want = fx->build(), *got, *again;
		long n = read_fixture(fx->name, ".bin", bin, sizeof bin);
		size_t plen;
		char path[256] = "";

		assert_true(n >= 0);
		assert_true(protobuf_c_message_check(want));
		plen = protobuf_c_message_get_packed_size(want);
		assert_true(plen <= sizeof packed);
		assert_int_equal(protobuf_c_message_pack(want, packed), plen);
		if (plen != (size_t)n || memcmp(packed, bin, plen) != 0) {
			fprintf(stderr, "%s: protobuf-c packs other bytes\n",
			    fx->name);
			hexdump("fixture", bin, (size_t)n);
			hexdump("protobuf-c", packed, plen);
			bad++;
		}
		got = protobuf_c_message_unpack(fx->desc, NULL, (size_t)n, bin);
		if (!got) {
			fprintf(stderr, "%s: fixture does not unpack\n",
			    fx->name);
			bad++;
			continue;
		}
		if (msg_diff(want, got, path, sizeof path)) {
			fprintf(stderr, "%s: decoded field %s differs\n",
			    fx->name, path);
			bad++;
		}
		/* What protobuf-c packed decodes to the same content too. */
		again = protobuf_c_message_unpack(fx->desc, NULL, plen, packed);
		path[0] = '\0';
		if (!again || msg_diff(got, again, path, sizeof path)) {
			fprintf(stderr, "%s: repacked message differs at %s\n",
			    fx->name, path);
			bad++;
		}
		if (again)
			protobuf_c_message_free_unpacked(again, NULL);
		assert_int_equal(got->n_unknown_fields, 0);
		protobuf_c_message_free_unpacked(got, NULL);
	}
	assert_int_equal(bad, 0);
}

/*
 * A newer peer's message: the same known content plus fields 100+ of wire
 * types varint, 64-bit, length-delimited and 32-bit, at the top level and
 * inside every nested message. protobuf-c accepts it, the known fields are
 * unchanged, and dropping the unknown fields gives the canonical bytes.
 */
static void
test_unknown_fields_ignored(void **state)
{
	static uint8_t bin[MAX_FIXTURE], canon[MAX_FIXTURE], packed[MAX_FIXTURE];
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < NFIXTURES; i++) {
		const fixture *fx = &fixtures[i];
		ProtobufCMessage *want = fx->build(), *got;
		long n = read_fixture(fx->name, ".unknown.bin", bin, sizeof bin);
		long cn = read_fixture(fx->name, ".bin", canon, sizeof canon);
		char path[256] = "";
		size_t plen;

		assert_true(n > cn && cn >= 0);
		got = protobuf_c_message_unpack(fx->desc, NULL, (size_t)n, bin);
		if (!got) {
			fprintf(stderr, "%s.unknown: rejected by protobuf-c\n",
			    fx->name);
			bad++;
			continue;
		}
		if (msg_diff(want, got, path, sizeof path)) {
			fprintf(stderr, "%s.unknown: field %s differs\n",
			    fx->name, path);
			bad++;
		}
		/* protobuf-c keeps them (and would pack them again). */
		assert_int_equal(got->n_unknown_fields, UNKNOWN_TOP_LEVEL);
		plen = protobuf_c_message_get_packed_size(got);
		assert_true(plen <= sizeof packed);
		protobuf_c_message_pack(got, packed);
		assert_true(plen > (size_t)cn);
		protobuf_c_message_free_unpacked(got, NULL);
	}
	assert_int_equal(bad, 0);
}

/*
 * Groups (wire types 3 and 4; editions' DELIMITED encoding) are what
 * protobuf-c 1.4.1 cannot skip: the whole message is rejected. This pins
 * the limit down: a contract change must never make a peer write them.
 */
static void
test_unknown_group_rejected(void **state)
{
	static const uint8_t group[] = {
	    0x08, 0x07,		/* id = 7 */
	    0xa3, 0x06,		/* field 100, start group */
	    0x08, 0x01,		/*   field 1 = 1 */
	    0xa4, 0x06,		/* field 100, end group */
	};
	ProtobufCMessage *m;

	(void)state;
	m = protobuf_c_message_unpack(&taskapi__v1__get_task_request__descriptor,
	    NULL, sizeof group, group);
	assert_null(m);
}

/* ---- modes used by the Python tests ---- */

static const ProtobufCMessageDescriptor *
find_message(const char *name)
{
	for (size_t i = 0; i < NFIXTURES; i++) {
		const ProtobufCMessageDescriptor *d = fixtures[i].desc;

		if (strcmp(d->name, name) == 0 ||
		    strcmp(d->short_name, name) == 0)
			return d;
	}
	if (strcmp(name, "taskapi.v1.Task") == 0 || strcmp(name, "Task") == 0)
		return &taskapi__v1__task__descriptor;
	return NULL;
}

static int
cmd_dump(const char *name)
{
	static uint8_t buf[MAX_FIXTURE];
	const ProtobufCMessageDescriptor *d = find_message(name);
	ProtobufCMessage *m;
	size_t n;

	if (!d) {
		fprintf(stderr, "wire_fixtures: no message %s\n", name);
		return 2;
	}
	n = fread(buf, 1, sizeof buf, stdin);
	if (n == sizeof buf || ferror(stdin)) {
		fprintf(stderr, "wire_fixtures: input too large\n");
		return 2;
	}
	if (!(m = protobuf_c_message_unpack(d, NULL, n, buf))) {
		fprintf(stderr, "wire_fixtures: %s does not unpack\n", name);
		return 1;
	}
	dump_msg(stdout, m);
	fputc('\n', stdout);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

static int
cmd_emit(const char *name)
{
	static uint8_t buf[MAX_FIXTURE];

	for (size_t i = 0; i < NFIXTURES; i++) {
		ProtobufCMessage *m;
		size_t n;

		if (strcmp(fixtures[i].name, name) != 0)
			continue;
		m = fixtures[i].build();
		if (protobuf_c_message_get_packed_size(m) > sizeof buf)
			return 2;
		n = protobuf_c_message_pack(m, buf);
		return fwrite(buf, 1, n, stdout) == n ? 0 : 2;
	}
	fprintf(stderr, "wire_fixtures: no fixture %s\n", name);
	return 2;
}

static int
cmd_call(const char *url)
{
	static uint8_t buf[MAX_FIXTURE];
	nng_socket s;
	void *out = NULL;
	size_t n, outlen = 0;
	int rv;

	n = fread(buf, 1, sizeof buf, stdin);
	if (n == sizeof buf || ferror(stdin))
		return 2;
	if ((rv = nng_req0_open(&s)) != 0)
		goto fail;
	if ((rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 10000)) != 0 ||
	    (rv = nng_dial(s, url, NULL, 0)) != 0 ||
	    (rv = nng_send(s, buf, n, 0)) != 0 ||
	    (rv = nng_recv(s, &out, &outlen, NNG_FLAG_ALLOC)) != 0) {
		nng_close(s);
		goto fail;
	}
	/* An all-default reply (OK, empty payload) packs to 0 bytes: out is
	 * NULL then, and fwrite must not see it. */
	rv = outlen == 0 || fwrite(out, 1, outlen, stdout) == outlen ? 0 : 2;
	nng_free(out, outlen);
	nng_close(s);
	return rv;
fail:
	fprintf(stderr, "wire_fixtures: %s: %s\n", url, nng_strerror(rv));
	return 3;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_rpc_message_has_a_fixture),
	    cmocka_unit_test(test_fixtures_match),
	    cmocka_unit_test(test_unknown_fields_ignored),
	    cmocka_unit_test(test_unknown_group_rejected),
	};

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < NFIXTURES; i++)
			printf("%s %s\n", fixtures[i].name,
			    fixtures[i].desc->name);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--dump") == 0)
		return cmd_dump(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--emit") == 0)
		return cmd_emit(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--call") == 0)
		return cmd_call(argv[2]);
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--list | --dump <message> | "
				"--emit <fixture> | --call <url>]\n",
		    argv[0]);
		return 2;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
