/*
 * Timeouts on reused nng aios, safe against nng 1.5.2's expiry race.
 *
 * nng's expire thread takes an expired aio off its queue, reads and
 * clears its cancel function under its lock, drops the lock, and only
 * then calls that function. If the operation completes normally in
 * between (a reply that arrives just after the deadline) and the aio is
 * reused at once for a new operation on the same context, the late call
 * cancels the new operation: it ends with NNG_ETIMEDOUT long before its
 * own timeout (docs/library-notes.md, "nng"). Freeing the aio waits for
 * the expire thread to be done with it, so an aio whose operation ended
 * at or after its expiry is replaced before its next operation.
 *
 * Only an operation that ended after its expiry can be held by the
 * expire thread: it takes an aio when nng's clock (CLOCK_MONOTONIC
 * milliseconds, the clock of ta_mono_us) is past the expiry nng computed
 * when the operation was scheduled, which is no earlier than the one
 * recorded here.
 */
#ifndef TA_COMMON_AIO_EXPIRY_H
#define TA_COMMON_AIO_EXPIRY_H

#include <stdbool.h>
#include <stdint.h>

#include <nng/nng.h>

/* When an aio's pending operation expires (ta_mono_us), or never. */
typedef struct ta_aio_expiry {
	int64_t at_us;
} ta_aio_expiry;

/* Sets aio's timeout (ms; NNG_DURATION_INFINITE allowed) for the next
 * operation started on it and records when that one expires. */
void ta_aio_expiry_set(ta_aio_expiry *e, nng_aio *aio, nng_duration ms);

/* Called once the operation has completed (any result): whether nng's
 * expire thread may still hold the aio, so it must not be reused. */
bool ta_aio_expiry_ended_late(const ta_aio_expiry *e);

/*
 * Replaces *aio (idle: no operation pending, its callback returned) by a
 * new aio with callback cb(arg), or none. Frees the old one, which waits
 * for nng's expire thread to let go of it; never call it on the old aio's
 * own callback. Returns 0, or the error of nng_aio_alloc (then *aio is
 * unchanged).
 */
int ta_aio_renew(nng_aio **aio, void (*cb)(void *), void *arg);

#endif
