/* Timeouts on reused nng aios (aio_expiry.h). */
#include "aio_expiry.h"

#include "clock.h"

void
ta_aio_expiry_set(ta_aio_expiry *e, nng_aio *aio, nng_duration ms)
{
	e->at_us = ms < 0 ? INT64_MAX : ta_mono_us() + (int64_t)ms * 1000;
	nng_aio_set_timeout(aio, ms);
}

bool
ta_aio_expiry_ended_late(const ta_aio_expiry *e)
{
	return ta_mono_us() >= e->at_us; /* never for INT64_MAX */
}

int
ta_aio_renew(nng_aio **aio, void (*cb)(void *), void *arg)
{
	nng_aio *fresh;
	int rv;

	if ((rv = nng_aio_alloc(&fresh, cb, arg)) != 0)
		return rv;
	nng_aio_free(*aio);
	*aio = fresh;
	return 0;
}
