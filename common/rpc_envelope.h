/*
 * The one envelope codec of the internal RPC, shared by client and server:
 * a request envelope packed (and signed with the caller_mac trailer,
 * rpc_auth.h) by the caller and unpacked by the worker, and a reply
 * envelope packed by the worker and read by the caller. Pure: no sockets.
 */
#ifndef TA_COMMON_RPC_ENVELOPE_H
#define TA_COMMON_RPC_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc.h"
#include "violations.h"

/* Memory for a packed reply of n bytes (n may be 0), or NULL. */
typedef void *(*ta_rpc_reply_alloc)(void *arg, size_t n);

/*
 * The outcome of one call as the worker packs it: filled by the dispatcher
 * (rpc_serve.c: the closure and ta_rpc_fail) and packed by
 * ta_rpc_reply_pack.
 */
struct ta_rpc_reply {
	const ProtobufCMethodDescriptor *md; /* NULL until dispatched */
	size_t max_bytes;
	ta_status status;
	char *message; /* owned; NULL: the status name */
	ta_violations violations;
	bool has_replied; /* the closure ran */
	uint8_t *payload; /* owned packed output */
	size_t payload_len;
	bool is_limited; /* rate_limit holds the caller's limit */
	Taskapi__V1__RateLimit rate_limit; /* policy owned */
};

/*
 * Packs the request envelope of one call into a malloc'd buffer (*len
 * bytes; the caller frees it): method, request_id (NULL: ""), the absolute
 * deadline deadline_ms, and principal, idempotency_key, client_addr and
 * request when given (all borrowed; NULL or "" leaves the field out).
 */
uint8_t *ta_rpc_request_pack(const char *method, const char *request_id,
    int64_t deadline_ms, const Taskapi__V1__Principal *principal,
    const char *idempotency_key, const char *client_addr,
    const ProtobufCMessage *request, size_t *len);

/*
 * Appends the caller_mac trailer of auth (borrowed) to the packed request
 * envelope *buf (*len bytes, malloc'd: it is grown and *len updated).
 */
void ta_rpc_request_sign(const ta_rpc_auth *auth, uint8_t **buf, size_t *len);

/*
 * Unpacks the request envelope req[0..len) (borrowed, only read) and points
 * ctx's method, request_id, idempotency_key, client_addr, principal and
 * deadline_ms into it. NULL when it does not decode (ctx untouched); else
 * the caller frees it with taskapi__v1__request_envelope__free_unpacked,
 * after the last use of ctx.
 */
Taskapi__V1__RequestEnvelope *ta_rpc_request_unpack(
    const uint8_t *req, size_t len, ta_rpc_ctx *ctx);

/*
 * Packs r's reply envelope into alloc(arg, n): the payload when r->status
 * is TA_OK, else the message (NULL: the status name), the caller's rate
 * limit and the field violations. One over r->max_bytes is packed as
 * RESOURCE_EXHAUSTED "reply too large" instead. r is only read. false when
 * alloc returned NULL.
 */
bool ta_rpc_reply_pack(
    const struct ta_rpc_reply *r, ta_rpc_reply_alloc alloc, void *arg);

/*
 * A reply envelope packed into alloc(arg, n) without a call: status with
 * message (NULL: the status name) when status is not TA_OK, else payload
 * (len bytes, borrowed) as the packed reply. rpc_slots.c answers overload
 * (RESOURCE_EXHAUSTED, "server overloaded") and liveness checks with it.
 * false when alloc returned NULL.
 */
bool ta_rpc_pack_reply(size_t max_bytes, ta_status status, const char *message,
    const uint8_t *payload, size_t len, ta_rpc_reply_alloc alloc, void *arg);

/*
 * The status a decoded reply envelope carries (unknown codes: TA_UNKNOWN)
 * and, in *message, its client-safe message: the status name when a
 * failure came without one. *message is borrowed from re.
 */
ta_status ta_rpc_reply_status(
    const Taskapi__V1__ReplyEnvelope *re, const char **message);

#endif
