/*
 * auth-svc: wires configuration, logging, libsodium, the AuthService and
 * Health services and the RPC server, then waits for SIGTERM or SIGINT.
 * With --health-check it instead asks the running instance's Health/Check
 * for liveness and exits 0 when it answers (the container health check);
 * --ready-check also needs its database to answer.
 */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <nng/nng.h>

#include "config.h"
#include "health.h"
#include "stop.h"
#include "log.h"
#include "login_limits.h"
#include "pg.h"
#include "rpc.h"
#include "rpc_auth.h"
#include "service.h"
#include "sessions.h"
#include "taskapi/v1/health.pb-c.h"
#include "users.h"


typedef struct auth_cfg {
	const char *rpc_listen;
	long rpc_queue_limit;
	long drain_delay_s;
	long slow_call_ms;
	ta_db_cfg db;
	const char *jwt_secret;
	const char *jwt_secret_previous;
	const char *jwt_issuer;
	const char *jwt_audience;
	long jwt_expiration;
	long refresh_ttl_s;
	const char *log_level;
	long hash_concurrency;
	long argon2_memory_kib;
	long argon2_ops;
	auth_limit_cfg limits;
	ta_rpc_auth_cfg rpc_auth;
} auth_cfg;

static const ta_cfg_item cfg_items[] = {
    {"RPC_LISTEN", TA_CFG_STR, "tcp://0.0.0.0:7001", 1, 255, false, NULL,
        offsetof(auth_cfg, rpc_listen)},
    TA_CFG_DB_ITEMS(auth_cfg, db),
    {"RPC_QUEUE_LIMIT", TA_CFG_INT, "64", 1, 65536, false, NULL,
        offsetof(auth_cfg, rpc_queue_limit)},
    /* After SIGTERM: serve this long before closing (common/stop.h). */
    TA_CFG_DRAIN_ITEM(auth_cfg, drain_delay_s),
    /* A call this slow is logged at info, others at debug (rpc.h). */
    TA_CFG_SLOW_CALL_ITEM(auth_cfg, slow_call_ms),
    {"JWT_SECRET", TA_CFG_STR, NULL, 32, 4096, true, NULL,
        offsetof(auth_cfg, jwt_secret)},
    /* Rotation: still verifies tokens, never signs (docs/tokens.md). */
    {"JWT_SECRET_PREVIOUS", TA_CFG_STR, "", 0, 4096, true, NULL,
        offsetof(auth_cfg, jwt_secret_previous)},
    {"JWT_ISSUER", TA_CFG_STR, "taskapi", 1, 255, false, NULL,
        offsetof(auth_cfg, jwt_issuer)},
    {"JWT_AUDIENCE", TA_CFG_STR, "taskapi", 1, 255, false, NULL,
        offsetof(auth_cfg, jwt_audience)},
    {"JWT_EXPIRATION", TA_CFG_INT, "3600", 60, 2592000, false, NULL,
        offsetof(auth_cfg, jwt_expiration)},
    /* Refresh tokens (docs/sessions.md): 30 days by default. */
    {"REFRESH_TTL_S", TA_CFG_INT, "2592000", 60, 31622400, false, NULL,
        offsetof(auth_cfg, refresh_ttl_s)},
    {"LOG_LEVEL", TA_CFG_STR, "info", 0, 0, false, ta_log_levels,
        offsetof(auth_cfg, log_level)},
    {"HASH_CONCURRENCY", TA_CFG_INT, "2", 1, 64, false, NULL,
        offsetof(auth_cfg, hash_concurrency)},
    {"ARGON2_MEMORY_KIB", TA_CFG_INT, "19456", 8192, 1048576, false, NULL,
        offsetof(auth_cfg, argon2_memory_kib)},
    {"ARGON2_OPS", TA_CFG_INT, "2", 1, 10, false, NULL,
        offsetof(auth_cfg, argon2_ops)},
    /* Failed logins (docs/login-limits.md). */
    {"LOGIN_FAILURE_LIMIT", TA_CFG_INT, "10", 1, 1000, false, NULL,
        offsetof(auth_cfg, limits.pair_limit)},
    {"LOGIN_ACCOUNT_FAILURE_LIMIT", TA_CFG_INT, "100", 0, 1000000, false, NULL,
        offsetof(auth_cfg, limits.account_limit)},
    {"LOGIN_LOCKOUT_BASE_S", TA_CFG_INT, "1", 1, 3600, false, NULL,
        offsetof(auth_cfg, limits.base_s)},
    {"LOGIN_LOCKOUT_MAX_S", TA_CFG_INT, "900", 1, 86400, false, NULL,
        offsetof(auth_cfg, limits.max_s)},
    /* Callers prove they hold the internal key (common/rpc_auth.h). */
    TA_CFG_RPC_AUTH_ITEMS(auth_cfg, rpc_auth),
};

