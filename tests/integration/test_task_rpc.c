/*
 * TaskService over nng against a real task-svc and the PostgreSQL named by
 * DB_*: defaults, ownership (403 vs 404), partial updates, validation
 * details, deadlines, malformed envelopes and concurrent creates.
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
#include <pthread.h>

#include "harness.h"
#include "taskapi/v1/health.pb-c.h"
#include "taskapi/v1/task.pb-c.h"

static ta_test_proc proc;
static ta_rpc_client *client;
static PGconn *db;
static Taskapi__V1__Principal alice = TASKAPI__V1__PRINCIPAL__INIT;
static Taskapi__V1__Principal bob = TASKAPI__V1__PRINCIPAL__INIT;
static char alice_name[96], bob_name[96];

#define SD (&taskapi__v1__task_service__descriptor)

static int
setup(void **state)
{
	(void)state;
	db = ta_test_db_connect();
	ta_test_user_create(
	    db, &alice, alice_name, sizeof alice_name, "tr-alice");
	ta_test_user_create(db, &bob, bob_name, sizeof bob_name, "tr-bob");
	ta_test_start(&proc, "task-svc", NULL);
	client = ta_test_client(&proc);
	return 0;
}

static int
teardown(void **state)
{
	const char *params[] = {alice_name, bob_name};
	PGresult *res;

	(void)state;
	if (client)
		ta_rpc_client_close(client);
	if (proc.pid > 0)
		assert_int_equal(ta_test_stop(&proc), 0);
	res = PQexecParams(db, "DELETE FROM users WHERE username IN ($1, $2)",
	    2, NULL, params, NULL, NULL, 0);
	PQclear(res);
	PQfinish(db);
	return 0;
}

/* Calls method; asserts the status; unpacks the reply when OK. */
static void *
call(const char *method, const Taskapi__V1__Principal *who,
    const ProtobufCMessage *rq, ta_status want, ta_rpc_call **keep)
{
	ta_rpc_call *c = ta_test_call(client, SD, method, who, rq);
	const ProtobufCMethodDescriptor *md =
	    protobuf_c_service_descriptor_get_method_by_name(SD, method);
	ProtobufCMessage *out = NULL;

	if (c->status != want)
		fail_msg("%s: status %d (%s), want %d", method, c->status,
		    c->message, want);
	if (want == TA_OK)
		assert_int_equal(
		    ta_rpc_call_unpack(c, md->output, &out), TA_OK);
	if (keep)
		*keep = c;
	else
		ta_rpc_call_free(c);
	return out;
}

static Taskapi__V1__CreateTaskReply *
create(const Taskapi__V1__Principal *who, const char *title)
{
	Taskapi__V1__CreateTaskRequest rq =
	    TASKAPI__V1__CREATE_TASK_REQUEST__INIT;

	rq.title = (char *)title;
	return call("CreateTask", who, &rq.base, TA_OK, NULL);
}

static Taskapi__V1__Task *
get(const Taskapi__V1__Principal *who, int64_t id)
{
	Taskapi__V1__GetTaskRequest rq = TASKAPI__V1__GET_TASK_REQUEST__INIT;
	Taskapi__V1__GetTaskReply *r;
	Taskapi__V1__Task *t;

	rq.id = id;
	r = call("GetTask", who, &rq.base, TA_OK, NULL);
	t = r->task;
	r->task = NULL;
	taskapi__v1__get_task_reply__free_unpacked(r, NULL);
	return t;
}

static void
free_msg(void *m)
{
	protobuf_c_message_free_unpacked(m, NULL);
}

static void
test_health(void **state)
{
	Taskapi__V1__HealthCheckRequest rq =
	    TASKAPI__V1__HEALTH_CHECK_REQUEST__INIT;
	ta_rpc_call *c;
	Taskapi__V1__HealthCheckReply *r;

	(void)state;
	c = ta_test_call(
	    client, &taskapi__v1__health__descriptor, "Check", NULL, &rq.base);
	assert_int_equal(c->status, TA_OK);
	assert_int_equal(
	    ta_rpc_call_unpack(c, &taskapi__v1__health_check_reply__descriptor,
	        (ProtobufCMessage **)&r),
	    TA_OK);
	assert_string_equal(r->status, "healthy");
	assert_string_equal(r->service, "task-service");
	free_msg(r);
	ta_rpc_call_free(c);
}

