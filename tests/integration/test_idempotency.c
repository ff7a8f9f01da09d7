/*
 * Idempotency keys against real task-svc and auth-svc processes and the
 * PostgreSQL named by DB_*: a repeated CreateTask or RegisterUser with the
 * same key creates one row and answers like the first call, also when the
 * repeats run concurrently; keys are scoped per user (tasks) and per
 * username (registrations). A conditional UpdateTask (if_match) delivered
 * twice answers the second like the first.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "harness.h"
#include "taskapi/v1/auth.pb-c.h"
#include "taskapi/v1/task.pb-c.h"

#define CREATE "/taskapi.v1.TaskService/CreateTask"
#define DELETE "/taskapi.v1.TaskService/DeleteTask"
#define UPDATE "/taskapi.v1.TaskService/UpdateTask"
#define REGISTER "/taskapi.v1.AuthService/RegisterUser"
#define NCONC 16

static ta_test_proc task_proc, auth_proc;
static ta_rpc_client *task_client, *auth_client;
static PGconn *db;
static Taskapi__V1__Principal alice = TASKAPI__V1__PRINCIPAL__INIT;
static Taskapi__V1__Principal bob = TASKAPI__V1__PRINCIPAL__INIT;
static char alice_name[96], bob_name[96];

static long long
tasks_of(const Taskapi__V1__Principal *p)
{
	char uid[24];
	const char *params[] = {uid};

	snprintf(uid, sizeof uid, "%lld", (long long)p->user_id);
	return ta_test_db_value(db,
	    "SELECT count(*) FROM tasks WHERE user_id = $1::int", 1, params);
}

static long long
key_rows(const char *method, const char *key)
{
	const char *params[] = {method, key};

	return ta_test_db_value(db,
	    "SELECT count(*) FROM idempotency_keys "
	    "WHERE method = $1 AND key = $2",
	    2, params);
}

/* A finished call of method with key (NULL: none); caller frees it. */
static ta_rpc_call *
call_keyed(ta_rpc_client *c, const char *method,
    const Taskapi__V1__Principal *p, const char *key,
    const ProtobufCMessage *rq)
{
	ta_rpc_call *call = ta_rpc_call_new(method, "idem", 10000, p, key, rq);

	(void)ta_rpc_call_sync(c, call);
	return call;
}

/* CreateTask with title and key; returns the reply (caller frees). */
static Taskapi__V1__CreateTaskReply *
create(const Taskapi__V1__Principal *p, const char *title, const char *key,
    ta_status *status)
{
	Taskapi__V1__CreateTaskRequest rq =
	    TASKAPI__V1__CREATE_TASK_REQUEST__INIT;
	ProtobufCMessage *out = NULL;
	ta_rpc_call *c;

	rq.title = (char *)title;
	c = call_keyed(task_client, CREATE, p, key, &rq.base);
	*status = c->status;
	if (c->status == TA_OK)
		assert_int_equal(
		    ta_rpc_call_unpack(
		        c, &taskapi__v1__create_task_reply__descriptor, &out),
		    TA_OK);
	ta_rpc_call_free(c);
	return (Taskapi__V1__CreateTaskReply *)out;
}

static void
free_reply(void *m)
{
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
}

static int
setup(void **state)
{
	static const char *const auth_env[] = {
	    "ARGON2_MEMORY_KIB=8192", "ARGON2_OPS=1", NULL};

	(void)state;
	db = ta_test_db_connect();
	ta_test_user_create(
	    db, &alice, alice_name, sizeof alice_name, "idem-alice");
	ta_test_user_create(db, &bob, bob_name, sizeof bob_name, "idem-bob");
	ta_test_start(&task_proc, "task-svc", NULL);
	ta_test_start(&auth_proc, "auth-svc", auth_env);
	task_client = ta_test_client(&task_proc);
	auth_client = ta_test_client(&auth_proc);
	return 0;
}

