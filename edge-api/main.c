/*
 * edge-api: wires configuration, logging, the route table, CORS, the RPC
 * clients of both workers and the HTTP server, runs until SIGTERM/SIGINT,
 * then tears down in reverse.
 */
#include <signal.h>
#include <time.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <nng/nng.h>

#include "config.h"
#include "cors.h"
#include "http.h"
#include "revocation_poll.h"
#include "jwt.h"
#include "listen.h"
#include "conn_limits.h"
#include "log.h"
#include "metrics.h"
#include "routes.h"
#include "rpc.h"

#define ITEM(name, type, def, min, max, secret, choices, member)               \
	{                                                                      \
		name, type, def, min, max, secret, choices,                    \
		    offsetof(edge_cfg, member)                                 \
	}

static const ta_cfg_item cfg_items[] = {
    ITEM("PORT", TA_CFG_INT, "8080", 1, 65535, false, NULL, port),
    /* A literal address; "::": IPv6 and IPv4 (listen.h). */
    ITEM("HTTP_LISTEN_ADDRESS", TA_CFG_STR, "::", 1, 64, false, NULL,
        http_listen_address),
    ITEM("AUTH_RPC_URL", TA_CFG_STR, "tcp://127.0.0.1:7001", 1, 4096, false,
        NULL, auth_rpc_url),
    ITEM("TASK_RPC_URL", TA_CFG_STR, "tcp://127.0.0.1:7002", 1, 4096, false,
        NULL, task_rpc_url),
    ITEM("JWT_SECRET", TA_CFG_STR, NULL, 32, 4096, true, NULL, jwt_secret),
    /* Rotation: still verifies tokens, never signs (docs/tokens.md). */
    ITEM("JWT_SECRET_PREVIOUS", TA_CFG_STR, "", 0, 4096, true, NULL,
        jwt_secret_previous),
    ITEM("JWT_ISSUER", TA_CFG_STR, "taskapi", 1, 255, false, NULL, jwt_issuer),
    ITEM("JWT_AUDIENCE", TA_CFG_STR, "taskapi", 1, 255, false, NULL,
        jwt_audience),
    ITEM("RPC_TIMEOUT_MS", TA_CFG_INT, "5000", 100, 60000, false, NULL,
        rpc_timeout_ms),
    ITEM("MAX_BODY_BYTES", TA_CFG_INT, "1048576", 1024, 67108864, false, NULL,
        max_body_bytes),
    /* Empty: CORS off. Unbounded length, so "" is accepted. */
    ITEM("CORS_ALLOWED_ORIGINS", TA_CFG_STR, "", 0, 0, false, NULL,
        cors_allowed_origins),
    ITEM("LOG_LEVEL", TA_CFG_STR, "info", 0, 0, false, ta_log_levels,
        log_level),
    ITEM("HTTP_THREADS", TA_CFG_INT, "2", 1, 64, false, NULL, http_threads),
    /* How often the backends' names are resolved again (Cloud Map TTL). */
    ITEM("DISCOVERY_REFRESH_S", TA_CFG_INT, "10", 1, 3600, false, NULL,
        discovery_refresh_s),
    /* Tests: ask this DNS server ("ip:port") directly; "": the system's. */
    ITEM("RPC_DNS_SERVER", TA_CFG_STR, "", 0, 0, false, NULL, rpc_dns_server),
    ITEM("EDGE_MAX_INFLIGHT", TA_CFG_INT, "512", 1, 1000000, false, NULL,
        max_inflight),
    /* After SIGTERM: /health is 503 but requests are served this long. */
    ITEM("DRAIN_DELAY_S", TA_CFG_INT, "0", 0, 300, false, NULL, drain_delay_s),
    /* 0: as many as the file limit (raised to its hard limit) carries. */
    ITEM("HTTP_CONNECTION_LIMIT", TA_CFG_INT, "0", 0, 1000000, false, NULL,
        http_connection_limit),
    ITEM("HTTP_TIMEOUT_S", TA_CFG_INT, "75", 1, 3600, false, NULL,
        http_timeout_s),
    /* However slowly bytes trickle: a whole head, a whole body. */
    ITEM("HTTP_HEADER_TIMEOUT_S", TA_CFG_INT, "10", 1, 300, false, NULL,
        http_header_timeout_s),
    ITEM("HTTP_BODY_TIMEOUT_S", TA_CFG_INT, "30", 1, 3600, false, NULL,
        http_body_timeout_s),
    ITEM("HTTP_PER_IP_LIMIT", TA_CFG_INT, "256", 1, 1000000, false, NULL,
        http_per_ip_limit),
    /* Peers exempt from HTTP_PER_IP_LIMIT (the load balancer's subnets). */
    ITEM("TRUSTED_PROXIES", TA_CFG_STR, "", 0, 0, false, NULL, trusted_proxies),
    /* Per-address buckets (docs/login-limits.md): requests per window. */
    ITEM("LOGIN_RATE_LIMIT", TA_CFG_INT, "600", 1, 1000000, false, NULL,
        login_rate_limit),
    ITEM("LOGIN_RATE_WINDOW_S", TA_CFG_INT, "60", 1, 86400, false, NULL,
        login_rate_window_s),
    ITEM("REGISTER_RATE_LIMIT", TA_CFG_INT, "600", 1, 1000000, false, NULL,
        register_rate_limit),
    ITEM("REGISTER_RATE_WINDOW_S", TA_CFG_INT, "60", 1, 86400, false, NULL,
        register_rate_window_s),
    ITEM("RATE_LIMIT_SLOTS", TA_CFG_INT, "16384", 16, 1048576, false, NULL,
        rate_limit_slots),
    /* How often ended sessions are pulled from auth-svc (sessions.md). */
    ITEM("REVOCATION_REFRESH_S", TA_CFG_INT, "15", 1, 60, false, NULL,
        revocation_refresh_s),
    /* Request metrics are written per route once per interval (EMF). */
    ITEM("METRICS_INTERVAL_S", TA_CFG_INT, "10", 1, 3600, false, NULL,
        metrics_interval_s),
    /* The internal key every call to a worker is signed with. */
    TA_CFG_RPC_AUTH_ITEMS(edge_cfg, rpc_auth),
};

