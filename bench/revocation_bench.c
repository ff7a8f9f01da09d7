/*
 * Micro-benchmark of the edge's revocation check (edge-api/revocation.c):
 * thread CPU nanoseconds per edge_revocations_is_revoked call, the cost
 * every authenticated request pays, with lists of the sizes given on the
 * command line (users whose sessions were ended within the window). Also
 * the cost of one edge_revocations_replace of that size (once per
 * REVOCATION_REFRESH_S). Prints one JSON object per size. Build and run
 * from the repository root after scripts/build.sh build:
 *
 *   cc -O2 -Iedge-api -Icommon bench/revocation_bench.c \
 *       edge-api/revocation.c build/common/libta_core.a -lpthread \
 *       -o build/revocation_bench && build/revocation_bench 0 100 10000 100000
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "revocation.h"

#define CALLS 2000000
#define ROUNDS 7

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	for (int a = 1; a < argc; a++) {
		size_t n = (size_t)strtoul(argv[a], NULL, 10);
		edge_revocation *items = calloc(n ? n : 1, sizeof *items);
		edge_revocations *rv = edge_revocations_new();
		double best = 1e9, replace_best = 1e9, t0;
		unsigned long hits = 0;

		for (size_t i = 0; i < n; i++)
			items[i] = (edge_revocation){(int64_t)(i * 7 + 3), 1};
		for (int r = 0; r < ROUNDS; r++) {
			t0 = now_s();
			edge_revocations_replace(rv, items, n);
			if (now_s() - t0 < replace_best)
				replace_best = now_s() - t0;
		}
		for (int r = 0; r < ROUNDS; r++) {
			t0 = now_s();
			for (int i = 0; i < CALLS; i++)
				hits += edge_revocations_is_revoked(
				    rv, (int64_t)(i % 1000003), 0);
			if ((now_s() - t0) / CALLS < best)
				best = (now_s() - t0) / CALLS;
		}
		printf("{\"users\":%zu,\"check_ns\":%.1f,\"replace_us\":%.1f,"
		       "\"hits\":%lu}\n",
		    n, best * 1e9, replace_best * 1e6, hits);
		edge_revocations_free(rv);
		free(items);
	}
	return 0;
}