static int
teardown(void **state)
{
	const char *params[] = {alice_name, bob_name};

	(void)state;
	if (task_client)
		ta_rpc_client_close(task_client);
	if (auth_client)
		ta_rpc_client_close(auth_client);
	if (task_proc.pid > 0)
		assert_int_equal(ta_test_stop(&task_proc), 0);
	if (auth_proc.pid > 0)
		assert_int_equal(ta_test_stop(&auth_proc), 0);
	PQclear(PQexecParams(db, "DELETE FROM users WHERE username IN ($1, $2)",
	    2, NULL, params, NULL, NULL, 0));
	PQclear(
	    PQexec(db, "DELETE FROM users WHERE username LIKE 'idem-reg-%'"));
	PQclear(PQexec(db, "DELETE FROM idempotency_keys WHERE key LIKE "
	                   "'idem-%'"));
	PQfinish(db);
	return 0;
}

static void
test_create_twice_same_key(void **state)
{
	char key[96];
	Taskapi__V1__CreateTaskReply *a, *b;
	ta_status sa, sb;
	long long before = tasks_of(&alice);

	(void)state;
	snprintf(key, sizeof key, "idem-k1-%s", ta_test_unique());
	a = create(&alice, "first", key, &sa);
	/* The same body with the same key: the first result comes back. */
	b = create(&alice, "first", key, &sb);
	assert_int_equal(sa, TA_OK);
	assert_int_equal(sb, TA_OK);
	/* Another body with the same key is refused (422 at the edge). */
	assert_null(create(&alice, "second", key, &sb));
	assert_int_equal(sb, TA_INVALID_ARGUMENT);
	assert_int_equal(a->task->id, b->task->id);
	assert_string_equal(b->task->title, "first");
	assert_string_equal(a->message, b->message);
	assert_int_equal(
	    a->task->created_at->seconds, b->task->created_at->seconds);
	assert_int_equal(
	    a->task->created_at->nanos, b->task->created_at->nanos);
	assert_int_equal(tasks_of(&alice), before + 1);
	assert_int_equal(key_rows("CreateTask", key), 1);
	free_reply(a);
	free_reply(b);
}

static void
test_keys_are_per_user_and_optional(void **state)
{
	char key[96];
	Taskapi__V1__CreateTaskReply *a, *b, *c, *d;
	ta_status s;
	long long alice0 = tasks_of(&alice), bob0 = tasks_of(&bob);

	(void)state;
	snprintf(key, sizeof key, "idem-k2-%s", ta_test_unique());
	a = create(&alice, "alice's", key, &s);
	assert_int_equal(s, TA_OK);
	b = create(&bob, "bob's", key, &s);
	assert_int_equal(s, TA_OK);
	assert_true(a->task->id != b->task->id);
	assert_string_equal(b->task->title, "bob's");
	assert_int_equal(b->task->user_id, bob.user_id);
	/* Without a key every call creates. */
	c = create(&alice, "no key", NULL, &s);
	assert_int_equal(s, TA_OK);
	d = create(&alice, "no key", "", &s);
	assert_int_equal(s, TA_OK);
	assert_true(c->task->id != d->task->id);
	assert_int_equal(tasks_of(&alice), alice0 + 3);
	assert_int_equal(tasks_of(&bob), bob0 + 1);
	free_reply(a);
	free_reply(b);
	free_reply(c);
	free_reply(d);
}

typedef struct conc_arg {
	const char *key;
	ta_status status;
	int64_t id;
} conc_arg;

static void *
create_conc(void *p)
{
	conc_arg *a = p;
	Taskapi__V1__CreateTaskRequest rq =
	    TASKAPI__V1__CREATE_TASK_REQUEST__INIT;
	ProtobufCMessage *out = NULL;
	ta_rpc_call *c;

	/* No cmocka asserts off the main thread: the caller checks. */
	rq.title = "concurrent";
	c = call_keyed(task_client, CREATE, &alice, a->key, &rq.base);
	a->status = c->status;
	if (c->status == TA_OK &&
	    ta_rpc_call_unpack(c, &taskapi__v1__create_task_reply__descriptor,
	        &out) == TA_OK) {
		a->id = ((Taskapi__V1__CreateTaskReply *)out)->task->id;
		protobuf_c_message_free_unpacked(out, NULL);
	}
	ta_rpc_call_free(c);
	return NULL;
}

