/*
 * taskapi-migrate: applies MIGRATIONS_DIR/NNNN_name.sql in numeric order,
 * each once and each in its own transaction, recording version, name,
 * SHA-256 and time in schema_migrations. Forward only: a recorded migration
 * whose file changed stops the run before anything is applied. This file
 * only wires configuration, the scan (migrate_scan.c) and the run
 * (migrate_apply.c).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "config.h"
#include "log.h"
#include "migrate_apply.h"
#include "migrate_scan.h"
#include "pg.h"
#include "status.h"

#ifndef TA_MIGRATIONS_DIR
#define TA_MIGRATIONS_DIR "db/migrations"
#endif

typedef struct migrate_cfg {
	ta_db_cfg db; /* DB_POOL_SIZE is read but unused: one connection */
	long connect_retry_s;
	const char *dir;
	const char *log_level;
} migrate_cfg;

static const ta_cfg_item migrate_cfg_items[] = {
    TA_CFG_DB_ITEMS(migrate_cfg, db),
    {"DB_CONNECT_RETRY_S", TA_CFG_INT, "30", 0, 3600, false, NULL,
        offsetof(migrate_cfg, connect_retry_s)},
    {"MIGRATIONS_DIR", TA_CFG_STR, TA_MIGRATIONS_DIR, 1, 4096, false, NULL,
        offsetof(migrate_cfg, dir)},
    {"LOG_LEVEL", TA_CFG_STR, "info", 0, 0, false, ta_log_levels,
        offsetof(migrate_cfg, log_level)},
};

#define MIGRATE_NCFG (sizeof migrate_cfg_items / sizeof migrate_cfg_items[0])

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
	if ((status = migrate_set_scan(cfg.dir, &set)) != TA_OK)
		goto out;
	if ((status = migrate_db_open(&cfg.db, cfg.connect_retry_s, &conn)) !=
	    TA_OK)
		goto out;
	status =
	    is_status ? migrate_status(conn, &set) : migrate_up(conn, &set);
out:
	PQfinish(conn);
	migrate_set_free(&set);
	return status == TA_OK ? 0 : 1;
}
