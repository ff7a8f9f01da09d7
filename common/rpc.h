/*
 * Internal RPC, "gRPC-style" over nng REQ/REP on TCP. A request envelope
 * (taskapi.v1.RequestEnvelope) names the full method, carries the request
 * id, absolute deadline and principal, and the packed request message; the
 * reply envelope carries a ta_status number, a client-safe message, field
 * violations and the packed reply message.
 *
 * Server: dispatches generically through protobuf-c service descriptors.
 * Handlers are the functions of a protoc-c generated service struct
 * (TASKAPI__V1__TASK_SERVICE__INIT(prefix_)); their closure_data is the
 * call's ta_rpc_ctx. A handler either calls closure(&reply, closure_data)
 * once (OK), or calls ta_rpc_fail()/ta_rpc_violation() and then
 * closure(NULL, closure_data). The reply may live on the handler's stack:
 * it is packed inside the closure.
 */
#ifndef TA_COMMON_RPC_H
#define TA_COMMON_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "clock.h" /* ta_now_ms */
#include "status.h"
#include "taskapi/v1/envelope.pb-c.h"

/* Default cap on one packed envelope, both directions (nng: unlimited). */
#define TA_RPC_MAX_MSG_DEFAULT (8u * 1024u * 1024u)

/* Default number of received calls that may wait for a serving thread. */
#define TA_RPC_QUEUE_LIMIT_DEFAULT 64
/* A call at least this slow gets its rpc_call line at info (rpc_serve.c). */
#define TA_RPC_SLOW_CALL_MS_DEFAULT 250
/* The workers' RPC_SLOW_CALL_MS setting: an item of a ta_cfg_item table. */
#define TA_CFG_SLOW_CALL_ITEM(type, member)                                    \
	{"RPC_SLOW_CALL_MS", TA_CFG_INT, "250", 1, 3600000, false, NULL,       \
	    offsetof(type, member)}

/* ---- server ---- */

typedef struct ta_rpc_server ta_rpc_server;

/* Caller authentication keys (rpc_auth.h). */
typedef struct ta_rpc_auth ta_rpc_auth;

/* What a handler sees of its call. Borrowed: lives as long as the call. */
typedef struct ta_rpc_ctx {
	const char *method;		/* "/taskapi.v1.TaskService/GetTask" */
	const char *request_id;		/* never NULL, may be "" */
	const char *idempotency_key;	/* never NULL, may be "" */
	const char *client_addr;	/* never NULL, may be "" */
	const Taskapi__V1__Principal *principal; /* NULL when anonymous */
	int64_t deadline_ms;		/* unix epoch ms; 0: none */
	/* A caller_mac verified under the server's key (rpc_auth.h). */
	bool is_caller_verified;
	void *thread_state;		/* from thread_init: the thread's ta_pg */
	void *app;			/* ta_rpc_server_cfg.app */
	struct ta_rpc_reply *reply;	/* private: rpc_envelope.h */
} ta_rpc_ctx;

typedef struct ta_rpc_server_cfg {
	const char *listen_url;		/* "tcp://0.0.0.0:7002" */
	int nthreads;			/* serving threads = DB connections */
	size_t max_msg_bytes;		/* 0: TA_RPC_MAX_MSG_DEFAULT */
	/*
	 * Calls that may wait while every serving thread is busy; one more
	 * is answered RESOURCE_EXHAUSTED at once. 0: the default.
	 */
	int queue_limit;
	ProtobufCService *const *services; /* borrowed; looked up by name */
	size_t nservices;
	void *app;
	/*
	 * Runs on each serving thread before it takes calls; the result is
	 * ctx->thread_state for every call that thread serves (workers: the
	 * thread's ta_pg). thread_fini runs on the same thread at close.
	 */
	void *(*thread_init)(void *app, int index);
	void (*thread_fini)(void *thread_state);
	/*
	 * Borrowed. Set: every call but Health's must carry a caller_mac
	 * that verifies (rpc_auth.h), or it is answered UNAUTHENTICATED
	 * without running a handler. NULL: callers are not authenticated.
	 */
	const ta_rpc_auth *auth;
	/*
	 * A call that took at least this long is logged at info; others
	 * only at debug, or at warn when the worker failed them. 0: the
	 * default.
	 */
	int slow_call_ms;
} ta_rpc_server_cfg;

