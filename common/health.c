/*
 * The taskapi.v1.Health service of the workers: Check pings the serving
 * thread's own database connection and names the service.
 */
#include "health.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "pg.h"
#include "rpc.h"
#include "taskapi/v1/health.pb-c.h"

static void health_check(Taskapi__V1__Health_Service *service,
    const Taskapi__V1__HealthCheckRequest *input,
    Taskapi__V1__HealthCheckReply_Closure closure, void *closure_data);

/* The generated service first, so the ProtobufCService * is this struct. */
typedef struct health_service {
	Taskapi__V1__Health_Service base;
	const char *name; /* borrowed: a string literal of main */
} health_service;

/* One per process: a worker serves one Health service, set up in main. */
static health_service health = {TASKAPI__V1__HEALTH__INIT(health_), NULL};

static void
health_check(Taskapi__V1__Health_Service *service,
    const Taskapi__V1__HealthCheckRequest *input,
    Taskapi__V1__HealthCheckReply_Closure closure, void *closure_data)
{
	const health_service *hs = (const health_service *)service;
	ta_rpc_ctx *ctx = ta_rpc_ctx_of(closure_data);
	Taskapi__V1__HealthCheckReply reply =
	    TASKAPI__V1__HEALTH_CHECK_REPLY__INIT;

	/* Liveness answers without the database; ta_pg_ping logs its own
	 * failure. */
	if (!input->liveness &&
	    (!ctx->thread_state || ta_pg_ping(ctx->thread_state) != TA_OK)) {
		ta_rpc_fail(ctx, TA_UNAVAILABLE, "database unavailable");
		closure(NULL, closure_data);
		return;
	}
	reply.status = "healthy";
	reply.service = (char *)hs->name; /* packed, never written */
	closure(&reply, closure_data);
}

ProtobufCService *
ta_health_service(const char *service_name)
{
	health.name = service_name;
	return &health.base.base;
}

int
ta_health_probe(const char *rpc_listen, ta_health_mode mode)
{
	Taskapi__V1__HealthCheckRequest req =
	    TASKAPI__V1__HEALTH_CHECK_REQUEST__INIT;
	const char *port = strrchr(rpc_listen, ':');
	char url[300], method[128];
	ta_rpc_client *c;
	ta_rpc_call *call;
	ta_status status;

	if (!port ||
	    snprintf(url, sizeof url, "tcp://127.0.0.1%s", port) >=
	        (int)sizeof url ||
	    ta_rpc_client_open(url, 0, &c) != TA_OK) {
		ta_log(TA_LOG_ERROR, "health_check_failed", "bad RPC_LISTEN");
		return 1;
	}
	req.liveness = mode == TA_HEALTH_LIVENESS;
	ta_rpc_method_name(
	    &taskapi__v1__health__descriptor, 0, method, sizeof method);
	call = ta_rpc_call_new(method, "health-check", 2000, NULL, NULL,
	    &req.base);
	status = ta_rpc_call_sync(c, call);
	if (status == TA_RESOURCE_EXHAUSTED)
		status = TA_OK;
	if (status != TA_OK)
		ta_log(TA_LOG_ERROR, "health_check_failed", call->message,
		    TA_S("code", ta_status_name(status)));
	ta_rpc_call_free(call);
	ta_rpc_client_close(c);
	return status == TA_OK ? 0 : 1;
}
