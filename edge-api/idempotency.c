/* Creating routes and their idempotency keys (see idempotency.h). */
#include "idempotency.h"

#include <string.h>

#include <sodium.h>

#include "taskapi/v1/auth.pb-c.h"
#include "taskapi/v1/task.pb-c.h"

/*
 * RPCs whose second run answers differently: a create would create twice,
 * and a delete that already ran answers 404. Each call carries an
 * idempotency key and the owning worker answers a repeat with the first
 * result. Every other routed RPC is idempotent (a read, a check, or an
 * update that converges).
 */
static const struct {
	const ProtobufCServiceDescriptor *service;
	const char *rpc;
} creating_rpcs[] = {
    {&taskapi__v1__task_service__descriptor, "CreateTask"},
    {&taskapi__v1__auth_service__descriptor, "RegisterUser"},
    {&taskapi__v1__task_service__descriptor, "DeleteTask"},
};

bool
edge_route_is_idempotent(const edge_resolved_route *rt)
{
	for (size_t i = 0; i < sizeof creating_rpcs / sizeof creating_rpcs[0];
	     i++)
		if (rt->row->service == creating_rpcs[i].service &&
		    strcmp(rt->md->name, creating_rpcs[i].rpc) == 0)
			return false;
	return true;
}

bool
edge_idempotency_key_is_valid(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > EDGE_IDEMPOTENCY_KEY_MAX)
		return false;
	return strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                 "0123456789._:-") == n;
}

bool
edge_idempotency_key_pick(const char *header, char *buf)
{
	unsigned char rnd[16];

	if (header) {
		if (!edge_idempotency_key_is_valid(header))
			return false;
		memcpy(buf, header, strlen(header) + 1);
		return true;
	}
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(buf, EDGE_IDEMPOTENCY_KEY_MAX + 1, rnd, sizeof rnd);
	return true;
}
