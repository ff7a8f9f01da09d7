/*
 * What every TaskService handler does the same way: who the caller is,
 * which ids can exist, how a failed call is answered, the If-Match
 * condition and the idempotency key rules. Used by read_service.c and
 * write_service.c.
 */
#ifndef TA_TASK_SVC_HANDLER_H
#define TA_TASK_SVC_HANDLER_H

#include <stdbool.h>
#include <stdint.h>

#include "idem.h"
#include "rpc.h"
#include "status.h"
#include "tasks.h"
#include "violations.h"

/* Fails the call with status and the client-safe message of its kind. */
void task_handler_fail(ta_rpc_ctx *ctx, ta_status status);

/* The caller's user id, or 0 (and the call failed) when anonymous. */
int64_t task_handler_user(ta_rpc_ctx *ctx);

/* Task ids are int4 serials: anything else cannot exist. */
bool task_handler_is_task_id(int64_t id);

/* Fails the call with every violation of v (v stays the caller's). */
void task_handler_report(ta_rpc_ctx *ctx, const ta_violations *v);

/* Refuses a key longer than the edge's limit; false when it did. */
bool task_handler_key_fits(ta_rpc_ctx *ctx);

/*
 * The condition of if_match (borrowed; "" for none) on task id into *cond,
 * its versions in versions (room for TA_ETAG_LIST_MAX); false with a
 * violation on if_match when the value is malformed.
 */
bool task_handler_cond(int64_t id, const char *if_match, task_cond *cond,
    int64_t *versions, ta_violations *v);

/*
 * Acts on a keyed write's outcome for task_id: a key first used for
 * another request fails the call (false); a replay is logged with msg
 * (true); a new call passes (true).
 */
bool task_handler_outcome(ta_rpc_ctx *ctx, int64_t uid, int64_t task_id,
    ta_idem_outcome outcome, const char *msg);

#endif
