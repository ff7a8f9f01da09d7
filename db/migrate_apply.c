/*
 * Applies a migration set under the advisory lock, and lists its state
 * (migrate_apply.h).
 *
 * Design notes: one process, one connection. The whole run holds a
 * session-level advisory lock on a fixed key, so several copies (one per
 * starting ECS task) serialise and the later ones find nothing to do. The
 * lock dies with the session, also when the process is killed.
 */
#include "migrate_apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "log.h"

/* "taskapi" read as a big-endian integer: the key every copy locks. */
#define MIGRATE_LOCK_KEY "32758245649117289"

#define MIGRATE_SQL_TABLE                                                      \
	"CREATE TABLE IF NOT EXISTS schema_migrations ("                       \
	" version integer PRIMARY KEY,"                                        \
	" name text NOT NULL,"                                                 \
	" checksum text NOT NULL," /* SHA-256 of the file, hex */              \
	" applied_at timestamptz NOT NULL DEFAULT now())"

#define MIGRATE_SQL_APPLIED                                                    \
	"SELECT version, name, checksum,"                                      \
	" to_char(applied_at AT TIME ZONE 'UTC',"                              \
	" 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"                                   \
	" FROM schema_migrations ORDER BY version"

#define MIGRATE_SQL_RECORD                                                     \
	"INSERT INTO schema_migrations (version, name, checksum)"              \
	" VALUES ($1::integer, $2, $3)"

/* libpq's messages span lines ("...failed\n\tIs the server running"). */
static void
one_line(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		if (*r == '\n' || *r == '\r' || *r == '\t') {
			if (w > s && w[-1] != ' ')
				*w++ = ' ';
		} else {
			*w++ = *r;
		}
	}
	while (w > s && w[-1] == ' ')
		w--;
	*w = '\0';
}

static void
log_notice(void *arg, const char *message)
{
	char buf[512];

	(void)arg;
	snprintf(buf, sizeof buf, "%s", message);
	one_line(buf);
	ta_log(TA_LOG_DEBUG, "db_notice", buf);
}

ta_status
migrate_db_open(const ta_db_cfg *db, long retry_s, PGconn **out)
{
	char port[16];
	/* libpq skips empty values: no DB_PASSWORD, no password sent */
	const char *keys[] = {"host", "port", "dbname", "user", "password",
	    "sslmode", "connect_timeout", "application_name", NULL};
	const char *vals[] = {db->host, port, db->name, db->user, db->password,
	    db->sslmode, "5", "taskapi-migrate", NULL};
	time_t deadline = time(NULL) + retry_s;
	PGconn *conn;
	int attempt = 0;

	snprintf(port, sizeof port, "%ld", db->port);
	for (;;) {
		char err[512];

		attempt++;
		conn = PQconnectdbParams(keys, vals, 0);
		if (conn && PQstatus(conn) == CONNECTION_OK)
			break;
		snprintf(err, sizeof err, "%s",
		    conn ? PQerrorMessage(conn) : "out of memory");
		one_line(err);
		PQfinish(conn);
		if (time(NULL) >= deadline) {
			ta_log(TA_LOG_ERROR, "db_connect_failed", err,
			    TA_S("host", db->host), TA_I("port", db->port),
			    TA_S("database", db->name),
			    TA_I("attempts", attempt));
			return TA_UNAVAILABLE;
		}
		ta_log(TA_LOG_WARN, "db_connect_retry", err,
		    TA_S("host", db->host), TA_I("port", db->port),
		    TA_I("attempt", attempt));
		nanosleep(&(struct timespec){.tv_sec = 1}, NULL);
	}
	PQsetNoticeProcessor(conn, log_notice, NULL);
	*out = conn;
	return TA_OK;
}

/* Logs a failed result once, with its SQLSTATE; what says what failed. */
static void
log_result_error(const PGresult *res, const PGconn *conn, const char *event,
    const char *what, long version)
{
	const char *state =
	    res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary =
	    res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char msg[512];

	snprintf(msg, sizeof msg, "%s: %s", what,
	    primary ? primary : PQerrorMessage(conn));
	one_line(msg);
	if (version > 0)
		ta_log(TA_LOG_ERROR, event, msg, TA_I("version", version),
		    TA_S("sqlstate", state ? state : ""));
	else
		ta_log(TA_LOG_ERROR, event, msg,
		    TA_S("sqlstate", state ? state : ""));
}

