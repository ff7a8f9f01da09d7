/*
 * LD_PRELOAD shim for unit.rpc_expiry: widens nng 1.5.2's expiry race
 * (common/aio_expiry.h). nng's expire thread (named "nng:aio:expire")
 * reads an expired aio's cancel function, unlocks its queue and only then
 * calls that function; here the first pthread_mutex_unlock on such a
 * thread (in the test: the one before the first expired aio's cancel)
 * returns TA_SHIM_EXPIRE_DELAY_MS later, so an operation that completes
 * just after its deadline, and the next one started on the same aio, both
 * fall inside that window every time. Later unlocks are not held, so what
 * the cancel then does runs at its own pace. ta_shim_expire_delays counts
 * the unlocks seen there, so the test can check the shim was there and
 * that the window opened before the reply came.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

atomic_long ta_shim_expire_delays;

int
pthread_mutex_unlock(pthread_mutex_t *m)
{
	static int (*real)(pthread_mutex_t *);
	const char *ms;
	char name[16] = "";
	int rv;

	if (!real)
		real = (int (*)(pthread_mutex_t *))dlsym(
		    RTLD_NEXT, "pthread_mutex_unlock");
	rv = real(m);
	if ((ms = getenv("TA_SHIM_EXPIRE_DELAY_MS")) != NULL &&
	    prctl(PR_GET_NAME, name) == 0 &&
	    strcmp(name, "nng:aio:expire") == 0) {
		long delay = atol(ms);
		struct timespec ts = {delay / 1000, (delay % 1000) * 1000000L};

		if (atomic_fetch_add(&ta_shim_expire_delays, 1) == 0)
			while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
				;
	}
	return rv;
}