/*
 * Listens on cfg->listen_url and starts cfg->nthreads serving threads, each
 * owning one nng context. cfg and everything it points to must outlive the
 * server. TA_UNAVAILABLE when the address cannot be listened on,
 * TA_INVALID_ARGUMENT for a bad URL or thread count.
 */
ta_status ta_rpc_server_open(const ta_rpc_server_cfg *cfg,
    ta_rpc_server **out);

/*
 * Stops taking new calls (a call that arrives now is dropped unanswered;
 * the REQ side re-sends it elsewhere when the connection closes), serves
 * the calls already received (held and queued), waits for their replies
 * to be sent, joins the threads (running thread_fini) and closes the
 * socket.
 */
void ta_rpc_server_close(ta_rpc_server *s);

/* The call context of a handler's closure_data. */
ta_rpc_ctx *ta_rpc_ctx_of(void *closure_data);

/* Sets the call's failure status and client-safe message (copied). */
void ta_rpc_fail(ta_rpc_ctx *ctx, ta_status status, const char *message);

/*
 * Fails the call RESOURCE_EXHAUSTED with message because the caller's own
 * limit refused it: the reply carries rl (strings copied), which the edge
 * answers as 429 with Retry-After and RateLimit headers. Overload is a
 * plain ta_rpc_fail(RESOURCE_EXHAUSTED) instead (503).
 */
void ta_rpc_fail_limited(ta_rpc_ctx *ctx, const char *message,
    const Taskapi__V1__RateLimit *rl);

/*
 * Adds a field violation (copied) and makes the status INVALID_ARGUMENT
 * with message "Validation failed" unless a failure was already set.
 */
void ta_rpc_violation(ta_rpc_ctx *ctx, const char *field, const char *message);

/* Whether ta_rpc_violation was called for this call. */
int ta_rpc_has_violations(const ta_rpc_ctx *ctx);

/* ---- client ---- */

typedef struct ta_rpc_client ta_rpc_client;

/*
 * Opens a REQ socket and dials every URL of urls (comma-separated, e.g.
 * "tcp://127.0.0.1:7001"), non-blocking: an absent server is retried in the
 * background. TA_INVALID_ARGUMENT for a malformed URL list.
 */
ta_status ta_rpc_client_open(const char *urls, size_t max_msg_bytes,
    ta_rpc_client **out);

/* Where a backend is and how to follow it (see common/discovery.h). */
typedef struct ta_rpc_client_cfg {
	const char *urls;	/* comma-separated tcp://host:port list */
	size_t max_msg_bytes;	/* 0: TA_RPC_MAX_MSG_DEFAULT */
	const char *name;	/* "task": names the backend in log lines */
	long refresh_s;		/* re-resolve period; 0: resolve only once */
	const char *dns_server;	/* "ip:port": ask it for A records instead
				   of getaddrinfo; NULL or "": getaddrinfo */
} ta_rpc_client_cfg;

/*
 * Like ta_rpc_client_open, but every host of cfg->urls is resolved to all
 * its addresses, each address gets its own dialer, and a background thread
 * re-resolves every cfg->refresh_s seconds: new addresses are dialled,
 * vanished ones closed; a failed lookup keeps the last good addresses.
 * A name that does not resolve at open is not an error (it is retried).
 * After a short start grace, a call finding no connected instance fails
 * UNAVAILABLE at once. cfg is copied. TA_INVALID_ARGUMENT for a malformed
 * URL list or DNS server.
 */
ta_status ta_rpc_client_open_cfg(const ta_rpc_client_cfg *cfg,
    ta_rpc_client **out);

/*
 * Signs every call started on c from now on with auth (borrowed: must
 * outlive c); NULL: calls go unsigned. Call before the first ta_rpc_start.
 */
void ta_rpc_client_set_auth(ta_rpc_client *c, const ta_rpc_auth *auth);

