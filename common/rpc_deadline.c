/*
 * The envelope's absolute deadline (a google.protobuf.Timestamp) to and
 * from unix epoch milliseconds (see rpc.h). A peer's timestamp is wire
 * input: every value it can hold converts without overflow.
 */
#include "rpc.h"

#include <stdint.h>

int64_t
ta_rpc_deadline_ms(const Google__Protobuf__Timestamp *ts)
{
	int64_t ms;

	if (!ts)
		return 0;
	/* seconds * 1000 overflows int64 beyond +-9.2e15 s: saturate. */
	if (ts->seconds > INT64_MAX / 1000 - 1)
		return INT64_MAX;
	if (ts->seconds < INT64_MIN / 1000 + 1)
		return INT64_MIN;
	ms = ts->seconds * 1000;
	/* nanos outside [0, 1e9) is not a Timestamp: clamp it. */
	if (ts->nanos > 0)
		ms += (ts->nanos > 999999999 ? 999999999 : ts->nanos) / 1000000;
	return ms;
}

void
ta_rpc_deadline_to_timestamp(int64_t ms, Google__Protobuf__Timestamp *ts)
{
	int64_t rem = ms % 1000;

	/* Floor division: -1 ms is -1 s + 999 ms, nanos never negative. */
	ts->seconds = ms / 1000 - (rem < 0);
	ts->nanos = (int32_t)(rem < 0 ? rem + 1000 : rem) * 1000000;
}
