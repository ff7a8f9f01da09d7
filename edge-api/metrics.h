/*
 * The edge's request metrics, aggregated per route and interval and written
 * as one CloudWatch Embedded Metric Format line per route that saw
 * requests (namespace "taskapi", dimension sets [service] and
 * [service, route]; metrics requests, errors, latency_ms).
 */
#ifndef EDGE_API_METRICS_H
#define EDGE_API_METRICS_H

#include <stdint.h>

#include "status.h"

/*
 * Starts the flusher: every interval_s seconds it writes the lines of the
 * interval that ended. Call once, before requests are served.
 * TA_INTERNAL when the thread cannot start.
 */
ta_status edge_metrics_start(long interval_s);

/* Stops the flusher and writes what the last interval counted. */
void edge_metrics_stop(void);

/*
 * Counts one finished request: route_method/pattern NULL for unmatched
 * (strings borrowed for the call only). Thread-safe; before start and
 * after stop the request is counted and written by the next flush, if any.
 */
void edge_metrics_add(
    const char *route_method, const char *pattern, int status,
    double latency_ms);

/*
 * Writes the lines of the requests counted so far and starts a new
 * interval. The flusher calls it; tests may too.
 */
void edge_metrics_flush(void);

#endif
