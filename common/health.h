/*
 * The taskapi.v1.Health service both workers serve: Check answers
 * {status:"healthy", service:<name>} when the calling thread's database
 * connection (ctx->thread_state, a ta_pg) answers, UNAVAILABLE otherwise.
 */
#ifndef TA_COMMON_HEALTH_H
#define TA_COMMON_HEALTH_H

#include <protobuf-c/protobuf-c.h>

/* A Health service reporting service_name ("task-service"); static. */
ProtobufCService *ta_health_service(const char *service_name);

/*
 * A worker's --health-check mode (the ECS container health check, so
 * images need no curl): calls Health/Check on 127.0.0.1 at the port of
 * rpc_listen ("tcp://0.0.0.0:7002") with a 2 s deadline. Returns the exit
 * status: 0 when the worker answers OK or RESOURCE_EXHAUSTED (overloaded is
 * alive: restarting a busy instance sheds no load), 1 otherwise (logged).
 */
int ta_health_probe(const char *rpc_listen);

#endif