static void
test_create_concurrent_same_key(void **state)
{
	char key[96];
	conc_arg args[NCONC];
	pthread_t th[NCONC];
	long long before = tasks_of(&alice);

	(void)state;
	snprintf(key, sizeof key, "idem-k3-%s", ta_test_unique());
	for (int i = 0; i < NCONC; i++) {
		args[i] = (conc_arg){.key = key, .status = TA_UNKNOWN};
		assert_int_equal(
		    pthread_create(&th[i], NULL, create_conc, &args[i]), 0);
	}
	for (int i = 0; i < NCONC; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NCONC; i++) {
		assert_int_equal(args[i].status, TA_OK);
		assert_int_equal(args[i].id, args[0].id);
	}
	assert_int_equal(tasks_of(&alice), before + 1);
	assert_int_equal(key_rows("CreateTask", key), 1);
}

static void
test_create_key_of_deleted_task(void **state)
{
	char key[96];
	Taskapi__V1__CreateTaskReply *a, *b;
	Taskapi__V1__DeleteTaskRequest rq =
	    TASKAPI__V1__DELETE_TASK_REQUEST__INIT;
	ta_rpc_call *c;
	ta_status s;

	(void)state;
	snprintf(key, sizeof key, "idem-k4-%s", ta_test_unique());
	a = create(&alice, "short-lived", key, &s);
	assert_int_equal(s, TA_OK);
	rq.id = a->task->id;
	c = call_keyed(task_client, DELETE, &alice, NULL, &rq.base);
	assert_int_equal(c->status, TA_OK);
	ta_rpc_call_free(c);
	b = create(&alice, "short-lived", key, &s);
	assert_int_equal(s, TA_ALREADY_EXISTS);
	assert_null(b);
	free_reply(a);
}

/* DeleteTask of id as p with key (NULL: none); returns the status. */
static ta_status
delete_keyed(const Taskapi__V1__Principal *p, int64_t id, const char *key)
{
	Taskapi__V1__DeleteTaskRequest rq =
	    TASKAPI__V1__DELETE_TASK_REQUEST__INIT;
	ta_rpc_call *c;
	ta_status s;

	rq.id = id;
	c = call_keyed(task_client, DELETE, p, key, &rq.base);
	s = c->status;
	ta_rpc_call_free(c);
	return s;
}

/*
 * Issue 9: the edge re-sends a call whose instance dropped it, and a
 * DeleteTask that had already run then answered NOT_FOUND for a delete
 * that happened. The repeat of a keyed delete answers like the first; a
 * new delete (no key, or another key) of the gone task is still 404.
 */
static void
test_delete_twice_same_key(void **state)
{
	char key[96], key2[96];
	Taskapi__V1__CreateTaskReply *a, *b;
	ta_status s;

	(void)state;
	snprintf(key, sizeof key, "idem-d1-%s", ta_test_unique());
	snprintf(key2, sizeof key2, "idem-d2-%s", ta_test_unique());
	a = create(&alice, "to delete", NULL, &s);
	assert_int_equal(s, TA_OK);
	b = create(&alice, "to delete too", NULL, &s);
	assert_int_equal(s, TA_OK);
	assert_int_equal(delete_keyed(&alice, a->task->id, key), TA_OK);
	assert_int_equal(key_rows("DeleteTask", key), 1);
	/* The re-send: same key, same task. */
	assert_int_equal(delete_keyed(&alice, a->task->id, key), TA_OK);
	assert_int_equal(delete_keyed(&alice, a->task->id, key), TA_OK);
	/* Anything else about the gone task is as before. */
	assert_int_equal(
	    delete_keyed(&alice, a->task->id, NULL), TA_NOT_FOUND);
	assert_int_equal(
	    delete_keyed(&alice, a->task->id, key2), TA_NOT_FOUND);
	assert_int_equal(
	    delete_keyed(&bob, a->task->id, key), TA_NOT_FOUND);
	/* Another user's task: 403 with or without a key, nothing kept. */
	assert_int_equal(
	    delete_keyed(&bob, b->task->id, key2), TA_PERMISSION_DENIED);
	assert_int_equal(key_rows("DeleteTask", key2), 0);
	/* The key reused for another task deletes nothing (a different
	 * request: 422 at the edge); a key of its own deletes it. */
	assert_int_equal(
	    delete_keyed(&alice, b->task->id, key), TA_INVALID_ARGUMENT);
	assert_int_equal(delete_keyed(&alice, b->task->id, key2), TA_OK);
	free_reply(a);
	free_reply(b);
}

