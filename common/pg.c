/*
 * One worker thread's PostgreSQL connection: lazy connect, statements
 * prepared from a table after every (re)connect, SQLSTATE mapped to
 * ta_status. Timestamps are pg_time.c's.
 *
 * Design notes: a ta_pg belongs to one thread and is never shared, so it
 * has no lock. A broken connection is noticed only when a query fails
 * (PQstatus is not a liveness probe); the next use resets it, and only a
 * read-only statement is re-run at once, since a write may have committed
 * before the connection dropped. A failed connect is logged once per
 * outage, never per call.
 */
#include "pg.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "log.h"

const char *const ta_db_sslmodes[] = {
    "disable", "allow", "prefer", "require", "verify-ca", "verify-full", NULL};

struct ta_pg {
	const ta_db_cfg *cfg;    /* borrowed */
	const ta_pg_stmt *stmts; /* borrowed */
	size_t n;
	PGconn *conn;     /* NULL until the first connect */
	bool is_prepared; /* stmts prepared on conn */
	bool is_down;     /* outage already logged */
	char port[16];
	char sqlstate[6];
};

ta_pg *
ta_pg_new(const ta_db_cfg *cfg, const ta_pg_stmt *stmts, size_t n)
{
	ta_pg *pg = ta_xcalloc(1, sizeof *pg);

	pg->cfg = cfg;
	pg->stmts = stmts;
	pg->n = n;
	snprintf(pg->port, sizeof pg->port, "%ld", cfg->port);
	return pg;
}

void
ta_pg_free(ta_pg *pg)
{
	if (!pg)
		return;
	if (pg->conn)
		PQfinish(pg->conn);
	free(pg);
}

const char *
ta_pg_last_sqlstate(const ta_pg *pg)
{
	return pg->sqlstate;
}

/* The first line of libpq's message, without its trailing newline. */
static void
first_line(const char *msg, char *buf, size_t cap)
{
	size_t len = strcspn(msg ? msg : "", "\n");

	if (len >= cap)
		len = cap - 1;
	memcpy(buf, msg ? msg : "", len);
	buf[len] = '\0';
}

/* The server's primary message of res, else libpq's own (first line). */
static void
error_text(PGconn *conn, const PGresult *res, char *buf, size_t cap)
{
	const char *m =
	    res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	first_line(m ? m : PQerrorMessage(conn), buf, cap);
}

static ta_status
status_of_sqlstate(const char *s)
{
	if (!s || strlen(s) != 5)
		return TA_INTERNAL;
	if (strcmp(s, "23505") == 0)
		return TA_ALREADY_EXISTS;
	if (strcmp(s, "23503") == 0)
		return TA_FAILED_PRECONDITION;
	if (strncmp(s, "22", 2) == 0 || strcmp(s, "23514") == 0)
		return TA_INVALID_ARGUMENT;
	if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0)
		return TA_ABORTED;
	if (strncmp(s, "08", 2) == 0 || strncmp(s, "57P0", 4) == 0)
		return TA_UNAVAILABLE;
	return TA_INTERNAL;
}

/*
 * Opens the connection, closing a broken one first (as PQreset does). Logs
 * "db_connect_failed" only on the first failure of an outage and
 * "db_reconnected" when it ends.
 */
static ta_status
pg_connect(ta_pg *pg)
{
	const ta_db_cfg *c = pg->cfg;
	const char *keys[10], *vals[10];
	size_t n = 0;
	char err[256];

#define KV(k, v) (keys[n] = (k), vals[n] = (v), n++)
	KV("host", c->host);
	KV("port", pg->port);
	KV("dbname", c->name);
	KV("user", c->user);
	if (c->password && *c->password)
		KV("password", c->password);
	KV("sslmode", c->sslmode);
	/* Without a timeout libpq waits forever on a silent host. */
	KV("connect_timeout", "5");
	KV("application_name", "taskapi");
	KV("options", "-c TimeZone=UTC");
	KV(NULL, NULL);
#undef KV

	pg->is_prepared = false;
	if (pg->conn) {
		PQfinish(pg->conn);
		pg->conn = NULL;
	}
	/* expand_dbname 0: DB_NAME is a name, never a connection string. */
	pg->conn = PQconnectdbParams(keys, vals, 0);
	if (!pg->conn)
		return TA_INTERNAL;
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		/* libpq's connect errors name host and port, never the
		 * password. */
		if (!pg->is_down) {
			first_line(PQerrorMessage(pg->conn), err, sizeof err);
			ta_log(TA_LOG_WARN, "db_connect_failed",
			    "cannot connect to the database",
			    TA_S("host", c->host), TA_I("port", c->port),
			    TA_S("dbname", c->name), TA_S("error", err));
			pg->is_down = true;
		}
		PQfinish(pg->conn);
		pg->conn = NULL;
		return TA_UNAVAILABLE;
	}
	if (pg->is_down) {
		ta_log(TA_LOG_INFO, "db_reconnected",
		    "database connection restored", TA_S("host", c->host),
		    TA_I("port", c->port));
		pg->is_down = false;
	}
	return TA_OK;
}

