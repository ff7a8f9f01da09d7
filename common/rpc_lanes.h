/*
 * A REQ client's pool of "lanes": an nng context with its aio, opened once
 * and lent to one call at a time (rpc_call.c), instead of a context opened,
 * an aio allocated and both handed to nng's reaper for every call. Private
 * to the RPC client (rpc_client.c owns the pool, rpc_call.c borrows).
 */
#ifndef TA_COMMON_RPC_LANES_H
#define TA_COMMON_RPC_LANES_H

#include <stdbool.h>

#include <nng/nng.h>

#include "aio_expiry.h"

typedef struct ta_rpc_lanes ta_rpc_lanes;

/* One context and its aio; ctx and aio are the borrower's while lent. */
typedef struct ta_rpc_lane {
	nng_ctx ctx;
	nng_aio *aio;
	bool is_recv; /* set by ta_rpc_lane_start: the pending one receives */
	/* Private to rpc_lanes.c from here on. */
	void (*cb)(void *arg);
	void *arg;
	bool is_in_cb, is_released, is_lent;
	/* When the pending operation expires; one that ended past it gets the
	 * lane a new aio before it is lent again (aio_expiry.h). */
	ta_aio_expiry expiry;
	bool is_late; /* its last operation ended past its expiry */
	ta_rpc_lanes *owner;
	struct ta_rpc_lane *next_free, *next_all;
} ta_rpc_lane;

/* An empty pool on sock (borrowed: outlives the pool). */
ta_rpc_lanes *ta_rpc_lanes_new(nng_socket sock);

/*
 * Lends a lane whose aio completions call cb(arg) on nng's task threads:
 * a pooled one, or a new context (re-sending off: see rpc_call.c) and aio.
 * A pooled lane whose last operation ended late gets a new aio first,
 * which may wait for nng's expire thread (briefly) to let go of the old.
 * Returns 0, or the nng error that kept a new one from opening.
 */
int ta_rpc_lane_get(
    ta_rpc_lanes *ls, void (*cb)(void *arg), void *arg, ta_rpc_lane **out);

/*
 * Starts a send of the aio's message (is_recv false) or a receive on l's
 * context, timing out after timeout_ms, unless the pool is quiescing (its
 * client closing): then starts nothing and returns false (a send's
 * message is still the caller's).
 */
bool ta_rpc_lane_start(ta_rpc_lane *l, bool is_recv, nng_duration timeout_ms);

/*
 * Before the socket closes: refuses every later start and waits for the
 * nng_ctx_send/nng_ctx_recv calls still running on other threads. nng
 * 1.5.2 lets nng_close free the socket while such a call drops its hold
 * on a context the close marked closed, and that call then destroys the
 * context against the freed socket (docs/library-notes.md).
 */
void ta_rpc_lanes_quiesce(ta_rpc_lanes *ls);

/*
 * Gives l back. is_pending: an operation on its aio has not completed yet
 * (it is cancelled, its message dropped, and l returns when its callback
 * has run). Safe inside l's own callback: l returns when that ends.
 */
void ta_rpc_lane_put(ta_rpc_lane *l, bool is_pending);

/*
 * Frees the pool and every lane not lent; a lent lane is freed when its
 * call gives it back, and the pool with the last one. The socket must be
 * closed first (pending operations end with NNG_ECLOSED); waits for
 * running callbacks.
 */
void ta_rpc_lanes_free(ta_rpc_lanes *ls);

#endif
