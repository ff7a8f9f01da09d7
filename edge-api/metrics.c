/*
 * Per-route request metrics of the edge, aggregated and written as
 * CloudWatch Embedded Metric Format lines once per interval.
 *
 * Design notes: HTTP and nng threads call edge_metrics_add after each
 * request; a mutex guards the table (a few counter updates, no I/O). The
 * flusher thread swaps nothing out: it formats every route with requests
 * into a local buffer under the lock, resets the counters, unlocks, then
 * writes each line with one write(2), as log.c does. State is this file's
 * alone (one edge per process), because the access log that feeds it is a
 * free function called from several modules. latency_ms is an array: all
 * latencies of the interval while there are at most METRICS_SAMPLES, else a
 * uniform sample of that many (reservoir sampling), so CloudWatch's
 * percentiles stay estimates of the interval's; requests and errors are
 * exact sums (use them, not latency_ms's SampleCount, for rates). Stop
 * flushes the last, partial interval.
 */
#include "metrics.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* EMF allows at most 100 values in a metric's array. */
#define METRICS_SAMPLES 100
/* The route table's rows, plus "unmatched"; more are folded into it. */
#define METRICS_ROUTES 64
#define ROUTE_MAX 160

typedef struct route_stat {
	char route[ROUTE_MAX];  /* "GET /tasks/{id}" or "unmatched" */
	uint64_t requests, errors, seen;
	double samples[METRICS_SAMPLES];
} route_stat;

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool running, stopping;
	long interval_s;
	uint64_t rng;
	size_t nroutes;
	route_stat routes[METRICS_ROUTES];
} m = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER,
    .rng = 0x9E3779B97F4A7C15u};

static uint64_t
next_random(void)
{
	/* xorshift64: the sample only needs to be unbiased, not secret. */
	m.rng ^= m.rng << 13;
	m.rng ^= m.rng >> 7;
	m.rng ^= m.rng << 17;
	return m.rng;
}

static route_stat *
route_find(const char *route_method, const char *pattern)
{
	char name[ROUTE_MAX];
	size_t i;

	if (pattern && route_method)
		snprintf(name, sizeof name, "%s %s", route_method, pattern);
	else
		snprintf(name, sizeof name, "unmatched");
	for (i = 0; i < m.nroutes; i++)
		if (strcmp(m.routes[i].route, name) == 0)
			return &m.routes[i];
	if (m.nroutes == METRICS_ROUTES)
		return &m.routes[0];	/* cannot happen with the route table */
	memcpy(m.routes[i].route, name, sizeof name);
	m.nroutes++;
	return &m.routes[i];
}

void
edge_metrics_add(const char *route_method, const char *pattern, int status,
    double latency_ms)
{
	route_stat *r;

	pthread_mutex_lock(&m.lock);
	r = route_find(route_method, pattern);
	r->requests++;
	if (status >= 500)
		r->errors++;
	if (r->seen < METRICS_SAMPLES) {
		r->samples[r->seen] = latency_ms;
	} else {
		uint64_t j = next_random() % (r->seen + 1);

		if (j < METRICS_SAMPLES)
			r->samples[j] = latency_ms;
	}
	r->seen++;
	pthread_mutex_unlock(&m.lock);
}