/*
 * UpdateTask of id as p setting title under if_match, with key (NULL:
 * none); *etag (room for 48) gets the reply's tag on TA_OK.
 */
static ta_status
update_keyed(const Taskapi__V1__Principal *p, int64_t id, const char *title,
    const char *if_match, const char *key, char *etag)
{
	Taskapi__V1__UpdateTaskRequest rq =
	    TASKAPI__V1__UPDATE_TASK_REQUEST__INIT;
	Google__Protobuf__FieldMask mask = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
	char *paths[] = {"title"};
	ProtobufCMessage *out = NULL;
	ta_rpc_call *c;
	ta_status s;

	mask.n_paths = 1;
	mask.paths = paths;
	rq.id = id;
	rq.title = (char *)title;
	rq.update_mask = &mask;
	rq.if_match = (char *)if_match;
	c = call_keyed(task_client, UPDATE, p, key, &rq.base);
	s = c->status;
	if (s == TA_OK) {
		assert_int_equal(ta_rpc_call_unpack(c,
		                     &taskapi__v1__update_task_reply__descriptor,
		                     &out),
		    TA_OK);
		snprintf(etag, 48, "%s",
		    ((Taskapi__V1__UpdateTaskReply *)out)->etag);
		free_reply(out);
	}
	ta_rpc_call_free(c);
	return s;
}

static long long
version_of(int64_t id)
{
	char sid[24];
	const char *params[] = {sid};

	snprintf(sid, sizeof sid, "%lld", (long long)id);
	return ta_test_db_value(
	    db, "SELECT version FROM tasks WHERE id = $1::int", 1, params);
}

/*
 * API v1.1: an UpdateTask with if_match that ran once would fail its own
 * precondition when delivered again (an edge re-send after its instance
 * dropped the call). With its key the second delivery answers like the
 * first and changes nothing; without a key it is FAILED_PRECONDITION,
 * which is why the edge gives every conditional change a key.
 */
static void
test_conditional_update_twice_same_key(void **state)
{
	char key[96], tag[64], first[48] = "", second[48] = "";
	Taskapi__V1__CreateTaskReply *a;
	ta_status s;

	(void)state;
	snprintf(key, sizeof key, "idem-u1-%s", ta_test_unique());
	a = create(&alice, "to update", NULL, &s);
	assert_int_equal(s, TA_OK);
	snprintf(tag, sizeof tag, "\"%lld-1\"", (long long)a->task->id);
	assert_string_equal(a->etag, tag);
	assert_int_equal(
	    update_keyed(&alice, a->task->id, "once", tag, key, first), TA_OK);
	assert_int_equal(
	    update_keyed(&alice, a->task->id, "once", tag, key, second),
	    TA_OK);
	assert_string_equal(first, second);
	assert_int_equal(version_of(a->task->id), 2);
	assert_int_equal(key_rows("UpdateTask", key), 1);
	/* Another request under the key: refused, nothing changed. */
	assert_int_equal(
	    update_keyed(&alice, a->task->id, "twice", tag, key, second),
	    TA_INVALID_ARGUMENT);
	/* Without a key the repeat meets the version the first left. */
	assert_int_equal(
	    update_keyed(&alice, a->task->id, "once", tag, NULL, second),
	    TA_FAILED_PRECONDITION);
	/* The worker checks the syntax too (RPC clients besides the edge). */
	assert_int_equal(
	    update_keyed(&alice, a->task->id, "x", "junk", NULL, second),
	    TA_INVALID_ARGUMENT);
	/* Ownership ranks before the precondition. */
	assert_int_equal(
	    update_keyed(&bob, a->task->id, "b", "*", NULL, second),
	    TA_PERMISSION_DENIED);
	assert_int_equal(version_of(a->task->id), 2);
	free_reply(a);
}