/* The per-address buckets of the routes that have one. */
static void
limiters_open(const edge_cfg *cfg, edge_app *app)
{
	app->limiters[0] = (edge_limiter){EDGE_ROUTE_LIMIT_LOGIN,
	    {"login", cfg->login_rate_limit, cfg->login_rate_window_s},
	    edge_rl_new((size_t)cfg->rate_limit_slots)};
	app->limiters[1] = (edge_limiter){EDGE_ROUTE_LIMIT_REGISTER,
	    {"register", cfg->register_rate_limit, cfg->register_rate_window_s},
	    edge_rl_new((size_t)cfg->rate_limit_slots)};
}

/*
 * The connection limit in force: HTTP_CONNECTION_LIMIT, but never more
 * than the file limit carries (each connection costs three descriptors).
 */
static long
connection_limit(const edge_cfg *cfg)
{
	long fit = edge_limits_connections_for(edge_limits_raise_nofile());

	if (cfg->http_connection_limit == 0)
		return fit;
	if (cfg->http_connection_limit > fit) {
		ta_log(TA_LOG_WARN, "connection_limit_lowered",
		    "HTTP_CONNECTION_LIMIT exceeds what the file limit carries",
		    TA_I("configured", cfg->http_connection_limit),
		    TA_I("limit", fit));
		return fit;
	}
	return cfg->http_connection_limit;
}

static void
die(const char *event, const char *msg, int code)
{
	ta_log(TA_LOG_ERROR, event, msg);
	exit(code);
}

static int
wait_for_stop(const sigset_t *set)
{
	int sig = 0;

	while (sigwait(set, &sig) != 0)
		;
	return sig;
}

/* Sleeps s seconds unless another stop signal comes first. */
static void
drain_delay(const sigset_t *set, long s)
{
	struct timespec left = {s, 0};

	if (s > 0 && sigtimedwait(set, NULL, &left) > 0)
		ta_log(TA_LOG_INFO, "drain_cut_short",
		    "second stop signal: closing now");
}

static ta_status
backend_open(const edge_cfg *cfg, const char *name, const char *urls,
    ta_rpc_client **out)
{
	ta_rpc_client_cfg rc = {.urls = urls,
	    .name = name,
	    .refresh_s = cfg->discovery_refresh_s,
	    .dns_server = cfg->rpc_dns_server};

	return ta_rpc_client_open_cfg(&rc, out);
}

