/*
 * Access log and per-request metrics of the edge. The metrics line follows
 * CloudWatch's Embedded Metric Format, so the awslogs driver alone turns it
 * into metrics; it also carries the fixed log keys so that every stdout
 * line stays one JSON object with time, level, service and event.
 */
#include "access.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static void
emit_metrics(const edge_access *a, double latency_ms)
{
	char route[160], quoted[340], when[32], line[1024];
	struct timespec ts;
	struct tm tm;
	int64_t ms;
	int n;

	if (a->pattern)
		snprintf(
		    route, sizeof route, "%s %s", a->route_method, a->pattern);
	else
		snprintf(route, sizeof route, "unmatched");
	ta_json_quote(quoted, sizeof quoted, route);
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof line,
	    "{\"time\":\"%s.%03dZ\",\"level\":\"info\",\"service\":"
	    "\"edge-api\",\"event\":\"http_metrics\",\"_aws\":{\"Timestamp\":"
	    "%" PRId64 ",\"CloudWatchMetrics\":[{\"Namespace\":\"taskapi\","
	    "\"Dimensions\":[[\"service\"],[\"service\",\"route\"]],"
	    "\"Metrics\":["
	    "{\"Name\":\"requests\",\"Unit\":\"Count\"},"
	    "{\"Name\":\"errors\",\"Unit\":\"Count\"},"
	    "{\"Name\":\"latency_ms\",\"Unit\":\"Milliseconds\"}]}]},"
	    "\"route\":%s,\"requests\":1,\"errors\":%d,\"latency_ms\":%.3f}\n",
	    when, (int)(ts.tv_nsec / 1000000), ms, quoted,
	    a->status >= 500 ? 1 : 0, latency_ms);
	if (n > 0 && (size_t)n < sizeof line) {
		/* One write per line, as log.c does: lines never interleave. */
		ssize_t w = write(STDOUT_FILENO, line, (size_t)n);

		(void)w;
	}
}

void
edge_access_log(const edge_access *a)
{
	double latency_ms = (double)a->latency_us / 1000.0;
	ta_kv kvs[9];
	size_t k = 0;

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
	emit_metrics(a, latency_ms);
}
