/*
 * PostgreSQL connection of one worker thread: prepared statements from a
 * table, SQLSTATE translated to ta_status once, reconnection after the
 * server dropped the connection. One ta_pg per thread, never shared.
 */
#ifndef TA_COMMON_PG_H
#define TA_COMMON_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "civil_time.h"
#include "config.h"
#include "status.h"

typedef struct ta_db_cfg {
	const char *host;
	long port;
	const char *name;
	const char *user;
	const char *password;	/* secret */
	const char *sslmode;
	long pool_size;		/* DB_POOL_SIZE: worker threads */
} ta_db_cfg;

extern const char *const ta_db_sslmodes[];

/* The DB_* rows of a process's configuration table; member is a ta_db_cfg. */
#define TA_CFG_DB_ITEMS(type, member)                                          \
	{"DB_HOST", TA_CFG_STR, "127.0.0.1", 1, 255, false, NULL,              \
	    offsetof(type, member.host)},                                      \
	    {"DB_PORT", TA_CFG_INT, "5432", 1, 65535, false, NULL,             \
		offsetof(type, member.port)},                                  \
	    {"DB_NAME", TA_CFG_STR, "taskmanagement", 1, 63, false, NULL,      \
		offsetof(type, member.name)},                                  \
	    {"DB_USER", TA_CFG_STR, "taskapi", 1, 63, false, NULL,             \
		offsetof(type, member.user)},                                  \
	    {"DB_PASSWORD", TA_CFG_STR, "", 0, 0, true, NULL,                  \
		offsetof(type, member.password)},                              \
	    {"DB_SSLMODE", TA_CFG_STR, "prefer", 0, 0, false, ta_db_sslmodes,  \
		offsetof(type, member.sslmode)},                               \
	{                                                                      \
		"DB_POOL_SIZE", TA_CFG_INT, "4", 1, 64, false, NULL,           \
		    offsetof(type, member.pool_size)                           \
	}

/* A prepared statement: a row of a worker's statement table. */
typedef struct ta_pg_stmt {
	const char *name;
	const char *sql;
	bool is_read_only;	/* safe to re-run after a reconnect */
} ta_pg_stmt;

typedef struct ta_pg ta_pg;

/*
 * A connection handle for cfg (borrowed, must outlive it) and the statement
 * table stmts (borrowed). Connects lazily: the first ta_pg_exec or
 * ta_pg_ping connects. The session runs with TimeZone=UTC.
 */
ta_pg *ta_pg_new(const ta_db_cfg *cfg, const ta_pg_stmt *stmts, size_t n);
void ta_pg_free(ta_pg *pg);

/*
 * Runs stmts[index] with nparams text parameters (NULL is SQL NULL). On
 * TA_OK *out holds the result (tuples or command) and the caller PQclears
 * it. A broken connection is reset (statements re-prepared) and the
 * statement retried once if it is_read_only; otherwise TA_UNAVAILABLE.
 * SQLSTATE 23505 -> TA_ALREADY_EXISTS, 23503 -> TA_FAILED_PRECONDITION,
 * 22xxx/23514 -> TA_INVALID_ARGUMENT, 40001/40P01 -> TA_ABORTED,
 * 08xxx/57P0x -> TA_UNAVAILABLE, others TA_INTERNAL. Failures are logged
 * here (event "db_query_failed", with sqlstate; never parameters).
 */
ta_status ta_pg_exec(ta_pg *pg, size_t index, int nparams,
    const char *const *params, PGresult **out);

/* Runs a cheap query; TA_UNAVAILABLE when the database is unreachable. */
ta_status ta_pg_ping(ta_pg *pg);

/* SQLSTATE of the last failed ta_pg_exec ("" if none). */
const char *ta_pg_last_sqlstate(const ta_pg *pg);

/*
 * Parses PostgreSQL's text form of a timestamp (with or without zone, the
 * session being UTC) into unix seconds and nanoseconds. false when it does
 * not parse.
 */
bool ta_pg_parse_timestamp(const char *text, int64_t *seconds, int32_t *nanos);

/* The range RFC 3339 can write (civil_time.h). */
#define TA_PG_TS_MIN TA_CIVIL_SECONDS_MIN
#define TA_PG_TS_MAX TA_CIVIL_SECONDS_MAX

typedef enum ta_pg_ts_fit {
	TA_PG_TS_EXACT,   /* parsed as is */
	TA_PG_TS_CLAMPED, /* beyond RFC 3339's range: clamped into it */
	TA_PG_TS_INVALID, /* not a timestamp's text; out-params untouched */
} ta_pg_ts_fit;

/*
 * ta_pg_parse_timestamp, except that a value PostgreSQL can hold but RFC
 * 3339 cannot write ('infinity', a year past 9999 such as "12000-01-01
 * 00:00:00", '-infinity', a year BC) is clamped to TA_PG_TS_MAX +
 * .999999 s or TA_PG_TS_MIN and reported as TA_PG_TS_CLAMPED, so one such
 * row does not make a whole result unreadable (the caller logs it).
 */
ta_pg_ts_fit ta_pg_timestamp_clamped(
    const char *text, int64_t *seconds, int32_t *nanos);

/* Formats unix seconds and nanos as "YYYY-MM-DD HH:MM:SS.ffffff+00". */
void ta_pg_format_timestamp(int64_t seconds, int32_t nanos, char *buf,
    size_t cap);

#endif
