/*
 * The clocks (common/clock.h): monotonic microseconds never go back, and
 * wall-clock milliseconds agree with time().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"

static void
test_mono_us(void **state)
{
	struct timespec ts = {0, 2000000L}; /* 2 ms */
	int64_t a, b;

	(void)state;
	a = ta_mono_us();
	while (nanosleep(&ts, &ts) != 0)
		; // interrupted: sleep the rest
	b = ta_mono_us();
	assert_true(a > 0);
	assert_true(b - a >= 2000);
	for (int i = 0; i < 1000; i++) {
		int64_t c = ta_mono_us();

		assert_true(c >= b);
		b = c;
	}
}

static void
test_now_ms(void **state)
{
	int64_t before = (int64_t)time(NULL) * 1000;
	int64_t now = ta_now_ms();
	int64_t after = (int64_t)time(NULL) * 1000 + 1000;

	(void)state;
	assert_true(now >= before && now < after);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mono_us),
	    cmocka_unit_test(test_now_ms),
	};

	return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
