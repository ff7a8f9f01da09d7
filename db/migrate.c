/*
 * taskapi-migrate: applies MIGRATIONS_DIR/NNNN_name.sql in numeric order,
 * each once and each in its own transaction, recording version, name,
 * SHA-256 and time in schema_migrations. Forward only: a recorded migration
 * whose file changed stops the run before anything is applied.
 *
 * Design notes: one process, one connection. The whole run holds a
 * session-level advisory lock on a fixed key, so several copies (one per
 * starting ECS task) serialise and the later ones find nothing to do. The
 * lock dies with the session, also when the process is killed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "alloc.h"
#include "config.h"
#include "log.h"
#include "status.h"

#ifndef TA_MIGRATIONS_DIR
#define TA_MIGRATIONS_DIR "db/migrations"
#endif

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

typedef struct migrate_cfg {
	const char *db_host;
	long db_port;
	const char *db_name;
	const char *db_user;
	const char *db_password; /* secret */
	const char *db_sslmode;
	long connect_retry_s;
	const char *dir;
	const char *log_level;
} migrate_cfg;

static const char *const migrate_sslmodes[] = {
    "disable", "allow", "prefer", "require", "verify-ca", "verify-full", NULL};
static const char *const migrate_levels[] = {
    "debug", "info", "warn", "error", NULL};

static const ta_cfg_item migrate_cfg_items[] = {
    {"DB_HOST", TA_CFG_STR, "127.0.0.1", 1, 255, false, NULL,
        offsetof(migrate_cfg, db_host)},
    {"DB_PORT", TA_CFG_INT, "5432", 1, 65535, false, NULL,
        offsetof(migrate_cfg, db_port)},
    {"DB_NAME", TA_CFG_STR, "taskmanagement", 1, 63, false, NULL,
        offsetof(migrate_cfg, db_name)},
    {"DB_USER", TA_CFG_STR, "taskapi", 1, 63, false, NULL,
        offsetof(migrate_cfg, db_user)},
    {"DB_PASSWORD", TA_CFG_STR, "", 0, 0, true, NULL,
        offsetof(migrate_cfg, db_password)},
    {"DB_SSLMODE", TA_CFG_STR, "prefer", 0, 0, false, migrate_sslmodes,
        offsetof(migrate_cfg, db_sslmode)},
    {"DB_CONNECT_RETRY_S", TA_CFG_INT, "30", 0, 3600, false, NULL,
        offsetof(migrate_cfg, connect_retry_s)},
    {"MIGRATIONS_DIR", TA_CFG_STR, TA_MIGRATIONS_DIR, 1, 4096, false, NULL,
        offsetof(migrate_cfg, dir)},
    {"LOG_LEVEL", TA_CFG_STR, "info", 0, 0, false, migrate_levels,
        offsetof(migrate_cfg, log_level)},
};

#define MIGRATE_NCFG (sizeof migrate_cfg_items / sizeof migrate_cfg_items[0])

/* One migration file, and its schema_migrations row once loaded. */
typedef struct migration {
	long version;
	char *name; /* "initial_schema" */
	char *path;
	char *sql;
	char checksum[crypto_hash_sha256_BYTES * 2 + 1];
	bool is_applied;
	char *applied_checksum;
	char *applied_at;
} migration;

typedef struct migration_set {
	migration *v;
	size_t n;
} migration_set;

static void
usage(FILE *f)
{
	fputs("usage: taskapi-migrate [--status | --help]\n"
	      "  (no option)  apply the pending migrations of MIGRATIONS_DIR\n"
	      "  --status     list applied and pending migrations, change "
	      "nothing\n"
	      "Environment: DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD "
	      "DB_SSLMODE\n"
	      "  DB_CONNECT_RETRY_S (30) MIGRATIONS_DIR LOG_LEVEL (info)\n"
	      "Exit status: 0 done, 1 failed, 2 bad usage or configuration.\n",
	    f);
}

static void
set_free(migration_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->v[i].name);
		free(set->v[i].path);
		free(set->v[i].sql);
		free(set->v[i].applied_checksum);
		free(set->v[i].applied_at);
	}
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

/*
 * Splits "0002_user_role.sql" into 2 and "user_role". false for any other
 * shape: digits, one underscore, then [a-z0-9_]+, then ".sql".
 */
