/*
 * The edge's revocation cache (docs/sessions.md): which users ended their
 * sessions recently (password change, logout of all sessions) and at
 * which token generation. A bearer token whose "gen" claim is below its
 * user's listed generation is refused without any RPC or SQL. The list
 * is replaced whole by the poller (revocation_poll.c); lookups are a
 * binary search under a read lock. Pure: no socket, no SQL.
 */
#ifndef EDGE_API_REVOCATION_H
#define EDGE_API_REVOCATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One listed user. */
typedef struct edge_revocation {
	int64_t user_id;
	int64_t generation;
} edge_revocation;

typedef struct edge_revocations edge_revocations;

/* An empty cache (ta_xcalloc: aborts on OOM). */
edge_revocations *edge_revocations_new(void);
void edge_revocations_free(edge_revocations *rv);

/*
 * Replaces the whole list with items[0..n) (copied; any order, a user
 * listed twice keeps the higher generation). Thread-safe against lookups.
 */
void edge_revocations_replace(
    edge_revocations *rv, const edge_revocation *items, size_t n);

/*
 * Whether a token of user_id carrying generation (its "gen" claim; 0
 * when absent) is revoked: its user is listed with a higher generation.
 * Thread-safe.
 */
bool edge_revocations_is_revoked(
    edge_revocations *rv, int64_t user_id, int64_t generation);

/* How many users are listed now. */
size_t edge_revocations_count(edge_revocations *rv);

#endif