int
main(void)
{
	edge_cfg cfg;
	edge_app app = {0};
	edge_router *router = NULL;
	edge_cors *cors;
	edge_cidrs *trusted = NULL;
	edge_http *http = NULL;
	edge_revocation_poll *poll = NULL;
	ta_jwt_cfg jwt;
	ta_rpc_auth *rpc_auth;
	ta_log_level level = TA_LOG_INFO;
	sigset_t stop;
	char err[256];
	size_t nroutes;
	const edge_route *routes = edge_route_table(&nroutes);
	int sig;

	ta_log_init("edge-api", TA_LOG_INFO);
	ta_cfg_load_or_exit(
	    cfg_items, sizeof cfg_items / sizeof cfg_items[0], &cfg);
	ta_log_level_parse(cfg.log_level, &level); // choices checked it
	ta_log_init("edge-api", level);
	if (sodium_init() < 0)
		die("sodium_init_failed", "libsodium failed to initialise", 1);
	ta_jwt_cfg_init(&jwt, cfg.jwt_secret, cfg.jwt_secret_previous,
	    cfg.jwt_issuer, cfg.jwt_audience);
	if (ta_jwt_cfg_check(&jwt, err, sizeof err) != TA_OK)
		die("config_invalid", err, 2);

	/* Threads started below inherit this mask: only sigwait sees them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (edge_router_new(routes, nroutes, &router, err, sizeof err) != TA_OK)
		die("routes_invalid", err, 2);
	if (edge_cidrs_parse(cfg.trusted_proxies, &trusted, err, sizeof err) !=
	    TA_OK)
		die("config_invalid", err, 2);
	if (edge_listen_parse(cfg.http_listen_address, &app.listen, err,
	        sizeof err) != TA_OK)
		die("config_invalid", err, 2);
	rpc_auth = ta_rpc_auth_from_cfg_or_exit(&cfg.rpc_auth);
	if (rpc_auth && strcmp(cfg.rpc_auth.key, cfg.jwt_secret) == 0)
		die("config_invalid", "RPC_AUTH_KEY must differ from JWT_SECRET",
		    2);
	cors = edge_cors_new(cfg.cors_allowed_origins);
	app.cfg = &cfg;
	app.trusted = trusted;
	app.jwt = &jwt;
	app.connection_limit = connection_limit(&cfg);
	app.router = router;
	app.cors = cors;
	limiters_open(&cfg, &app);
	if (backend_open(&cfg, "auth", cfg.auth_rpc_url,
	        &app.backends[EDGE_BACKEND_AUTH]) != TA_OK)
		die("config_invalid",
		    "AUTH_RPC_URL or RPC_DNS_SERVER is not valid", 2);
	if (backend_open(&cfg, "task", cfg.task_rpc_url,
	        &app.backends[EDGE_BACKEND_TASK]) != TA_OK)
		die("config_invalid",
		    "TASK_RPC_URL or RPC_DNS_SERVER is not valid", 2);
	ta_rpc_client_set_auth(app.backends[EDGE_BACKEND_AUTH], rpc_auth);
	ta_rpc_client_set_auth(app.backends[EDGE_BACKEND_TASK], rpc_auth);
	app.revocations = edge_revocations_new();
	app.tokens = edge_token_cache_new();
	if (edge_revocation_poll_start(app.revocations,
	        app.backends[EDGE_BACKEND_AUTH], cfg.revocation_refresh_s,
	        cfg.rpc_timeout_ms, &poll) != TA_OK)
		die("startup_failed", "could not start the revocation poller",
		    1);
	if (edge_metrics_start(cfg.metrics_interval_s) != TA_OK)
		die("startup_failed", "could not start the metrics flusher", 1);
	if (edge_http_open(&app, &http) != TA_OK)
		exit(1);
	ta_log(TA_LOG_INFO, "started", "edge-api listening",
	    TA_I("port", cfg.port), TA_I("threads", cfg.http_threads),
	    TA_I("connection_limit", app.connection_limit));

	sig = wait_for_stop(&stop);
	/* /health turns 503 now; the load balancer needs time to notice. */
	edge_http_drain(http);
	ta_log(TA_LOG_INFO, "stopping", "draining requests",
	    TA_S("signal", sig == SIGINT ? "SIGINT" : "SIGTERM"),
	    TA_I("drain_delay_s", cfg.drain_delay_s));
	drain_delay(&stop, cfg.drain_delay_s);
	/* In-flight calls end by their deadline; give them that and a bit. */
	edge_http_close(http, cfg.rpc_timeout_ms + 1000);
	edge_metrics_stop(); // after the last request: its interval is written
	edge_revocation_poll_stop(poll);
	edge_revocations_free(app.revocations);
	edge_token_cache_free(app.tokens);
	ta_rpc_client_close(app.backends[EDGE_BACKEND_TASK]);
	ta_rpc_client_close(app.backends[EDGE_BACKEND_AUTH]);
	for (size_t i = 0; i < EDGE_LIMITERS; i++)
		edge_rl_free(app.limiters[i].table);
	ta_rpc_auth_free(rpc_auth);
	edge_cors_free(cors);
	edge_cidrs_free(trusted);
	edge_router_free(router);
	nng_fini(); // drains nng's reaper: closed dialers and pipes are freed
	ta_log(TA_LOG_INFO, "stopped", "edge-api stopped");
	return 0;
}
