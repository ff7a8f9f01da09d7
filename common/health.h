/*
 * The taskapi.v1.Health service both workers serve. Check answers
 * {status:"healthy", service:<name>}:
 * - readiness (the default request): when the calling thread's database
 *   connection (ctx->thread_state, a ta_pg) answers, UNAVAILABLE otherwise;
 * - liveness (request.liveness = true): whenever the worker serves RPCs,
 *   without touching the database.
 */
#ifndef TA_COMMON_HEALTH_H
#define TA_COMMON_HEALTH_H

#include <protobuf-c/protobuf-c.h>

/* A Health service reporting service_name ("task-service"); static. */
ProtobufCService *ta_health_service(const char *service_name);

typedef enum ta_health_mode {
	TA_HEALTH_LIVENESS, /* --health-check: the process serves */
	TA_HEALTH_READINESS /* --ready-check: ... and its database answers */
} ta_health_mode;

/*
 * A worker's --health-check / --ready-check mode (the ECS container health
 * check runs the first, so images need no curl, and a worker whose
 * database is briefly away is not replaced; deploy tooling may run the
 * second): calls Health/Check on 127.0.0.1 at the port of rpc_listen
 * ("tcp://0.0.0.0:7002") with a 2 s deadline. Returns the exit status: 0
 * when the worker answers OK or RESOURCE_EXHAUSTED (overloaded is alive:
 * restarting a busy instance sheds no load), 1 otherwise (logged).
 */
int ta_health_probe(const char *rpc_listen, ta_health_mode mode);

#endif
