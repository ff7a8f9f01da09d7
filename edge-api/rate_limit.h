/*
 * Per-address token buckets of the edge (POST /auth/login and POST
 * /auth/register), in a fixed-size table: memory does not grow with the
 * number of addresses seen. One table per policy. Thread-safe.
 */
#ifndef EDGE_API_RATE_LIMIT_H
#define EDGE_API_RATE_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A bucket of quota requests refilling evenly over window_s seconds. */
typedef struct edge_rl_policy {
	const char *name; /* "login": the RateLimit headers' policy name */
	long quota;       /* capacity, and requests per window */
	long window_s;
} edge_rl_policy;

typedef struct edge_rl edge_rl;

/*
 * A table of at least slots buckets (rounded up to a power of two, at
 * least 16). Aborts on out of memory like ta_xmalloc.
 */
edge_rl *edge_rl_new(size_t slots);
void edge_rl_free(edge_rl *t);

/* The outcome of one request. */
typedef struct edge_rl_result {
	bool is_allowed;
	long remaining;     /* whole tokens left after this request */
	long retry_after_s; /* when refused: until a token is back (>= 1) */
} edge_rl_result;

/*
 * Takes one token from the bucket of addr under p at now_us
 * (monotonic). A new bucket starts full. When the table has no free slot
 * near the key's place, the fullest bucket there is dropped (it loses the
 * least: an address with an empty bucket cannot refill it by flooding the
 * table with new addresses).
 */
edge_rl_result edge_rl_take(
    edge_rl *t, const edge_rl_policy *p, const char *addr, int64_t now_us);

/* Buffers for edge_rl_headers' values. */
#define EDGE_RL_HEADER_MAX 96

/*
 * The RateLimit-Policy and RateLimit field values (IETF httpapi
 * ratelimit-headers, structured-field form) for policy name with quota q,
 * window w (0: not sent), r remaining and t seconds until reset:
 * "\"login\";q=10;w=60" and "\"login\";r=0;t=6". Pure.
 */
void edge_rl_headers(const char *name, long q, long w, long r, long t,
    char policy[EDGE_RL_HEADER_MAX], char state[EDGE_RL_HEADER_MAX]);

#endif