static void
test_create_key_too_long(void **state)
{
	char key[300];
	ta_status s;

	(void)state;
	memset(key, 'k', sizeof key - 1);
	key[sizeof key - 1] = '\0';
	assert_null(create(&alice, "long key", key, &s));
	assert_int_equal(s, TA_INVALID_ARGUMENT);
}

/* One limit end to end: 128 characters is a key, 129 is refused. */
static void
test_create_key_limit(void **state)
{
	char key[130];
	Taskapi__V1__CreateTaskReply *r;
	ta_status s;

	(void)state;
	snprintf(key, sizeof key, "lim-%s-", ta_test_unique());
	memset(key + strlen(key), 'k', sizeof key - 1 - strlen(key));
	key[129] = '\0';
	assert_null(create(&alice, "129", key, &s));
	assert_int_equal(s, TA_INVALID_ARGUMENT);
	key[128] = '\0';
	r = create(&alice, "128", key, &s);
	assert_int_equal(s, TA_OK);
	assert_non_null(r);
	assert_int_equal(key_rows("CreateTask", key), 1);
	free_reply(r);
}

/*
 * A worker's purge deletes its own method's expired keys only: an expired
 * key of another method outlives the CreateTask purge that removes an
 * expired CreateTask key (every 256th keyed create purges). The other
 * method is one no worker serves: a real one (RegisterUser) is purged by
 * whatever auth-svc the tests running beside this one start.
 */
static void
test_purge_is_per_method(void **state)
{
	char own[96], other[96], key[96];
	const char *params[] = {own, other};
	Taskapi__V1__CreateTaskReply *r;
	ta_status s;
	int i;

	(void)state;
	snprintf(own, sizeof own, "old-own-%s", ta_test_unique());
	snprintf(other, sizeof other, "old-other-%s", ta_test_unique());
	assert_int_equal(ta_test_db_value(db,
	                     "WITH i AS (INSERT INTO idempotency_keys "
	                     "(method, user_id, key, result_id, created_at) "
	                     "VALUES ('CreateTask', 0, $1, 0, now() - "
	                     "interval '2 days'), ('NoSuchMethod', 0, $2, 0, "
	                     "now() - interval '2 days') RETURNING 1) "
	                     "SELECT count(*) FROM i",
	                     2, params),
	    2);
	for (i = 0; i < 257 && key_rows("CreateTask", own) > 0; i++) {
		snprintf(key, sizeof key, "purge-%d-%s", i, ta_test_unique());
		r = create(&alice, "purge", key, &s);
		assert_int_equal(s, TA_OK);
		free_reply(r);
	}
	assert_int_equal(key_rows("CreateTask", own), 0);
	assert_int_equal(key_rows("NoSuchMethod", other), 1);
	assert_int_equal(ta_test_db_value(db,
	                     "WITH d AS (DELETE FROM idempotency_keys "
	                     "WHERE key = $1 RETURNING 1) "
	                     "SELECT count(*) FROM d",
	                     1, &params[1]),
	    1);
}

