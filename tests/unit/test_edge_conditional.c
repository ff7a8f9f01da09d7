/*
 * The edge's conditional requests (edge-api/conditional.h): which routes
 * take If-Match, the reply's etag leaving the body for the header, and
 * the 304 / 412 the edge answers from a reply's tag. No MHD needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conditional.h"
#include "routes.h"

static void
test_if_match_only_on_conditional_routes(void **state)
{
	const char *v = "unchanged";

	(void)state;
	assert_int_equal(
	    edge_cond_if_match(EDGE_ROUTE_CONDITIONAL, "\"1-2\"", &v), TA_OK);
	assert_string_equal(v, "\"1-2\"");
	assert_int_equal(
	    edge_cond_if_match(EDGE_ROUTE_CONDITIONAL, "*", &v), TA_OK);
	assert_string_equal(v, "*");
	assert_int_equal(
	    edge_cond_if_match(EDGE_ROUTE_CONDITIONAL, NULL, &v), TA_OK);
	assert_null(v);
	/* Elsewhere the header is ignored, even when malformed. */
	assert_int_equal(
	    edge_cond_if_match(EDGE_ROUTE_AUTH, "junk", &v), TA_OK);
	assert_null(v);
	v = "unchanged";
	assert_int_equal(edge_cond_if_match(EDGE_ROUTE_CONDITIONAL, "1-2", &v),
	    TA_INVALID_ARGUMENT);
	assert_string_equal(v, "unchanged");
	assert_int_equal(edge_cond_if_match(EDGE_ROUTE_CONDITIONAL, "", &v),
	    TA_INVALID_ARGUMENT);
}

static void
test_take_etag(void **state)
{
	cJSON *j = cJSON_Parse(
	    "{\"message\":\"m\",\"task\":{\"etag\":\"inner\"},\"etag\":\"\\\"7-"
	    "3\\\"\"}");
	char buf[EDGE_ETAG_MAX] = "";
	char *out;

	(void)state;
	assert_true(edge_cond_take_etag(j, buf, sizeof buf));
	assert_string_equal(buf, "\"7-3\"");
	/* Only the top level: nested keys are the body's. */
	out = cJSON_PrintUnformatted(j);
	assert_string_equal(
	    out, "{\"message\":\"m\",\"task\":{\"etag\":\"inner\"}}");
	free(out);
	assert_false(edge_cond_take_etag(j, buf, sizeof buf));
	cJSON_Delete(j);
	/* A non-string or too long tag is dropped, not sent. */
	j = cJSON_Parse("{\"etag\":5}");
	assert_false(edge_cond_take_etag(j, buf, sizeof buf));
	assert_null(cJSON_GetObjectItem(j, "etag"));
	cJSON_Delete(j);
	j = cJSON_Parse("{\"etag\":\"0123456789\"}");
	assert_false(edge_cond_take_etag(j, buf, 10));
	cJSON_Delete(j);
}

static void
test_not_modified(void **state)
{
	(void)state;
	assert_int_equal(
	    edge_cond_status("GET", "\"7-3\"", NULL, false, "\"7-3\""), 304);
	assert_int_equal(
	    edge_cond_status("HEAD", "W/\"7-3\"", NULL, false, "\"7-3\""), 304);
	assert_int_equal(
	    edge_cond_status("GET", "*", NULL, false, "\"7-3\""), 304);
	assert_int_equal(
	    edge_cond_status("GET", "\"7-2\"", NULL, false, "\"7-3\""), 0);
	/* Malformed: ignored. Other methods never 304. No tag, no 304. */
	assert_int_equal(
	    edge_cond_status("GET", "7-3", NULL, false, "\"7-3\""), 0);
	assert_int_equal(
	    edge_cond_status("PUT", "*", NULL, false, "\"7-3\""), 0);
	assert_int_equal(edge_cond_status("GET", "*", NULL, false, ""), 0);
	assert_int_equal(
	    edge_cond_status("GET", NULL, NULL, false, "\"7-3\""), 0);
}

static void
test_noop_update_checks_if_match(void **state)
{
	(void)state;
	assert_int_equal(
	    edge_cond_status("PUT", NULL, "\"7-2\"", true, "\"7-3\""), 412);
	/* Strong comparison: a weak tag never matches. */
	assert_int_equal(
	    edge_cond_status("PATCH", NULL, "W/\"7-3\"", true, "\"7-3\""), 412);
	assert_int_equal(
	    edge_cond_status("PATCH", NULL, "\"7-3\"", true, "\"7-3\""), 0);
	assert_int_equal(
	    edge_cond_status("PUT", NULL, "\"1-1\", *", true, "\"7-3\""), 412);
	assert_int_equal(
	    edge_cond_status("PUT", NULL, "*", true, "\"7-3\""), 0);
	/* A real change was checked by the worker. */
	assert_int_equal(
	    edge_cond_status("PUT", NULL, "\"7-2\"", false, "\"7-4\""), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_if_match_only_on_conditional_routes),
	    cmocka_unit_test(test_take_etag),
	    cmocka_unit_test(test_not_modified),
	    cmocka_unit_test(test_noop_update_checks_if_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
