/*
 * The two clocks every module reads: monotonic microseconds for latencies,
 * grace periods and rate windows, and wall-clock milliseconds for the
 * envelope's absolute deadlines. One copy, so they all agree.
 */
#ifndef TA_COMMON_CLOCK_H
#define TA_COMMON_CLOCK_H

#include <stdint.h>

/* Microseconds on CLOCK_MONOTONIC: only differences mean anything. */
int64_t ta_mono_us(void);

/* Current time as unix epoch milliseconds (CLOCK_REALTIME). */
int64_t ta_now_ms(void);

#endif
