/*
 * Applying a migration set to a database: the whole run under one
 * session-level advisory lock, each migration in its own transaction and
 * recorded with its checksum in schema_migrations; and the read-only
 * status listing.
 */
#ifndef TA_DB_MIGRATE_APPLY_H
#define TA_DB_MIGRATE_APPLY_H

#include <libpq-fe.h>

#include "migrate_scan.h"
#include "pg.h"
#include "status.h"

/*
 * Connects to db (borrowed) as "taskapi-migrate", retrying once a second
 * for up to retry_s seconds: the database may still be starting when the
 * deploy runs the tool. *out is the caller's (PQfinish). TA_UNAVAILABLE
 * when no attempt connected.
 */
ta_status migrate_db_open(const ta_db_cfg *db, long retry_s, PGconn **out);

/*
 * Applies the migrations of set (borrowed; its applied state is filled in)
 * that schema_migrations does not list, in order, under the advisory lock.
 * A recorded migration whose file changed stops the run before anything
 * is applied; a failed statement rolls its migration back and stops.
 */
ta_status migrate_up(PGconn *conn, migration_set *set);

/* Logs each migration of set as applied or pending; changes nothing. */
ta_status migrate_status(PGconn *conn, migration_set *set);

#endif
