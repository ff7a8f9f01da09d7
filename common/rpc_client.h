/*
 * What the call state machine (rpc_call.c) reads of a client's backend
 * membership (rpc_client.c): its REQ socket, limits, age and state. Private
 * to the RPC client; callers use rpc.h.
 */
#ifndef TA_COMMON_RPC_CLIENT_H
#define TA_COMMON_RPC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "rpc.h"
#include "rpc_lanes.h"

/* The REQ socket every call opens its context on. */
nng_socket ta_rpc_client_socket(const ta_rpc_client *c);

/* The cap on one packed envelope, both directions. */
size_t ta_rpc_client_max_bytes(const ta_rpc_client *c);

/* When c was opened (ta_mono_us): the start grace counts from there. */
int64_t ta_rpc_client_open_us(const ta_rpc_client *c);

/* Whether ta_rpc_client_close has begun: no call is re-sent then. */
bool ta_rpc_client_is_closing(ta_rpc_client *c);

/* The pool of contexts calls borrow (owned by c). */
ta_rpc_lanes *ta_rpc_client_lanes(ta_rpc_client *c);

/* The key calls are signed with (borrowed); NULL: unsigned. */
const ta_rpc_auth *ta_rpc_client_auth(const ta_rpc_client *c);

#endif