/* How many instances have a connected pipe now. */
int ta_rpc_client_connected(ta_rpc_client *c);

/*
 * Stops re-resolving and closes the socket; calls in flight end with
 * UNAVAILABLE and their done() runs (on an nng thread, possibly after
 * this returns): free them afterwards, and close only when none is
 * expected to retry (the edge closes after its HTTP server has drained).
 */
void ta_rpc_client_close(ta_rpc_client *c);

typedef struct ta_rpc_call ta_rpc_call;
struct ta_rpc_call {
	/* Results: valid inside done() and afterwards. */
	ta_status status;		/* transport failure or reply code */
	const char *message;		/* client-safe; never NULL */
	Taskapi__V1__ReplyEnvelope *reply; /* NULL on transport failure */
	int64_t latency_us;
	int attempts;			/* sends made (> 1: failed over) */
	/*
	 * Set by the caller before ta_rpc_start: the call may be sent again
	 * to another instance when the one holding it drops the connection
	 * (nng ECONNRESET), within its deadline. ta_rpc_call_new sets it when
	 * an idempotency key is given (the worker then answers a repeat with
	 * the first result); set it for methods that are idempotent anyway.
	 */
	bool is_retry_safe;
	struct ta_rpc_call_priv *priv;	/* private to rpc_call.c */
};

/*
 * Builds a call: packs request (borrowed) into an envelope for method
 * ("/taskapi.v1.AuthService/Login"), with deadline now + timeout_ms.
 * principal and idempotency_key may be NULL. The caller owns the result
 * and frees it with ta_rpc_call_free once done() has run (or after
 * ta_rpc_call_sync).
 */
ta_rpc_call *ta_rpc_call_new(const char *method, const char *request_id,
    int64_t timeout_ms, const Taskapi__V1__Principal *principal,
    const char *idempotency_key, const ProtobufCMessage *request);

/*
 * ta_rpc_call_new with the client's address (borrowed; NULL or "": none)
 * in the envelope, for workers that limit per client.
 */
ta_rpc_call *ta_rpc_call_new_from(const char *method, const char *request_id,
    int64_t timeout_ms, const Taskapi__V1__Principal *principal,
    const char *idempotency_key, const char *client_addr,
    const ProtobufCMessage *request);
void ta_rpc_call_free(ta_rpc_call *call);

/*
 * Sends call's request and returns at once. done(arg, call) then runs
 * exactly once, on an nng thread, with call->status set. TA_OK means done
 * will run; any other return means nothing was sent and done will not run.
 */
ta_status ta_rpc_start(ta_rpc_client *c, ta_rpc_call *call,
    void (*done)(void *arg, ta_rpc_call *call), void *arg);

/* ta_rpc_start and wait for completion; returns call->status. */
ta_status ta_rpc_call_sync(ta_rpc_client *c, ta_rpc_call *call);

/*
 * Unpacks the reply payload of a successful call with descriptor d; the
 * caller frees *out with protobuf_c_message_free_unpacked(*out, NULL).
 * TA_INTERNAL when the payload does not decode.
 */
ta_status ta_rpc_call_unpack(const ta_rpc_call *call,
    const ProtobufCMessageDescriptor *d, ProtobufCMessage **out);

/*
 * Writes "/<package.Service>/<Method>" for method index i of sd into buf.
 * Returns buf.
 */
char *ta_rpc_method_name(const ProtobufCServiceDescriptor *sd, unsigned i,
    char *buf, size_t cap);

/*
 * An envelope deadline as unix epoch milliseconds: 0 for NULL (no
 * deadline), saturated at INT64_MAX / INT64_MIN for timestamps beyond
 * +-9.2e15 s, whose milliseconds int64 cannot hold (a peer may send any
 * value); nanos outside [0, 999999999] are clamped. Pure.
 */
int64_t ta_rpc_deadline_ms(const Google__Protobuf__Timestamp *ts);

/* The inverse: ms as a Timestamp with nanos in [0, 999999999]. */
void ta_rpc_deadline_to_timestamp(int64_t ms, Google__Protobuf__Timestamp *ts);

#endif