/* RegisterUser for username with key; the reply's user id or 0. */
static int64_t
register_user(const char *username, const char *key, ta_status *status)
{
	Taskapi__V1__RegisterRequest rq = TASKAPI__V1__REGISTER_REQUEST__INIT;
	char email[128];
	ProtobufCMessage *out = NULL;
	ta_rpc_call *c;
	int64_t id = 0;

	snprintf(email, sizeof email, "%s@example.test", username);
	rq.username = (char *)username;
	rq.email = email;
	rq.password = "idempotent-password-1";
	c = call_keyed(auth_client, REGISTER, NULL, key, &rq.base);
	*status = c->status;
	if (c->status == TA_OK &&
	    ta_rpc_call_unpack(
	        c, &taskapi__v1__register_reply__descriptor, &out) == TA_OK) {
		id = ((Taskapi__V1__RegisterReply *)out)->user->id;
		protobuf_c_message_free_unpacked(out, NULL);
	}
	ta_rpc_call_free(c);
	return id;
}

static long long
users_named(const char *username)
{
	const char *params[] = {username};

	return ta_test_db_value(
	    db, "SELECT count(*) FROM users WHERE username = $1", 1, params);
}

static void
test_register_twice_same_key(void **state)
{
	char key[96], name[96], other[96];
	int64_t a, b;
	ta_status sa, sb, so;

	(void)state;
	snprintf(key, sizeof key, "idem-r1-%s", ta_test_unique());
	snprintf(name, sizeof name, "idem-reg-a-%s", ta_test_unique());
	snprintf(other, sizeof other, "idem-reg-b-%s", ta_test_unique());
	a = register_user(name, key, &sa);
	b = register_user(name, key, &sb);
	assert_int_equal(sa, TA_OK);
	assert_int_equal(sb, TA_OK);
	assert_true(a > 0);
	assert_int_equal(a, b);
	assert_int_equal(users_named(name), 1);
	assert_int_equal(key_rows("RegisterUser", key), 1);
	/* The same key for another username replays nobody's user: a
	 * different request (422 at the edge). */
	assert_int_equal(register_user(other, key, &so), 0);
	assert_int_equal(so, TA_INVALID_ARGUMENT);
	assert_int_equal(users_named(other), 0);
	/* Without a key a repeat is the usual 409. */
	assert_int_equal(register_user(name, NULL, &so), 0);
	assert_int_equal(so, TA_ALREADY_EXISTS);
}

typedef struct reg_arg {
	const char *name, *key;
	ta_status status;
	int64_t id;
} reg_arg;

static void *
register_conc(void *p)
{
	reg_arg *a = p;

	a->id = register_user(a->name, a->key, &a->status);
	return NULL;
}

static void
test_register_concurrent_same_key(void **state)
{
	char key[96], name[96];
	reg_arg args[8];
	pthread_t th[8];

	(void)state;
	snprintf(key, sizeof key, "idem-r2-%s", ta_test_unique());
	snprintf(name, sizeof name, "idem-reg-c-%s", ta_test_unique());
	for (int i = 0; i < 8; i++) {
		args[i] = (reg_arg){.name = name, .key = key};
		assert_int_equal(
		    pthread_create(&th[i], NULL, register_conc, &args[i]), 0);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(args[i].status, TA_OK);
		assert_int_equal(args[i].id, args[0].id);
	}
	assert_int_equal(users_named(name), 1);
	assert_int_equal(key_rows("RegisterUser", key), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_twice_same_key),
	    cmocka_unit_test(test_keys_are_per_user_and_optional),
	    cmocka_unit_test(test_create_concurrent_same_key),
	    cmocka_unit_test(test_create_key_of_deleted_task),
	    cmocka_unit_test(test_create_key_too_long),
	    cmocka_unit_test(test_create_key_limit),
	    cmocka_unit_test(test_purge_is_per_method),
	    cmocka_unit_test(test_delete_twice_same_key),
	    cmocka_unit_test(test_conditional_update_twice_same_key),
	    cmocka_unit_test(test_register_twice_same_key),
	    cmocka_unit_test(test_register_concurrent_same_key),
	};

	return cmocka_run_group_tests_name(
	    "integration_idempotency", tests, setup, teardown);
}
