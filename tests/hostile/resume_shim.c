/*
 * LD_PRELOAD shim for hostile.shutdown: interposes MHD_resume_connection
 * and MHD_stop_daemon of the edge's libmicrohttpd. A resume waits
 * TA_SHIM_RESUME_DELAY_MS first (once the file TA_SHIM_RESUME_DELAY_FLAG
 * exists, when that is set), widening the window between an RPC's
 * completion and the resume of its connection; a resume that comes after
 * MHD_stop_daemon (the daemon, and the connection, are freed by then) is
 * reported on stderr and aborts, so the use after free shows in every
 * build, not only under AddressSanitizer. A delayed resume first creates
 * the file TA_SHIM_RESUME_DELAY_FLAG ".resuming", so the test can send its
 * signal inside that window rather than guess when it opens.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct MHD_Connection;
struct MHD_Daemon;

void MHD_resume_connection(struct MHD_Connection *c);
void MHD_stop_daemon(struct MHD_Daemon *d);

static atomic_int is_stopped;

void
MHD_resume_connection(struct MHD_Connection *c)
{
	static const char msg[] =
	    "resume_shim: MHD_resume_connection after MHD_stop_daemon\n";
	void (*real)(struct MHD_Connection *) = (void (*)(
	    struct MHD_Connection *))dlsym(RTLD_NEXT, "MHD_resume_connection");
	const char *ms = getenv("TA_SHIM_RESUME_DELAY_MS");
	const char *flag = getenv("TA_SHIM_RESUME_DELAY_FLAG");
	long delay = ms && (!flag || access(flag, F_OK) == 0) ? atol(ms) : 0;
	struct timespec ts = {delay / 1000, (delay % 1000) * 1000000L};

	if (delay > 0) {
		char mark[4096];
		int fd = -1;

		if (flag && snprintf(mark, sizeof mark, "%s.resuming", flag) <
		                (int)sizeof mark)
			fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
		nanosleep(&ts, NULL);
	}
	if (atomic_load(&is_stopped)) {
		ssize_t k = write(2, msg, strlen(msg));

		(void)k;
		abort();
	}
	real(c);
}

void
MHD_stop_daemon(struct MHD_Daemon *d)
{
	void (*real)(struct MHD_Daemon *) =
	    (void (*)(struct MHD_Daemon *))dlsym(RTLD_NEXT, "MHD_stop_daemon");

	atomic_store(&is_stopped, 1);
	real(d);
}
