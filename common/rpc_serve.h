/*
 * One call of the RPC server without sockets: a packed request envelope in,
 * a packed reply envelope out, through the service descriptors, with no
 * nng. rpc_slots.c receives and sends the bytes; the dispatch unit test
 * and the fuzz target of the envelope path call this directly.
 */
#ifndef TA_COMMON_RPC_SERVE_H
#define TA_COMMON_RPC_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "rpc.h"
#include "rpc_envelope.h"

/*
 * Unpacks the request envelope req[0..len) (borrowed, only read), runs its
 * method among cfg->services with thread_state as the call's
 * ctx->thread_state, packs the reply envelope into alloc(arg, n) and writes
 * the access log line. A reply over max_bytes is packed as
 * RESOURCE_EXHAUSTED. A malformed envelope or request, an unknown method
 * or a passed deadline is answered without running a handler. false when
 * alloc returned NULL: nothing was packed (the client times out).
 */
bool ta_rpc_serve_packed(const ta_rpc_server_cfg *cfg, size_t max_bytes,
    void *thread_state, const uint8_t *req, size_t len,
    ta_rpc_reply_alloc alloc, void *arg);

/*
 * The level of a call's `rpc_call` line: TA_LOG_WARN when the worker
 * failed it (INTERNAL, UNKNOWN, DATA_LOSS, UNIMPLEMENTED, UNAVAILABLE,
 * DEADLINE_EXCEEDED: the edge answers 5xx), TA_LOG_INFO when it took at
 * least slow_call_ms (0: TA_RPC_SLOW_CALL_MS_DEFAULT) over us
 * microseconds, TA_LOG_DEBUG otherwise. The edge's access line already
 * records every request with its id, user, route, status and latency.
 * Pure.
 */
ta_log_level ta_rpc_call_level(int slow_call_ms, ta_status status, int64_t us);

#endif