/* Runs sql (no parameters); on success *out holds the result if wanted. */
static ta_status
exec_sql(PGconn *conn, const char *sql, const char *what, PGresult **out)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		log_result_error(res, conn, "db_query_failed", what, 0);
		PQclear(res);
		return TA_UNAVAILABLE;
	}
	if (out)
		*out = res;
	else
		PQclear(res);
	return TA_OK;
}

/*
 * Marks the migrations recorded in schema_migrations as applied, keeping
 * their recorded checksum and time. Recorded versions without a file are
 * counted in *orphans and logged (an older image run against a newer
 * database: nothing to do for it, and nothing to undo).
 */
static ta_status
load_applied(
    PGconn *conn, migration_set *set, bool is_table_known, size_t *orphans)
{
	PGresult *res = NULL;
	ta_status status;

	*orphans = 0;
	if (!is_table_known) {
		if ((status = exec_sql(conn,
		         "SELECT to_regclass('schema_migrations') IS NOT NULL",
		         "checking for schema_migrations", &res)) != TA_OK)
			return status;
		is_table_known = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
		if (!is_table_known)
			return TA_OK; // nothing applied yet
	}
	if ((status = exec_sql(conn, MIGRATE_SQL_APPLIED,
	         "reading schema_migrations", &res)) != TA_OK)
		return status;
	for (int r = 0; r < PQntuples(res); r++) {
		long version = strtol(PQgetvalue(res, r, 0), NULL, 10);
		migration *m = migrate_set_find(set, version);

		if (!m) {
			ta_log(TA_LOG_WARN, "migration_file_missing",
			    "a recorded migration has no file in "
			    "MIGRATIONS_DIR",
			    TA_I("version", version),
			    TA_S("name", PQgetvalue(res, r, 1)));
			(*orphans)++;
			continue;
		}
		m->is_applied = true;
		m->applied_checksum = ta_xstrdup(PQgetvalue(res, r, 2));
		m->applied_at = ta_xstrdup(PQgetvalue(res, r, 3));
	}
	PQclear(res);
	return TA_OK;
}

/* Forward only: an applied migration's file must not have changed. */
static ta_status
check_checksums(const migration_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		const migration *m = &set->v[i];
		char msg[256];

		if (!m->is_applied ||
		    strcmp(m->checksum, m->applied_checksum) == 0)
			continue;
		snprintf(msg, sizeof msg,
		    "migration %04ld_%s was changed after it was applied "
		    "(checksum differs); migrations are forward-only: restore "
		    "the file and add a new migration",
		    m->version, m->name);
		ta_log(TA_LOG_ERROR, "migration_checksum_mismatch", msg,
		    TA_I("version", m->version), TA_S("name", m->name),
		    TA_S("recorded", m->applied_checksum),
		    TA_S("file", m->checksum));
		return TA_FAILED_PRECONDITION;
	}
	return TA_OK;
}

