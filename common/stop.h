/*
 * How a worker stops. ECS removes a stopping task's Cloud Map record and
 * sends SIGTERM at the same moment, but callers learn of the new record set
 * only when their cached answer expires (the record TTL) and they resolve
 * again (the edge's DISCOVERY_REFRESH_S). A worker that exits at once
 * leaves them with addresses of nothing until then: during a rolling
 * update, all of them. So after the stop signal a worker keeps serving for
 * DRAIN_DELAY_S (TTL + refresh), then closes.
 */
#ifndef TA_COMMON_STOP_H
#define TA_COMMON_STOP_H

#include <signal.h>

/* The worker's DRAIN_DELAY_S setting: an item of its ta_cfg_item table. */
#define TA_CFG_DRAIN_ITEM(type, member)                                        \
	{"DRAIN_DELAY_S", TA_CFG_INT, "0", 0, 300, false, NULL,                \
	    offsetof(type, member)}

/*
 * Waits for a signal of set (blocked in every thread), logs it, then keeps
 * waiting drain_s seconds while the server goes on serving; a second signal
 * cuts the drain short. Returns the first signal.
 */
int ta_stop_wait(const sigset_t *set, long drain_s);

#endif
