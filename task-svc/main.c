/*
 * task-svc: serves taskapi.v1.TaskService and Health over nng REP, one
 * PostgreSQL connection per serving thread. main only wires: config, log,
 * server, wait for SIGTERM/SIGINT, teardown. With --health-check
 * (liveness: the instance serves) or --ready-check (readiness: and its
 * database answers) it calls Health/Check on the local instance instead and
 * exits 0 or 1 (for container health checks, which have no curl).
 */
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nng/nng.h>
#include <sodium.h>

#include "config.h"
#include "cursor.h"
#include "health.h"
#include "stop.h"
#include "log.h"
#include "pg.h"
#include "rpc.h"
#include "rpc_auth.h"
#include "service.h"
#include "taskapi/v1/health.pb-c.h"
#include "tasks.h"

typedef struct task_cfg {
	const char *rpc_listen;
	long rpc_queue_limit;
	long drain_delay_s;
	long slow_call_ms;
	long page_max_bytes;
	const char *log_level;
	ta_db_cfg db;
	ta_rpc_auth_cfg rpc_auth;
} task_cfg;

static const ta_cfg_item cfg_items[] = {
    {"RPC_LISTEN", TA_CFG_STR, "tcp://0.0.0.0:7002", 1, 255, false, NULL,
        offsetof(task_cfg, rpc_listen)},
    {"LOG_LEVEL", TA_CFG_STR, "info", 0, 0, false, ta_log_levels,
        offsetof(task_cfg, log_level)},
    TA_CFG_DB_ITEMS(task_cfg, db),
    {"RPC_QUEUE_LIMIT", TA_CFG_INT, "64", 1, 65536, false, NULL,
        offsetof(task_cfg, rpc_queue_limit)},
    /* After SIGTERM: serve this long before closing (common/stop.h). */
    TA_CFG_DRAIN_ITEM(task_cfg, drain_delay_s),
    /* A call this slow is logged at info, others at debug (rpc.h). */
    TA_CFG_SLOW_CALL_ITEM(task_cfg, slow_call_ms),
    /* A ListTasks page ends before its JSON would pass this (README). */
    {"PAGE_MAX_BYTES", TA_CFG_INT, "1048576", 16384, 4194304, false, NULL,
        offsetof(task_cfg, page_max_bytes)},
    /* Callers prove they hold the internal key (common/rpc_auth.h). */
    TA_CFG_RPC_AUTH_ITEMS(task_cfg, rpc_auth),
};
#define CFG_N (sizeof cfg_items / sizeof cfg_items[0])

static void *
thread_init(void *app, int index)
{
	const task_app *a = app;
	ta_pg *pg = ta_pg_new(a->db, task_stmts, task_nstmts);

	(void)index;
	/* Connect now so the first calls don't pay for it; a failure is
	 * logged and retried on first use. */
	(void)ta_pg_ping(pg);
	return pg;
}

static void
thread_fini(void *state)
{
	ta_pg_free(state);
}

int
main(int argc, char **argv)
{
	task_cfg cfg;
	task_app app = {0};
	ta_log_level level = TA_LOG_INFO;
	ProtobufCService *services[2];
	ta_rpc_server_cfg scfg = {0};
	ta_rpc_server *server;
	ta_rpc_auth *rpc_auth;
	sigset_t sigs;

	ta_log_init("task-svc", TA_LOG_INFO);
	if (argc == 2 && (strcmp(argv[1], "--health-check") == 0 ||
			     strcmp(argv[1], "--ready-check") == 0)) {
		char err[256];

		/* Quiet: only the exit status matters to the caller. */
		ta_log_init("task-svc", TA_LOG_ERROR);
		if (ta_cfg_load(cfg_items, CFG_N, &cfg, err, sizeof err) !=
		    TA_OK) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		return ta_health_probe(cfg.rpc_listen,
		    strcmp(argv[1], "--ready-check") == 0
			? TA_HEALTH_READINESS
			: TA_HEALTH_LIVENESS);
	}
	if (argc > 1) {
		fprintf(stderr, "usage: %s [--health-check | --ready-check]\n",
		    argv[0]);
		return 2;
	}
	ta_cfg_load_or_exit(cfg_items, CFG_N, &cfg);
	(void)ta_log_level_parse(cfg.log_level, &level);
	ta_log_init("task-svc", level);
	rpc_auth = ta_rpc_auth_from_cfg_or_exit(&cfg.rpc_auth);
	if (sodium_init() < 0) {
		ta_log(TA_LOG_ERROR, "sodium_init_failed",
		    "libsodium cannot start");
		return 1;
	}
	app.db = &cfg.db;
	app.page_max_bytes = (size_t)cfg.page_max_bytes;
	/* Cursors are signed under their own key, derived from the RPC key
	 * (cursor.h): no secret of their own to deploy. */
	task_cursor_key_derive(cfg.rpc_auth.key, app.cursor_key);

	/* Block the stop signals before any thread starts, so that only
	 * sigwait below sees them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	services[0] = task_service();
	services[1] = ta_health_service("task-service");
	scfg.listen_url = cfg.rpc_listen;
	scfg.nthreads = (int)cfg.db.pool_size;
	scfg.queue_limit = (int)cfg.rpc_queue_limit;
	scfg.slow_call_ms = (int)cfg.slow_call_ms;
	scfg.services = services;
	scfg.nservices = 2;
	scfg.app = &app;
	scfg.thread_init = thread_init;
	scfg.thread_fini = thread_fini;
	scfg.auth = rpc_auth;
	if (ta_rpc_server_open(&scfg, &server) != TA_OK) {
		ta_log(TA_LOG_ERROR, "listen_failed", "cannot serve RPC",
		    TA_S("url", cfg.rpc_listen));
		return 1;
	}
	ta_log(TA_LOG_INFO, "started", "serving TaskService and Health",
	    TA_S("url", cfg.rpc_listen), TA_I("threads", scfg.nthreads));
	(void)ta_stop_wait(&sigs, cfg.drain_delay_s);
	ta_rpc_server_close(server);
	ta_rpc_auth_free(rpc_auth);
	sodium_memzero(app.cursor_key, sizeof app.cursor_key);
	nng_fini(); // drains nng's reaper: closed pipes are freed
	ta_log(TA_LOG_INFO, "stopped", "task-svc stopped");
	return 0;
}
