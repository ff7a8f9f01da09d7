/*
 * The envelope deadline (common/rpc_deadline.c): unix epoch milliseconds
 * to and from a google.protobuf.Timestamp, for every value a peer can send.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rpc.h"

/* The conversion itself, both ways. */
static void
test_deadline_conversion(void **state)
{
	static const int64_t ms[] = {0, 1, -1, 999, 1000, -1000, -1001,
	    1740910504221LL, INT64_MAX / 1000 * 1000 - 1000};
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;

	(void)state;
	assert_true(ta_rpc_deadline_ms(NULL) == 0);
	for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
		ta_rpc_deadline_to_timestamp(ms[i], &ts);
		assert_true(ts.nanos >= 0 && ts.nanos <= 999999999);
		assert_true(ta_rpc_deadline_ms(&ts) == ms[i]);
	}
	ts.seconds = 5;
	ts.nanos = -1;
	assert_true(ta_rpc_deadline_ms(&ts) == 5000);
	ts.seconds = INT64_MIN;
	ts.nanos = 0;
	assert_true(ta_rpc_deadline_ms(&ts) == INT64_MIN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_deadline_conversion),
	};

	return cmocka_run_group_tests_name("rpc_deadline", tests, NULL, NULL);
}
