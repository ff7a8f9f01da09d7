/*
 * Access log of the edge: one line per request, with its request id. The
 * request is also counted in the per-route metrics (metrics.c), which
 * write one Embedded Metric Format line per route and interval instead of
 * one per request.
 */
#include "access.h"

#include "log.h"
#include "metrics.h"

void
edge_access_log(const edge_access *a)
{
	double latency_ms = (double)a->latency_us / 1000.0;
	ta_kv kvs[9];
	size_t k = 0;

	edge_metrics_add(a->route_method, a->pattern, a->status, latency_ms);
	if (!ta_log_enabled(TA_LOG_INFO))
		return;
	kvs[k++] = TA_S("request_id", a->request_id);
	if (a->has_user)
		kvs[k++] = TA_I("user_id", a->user_id);
	kvs[k++] = TA_S("method", a->method);
	kvs[k++] = TA_S("route", a->pattern);
	kvs[k++] = TA_I("status", a->status);
	kvs[k++] = TA_F("latency_ms", latency_ms);
	if (a->client_addr && a->client_addr[0])
		kvs[k++] = TA_S("client_addr", a->client_addr);
	kvs[k].type = TA_KV_END;
	ta_log_kv(TA_LOG_INFO, "http_request", "request served", kvs);
}
