/*
 * The edge's HTTP server (libmicrohttpd): per request it matches a route,
 * checks the bearer token, transcodes the JSON body into the RPC's request
 * message, calls the worker without blocking an HTTP thread, and renders
 * the reply as the public JSON.
 */
#ifndef EDGE_API_HTTP_H
#define EDGE_API_HTTP_H

#include <stdint.h>

#include "cors.h"
#include "jwt.h"
#include "conn_limits.h"
#include "listen.h"
#include "rate_limit.h"
#include "revocation.h"
#include "routes.h"
#include "rpc.h"
#include "rpc_auth.h"
#include "status.h"
#include "token_cache.h"

/* The edge's configuration (filled from its table in main.c). */
typedef struct edge_cfg {
	long port;
	const char *auth_rpc_url;
	const char *task_rpc_url;
	const char *jwt_secret;          /* secret: never logged */
	const char *jwt_secret_previous; /* secret; "" when not rotating */
	const char *jwt_issuer;
	const char *jwt_audience;
	long rpc_timeout_ms;
	long max_body_bytes;
	const char *cors_allowed_origins;
	const char *log_level;
	long http_threads;
	long discovery_refresh_s;
	long http_connection_limit; /* 0: sized from RLIMIT_NOFILE */
	long http_timeout_s;
	long http_header_timeout_s;  /* HTTP_HEADER_TIMEOUT_S: whole head */
	long http_body_timeout_s;    /* HTTP_BODY_TIMEOUT_S: whole body */
	long http_per_ip_limit;      /* HTTP_PER_IP_LIMIT: per client address */
	const char *trusted_proxies; /* TRUSTED_PROXIES: CIDR list */
	const char *http_listen_address; /* HTTP_LISTEN_ADDRESS: literal */
	long max_inflight;  /* EDGE_MAX_INFLIGHT: RPCs in flight at once */
	long drain_delay_s; /* DRAIN_DELAY_S: serve on after SIGTERM */
	const char *rpc_dns_server;  /* RPC_DNS_SERVER: "" or "ip:port" */
	long login_rate_limit;       /* LOGIN_RATE_LIMIT: per address */
	long login_rate_window_s;    /* LOGIN_RATE_WINDOW_S */
	long register_rate_limit;    /* REGISTER_RATE_LIMIT: per address */
	long register_rate_window_s; /* REGISTER_RATE_WINDOW_S */
	long rate_limit_slots;       /* RATE_LIMIT_SLOTS: addresses tracked */
	long revocation_refresh_s;   /* REVOCATION_REFRESH_S (sessions.md) */
	long metrics_interval_s;     /* METRICS_INTERVAL_S: EMF lines */
	ta_rpc_auth_cfg rpc_auth;    /* RPC_AUTH, RPC_AUTH_KEY(_PREVIOUS) */
} edge_cfg;

/* A per-address bucket on the routes whose flags have flag. */
typedef struct edge_limiter {
	unsigned flag; /* EDGE_ROUTE_LIMIT_* */
	edge_rl_policy policy;
	edge_rl *table; /* owned by main.c */
} edge_limiter;

#define EDGE_LIMITERS 2

/* What the server works with; everything borrowed, built by main.c. */
typedef struct edge_app {
	const edge_cfg *cfg;
	const edge_router *router;
	const edge_cors *cors;
	const edge_cidrs *trusted; /* TRUSTED_PROXIES parsed */
	const ta_jwt_cfg *jwt;     /* keys and claims of bearer tokens */
	long connection_limit;     /* in force: configured or from nofile */
	edge_listen_addr listen;   /* HTTP_LISTEN_ADDRESS parsed (listen.h) */
	ta_rpc_client *backends[EDGE_BACKEND_TASK + 1]; /* by edge_backend */
	edge_limiter limiters[EDGE_LIMITERS];
	edge_revocations *revocations; /* ended sessions (revocation.h) */
	edge_token_cache *tokens;      /* verified tokens (token_cache.h) */
} edge_app;

typedef struct edge_http edge_http;

/*
 * Starts listening on app->listen and app->cfg->port: the front
 * (front.h) checks every request's framing, then HTTP_THREADS epoll
 * threads of libmicrohttpd serve it. app must outlive the server.
 * TA_UNAVAILABLE when the daemon does not start (port taken, ...).
 */
ta_status edge_http_open(const edge_app *app, edge_http **out);

/*
 * First step of a graceful stop (SIGTERM): from now on GET /health answers
 * 503 {"status":"draining"} so the load balancer stops sending, and every
 * response says Connection: close; other requests are still served.
 */
void edge_http_drain(edge_http *h);

/*
 * Graceful stop: stops accepting, waits up to wait_ms for requests in
 * progress (and in any case for every suspended one, whose RPC deadline
 * bounds the wait, and then up to one more second for the answers of the
 * last ones resumed), then stops the front, its daemons, and frees h.
 */
void edge_http_close(edge_http *h, int64_t wait_ms);

#endif
