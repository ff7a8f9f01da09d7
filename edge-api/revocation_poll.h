/*
 * The thread that keeps the revocation cache (revocation.h) current: it
 * asks auth-svc's ListRevocations at start and then every
 * REVOCATION_REFRESH_S seconds, and replaces the cache with the answer.
 * When auth-svc cannot be reached the last list stays in force and a
 * warning is logged (docs/sessions.md).
 */
#ifndef EDGE_API_REVOCATION_POLL_H
#define EDGE_API_REVOCATION_POLL_H

#include "revocation.h"
#include "rpc.h"
#include "status.h"

typedef struct edge_revocation_poll edge_revocation_poll;

/*
 * Starts polling auth (borrowed; must outlive the poller) every period_s
 * seconds, each call bounded by timeout_ms, into rv (borrowed). Until a
 * first list arrived, a failed poll is retried after one second.
 * TA_INTERNAL when the thread cannot start.
 */
ta_status edge_revocation_poll_start(edge_revocations *rv, ta_rpc_client *auth,
    long period_s, long timeout_ms, edge_revocation_poll **out);

/* Stops the thread (waits for a call in flight) and frees p. */
void edge_revocation_poll_stop(edge_revocation_poll *p);

#endif
