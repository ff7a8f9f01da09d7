/*
 * One call of the RPC server without sockets: a packed request envelope in,
 * a packed reply envelope out. rpc_server.c receives and sends the bytes;
 * the fuzz target of the envelope path calls this directly.
 */
#ifndef TA_COMMON_RPC_SERVE_H
#define TA_COMMON_RPC_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc.h"

/* Memory for a packed reply of n bytes (n may be 0), or NULL. */
typedef void *(*ta_rpc_reply_alloc)(void *arg, size_t n);

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
 * A reply envelope packed into alloc(arg, n) without a call: status with
 * message (NULL: the status name) when status is not TA_OK, else payload
 * (len bytes, borrowed) as the packed reply. rpc_server.c answers overload
 * (RESOURCE_EXHAUSTED, "server overloaded") and liveness checks with it.
 * false when alloc returned NULL.
 */
bool ta_rpc_pack_reply(size_t max_bytes, ta_status status, const char *message,
    const uint8_t *payload, size_t len, ta_rpc_reply_alloc alloc, void *arg);

#endif
