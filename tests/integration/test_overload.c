/*
 * The RPC server's queue bound against a real task-svc with one serving
 * thread and RPC_QUEUE_LIMIT=2: while a row lock held by the test stalls
 * the thread, two more calls wait and every further call is answered
 * RESOURCE_EXHAUSTED at once; the held and queued calls finish once the
 * lock is released.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "google/protobuf/field_mask.pb-c.h"
#include "harness.h"
#include "taskapi/v1/task.pb-c.h"

#define NCALLS 8
#define QUEUE_LIMIT 2

static ta_test_proc proc;
static ta_rpc_client *client;
static PGconn *db;
static Taskapi__V1__Principal alice = TASKAPI__V1__PRINCIPAL__INIT;
static char alice_name[96];

/* Completions of the asynchronous calls, by status. */
static struct {
	pthread_mutex_t mu;
	int done, ok, exhausted, other;
} tally = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0};

static void
db_command(const char *sql)
{
	PGresult *res = PQexec(db, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(db));
	PQclear(res);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int
tally_done(void)
{
	int n;

	pthread_mutex_lock(&tally.mu);
	n = tally.done;
	pthread_mutex_unlock(&tally.mu);
	return n;
}

static void
call_done(void *arg, ta_rpc_call *call)
{
	(void)arg;
	pthread_mutex_lock(&tally.mu);
	tally.done++;
	if (call->status == TA_OK)
		tally.ok++;
	else if (call->status == TA_RESOURCE_EXHAUSTED)
		tally.exhausted++;
	else
		tally.other++;
	pthread_mutex_unlock(&tally.mu);
}

static int
setup(void **state)
{
	static const char *const env[] = {
	    "DB_POOL_SIZE=1", "RPC_QUEUE_LIMIT=2", NULL};

	(void)state;
	db = ta_test_db_connect();
	ta_test_user_create(db, &alice, alice_name, sizeof alice_name, "ovl");
	ta_test_start(&proc, "task-svc", env);
	client = ta_test_client(&proc);
	return 0;
}

static int
teardown(void **state)
{
	const char *params[] = {alice_name};

	(void)state;
	if (client)
		ta_rpc_client_close(client);
	if (proc.pid > 0)
		assert_int_equal(ta_test_stop(&proc), 0);
	PQclear(PQexecParams(db, "DELETE FROM users WHERE username = $1", 1,
	    NULL, params, NULL, NULL, 0));
	PQfinish(db);
	return 0;
}

static void
test_queue_bound(void **state)
{
	Taskapi__V1__UpdateTaskRequest up =
	    TASKAPI__V1__UPDATE_TASK_REQUEST__INIT;
	Taskapi__V1__GetTaskRequest get = TASKAPI__V1__GET_TASK_REQUEST__INIT;
	ta_rpc_call *calls[NCALLS], *probe;
	char uid[24], lock_sql[128];
	const char *params[] = {uid};
	Google__Protobuf__FieldMask mask = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
	char *paths[] = {"title"};
	int64_t task_id, t0;

	(void)state;
	snprintf(uid, sizeof uid, "%lld", (long long)alice.user_id);
	task_id = ta_test_db_value(db,
	    "INSERT INTO tasks (user_id, title) VALUES "
	    "($1::int, 'locked') RETURNING id",
	    1, params);
	/* Every UpdateTask of this row now waits for the test's lock. */
	db_command("BEGIN");
	snprintf(lock_sql, sizeof lock_sql,
	    "SELECT id FROM tasks WHERE id = %lld FOR UPDATE",
	    (long long)task_id);
	db_command(lock_sql);

	up.id = task_id;
	up.title = "updated";
	mask.n_paths = 1;
	mask.paths = paths;
	up.update_mask = &mask;
	t0 = mono_ms();
	for (int i = 0; i < NCALLS; i++) {
		calls[i] = ta_rpc_call_new("/taskapi.v1.TaskService/UpdateTask",
		    "ovl", 15000, &alice, NULL, &up.base);
		assert_int_equal(
		    ta_rpc_start(client, calls[i], call_done, NULL), TA_OK);
		/* In order: the first holds the thread, two wait. */
		sleep_ms(i < 1 + QUEUE_LIMIT ? 100 : 10);
	}
	/* The calls beyond thread + queue are refused without waiting. */
	while (tally_done() < NCALLS - 1 - QUEUE_LIMIT && mono_ms() - t0 < 5000)
		sleep_ms(10);
	assert_int_equal(tally_done(), NCALLS - 1 - QUEUE_LIMIT);
	assert_int_equal(tally.exhausted, NCALLS - 1 - QUEUE_LIMIT);
	assert_true(mono_ms() - t0 < 3000);

	/* Any method is refused while the queue is full. */
	get.id = task_id;
	probe = ta_rpc_call_new("/taskapi.v1.TaskService/GetTask", "ovl-get",
	    5000, &alice, NULL, &get.base);
	t0 = mono_ms();
	assert_int_equal(
	    ta_rpc_call_sync(client, probe), TA_RESOURCE_EXHAUSTED);
	assert_string_equal(probe->message, "server overloaded");
	assert_true(mono_ms() - t0 < 1000);
	ta_rpc_call_free(probe);

	/* Released: the held call and the queued ones are served. */
	db_command("COMMIT");
	t0 = mono_ms();
	while (tally_done() < NCALLS && mono_ms() - t0 < 10000)
		sleep_ms(10);
	assert_int_equal(tally_done(), NCALLS);
	assert_int_equal(tally.ok, 1 + QUEUE_LIMIT);
	assert_int_equal(tally.other, 0);
	for (int i = 0; i < NCALLS; i++)
		ta_rpc_call_free(calls[i]);

	/* And new calls are taken again, with the overload logged. */
	probe = ta_rpc_call_new("/taskapi.v1.TaskService/GetTask", "ovl-get2",
	    5000, &alice, NULL, &get.base);
	assert_int_equal(ta_rpc_call_sync(client, probe), TA_OK);
	ta_rpc_call_free(probe);
	assert_true(ta_test_file_contains(
	    proc.log_path, "\"event\":\"rpc_overloaded\""));
	assert_true(ta_test_file_contains(
	    proc.log_path, "\"event\":\"rpc_overload_ended\""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_queue_bound),
	};

	return cmocka_run_group_tests_name(
	    "integration_overload", tests, setup, teardown);
}
