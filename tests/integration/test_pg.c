/*
 * common/pg.c against the real PostgreSQL named by DB_*: parameters and
 * NULLs, SQLSTATE mapping, reconnection after the server killed the
 * session, and an unreachable server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "harness.h"
#include "log.h"
#include "pg.h"

typedef struct test_cfg {
	ta_db_cfg db;
} test_cfg;

static const ta_cfg_item cfg_items[] = {TA_CFG_DB_ITEMS(test_cfg, db)};

enum {
	S_BACKEND_PID,
	S_ECHO,
	S_USER_INSERT,
	S_TASK_INSERT,
	S_INT,
	S_USERS_DELETE,
	S_TIMEZONE,
};

static const ta_pg_stmt stmts[] = {
    [S_BACKEND_PID] = {"t_backend_pid", "SELECT pg_backend_pid()", true},
    [S_ECHO] = {"t_echo", "SELECT $1::text, $2::text, $1 IS NULL", true},
    [S_USER_INSERT] = {"t_user_insert",
        "INSERT INTO users (username, email, password_hash) "
        "VALUES ($1::text, $1::text || '@example.test', 'x') RETURNING id",
        false},
    [S_TASK_INSERT] = {"t_task_insert",
        "INSERT INTO tasks (user_id, title, status) VALUES ($1, 't', $2) "
        "RETURNING id",
        false},
    [S_INT] = {"t_int", "SELECT $1::int", true},
    [S_USERS_DELETE] = {"t_users_delete",
        "DELETE FROM users WHERE username LIKE $1", false},
    [S_TIMEZONE] = {"t_timezone", "SELECT current_setting('TimeZone')", true},
};
#define NSTMTS (sizeof stmts / sizeof stmts[0])

static test_cfg cfg;
static char prefix[96];

static int
setup(void **state)
{
	char err[256];

	(void)state;
	if (!getenv("DB_NAME") || !getenv("DB_HOST"))
		fail_msg("DB_HOST and DB_NAME must be set for this test");
	if (ta_cfg_load(cfg_items, sizeof cfg_items / sizeof cfg_items[0], &cfg,
	        err, sizeof err) != TA_OK)
		fail_msg("config: %s", err);
	snprintf(prefix, sizeof prefix, "pgt-%s", ta_test_unique());
	return 0;
}

static int
teardown(void **state)
{
	ta_pg *pg = ta_pg_new(&cfg.db, stmts, NSTMTS);
	char like[128];
	const char *p[] = {like};
	PGresult *res;

	(void)state;
	snprintf(like, sizeof like, "%s%%", prefix);
	if (ta_pg_exec(pg, S_USERS_DELETE, 1, p, &res) == TA_OK)
		PQclear(res);
	ta_pg_free(pg);
	return 0;
}

/* A plain libpq connection, the "second session" of the tests. */
static PGconn *
admin_connect(void)
{
	char port[16];
	const char *keys[] = {
	    "host", "port", "dbname", "user", "password", NULL};
	const char *vals[] = {
	    cfg.db.host, port, cfg.db.name, cfg.db.user, cfg.db.password, NULL};
	PGconn *c;

	snprintf(port, sizeof port, "%ld", cfg.db.port);
	c = PQconnectdbParams(keys, vals, 0);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("admin connect: %s", PQerrorMessage(c));
	return c;
}

static int
backend_pid(ta_pg *pg)
{
	PGresult *res;
	int pid;

	assert_int_equal(ta_pg_exec(pg, S_BACKEND_PID, 0, NULL, &res), TA_OK);
	pid = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return pid;
}