static void
test_create_defaults(void **state)
{
	Taskapi__V1__CreateTaskReply *r;
	Taskapi__V1__Task *t;
	int64_t now = ta_now_ms() / 1000;

	(void)state;
	r = create(&alice, "Buy milk");
	assert_string_equal(r->message, "Task created successfully");
	t = r->task;
	assert_non_null(t);
	assert_true(t->id > 0);
	assert_int_equal(t->user_id, alice.user_id);
	assert_string_equal(t->title, "Buy milk");
	assert_null(t->description);
	assert_int_equal(
	    t->status, TASKAPI__V1__TASK_STATUS__TASK_STATUS_PENDING);
	assert_int_equal(
	    t->priority, TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_MEDIUM);
	assert_null(t->due_date);
	assert_non_null(t->created_at);
	assert_non_null(t->updated_at);
	assert_true(llabs(t->created_at->seconds - now) < 120);
	free_msg(r);
}

static void
test_create_all_fields(void **state)
{
	Taskapi__V1__CreateTaskRequest rq =
	    TASKAPI__V1__CREATE_TASK_REQUEST__INIT;
	Google__Protobuf__StringValue d = GOOGLE__PROTOBUF__STRING_VALUE__INIT;
	Google__Protobuf__Timestamp due = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Taskapi__V1__CreateTaskReply *r;
	Taskapi__V1__Task *t;

	(void)state;
	rq.title = "Écrire le rapport ✓";
	d.value = "with a \"quoted\" description";
	rq.description = &d;
	rq.status = TASKAPI__V1__TASK_STATUS__TASK_STATUS_IN_PROGRESS;
	rq.priority = TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_HIGH;
	due.seconds = 1740910504;
	due.nanos = 221312000;
	rq.due_date = &due;
	r = call("CreateTask", &alice, &rq.base, TA_OK, NULL);
	t = r->task;
	assert_string_equal(t->title, rq.title);
	assert_non_null(t->description);
	assert_string_equal(t->description->value, d.value);
	assert_int_equal(
	    t->status, TASKAPI__V1__TASK_STATUS__TASK_STATUS_IN_PROGRESS);
	assert_int_equal(
	    t->priority, TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_HIGH);
	assert_non_null(t->due_date);
	assert_int_equal(t->due_date->seconds, 1740910504);
	assert_int_equal(t->due_date->nanos, 221312000);

	/* What GetTask reads back is what CreateTask returned. */
	Taskapi__V1__Task *g = get(&alice, t->id);
	assert_string_equal(g->title, t->title);
	assert_int_equal(g->due_date->seconds, t->due_date->seconds);
	assert_int_equal(g->created_at->seconds, t->created_at->seconds);
	assert_int_equal(g->created_at->nanos, t->created_at->nanos);
	free_msg(g);

	/* An empty description is stored as NULL. */
	d.value = "";
	free_msg(r);
	r = call("CreateTask", &alice, &rq.base, TA_OK, NULL);
	assert_null(r->task->description);
	free_msg(r);
}

static void
test_list_own_newest_first(void **state)
{
	Taskapi__V1__Principal carol = TASKAPI__V1__PRINCIPAL__INIT;
	Taskapi__V1__ListTasksRequest rq =
	    TASKAPI__V1__LIST_TASKS_REQUEST__INIT;
	Taskapi__V1__ListTasksReply *l;
	char carol_name[96];
	int64_t ids[3];
	const char *params[1];

	(void)state;
	ta_test_user_create(
	    db, &carol, carol_name, sizeof carol_name, "tr-carol");
	l = call("ListTasks", &carol, &rq.base, TA_OK, NULL);
	assert_int_equal(l->count, 0);
	assert_int_equal(l->n_tasks, 0);
	free_msg(l);
	for (int i = 0; i < 3; i++) {
		Taskapi__V1__CreateTaskReply *r = create(&carol, "listed");

		ids[i] = r->task->id;
		free_msg(r);
	}
	free_msg(create(&bob, "not carol's"));
	l = call("ListTasks", &carol, &rq.base, TA_OK, NULL);
	assert_int_equal(l->count, 3);
	assert_int_equal(l->n_tasks, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(l->tasks[i]->id, ids[2 - i]);
		assert_int_equal(l->tasks[i]->user_id, carol.user_id);
	}
	free_msg(l);
	params[0] = carol_name;
	PQclear(PQexecParams(db, "DELETE FROM users WHERE username = $1", 1,
	    NULL, params, NULL, NULL, 0));
}