static bool
parse_file_name(const char *fname, long *version, char **name)
{
	const char *p = fname, *start;
	long v = 0;
	size_t len;

	while (*p >= '0' && *p <= '9' && p - fname < 9)
		v = v * 10 + (*p++ - '0');
	if (p == fname || *p != '_' || v == 0)
		return false;
	start = ++p;
	while (
	    (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')
		p++;
	len = (size_t)(p - start);
	if (len == 0 || strcmp(p, ".sql") != 0)
		return false;
	*version = v;
	*name = ta_xstrndup(start, len);
	return true;
}

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Reads the whole file; *out is NUL-terminated and owned by the caller. */
static ta_status
read_file(const char *path, char **out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, got;
	ta_status status = TA_OK;

	if (!f) {
		ta_log(TA_LOG_ERROR, "migration_read_failed", strerror(errno),
		    TA_S("path", path));
		return TA_NOT_FOUND;
	}
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = ta_xrealloc(buf, cap);
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
	} while (got > 0);
	if (ferror(f)) {
		ta_log(TA_LOG_ERROR, "migration_read_failed", "read error",
		    TA_S("path", path));
		free(buf);
		status = TA_INTERNAL;
		goto out;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		ta_log(TA_LOG_ERROR, "migration_read_failed",
		    "file contains a NUL byte", TA_S("path", path));
		free(buf);
		status = TA_INVALID_ARGUMENT;
		goto out;
	}
	*out = buf;
out:
	fclose(f);
	return status;
}

static int
cmp_version(const void *a, const void *b)
{
	const migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

/* Loads every NNNN_name.sql of dir, sorted by version, with checksums. */
static ta_status
scan_dir(const char *dir, migration_set *out)
{
	migration_set set = {0};
	size_t cap = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	ta_status status = TA_OK;

	if (!d) {
		ta_log(TA_LOG_ERROR, "migrations_dir_unreadable",
		    strerror(errno), TA_S("dir", dir));
		return TA_NOT_FOUND;
	}
	while (status == TA_OK && (e = readdir(d)) != NULL) {
		migration m = {0};
		unsigned char hash[crypto_hash_sha256_BYTES];

		if (!has_suffix(e->d_name, ".sql"))
			continue; // READMEs and the like may sit alongside
		if (!parse_file_name(e->d_name, &m.version, &m.name)) {
			ta_log(TA_LOG_ERROR, "migration_bad_name",
			    "a migration file must be named NNNN_name.sql "
			    "(name in [a-z0-9_])",
			    TA_S("file", e->d_name));
			status = TA_INVALID_ARGUMENT;
			break;
		}
		m.path = ta_xmalloc(strlen(dir) + strlen(e->d_name) + 2);
		sprintf(m.path, "%s/%s", dir, e->d_name);
		if ((status = read_file(m.path, &m.sql)) != TA_OK) {
			free(m.name);
			free(m.path);
			break;
		}
		crypto_hash_sha256(
		    hash, (const unsigned char *)m.sql, strlen(m.sql));
		sodium_bin2hex(
		    m.checksum, sizeof m.checksum, hash, sizeof hash);
		if (set.n == cap) {
			cap = cap ? cap * 2 : 16;
			set.v = ta_xrealloc(set.v, cap * sizeof *set.v);
		}
		set.v[set.n++] = m;
	}
	closedir(d);
	if (status == TA_OK)
		qsort(set.v, set.n, sizeof *set.v, cmp_version);
	for (size_t i = 1; status == TA_OK && i < set.n; i++) {
		if (set.v[i].version == set.v[i - 1].version) {
			ta_log(TA_LOG_ERROR, "migration_duplicate_version",
			    "two migration files share a version",
			    TA_I("version", set.v[i].version),
			    TA_S("file", set.v[i - 1].path),
			    TA_S("other", set.v[i].path));
			status = TA_INVALID_ARGUMENT;
		}
	}
	if (status == TA_OK)
		*out = set;
	else
		set_free(&set);
	return status;
}

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

/*
 * Connects, retrying once a second for up to cfg->connect_retry_s seconds:
 * the database may still be starting when the deploy runs this tool.
 */
static ta_status
connect_db(const migrate_cfg *cfg, PGconn **out)
{
	char port[16];
	/* libpq skips empty values: no DB_PASSWORD, no password sent */
	const char *keys[] = {"host", "port", "dbname", "user", "password",
	    "sslmode", "connect_timeout", "application_name", NULL};
	const char *vals[] = {cfg->db_host, port, cfg->db_name, cfg->db_user,
	    cfg->db_password, cfg->db_sslmode, "5", "taskapi-migrate", NULL};
	time_t deadline = time(NULL) + cfg->connect_retry_s;
	PGconn *conn;
	int attempt = 0;

	snprintf(port, sizeof port, "%ld", cfg->db_port);
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
			    TA_S("host", cfg->db_host),
			    TA_I("port", cfg->db_port),
			    TA_S("database", cfg->db_name),
			    TA_I("attempts", attempt));
			return TA_UNAVAILABLE;
		}
		ta_log(TA_LOG_WARN, "db_connect_retry", err,
		    TA_S("host", cfg->db_host), TA_I("port", cfg->db_port),
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

static migration *
set_find(migration_set *set, long version)
{
	migration key = {.version = version};

	return bsearch(&key, set->v, set->n, sizeof *set->v, cmp_version);
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
		migration *m = set_find(set, version);

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
static ta_status
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
static ta_status
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

int
main(int argc, char **argv)
{
	migrate_cfg cfg;
	migration_set set = {0};
	PGconn *conn = NULL;
	ta_log_level level;
	bool is_status = false;
	char err[256];
	ta_status status;

	if (argc > 2) {
		usage(stderr);
		return 2;
	}
	if (argc == 2) {
		if (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[1], "--status") != 0) {
			usage(stderr);
			return 2;
		}
		is_status = true;
	}
	ta_log_init("taskapi-migrate", TA_LOG_INFO);
	if (ta_cfg_load(migrate_cfg_items, MIGRATE_NCFG, &cfg, err,
	        sizeof err) != TA_OK) {
		ta_log(TA_LOG_ERROR, "config_invalid", err);
		return 2;
	}
	if (!ta_log_level_parse(cfg.log_level, &level))
		level = TA_LOG_INFO; // unreachable: the table lists choices
	ta_log_init("taskapi-migrate", level);
	ta_cfg_log(migrate_cfg_items, MIGRATE_NCFG, &cfg);
	if (sodium_init() < 0) {
		ta_log(TA_LOG_ERROR, "sodium_init_failed",
		    "libsodium could not initialise");
		return 1;
	}
	if ((status = scan_dir(cfg.dir, &set)) != TA_OK)
		goto out;
	if ((status = connect_db(&cfg, &conn)) != TA_OK)
		goto out;
	status =
	    is_status ? migrate_status(conn, &set) : migrate_up(conn, &set);
out:
	PQfinish(conn);
	set_free(&set);
	return status == TA_OK ? 0 : 1;
}