/* auth_user_stmts, auth_limit_stmts, auth_session_stmts: one table. */
static ta_pg_stmt all_stmts[AUTH_SESSION_SQL_END];

static void *
thread_init(void *app, int index)
{
	const auth_app *a = app;

	(void)index;
	return ta_pg_new(a->db, all_stmts, AUTH_SESSION_SQL_END);
}

static void
thread_fini(void *thread_state)
{
	ta_pg_free(thread_state);
}

/* --health-check / --ready-check: RPC_LISTEN alone decides where to probe. */
static int
health_check(ta_health_mode mode)
{
	auth_cfg cfg = {0};
	char err[256];

	if (ta_cfg_load(cfg_items, 1, &cfg, err, sizeof err) != TA_OK) {
		ta_log(TA_LOG_ERROR, "health_check_failed", err);
		return 1;
	}
	return ta_health_probe(cfg.rpc_listen, mode);
}

int
main(int argc, char **argv)
{
	auth_cfg cfg = {0};
	auth_app app;
	auth_pw_params pw;
	ta_jwt_cfg jwt;
	char err[256];
	ta_log_level level = TA_LOG_INFO;
	ProtobufCService *services[2];
	ta_rpc_server_cfg scfg = {0};
	ta_rpc_server *server = NULL;
	ta_rpc_auth *rpc_auth;
	sigset_t stop_signals;

	ta_log_init("auth-svc", TA_LOG_INFO);
	if (argc == 2 && strcmp(argv[1], "--health-check") == 0)
		return health_check(TA_HEALTH_LIVENESS);
	if (argc == 2 && strcmp(argv[1], "--ready-check") == 0)
		return health_check(TA_HEALTH_READINESS);
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--health-check | --ready-check]\n",
		    argv[0]);
		return 2;
	}
	ta_cfg_load_or_exit(
	    cfg_items, sizeof cfg_items / sizeof cfg_items[0], &cfg);
	ta_log_level_parse(cfg.log_level, &level); // checked by the table
	ta_log_init("auth-svc", level);
	if (sodium_init() < 0) {
		ta_log(TA_LOG_ERROR, "startup_failed", "libsodium init failed");
		return 1;
	}
	ta_jwt_cfg_init(&jwt, cfg.jwt_secret, cfg.jwt_secret_previous,
	    cfg.jwt_issuer, cfg.jwt_audience);
	if (ta_jwt_cfg_check(&jwt, err, sizeof err) != TA_OK) {
		ta_log(TA_LOG_ERROR, "config_invalid", err);
		return 2;
	}
	rpc_auth = ta_rpc_auth_from_cfg_or_exit(&cfg.rpc_auth);
	if (rpc_auth && strcmp(cfg.rpc_auth.key, cfg.jwt_secret) == 0) {
		ta_log(TA_LOG_ERROR, "config_invalid",
		    "RPC_AUTH_KEY must differ from JWT_SECRET");
		return 2;
	}
	pw.ops = (unsigned long long)cfg.argon2_ops;
	pw.mem_bytes = (size_t)cfg.argon2_memory_kib * 1024u;
	if (auth_app_init(&app, &pw, (unsigned)cfg.hash_concurrency, &jwt,
	        cfg.jwt_expiration) != TA_OK) {
		ta_log(TA_LOG_ERROR, "startup_failed",
		    "could not set up password hashing");
		return 1;
	}
	app.db = &cfg.db;
	app.limits = cfg.limits;
	memcpy(all_stmts, auth_user_stmts, sizeof auth_user_stmts);
	memcpy(all_stmts + AUTH_SQL_COUNT, auth_limit_stmts,
	    sizeof auth_limit_stmts);
	memcpy(all_stmts + AUTH_ALL_SQL_COUNT, auth_session_stmts,
	    sizeof auth_session_stmts);
	app.refresh_ttl_s = cfg.refresh_ttl_s;

	/* Blocked before nng or the server start threads: all inherit it. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

	services[0] = auth_service();
	services[1] = ta_health_service("auth-service");
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
		auth_app_fini(&app);
		return 1; // logged by the server
	}
	ta_log(TA_LOG_INFO, "started", "auth-svc serving",
	    TA_S("url", cfg.rpc_listen), TA_I("threads", scfg.nthreads));

	(void)ta_stop_wait(&stop_signals, cfg.drain_delay_s);
	ta_rpc_server_close(server);
	auth_app_fini(&app);
	ta_rpc_auth_free(rpc_auth);
	nng_fini(); // drains nng's reaper: closed pipes are freed
	ta_log(TA_LOG_INFO, "stopped", "auth-svc stopped");
	return 0;
}