/*
 * Issue 9: one row with a timestamp beyond what RFC 3339 can write (year
 * 10000 and later, 'infinity', years BC: rows an old service or a manual
 * fix may leave) used to turn that user's whole ListTasks into INTERNAL.
 * Such a value is clamped to 9999-12-31T23:59:59.999999Z or
 * 0001-01-01T00:00:00Z, with a warning naming the task and column.
 */
static void
test_out_of_range_timestamps(void **state)
{
	static const struct {
		const char *sql;
		int64_t seconds; /* what due_date/updated_at becomes */
	} rows[] = {
	    {"UPDATE tasks SET due_date = 'infinity' WHERE id = $1",
	        253402300799LL},
	    {"UPDATE tasks SET due_date = '12000-01-01 00:00:00' WHERE id = $1",
	        253402300799LL},
	    {"UPDATE tasks SET due_date = '-infinity' WHERE id = $1",
	        -62135596800LL},
	    {"UPDATE tasks SET updated_at = '0044-03-15 12:00:00 BC' "
	     "WHERE id = $1",
	        -62135596800LL},
	};
	enum { N = sizeof rows / sizeof rows[0] };
	Taskapi__V1__Principal dave = TASKAPI__V1__PRINCIPAL__INIT;
	Taskapi__V1__ListTasksRequest rq =
	    TASKAPI__V1__LIST_TASKS_REQUEST__INIT;
	Taskapi__V1__ListTasksReply *l;
	Taskapi__V1__Task *t;
	char dave_name[96], sid[24];
	int64_t ids[N + 1];
	const char *params[1];

	(void)state;
	ta_test_user_create(db, &dave, dave_name, sizeof dave_name, "tr-dave");
	for (int i = 0; i <= N; i++) {
		Taskapi__V1__CreateTaskReply *r = create(&dave, "dated");

		ids[i] = r->task->id;
		free_msg(r);
	}
	for (int i = 0; i < N; i++) {
		snprintf(sid, sizeof sid, "%lld", (long long)ids[i]);
		params[0] = sid;
		PQclear(PQexecParams(
		    db, rows[i].sql, 1, NULL, params, NULL, NULL, 0));
	}
	l = call("ListTasks", &dave, &rq.base, TA_OK, NULL);
	assert_int_equal(l->count, N + 1);
	assert_int_equal(l->n_tasks, N + 1);
	for (size_t k = 0; k < l->n_tasks; k++) {
		Taskapi__V1__Task *lt = l->tasks[k];

		for (int i = 0; i < N; i++) {
			const Google__Protobuf__Timestamp *ts =
			    i == 3 ? lt->updated_at : lt->due_date;

			if (lt->id != ids[i])
				continue;
			assert_non_null(ts);
			assert_int_equal(ts->seconds, rows[i].seconds);
		}
	}
	free_msg(l);
	/* The row itself reads and updates too. */
	t = get(&dave, ids[1]);
	assert_int_equal(t->due_date->seconds, 253402300799LL);
	free_msg(t);
	assert_true(
	    ta_test_file_contains(proc.log_path, "task_timestamp_clamped"));
	params[0] = dave_name;
	PQclear(PQexecParams(db, "DELETE FROM users WHERE username = $1", 1,
	    NULL, params, NULL, NULL, 0));
}

