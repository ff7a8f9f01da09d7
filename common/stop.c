/*
 * ta_stop_wait: the stop signal, then the drain delay (common/stop.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "stop.h"

#include <errno.h>
#include <time.h>

#include "log.h"

static const char *
signal_name(int sig)
{
	return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "signal";
}

int
ta_stop_wait(const sigset_t *set, long drain_s)
{
	struct timespec now, end;
	int sig = 0;

	while (sigwait(set, &sig) != 0)
		;
	ta_log(TA_LOG_INFO, "stopping", "signal received",
	    TA_S("signal", signal_name(sig)), TA_I("drain_s", drain_s));
	if (drain_s <= 0)
		return sig;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += drain_s;
	for (;;) {
		struct timespec left;
		int again;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = end.tv_sec - now.tv_sec;
		left.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		if (left.tv_sec < 0)
			break;
		again = sigtimedwait(set, NULL, &left);
		if (again > 0) {
			ta_log(TA_LOG_INFO, "drain_cut_short",
			    "second stop signal: closing now",
			    TA_S("signal", signal_name(again)));
			break;
		}
		if (errno == EAGAIN)
			break;
		/* EINTR: another signal handler ran; wait the rest. */
	}
	ta_log(TA_LOG_INFO, "drained", "drain delay over: closing");
	return sig;
}
