/*
 * ta_status: the gRPC numbering, the names, the one status-to-HTTP table
 * (STYLE.md "Errors: one status, end to end") and the reason phrases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>

#include <cmocka.h>

#include "status.h"

static const struct {
	ta_status status;
	int number;
	const char *name;
	int http;
} table[] = {
    {TA_OK, 0, "OK", 200},
    {TA_CANCELLED, 1, "CANCELLED", 500},
    {TA_UNKNOWN, 2, "UNKNOWN", 500},
    {TA_INVALID_ARGUMENT, 3, "INVALID_ARGUMENT", 400},
    {TA_DEADLINE_EXCEEDED, 4, "DEADLINE_EXCEEDED", 504},
    {TA_NOT_FOUND, 5, "NOT_FOUND", 404},
    {TA_ALREADY_EXISTS, 6, "ALREADY_EXISTS", 409},
    {TA_PERMISSION_DENIED, 7, "PERMISSION_DENIED", 403},
    {TA_RESOURCE_EXHAUSTED, 8, "RESOURCE_EXHAUSTED", 503},
    /* STYLE.md allows 412 or 400; the project picks 412 (If-Match). */
    {TA_FAILED_PRECONDITION, 9, "FAILED_PRECONDITION", 412},
    {TA_ABORTED, 10, "ABORTED", 409},
    {TA_OUT_OF_RANGE, 11, "OUT_OF_RANGE", 400},
    {TA_UNIMPLEMENTED, 12, "UNIMPLEMENTED", 501},
    {TA_INTERNAL, 13, "INTERNAL", 500},
    {TA_UNAVAILABLE, 14, "UNAVAILABLE", 503},
    {TA_DATA_LOSS, 15, "DATA_LOSS", 500},
    {TA_UNAUTHENTICATED, 16, "UNAUTHENTICATED", 401},
};

static void
test_every_code(void **state)
{
	(void)state;
	assert_int_equal(sizeof table / sizeof table[0], 17);
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		assert_int_equal((int)table[i].status, table[i].number);
		assert_int_equal(
		    ta_status_from_int(table[i].number), table[i].status);
		assert_string_equal(
		    ta_status_name(table[i].status), table[i].name);
		assert_int_equal(
		    ta_status_to_http(table[i].status), table[i].http);
	}
}

static void
test_out_of_range(void **state)
{
	const int bad[] = {-1, 17, 18, 100, INT_MAX, INT_MIN};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(ta_status_from_int(bad[i]), TA_UNKNOWN);
		assert_string_equal(
		    ta_status_name((ta_status)bad[i]), "UNKNOWN");
		assert_int_equal(ta_status_to_http((ta_status)bad[i]), 500);
	}
}

static void
test_reason_phrases(void **state)
{
	static const struct {
		int code;
		const char *reason;
	} reasons[] = {
	    {200, "OK"},
	    {201, "Created"},
	    {400, "Bad Request"},
	    {401, "Unauthorized"},
	    {403, "Forbidden"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {409, "Conflict"},
	    {412, "Precondition Failed"},
	    {413, "Payload Too Large"},
	    {415, "Unsupported Media Type"},
	    {429, "Too Many Requests"},
	    {500, "Internal Server Error"},
	    {501, "Not Implemented"},
	    {503, "Service Unavailable"},
	    {504, "Gateway Timeout"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		assert_string_equal(
		    ta_http_reason(reasons[i].code), reasons[i].reason);
	/* Every status maps to a code with a phrase of its own. */
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		assert_non_null(ta_http_reason(table[i].http));
	/* Unknown codes fall back by class. */
	assert_string_equal(ta_http_reason(599), "Internal Server Error");
	assert_string_equal(ta_http_reason(418), "Bad Request");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_code),
	    cmocka_unit_test(test_out_of_range),
	    cmocka_unit_test(test_reason_phrases),
	};

	return cmocka_run_group_tests_name(
	    "unit.common.status", tests, NULL, NULL);
}