/*
 * Issue 9 and 12: a list used to carry every task of the user, so enough
 * stored text made every later ListTasks fail with RESOURCE_EXHAUSTED
 * "reply too large" (503 + Retry-After: clients retried for ever). 400
 * tasks of 40 kB (16 MB, twice the 8 MiB message cap) now come as pages
 * whose JSON fits PAGE_MAX_BYTES (1 MiB by default), newest first, and
 * next_cursor walks through all of them.
 */
static void
test_list_within_budget(void **state)
{
	Taskapi__V1__Principal erin = TASKAPI__V1__PRINCIPAL__INIT;
	Taskapi__V1__ListTasksRequest rq =
	    TASKAPI__V1__LIST_TASKS_REQUEST__INIT;
	Taskapi__V1__ListTasksReply *l;
	char erin_name[96], uid[24], cursor[2048] = "";
	const char *params[1];
	size_t seen = 0, pages = 0;
	bool has_next = false;

	(void)state;
	ta_test_user_create(db, &erin, erin_name, sizeof erin_name, "tr-erin");
	snprintf(uid, sizeof uid, "%lld", (long long)erin.user_id);
	params[0] = uid;
	PQclear(PQexecParams(db,
	    "INSERT INTO tasks (user_id, title, description, created_at) "
	    "SELECT $1::int, 'big ' || i, repeat(U&'\\+01F600', 10000), "
	    "now() + i * interval '1 second' FROM generate_series(1, 400) i",
	    1, NULL, params, NULL, NULL, 0));
	assert_int_equal(ta_test_db_value(db,
	                     "SELECT count(*) FROM tasks WHERE user_id = $1",
	                     1, params),
	    400);
	do {
		size_t json = 0;

		rq.cursor = cursor;
		l = call("ListTasks", &erin, &rq.base, TA_OK, NULL);
		assert_false(l->truncated);
		assert_int_equal(l->count, (int32_t)l->n_tasks);
		assert_true(l->n_tasks >= 20 && l->n_tasks < 30);
		for (size_t i = 0; i < l->n_tasks; i++, seen++) {
			char want[16];

			/* Newest first: big 400, big 399, ... */
			snprintf(want, sizeof want, "big %zu", 400 - seen);
			assert_string_equal(l->tasks[i]->title, want);
			json += 256 + strlen(l->tasks[i]->title) + 2 +
			        strlen(l->tasks[i]->description->value) + 2;
		}
		assert_true(json <= 1024u * 1024u);
		has_next = l->next_cursor != NULL;
		if (has_next) {
			assert_true(strlen(l->next_cursor->value) < sizeof cursor);
			strcpy(cursor, l->next_cursor->value);
		}
		pages++;
		free_msg(l);
	} while (has_next && pages < 40);
	assert_int_equal(seen, 400);
	assert_true(pages >= 14);
	params[0] = erin_name;
	PQclear(PQexecParams(db, "DELETE FROM users WHERE username = $1", 1,
	    NULL, params, NULL, NULL, 0));
}