/* Prepares every statement of the table on the current connection. */
static ta_status
pg_prepare_all(ta_pg *pg)
{
	char err[256];
	PGresult *res;

	/*
	 * After a partial prepare or SQLSTATE 26000 the session may still
	 * hold some of the statements, and preparing a name twice fails
	 * (42P05): start from none.
	 */
	res = PQexec(pg->conn, "DEALLOCATE ALL");
	PQclear(res);
	for (size_t i = 0; i < pg->n; i++) {
		ta_status status = TA_OK;

		res = PQprepare(
		    pg->conn, pg->stmts[i].name, pg->stmts[i].sql, 0, NULL);
		if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
			const char *ss =
			    res ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
			        : NULL;

			snprintf(pg->sqlstate, sizeof pg->sqlstate, "%s",
			    ss ? ss : "");
			status = PQstatus(pg->conn) == CONNECTION_BAD
			             ? TA_UNAVAILABLE
			             : status_of_sqlstate(ss);
			/* A statement of our own table that does not prepare
			 * is a bug or a missing migration: someone must act. */
			error_text(pg->conn, res, err, sizeof err);
			ta_log(status == TA_UNAVAILABLE ? TA_LOG_WARN
			                                : TA_LOG_ERROR,
			    "db_prepare_failed", "cannot prepare a statement",
			    TA_S("statement", pg->stmts[i].name),
			    TA_S("sqlstate", ss ? ss : ""), TA_S("error", err));
		}
		PQclear(res);
		if (status != TA_OK)
			return status;
	}
	pg->is_prepared = true;
	return TA_OK;
}

/* Connects and prepares when needed. */
static ta_status
pg_ready(ta_pg *pg)
{
	ta_status status;

	if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK) {
		if ((status = pg_connect(pg)) != TA_OK)
			return status;
	}
	if (!pg->is_prepared)
		return pg_prepare_all(pg);
	return TA_OK;
}

static void
log_query_failure(
    const ta_pg *pg, const char *stmt, ta_status status, const PGresult *res)
{
	const char *ss = pg->sqlstate;
	const char *constraint =
	    res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
	ta_log_level level = TA_LOG_INFO;
	char err[256] = "";

	/*
	 * Class 22 messages quote the offending input ("invalid input syntax
	 * for type integer: ..."), so they are left out: parameters are never
	 * logged. Class 23 primary messages name only the constraint.
	 */
	if (strncmp(ss, "22", 2) != 0)
		error_text(pg->conn, res, err, sizeof err);
	if (status == TA_UNAVAILABLE || status == TA_ABORTED)
		level = TA_LOG_WARN;
	else if (status == TA_INTERNAL)
		level = TA_LOG_ERROR;
	ta_log(level, "db_query_failed", "statement failed",
	    TA_S("statement", stmt), TA_S("sqlstate", ss),
	    TA_S("status", ta_status_name(status)),
	    TA_S("constraint", constraint), TA_S("error", err));
}

ta_status
ta_pg_exec(ta_pg *pg, size_t index, int nparams, const char *const *params,
    PGresult **out)
{
	const ta_pg_stmt *st;
	ta_status status;

	assert(index < pg->n);
	st = &pg->stmts[index];
	pg->sqlstate[0] = '\0';
	for (int attempt = 0;; attempt++) {
		PGresult *res;
		ExecStatusType rs;
		const char *ss;
		bool is_broken;

		if ((status = pg_ready(pg)) != TA_OK) {
			if (status == TA_UNAVAILABLE && !pg->sqlstate[0])
				snprintf(
				    pg->sqlstate, sizeof pg->sqlstate, "08006");
			return status;
		}
		res = PQexecPrepared(
		    pg->conn, st->name, nparams, params, NULL, NULL, 0);
		rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
		if (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK) {
			*out = res;
			return TA_OK;
		}
		ss = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		snprintf(pg->sqlstate, sizeof pg->sqlstate, "%s", ss ? ss : "");
		is_broken = PQstatus(pg->conn) == CONNECTION_BAD;
		if (is_broken) {
			/* The next pg_ready reconnects and re-prepares. */
			pg->is_prepared = false;
			if (!pg->sqlstate[0])
				snprintf(
				    pg->sqlstate, sizeof pg->sqlstate, "08006");
			if (st->is_read_only && attempt == 0) {
				ta_log(TA_LOG_INFO, "db_connection_lost",
				    "connection lost; retrying read-only "
				    "statement",
				    TA_S("statement", st->name),
				    TA_S("sqlstate", pg->sqlstate));
				PQclear(res);
				continue;
			}
			status = TA_UNAVAILABLE;
		} else if (strcmp(pg->sqlstate, "26000") == 0 && attempt == 0) {
			/* The statement is gone from the session (DISCARD, a
			 * pooler): it never ran, so any statement may be re-run
			 * after preparing again. */
			pg->is_prepared = false;
			PQclear(res);
			continue;
		} else if (rs != PGRES_FATAL_ERROR &&
		           rs != PGRES_NONFATAL_ERROR) {
			/* COPY, an empty query...: not for this API. */
			status = TA_INTERNAL;
		} else {
			status = status_of_sqlstate(pg->sqlstate);
		}
		log_query_failure(pg, st->name, status, res);
		PQclear(res);
		return status;
	}
}

ta_status
ta_pg_ping(ta_pg *pg)
{
	ta_status status;

	for (int attempt = 0; attempt < 2; attempt++) {
		PGresult *res;
		bool is_ok;

		if ((status = pg_ready(pg)) != TA_OK)
			return status;
		res = PQexec(pg->conn, "SELECT 1");
		is_ok = res && PQresultStatus(res) == PGRES_TUPLES_OK;
		PQclear(res);
		if (is_ok)
			return TA_OK;
		if (PQstatus(pg->conn) != CONNECTION_BAD)
			break;
		/* A connection that died while idle: reconnect once. */
		pg->is_prepared = false;
	}
	return TA_UNAVAILABLE;
}