/* The EMF line of r into buf (cap >= 4096); its length, 0 if it won't fit. */
static size_t
format_line(char *buf, size_t cap, const route_stat *r, const char *when,
    int ms_part, int64_t ms)
{
	char quoted[2 * ROUTE_MAX + 8];
	size_t n = (size_t)(r->seen < METRICS_SAMPLES ? r->seen
						      : METRICS_SAMPLES);
	size_t len;
	int w;

	ta_json_quote(quoted, sizeof quoted, r->route);
	w = snprintf(buf, cap,
	    "{\"time\":\"%s.%03dZ\",\"level\":\"info\",\"service\":"
	    "\"edge-api\",\"event\":\"http_metrics\",\"_aws\":{\"Timestamp\":"
	    "%" PRId64 ",\"CloudWatchMetrics\":[{\"Namespace\":\"taskapi\","
	    "\"Dimensions\":[[\"service\"],[\"service\",\"route\"]],"
	    "\"Metrics\":["
	    "{\"Name\":\"requests\",\"Unit\":\"Count\"},"
	    "{\"Name\":\"errors\",\"Unit\":\"Count\"},"
	    "{\"Name\":\"latency_ms\",\"Unit\":\"Milliseconds\"}]}]},"
	    "\"route\":%s,\"requests\":%" PRIu64 ",\"errors\":%" PRIu64
	    ",\"latency_ms\":[",
	    when, ms_part, ms, quoted, r->requests, r->errors);
	if (w < 0 || (size_t)w >= cap)
		return 0;
	len = (size_t)w;
	for (size_t i = 0; i < n; i++) {
		double v = r->samples[i];

		/* Latencies are short and finite; clamp what could not be. */
		if (!(v >= 0.0 && v < 1e9))
			v = v >= 1e9 ? 1e9 : 0.0;
		w = snprintf(buf + len, cap - len, "%s%.3f", i ? "," : "", v);
		if (w < 0 || (size_t)w >= cap - len)
			return 0;
		len += (size_t)w;
	}
	w = snprintf(buf + len, cap - len, "]}\n");
	if (w < 0 || (size_t)w >= cap - len)
		return 0;
	return len + (size_t)w;
}

void
edge_metrics_flush(void)
{
	/* 100 samples of at most 14 bytes, the route and the fixed text. */
	static char lines[METRICS_ROUTES][2560];
	static pthread_mutex_t writing = PTHREAD_MUTEX_INITIALIZER;
	size_t lens[METRICS_ROUTES], count = 0;
	char when[32];
	struct timespec ts;
	struct tm tm;
	int64_t ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	/* One flush at a time: the lines buffer is shared between them. */
	pthread_mutex_lock(&writing);
	pthread_mutex_lock(&m.lock);
	for (size_t i = 0; i < m.nroutes; i++) {
		route_stat *r = &m.routes[i];

		if (r->requests == 0)
			continue;
		lens[count] = format_line(lines[count], sizeof lines[count], r,
		    when, (int)(ts.tv_nsec / 1000000), ms);
		if (lens[count])
			count++;
		r->requests = r->errors = r->seen = 0;
	}
	pthread_mutex_unlock(&m.lock);
	for (size_t i = 0; i < count; i++) {
		ssize_t w = write(STDOUT_FILENO, lines[i], lens[i]);

		(void)w;
	}
	pthread_mutex_unlock(&writing);
}

static void *
flusher(void *arg)
{
	struct timespec until;

	(void)arg;
	pthread_mutex_lock(&m.lock);
	while (!m.stopping) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += m.interval_s;
		while (!m.stopping &&
		    pthread_cond_timedwait(&m.wake, &m.lock, &until) == 0)
			;
		pthread_mutex_unlock(&m.lock);
		edge_metrics_flush();
		pthread_mutex_lock(&m.lock);
	}
	pthread_mutex_unlock(&m.lock);
	return NULL;
}

ta_status
edge_metrics_start(long interval_s)
{
	m.interval_s = interval_s > 0 ? interval_s : 10;
	m.stopping = false;
	if (pthread_create(&m.thread, NULL, flusher, NULL) != 0)
		return TA_INTERNAL;
	m.running = true;
	return TA_OK;
}

void
edge_metrics_stop(void)
{
	if (m.running) {
		pthread_mutex_lock(&m.lock);
		m.stopping = true;
		pthread_cond_signal(&m.wake);
		pthread_mutex_unlock(&m.lock);
		pthread_join(m.thread, NULL);
		m.running = false;
	}
	edge_metrics_flush();
}