static void
test_ownership(void **state)
{
	Taskapi__V1__GetTaskRequest g = TASKAPI__V1__GET_TASK_REQUEST__INIT;
	Taskapi__V1__UpdateTaskRequest u =
	    TASKAPI__V1__UPDATE_TASK_REQUEST__INIT;
	Taskapi__V1__DeleteTaskRequest d =
	    TASKAPI__V1__DELETE_TASK_REQUEST__INIT;
	Google__Protobuf__FieldMask m = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
	char *paths[] = {"title"};
	Taskapi__V1__CreateTaskReply *r = create(&alice, "mine");
	Taskapi__V1__UpdateTaskReply *ur;
	Taskapi__V1__DeleteTaskReply *dr;
	ta_rpc_call *c;
	int64_t id = r->task->id;
	const int64_t absent[] = {
	    2147483647, -1, 0, (int64_t)1 << 40, INT64_MIN};

	(void)state;
	free_msg(r);
	m.paths = paths;
	m.n_paths = 1;
	u.update_mask = &m;
	u.title = "renamed";

	/* someone else's task */
	g.id = u.id = d.id = id;
	call("GetTask", &bob, &g.base, TA_PERMISSION_DENIED, &c);
	assert_string_equal(
	    c->message, "You do not have permission to access this task");
	ta_rpc_call_free(c);
	call("UpdateTask", &bob, &u.base, TA_PERMISSION_DENIED, NULL);
	call("DeleteTask", &bob, &d.base, TA_PERMISSION_DENIED, NULL);
	Taskapi__V1__Task *t = get(&alice, id);
	assert_string_equal(t->title, "mine");
	free_msg(t);

	/* ids that do not exist, or cannot */
	for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
		g.id = u.id = d.id = absent[i];
		call("GetTask", &alice, &g.base, TA_NOT_FOUND, &c);
		assert_string_equal(c->message, "Task not found");
		ta_rpc_call_free(c);
		call("UpdateTask", &alice, &u.base, TA_NOT_FOUND, NULL);
		call("DeleteTask", &alice, &d.base, TA_NOT_FOUND, NULL);
	}

	/* own task */
	g.id = u.id = d.id = id;
	ur = call("UpdateTask", &alice, &u.base, TA_OK, NULL);
	assert_string_equal(ur->message, "Task updated successfully");
	assert_string_equal(ur->task->title, "renamed");
	free_msg(ur);
	dr = call("DeleteTask", &alice, &d.base, TA_OK, NULL);
	assert_string_equal(dr->message, "Task deleted successfully");
	free_msg(dr);
	call("GetTask", &alice, &g.base, TA_NOT_FOUND, NULL);
	call("DeleteTask", &alice, &d.base, TA_NOT_FOUND, NULL);
}

static void
test_unauthenticated(void **state)
{
	Taskapi__V1__CreateTaskRequest c =
	    TASKAPI__V1__CREATE_TASK_REQUEST__INIT;
	Taskapi__V1__ListTasksRequest l = TASKAPI__V1__LIST_TASKS_REQUEST__INIT;
	Taskapi__V1__GetTaskRequest g = TASKAPI__V1__GET_TASK_REQUEST__INIT;
	Taskapi__V1__UpdateTaskRequest u =
	    TASKAPI__V1__UPDATE_TASK_REQUEST__INIT;
	Taskapi__V1__DeleteTaskRequest d =
	    TASKAPI__V1__DELETE_TASK_REQUEST__INIT;
	Taskapi__V1__Principal nobody = TASKAPI__V1__PRINCIPAL__INIT;
	const Taskapi__V1__Principal *who[] = {NULL, &nobody};
	ta_rpc_call *k;

	(void)state;
	c.title = "x";
	g.id = u.id = d.id = 1;
	for (int i = 0; i < 2; i++) {
		call("CreateTask", who[i], &c.base, TA_UNAUTHENTICATED, &k);
		assert_string_equal(k->message, "Authentication required");
		ta_rpc_call_free(k);
		call("ListTasks", who[i], &l.base, TA_UNAUTHENTICATED, NULL);
		call("GetTask", who[i], &g.base, TA_UNAUTHENTICATED, NULL);
		call("UpdateTask", who[i], &u.base, TA_UNAUTHENTICATED, NULL);
		call("DeleteTask", who[i], &d.base, TA_UNAUTHENTICATED, NULL);
	}
}

