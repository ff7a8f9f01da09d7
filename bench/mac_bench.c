/*
 * Micro-benchmark of caller authentication (common/rpc_auth.c): the
 * worker-side cost of ta_rpc_auth_verify (and the edge's of
 * ta_rpc_auth_sign), in thread CPU microseconds, on signed envelopes of the
 * sizes given on the command line (bytes). bench/bench.py compiles and runs it
 * against the built libta_common. Prints one JSON object per size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rpc_auth.h"

static double
now_s(void)
{
	struct timespec ts;

	/* CPU time of this thread: what a worker pays, whatever else runs. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	ta_rpc_auth *a;

	if (ta_rpc_auth_new("bench-key-0123456789abcdef0123456789abcdef",
	        "bench-previous-0123456789abcdef0123456789", &a) != TA_OK)
		return 1;
	for (int i = 1; i < argc; i++) {
		size_t n = (size_t)strtoul(argv[i], NULL, 10);
		uint8_t *buf = calloc(1, n + TA_RPC_AUTH_TRAILER_BYTES);
		long iters = 50000, ok = 0;
		double t0, t, sign_us = 1e9, verify_us = 1e9;

		/* The best of 7 rounds: the machine is shared, and other
		 * processes only ever add time. */
		memset(buf, 0x5a, n);
		for (int round = 0; round < 7; round++) {
			t0 = now_s();
			for (long k = 0; k < iters; k++)
				ta_rpc_auth_sign(a, buf, n, buf + n);
			t = (now_s() - t0) * 1e6 / (double)iters;
			sign_us = t < sign_us ? t : sign_us;
			t0 = now_s();
			for (long k = 0; k < iters; k++)
				ok += ta_rpc_auth_verify(
				    a, buf, n + TA_RPC_AUTH_TRAILER_BYTES);
			t = (now_s() - t0) * 1e6 / (double)iters;
			verify_us = t < verify_us ? t : verify_us;
		}
		printf("{\"envelope_bytes\":%zu,\"sign_us\":%.3f,"
		       "\"verify_us\":%.3f,\"verified\":%ld}\n",
		    n, sign_us, verify_us, ok);
		free(buf);
	}
	ta_rpc_auth_free(a);
	return 0;
}