/* Terminates pid from another session and waits until it is gone. */
static void
kill_backend(int pid)
{
	PGconn *c = admin_connect();
	char spid[16];
	const char *p[] = {spid};
	PGresult *res;

	snprintf(spid, sizeof spid, "%d", pid);
	res = PQexecParams(c, "SELECT pg_terminate_backend($1::int)", 1, NULL,
	    p, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_string_equal(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	for (int i = 0; i < 500; i++) {
		bool gone;

		res = PQexecParams(c,
		    "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int",
		    1, NULL, p, NULL, NULL, 0);
		gone = strcmp(PQgetvalue(res, 0, 0), "0") == 0;
		PQclear(res);
		if (gone)
			break;
		usleep(10000);
	}
	PQfinish(c);
}

static int64_t
insert_user(ta_pg *pg, const char *suffix, ta_status want)
{
	char name[128];
	const char *p[] = {name};
	PGresult *res;
	int64_t id = 0;

	snprintf(name, sizeof name, "%s%s", prefix, suffix);
	assert_int_equal(ta_pg_exec(pg, S_USER_INSERT, 1, p, &res), want);
	if (want == TA_OK) {
		id = atoll(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	return id;
}

static void
test_params_and_nulls(void **state)
{
	ta_pg *pg = ta_pg_new(&cfg.db, stmts, NSTMTS);
	const char *p[] = {"héllo 'quoted' \"x\"", NULL};
	PGresult *res;

	(void)state;
	assert_int_equal(ta_pg_exec(pg, S_ECHO, 2, p, &res), TA_OK);
	assert_int_equal(PQntuples(res), 1);
	assert_string_equal(PQgetvalue(res, 0, 0), p[0]);
	assert_true(PQgetisnull(res, 0, 1));
	assert_string_equal(PQgetvalue(res, 0, 2), "f");
	PQclear(res);
	assert_string_equal(ta_pg_last_sqlstate(pg), "");

	p[0] = NULL;
	assert_int_equal(ta_pg_exec(pg, S_ECHO, 2, p, &res), TA_OK);
	assert_true(PQgetisnull(res, 0, 0));
	assert_string_equal(PQgetvalue(res, 0, 2), "t");
	PQclear(res);

	assert_int_equal(ta_pg_exec(pg, S_TIMEZONE, 0, NULL, &res), TA_OK);
	assert_string_equal(PQgetvalue(res, 0, 0), "UTC");
	PQclear(res);
	assert_int_equal(ta_pg_ping(pg), TA_OK);
	ta_pg_free(pg);
}

static void
test_sqlstate_mapping(void **state)
{
	ta_pg *pg = ta_pg_new(&cfg.db, stmts, NSTMTS);
	int64_t uid;
	char suid[32];
	const char *p[2];
	PGresult *res = NULL;

	(void)state;
	uid = insert_user(pg, "-dup", TA_OK);
	assert_true(uid > 0);
	insert_user(pg, "-dup", TA_ALREADY_EXISTS);
	assert_string_equal(ta_pg_last_sqlstate(pg), "23505");

	/* check violation: status outside the allowed values */
	snprintf(suid, sizeof suid, "%lld", (long long)uid);
	p[0] = suid;
	p[1] = "bogus";
	assert_int_equal(
	    ta_pg_exec(pg, S_TASK_INSERT, 2, p, &res), TA_INVALID_ARGUMENT);
	assert_string_equal(ta_pg_last_sqlstate(pg), "23514");

	/* foreign key: no such user */
	p[0] = "2147483647";
	p[1] = "pending";
	assert_int_equal(
	    ta_pg_exec(pg, S_TASK_INSERT, 2, p, &res), TA_FAILED_PRECONDITION);
	assert_string_equal(ta_pg_last_sqlstate(pg), "23503");

	/* data exception (class 22) */
	p[0] = "not a number";
	assert_int_equal(
	    ta_pg_exec(pg, S_INT, 1, p, &res), TA_INVALID_ARGUMENT);
	assert_string_equal(ta_pg_last_sqlstate(pg), "22P02");
	p[0] = "99999999999";
	assert_int_equal(
	    ta_pg_exec(pg, S_INT, 1, p, &res), TA_INVALID_ARGUMENT);
	assert_string_equal(ta_pg_last_sqlstate(pg), "22003");

	/* The connection is still fine after all these failures. */
	p[0] = suid;
	p[1] = "pending";
	assert_int_equal(ta_pg_exec(pg, S_TASK_INSERT, 2, p, &res), TA_OK);
	assert_int_equal(PQntuples(res), 1);
	PQclear(res);
	ta_pg_free(pg);
}

static void
test_reconnect(void **state)
{
	ta_pg *pg = ta_pg_new(&cfg.db, stmts, NSTMTS);
	int pid1, pid2, pid3;

	(void)state;
	pid1 = backend_pid(pg);

	/* read-only: reconnected and retried, the caller sees nothing */
	kill_backend(pid1);
	pid2 = backend_pid(pg);
	assert_int_not_equal(pid1, pid2);

	/* a write is not retried: it may have run before the drop */
	kill_backend(pid2);
	insert_user(pg, "-after-kill-1", TA_UNAVAILABLE);
	assert_true(ta_pg_last_sqlstate(pg)[0] != '\0');
	insert_user(pg, "-after-kill-2", TA_OK);
	pid3 = backend_pid(pg);
	assert_int_not_equal(pid3, pid2);

	/* ping reconnects too */
	kill_backend(pid3);
	assert_int_equal(ta_pg_ping(pg), TA_OK);
	assert_int_not_equal(backend_pid(pg), pid3);
	ta_pg_free(pg);
}

/* A statement table that does not prepare: INTERNAL, connection kept. */
static void
test_bad_statement(void **state)
{
	static const ta_pg_stmt bad[] = {
	    {"t_ok", "SELECT 1", true},
	    {"t_bad", "SELEC nonsense", true},
	};
	ta_pg *pg = ta_pg_new(&cfg.db, bad, 2);
	PGresult *res;

	(void)state;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ta_pg_exec(pg, 0, 0, NULL, &res), TA_INTERNAL);
		assert_string_equal(ta_pg_last_sqlstate(pg), "42601");
	}
	ta_pg_free(pg);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs fn with stdout going to a file; returns the file's contents. */
static char *
capture_stdout(void (*fn)(void *), void *arg)
{
	FILE *f = tmpfile();
	int fd, saved;
	char *buf = calloc(1, 65536);

	assert_non_null(f);
	fd = fileno(f);
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	fn(arg);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	assert_true(pread(fd, buf, 65535, 0) >= 0);
	fclose(f);
	return buf;
}

static void
ping_three_times(void *arg)
{
	ta_pg *pg = arg;

	for (int i = 0; i < 3; i++)
		assert_int_equal(ta_pg_ping(pg), TA_UNAVAILABLE);
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void
test_unreachable(void **state)
{
	ta_db_cfg bad = cfg.db;
	ta_pg *pg;
	PGresult *res;
	double t0;
	char *out;

	(void)state;
	bad.port = ta_test_free_port();
	bad.password = "pw-marker-never-logged";
	pg = ta_pg_new(&bad, stmts, NSTMTS);
	t0 = now_s();
	assert_int_equal(
	    ta_pg_exec(pg, S_BACKEND_PID, 0, NULL, &res), TA_UNAVAILABLE);
	assert_true(now_s() - t0 < 2.0);
	/* One log line per outage, not per call; no password in it. */
	out = capture_stdout(ping_three_times, pg);
	assert_int_equal(count(out, "\"db_connect_failed\""), 0);
	free(out);
	ta_pg_free(pg);

	pg = ta_pg_new(&bad, stmts, NSTMTS);
	out = capture_stdout(ping_three_times, pg);
	assert_int_equal(count(out, "\"db_connect_failed\""), 1);
	assert_null(strstr(out, "pw-marker"));
	free(out);
	ta_pg_free(pg);

	/* A wrong database name fails fast as well. */
	bad = cfg.db;
	bad.name = "no_such_database_taskapi";
	pg = ta_pg_new(&bad, stmts, NSTMTS);
	t0 = now_s();
	assert_int_equal(ta_pg_ping(pg), TA_UNAVAILABLE);
	assert_true(now_s() - t0 < 2.0);
	ta_pg_free(pg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_params_and_nulls),
	    cmocka_unit_test(test_sqlstate_mapping),
	    cmocka_unit_test(test_reconnect),
	    cmocka_unit_test(test_bad_statement),
	    cmocka_unit_test(test_unreachable),
	};

	ta_log_init("test-pg", TA_LOG_INFO);
	return cmocka_run_group_tests_name(
	    "integration_pg", tests, setup, teardown);
}