static void
test_partial_update(void **state)
{
	Taskapi__V1__CreateTaskRequest c =
	    TASKAPI__V1__CREATE_TASK_REQUEST__INIT;
	Taskapi__V1__UpdateTaskRequest u =
	    TASKAPI__V1__UPDATE_TASK_REQUEST__INIT;
	Google__Protobuf__StringValue d = GOOGLE__PROTOBUF__STRING_VALUE__INIT;
	Google__Protobuf__Timestamp due = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__FieldMask m = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
	char *paths[4];
	Taskapi__V1__CreateTaskReply *cr;
	Taskapi__V1__UpdateTaskReply *ur;
	Taskapi__V1__Task *t0, *t;

	(void)state;
	c.title = "original";
	d.value = "keep me";
	c.description = &d;
	c.priority = TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_HIGH;
	due.seconds = 1800000000;
	c.due_date = &due;
	cr = call("CreateTask", &alice, &c.base, TA_OK, NULL);
	t0 = cr->task;

	/* Only the status: everything else stays. */
	u.id = t0->id;
	u.update_mask = &m;
	m.paths = paths;
	paths[0] = "status";
	m.n_paths = 1;
	u.status = TASKAPI__V1__TASK_STATUS__TASK_STATUS_COMPLETED;
	u.title = "ignored, not in the mask";
	ur = call("UpdateTask", &alice, &u.base, TA_OK, NULL);
	t = ur->task;
	assert_int_equal(
	    t->status, TASKAPI__V1__TASK_STATUS__TASK_STATUS_COMPLETED);
	assert_string_equal(t->title, "original");
	assert_string_equal(t->description->value, "keep me");
	assert_int_equal(
	    t->priority, TASKAPI__V1__TASK_PRIORITY__TASK_PRIORITY_HIGH);
	assert_int_equal(t->due_date->seconds, 1800000000);
	assert_int_equal(t->created_at->seconds, t0->created_at->seconds);
	assert_true(
	    t->updated_at->seconds * 1000000000LL + t->updated_at->nanos >=
	    t0->updated_at->seconds * 1000000000LL + t0->updated_at->nanos);
	free_msg(ur);

	/* Masked but unset description and due_date: cleared. */
	paths[0] = "description";
	paths[1] = "due_date";
	m.n_paths = 2;
	ur = call("UpdateTask", &alice, &u.base, TA_OK, NULL);
	t = ur->task;
	assert_null(t->description);
	assert_null(t->due_date);
	assert_string_equal(t->title, "original");
	assert_int_equal(
	    t->status, TASKAPI__V1__TASK_STATUS__TASK_STATUS_COMPLETED);
	free_msg(ur);

	/* The stored row agrees. */
	t = get(&alice, t0->id);
	assert_null(t->description);
	assert_null(t->due_date);
	free_msg(t);
	free_msg(cr);
}

static bool
has_detail(const ta_rpc_call *c, const char *field, const char *message)
{
	for (size_t i = 0; c->reply && i < c->reply->n_details; i++) {
		if (strcmp(c->reply->details[i]->field, field) == 0 &&
		    strcmp(c->reply->details[i]->message, message) == 0)
			return true;
	}
	return false;
}

static void
test_validation_details(void **state)
{
	Taskapi__V1__CreateTaskRequest c =
	    TASKAPI__V1__CREATE_TASK_REQUEST__INIT;
	Taskapi__V1__UpdateTaskRequest u =
	    TASKAPI__V1__UPDATE_TASK_REQUEST__INIT;
	Google__Protobuf__Timestamp due = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__FieldMask m = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
	char *paths[] = {"title", "owner"};
	Taskapi__V1__CreateTaskReply *cr;
	ta_rpc_call *k;

	(void)state;
	c.title = "   ";
	c.status = (Taskapi__V1__TaskStatus)7;
	due.seconds = 253402300800LL;
	c.due_date = &due;
	call("CreateTask", &alice, &c.base, TA_INVALID_ARGUMENT, &k);
	assert_non_null(k->reply);
	assert_int_equal(k->reply->n_details, 3);
	assert_true(has_detail(k, "title", "title is required"));
	assert_true(has_detail(k, "status",
	    "status must be one of: pending, in_progress, completed"));
	assert_true(has_detail(k, "due_date",
	    "due_date must be a valid date between years 1 and 9999"));
	ta_rpc_call_free(k);

	cr = create(&alice, "to update");
	u.id = cr->task->id;
	u.update_mask = &m;
	m.paths = paths;
	m.n_paths = 2;
	u.title = "fine";
	call("UpdateTask", &alice, &u.base, TA_INVALID_ARGUMENT, &k);
	assert_int_equal(k->reply->n_details, 1);
	assert_true(
	    has_detail(k, "update_mask", "update_mask: unknown field owner"));
	ta_rpc_call_free(k);
	/* Nothing was written. */
	Taskapi__V1__Task *t = get(&alice, cr->task->id);
	assert_string_equal(t->title, "to update");
	free_msg(t);
	free_msg(cr);
}

