/*
 * Liveness Health/Check recognised on the wire (common/rpc_liveness.h).
 */
#define _GNU_SOURCE /* memmem */
#include "rpc_liveness.h"

#include <stdlib.h>
#include <string.h>

#include "taskapi/v1/envelope.pb-c.h"
#include "taskapi/v1/health.pb-c.h"

static const char method[] = "/taskapi.v1.Health/Check";

bool
ta_rpc_is_liveness(const void *body, size_t len)
{
	Taskapi__V1__RequestEnvelope *env;
	Taskapi__V1__HealthCheckRequest *req = NULL;
	bool is_live = false;

	/* Every call passes here: unpack only what names the method. */
	if (!memmem(body, len, method, sizeof method - 1))
		return false;
	env = taskapi__v1__request_envelope__unpack(NULL, len, body);
	if (!env)
		return false;
	if (strcmp(env->method, method) == 0)
		req = taskapi__v1__health_check_request__unpack(
		    NULL, env->payload.len, env->payload.data);
	is_live = req && req->liveness;
	if (req)
		taskapi__v1__health_check_request__free_unpacked(req, NULL);
	taskapi__v1__request_envelope__free_unpacked(env, NULL);
	return is_live;
}

uint8_t *
ta_rpc_liveness_reply(size_t *len)
{
	Taskapi__V1__HealthCheckReply reply =
	    TASKAPI__V1__HEALTH_CHECK_REPLY__INIT;
	uint8_t *buf;

	reply.status = (char *)"healthy"; /* packed, never written */
	*len = taskapi__v1__health_check_reply__get_packed_size(&reply);
	buf = malloc(*len ? *len : 1);
	if (buf)
		taskapi__v1__health_check_reply__pack(&reply, buf);
	return buf;
}
