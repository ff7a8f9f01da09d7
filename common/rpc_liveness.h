/*
 * Liveness checks answered by the RPC server itself, from the receive
 * callback, without a serving thread: Health/Check with liveness set
 * (the ECS container health check, `--health-check`). A worker whose
 * threads are all busy (hashing passwords, waiting on the database) is
 * alive; queued behind that work the probe would miss its 2 s deadline
 * and ECS would replace the busiest workers first. Only while the threads
 * make progress, though: when every one has been inside the same calls
 * for 10 s or more (hung), the check queues like any call and fails, so a
 * hung worker is replaced (common/rpc_slots.c is_progressing).
 */
#ifndef TA_COMMON_RPC_LIVENESS_H
#define TA_COMMON_RPC_LIVENESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when body (a packed RequestEnvelope) is a liveness Health/Check. */
bool ta_rpc_is_liveness(const void *body, size_t len);

/*
 * The packed HealthCheckReply of a liveness answer ({status: "healthy"}),
 * in a malloc'd buffer (*len bytes); NULL when out of memory.
 */
uint8_t *ta_rpc_liveness_reply(size_t *len);

#endif