static void
test_deadline_passed(void **state)
{
	Taskapi__V1__GetTaskRequest g = TASKAPI__V1__GET_TASK_REQUEST__INIT;
	Taskapi__V1__RequestEnvelope env = TASKAPI__V1__REQUEST_ENVELOPE__INIT;
	Google__Protobuf__Timestamp dl = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	uint8_t payload[64], buf[512];
	Taskapi__V1__ReplyEnvelope *r;

	(void)state;
	g.id = 1;
	env.method = "/taskapi.v1.TaskService/GetTask";
	env.request_id = "deadline-test";
	dl.seconds = ta_now_ms() / 1000 - 5;
	env.deadline = &dl;
	env.principal = &alice;
	env.payload.data = payload;
	env.payload.len = taskapi__v1__get_task_request__pack(&g, payload);
	r = ta_test_raw_call_signed(
	    proc.rpc_url, buf, taskapi__v1__request_envelope__pack(&env, buf));
	assert_int_equal(r->code, TA_DEADLINE_EXCEEDED);
	taskapi__v1__reply_envelope__free_unpacked(r, NULL);
}

static void
test_malformed_envelope(void **state)
{
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x42};
	Taskapi__V1__ReplyEnvelope *r;

	(void)state;
	r = ta_test_raw_call(proc.rpc_url, junk, sizeof junk);
	assert_int_equal(r->code, TA_INVALID_ARGUMENT);
	taskapi__v1__reply_envelope__free_unpacked(r, NULL);
	/* still serving */
	free_msg(create(&alice, "after junk"));
}

#define NCONC 50

static void *
create_one(void *arg)
{
	Taskapi__V1__CreateTaskRequest rq =
	    TASKAPI__V1__CREATE_TASK_REQUEST__INIT;
	ta_rpc_call *c;

	rq.title = "concurrent";
	/* No cmocka asserts off the main thread: the caller checks. */
	c = ta_test_call(client, SD, "CreateTask", arg, &rq.base);
	return c;
}

static void
test_concurrent_creates(void **state)
{
	Taskapi__V1__Principal dave = TASKAPI__V1__PRINCIPAL__INIT;
	char dave_name[96], uid[24];
	const char *params[] = {uid};
	pthread_t th[NCONC];
	int ok = 0;

	(void)state;
	ta_test_user_create(db, &dave, dave_name, sizeof dave_name, "tr-dave");
	for (int i = 0; i < NCONC; i++)
		assert_int_equal(
		    pthread_create(&th[i], NULL, create_one, &dave), 0);
	for (int i = 0; i < NCONC; i++) {
		void *ret;
		ta_rpc_call *c;

		pthread_join(th[i], &ret);
		c = ret;
		ok += c->status == TA_OK;
		ta_rpc_call_free(c);
	}
	assert_int_equal(ok, NCONC);
	snprintf(uid, sizeof uid, "%lld", (long long)dave.user_id);
	assert_int_equal(
	    ta_test_db_value(db,
	        "SELECT count(*) FROM tasks WHERE user_id = $1::int", 1,
	        params),
	    NCONC);
	params[0] = dave_name;
	PQclear(PQexecParams(db, "DELETE FROM users WHERE username = $1", 1,
	    NULL, params, NULL, NULL, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_health),
	    cmocka_unit_test(test_create_defaults),
	    cmocka_unit_test(test_create_all_fields),
	    cmocka_unit_test(test_list_own_newest_first),
	    cmocka_unit_test(test_out_of_range_timestamps),
	    cmocka_unit_test(test_list_within_budget),
	    cmocka_unit_test(test_ownership),
	    cmocka_unit_test(test_unauthenticated),
	    cmocka_unit_test(test_partial_update),
	    cmocka_unit_test(test_validation_details),
	    cmocka_unit_test(test_deadline_passed),
	    cmocka_unit_test(test_malformed_envelope),
	    cmocka_unit_test(test_concurrent_creates),
	};

	return cmocka_run_group_tests_name(
	    "integration_task_rpc", tests, setup, teardown);
}
