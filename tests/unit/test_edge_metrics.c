/*
 * The edge's aggregated EMF lines (edge-api/metrics.c): one line per route
 * with requests in the interval, exact request and error sums, at most 100
 * latencies (all of them while there are fewer), counters reset by a
 * flush, hostile route names still one JSON object per line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "metrics.h"

static char captured[1 << 20];

/* What edge_metrics_flush writes to fd 1. */
static const char *
flushed(void)
{
	FILE *f = tmpfile();
	int saved;
	size_t n;

	assert_non_null(f);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(f), STDOUT_FILENO) >= 0);
	edge_metrics_flush();
	dup2(saved, STDOUT_FILENO);
	close(saved);
	rewind(f);
	n = fread(captured, 1, sizeof captured - 1, f);
	captured[n] = '\0';
	fclose(f);
	return captured;
}

/* The parsed line whose route is route, or NULL; lines counted in *n. */
static cJSON *
line_of(const char *out, const char *route, int *n)
{
	cJSON *found = NULL;
	const char *p = out;

	*n = 0;
	while (*p) {
		const char *nl = strchr(p, '\n');
		cJSON *j;

		assert_non_null(nl); /* every line ends */
		j = cJSON_ParseWithLength(p, (size_t)(nl - p));
		assert_non_null(j);
		(*n)++;
		if (!found && strcmp(cJSON_GetObjectItem(j, "route")->valuestring,
				  route) == 0)
			found = j;
		else
			cJSON_Delete(j);
		p = nl + 1;
	}
	return found;
}

static double
num(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(j, key);

	assert_non_null(v);
	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static void
test_sums_per_route(void **state)
{
	const char *out;
	cJSON *a, *u, *lat;
	int n;

	(void)state;
	edge_metrics_add("GET", "/tasks", 200, 1.5);
	edge_metrics_add("GET", "/tasks", 503, 2.5);
	edge_metrics_add("GET", "/tasks", 401, 0.25);
	edge_metrics_add(NULL, NULL, 404, 0.125);
	out = flushed();
	a = line_of(out, "GET /tasks", &n);
	assert_int_equal(n, 2);
	assert_non_null(a);
	assert_int_equal((int)num(a, "requests"), 3);
	assert_int_equal((int)num(a, "errors"), 1);
	lat = cJSON_GetObjectItem(a, "latency_ms");
	assert_true(cJSON_IsArray(lat));
	assert_int_equal(cJSON_GetArraySize(lat), 3);
	assert_true(cJSON_GetArrayItem(lat, 1)->valuedouble == 2.5);
	assert_string_equal(
	    cJSON_GetObjectItem(a, "event")->valuestring, "http_metrics");
	assert_non_null(cJSON_GetObjectItem(a, "_aws"));
	u = line_of(out, "unmatched", &n);
	assert_non_null(u);
	assert_int_equal((int)num(u, "requests"), 1);
	assert_int_equal((int)num(u, "errors"), 0);
	cJSON_Delete(a);
	cJSON_Delete(u);
	/* The interval is over: nothing is counted twice. */
	assert_string_equal(flushed(), "");
}

static void
test_latencies_sampled_beyond_100(void **state)
{
	cJSON *a, *lat, *v;
	int n, seen[1000] = {0};

	(void)state;
	for (int i = 0; i < 1000; i++)
		edge_metrics_add("POST", "/tasks", 201, (double)i);
	a = line_of(flushed(), "POST /tasks", &n);
	assert_non_null(a);
	assert_int_equal(n, 1);
	assert_int_equal((int)num(a, "requests"), 1000);
	lat = cJSON_GetObjectItem(a, "latency_ms");
	assert_int_equal(cJSON_GetArraySize(lat), 100);
	/* A sample of the values added, each at most once. */
	cJSON_ArrayForEach(v, lat)
	{
		int x = (int)v->valuedouble;

		assert_true(x >= 0 && x < 1000);
		assert_int_equal(seen[x]++, 0);
	}
	cJSON_Delete(a);
}

static void
test_hostile_route_stays_json(void **state)
{
	cJSON *a;
	int n;

	(void)state;
	edge_metrics_add("GET", "/a\"b\\c\n", 200, 1e300);
	a = line_of(flushed(), "GET /a\"b\\c\n", &n);
	assert_non_null(a);
	assert_true(cJSON_GetArrayItem(cJSON_GetObjectItem(a, "latency_ms"), 0)
			->valuedouble <= 1e9);
	cJSON_Delete(a);
}

static void
test_stop_writes_the_last_interval(void **state)
{
	cJSON *a;
	int n;

	(void)state;
	assert_int_equal(edge_metrics_start(3600), TA_OK);
	edge_metrics_add("DELETE", "/tasks/{id}", 200, 3.0);
	{
		FILE *f = tmpfile();
		int saved = dup(STDOUT_FILENO);
		size_t len;

		assert_non_null(f);
		assert_true(dup2(fileno(f), STDOUT_FILENO) >= 0);
		edge_metrics_stop();
		dup2(saved, STDOUT_FILENO);
		close(saved);
		rewind(f);
		len = fread(captured, 1, sizeof captured - 1, f);
		captured[len] = '\0';
		fclose(f);
	}
	a = line_of(captured, "DELETE /tasks/{id}", &n);
	assert_non_null(a);
	assert_int_equal(n, 1);
	cJSON_Delete(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sums_per_route),
	    cmocka_unit_test(test_latencies_sampled_beyond_100),
	    cmocka_unit_test(test_hostile_route_stays_json),
	    cmocka_unit_test(test_stop_writes_the_last_interval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
