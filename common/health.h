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

#endif