/* BEGIN; the file; the schema_migrations row; COMMIT. */
static ta_status
apply_one(PGconn *conn, const migration *m)
{
	char version[24];
	const char *params[3] = {version, m->name, m->checksum};
	struct timespec t0, t1;
	PGresult *res;
	ta_status status;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	snprintf(version, sizeof version, "%ld", m->version);
	if ((status = exec_sql(
	         conn, "BEGIN", "starting a transaction", NULL)) != TA_OK)
		return status;
	res = PQexec(conn, m->sql);
	if (!res || PQresultStatus(res) == PGRES_FATAL_ERROR ||
	    PQresultStatus(res) == PGRES_BAD_RESPONSE ||
	    PQresultStatus(res) == PGRES_NONFATAL_ERROR) {
		log_result_error(
		    res, conn, "migration_failed", m->name, m->version);
		status = TA_ABORTED;
		goto rollback;
	}
	/*
	 * A file that ended the transaction itself has committed outside the
	 * tool's control: report it and leave it unrecorded.
	 */
	if (PQtransactionStatus(conn) != PQTRANS_INTRANS) {
		ta_log(TA_LOG_ERROR, "migration_failed",
		    "a migration must not contain COMMIT or ROLLBACK",
		    TA_I("version", m->version), TA_S("name", m->name));
		status = TA_FAILED_PRECONDITION;
		goto rollback;
	}
	PQclear(res);
	res = PQexecParams(
	    conn, MIGRATE_SQL_RECORD, 3, NULL, params, NULL, NULL, 0);
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		log_result_error(res, conn, "migration_failed",
		    "recording the migration", m->version);
		status = TA_ABORTED;
		goto rollback;
	}
	PQclear(res);
	if ((status = exec_sql(conn, "COMMIT", "committing", NULL)) != TA_OK)
		return status;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ta_log(TA_LOG_INFO, "migration_applied", "migration applied",
	    TA_I("version", m->version), TA_S("name", m->name),
	    TA_S("checksum", m->checksum),
	    TA_I("duration_ms", (t1.tv_sec - t0.tv_sec) * 1000 +
	                            (t1.tv_nsec - t0.tv_nsec) / 1000000));
	return TA_OK;
rollback:
	PQclear(res);
	if (PQtransactionStatus(conn) != PQTRANS_IDLE)
		PQclear(PQexec(conn, "ROLLBACK"));
	return status;
}

/* Applies every pending migration under the advisory lock. */
ta_status
migrate_up(PGconn *conn, migration_set *set)
{
	PGresult *res = NULL;
	size_t orphans, applied = 0;
	ta_status status;

	if ((status = exec_sql(conn,
	         "SELECT pg_try_advisory_lock(" MIGRATE_LOCK_KEY ")",
	         "taking the migration lock", &res)) != TA_OK)
		return status;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		ta_log(TA_LOG_INFO, "migrations_lock_wait",
		    "another taskapi-migrate is running; waiting for it");
		status = exec_sql(conn,
		    "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")",
		    "waiting for the migration lock", NULL);
	}
	PQclear(res);
	if (status != TA_OK)
		return status;
	if ((status = exec_sql(conn, MIGRATE_SQL_TABLE,
	         "creating schema_migrations", NULL)) != TA_OK ||
	    (status = load_applied(conn, set, true, &orphans)) != TA_OK ||
	    (status = check_checksums(set)) != TA_OK)
		goto out;
	for (size_t i = 0; i < set->n && status == TA_OK; i++) {
		if (set->v[i].is_applied)
			continue;
		if ((status = apply_one(conn, &set->v[i])) == TA_OK)
			applied++;
	}
	if (status != TA_OK)
		goto out;
	if (applied == 0)
		ta_log(TA_LOG_INFO, "migrations_up_to_date",
		    "no pending migrations", TA_I("applied", set->n));
	else
		ta_log(TA_LOG_INFO, "migrations_done",
		    "pending migrations applied", TA_I("new", applied),
		    TA_I("applied", set->n));
out:
	PQclear(
	    PQexec(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
	return status;
}

static const char *
state_of(const migration *m)
{
	if (!m->is_applied)
		return "pending";
	if (strcmp(m->checksum, m->applied_checksum) != 0)
		return "changed";
	return "applied";
}

/* One line per migration: applied (with time), pending or changed. */
ta_status
migrate_status(PGconn *conn, migration_set *set)
{
	size_t orphans, pending = 0;
	ta_status status;

	if ((status = load_applied(conn, set, false, &orphans)) != TA_OK)
		return status;
	for (size_t i = 0; i < set->n; i++) {
		const migration *m = &set->v[i];
		const char *state = state_of(m);

		pending += !m->is_applied;
		ta_log(TA_LOG_INFO, "migration_status", state,
		    TA_I("version", m->version), TA_S("name", m->name),
		    TA_S("state", state), TA_S("applied_at", m->applied_at));
	}
	ta_log(TA_LOG_INFO, "migrations_status", "migration status",
	    TA_I("applied", set->n - pending), TA_I("pending", pending),
	    TA_I("unknown_recorded", orphans));
	return TA_OK;
}
