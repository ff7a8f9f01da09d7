/* The charset rule of a request's Content-Type (common/media_type.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "media_type.h"

static void
test_charset(void **state)
{
	static const struct {
		const char *ct;
		bool is_utf8;
	} cases[] = {
	    {NULL, true}, /* no Content-Type: the media-type rule decides */
	    {"application/json", true},
	    {"application/json; charset=utf-8", true},
	    {"application/json;charset=UTF-8", true},
	    {"application/json; charset=\"utf-8\"", true},
	    {"application/merge-patch+json; charset=Utf-8", true},
	    {"application/json; charset=utf-16", false},
	    {"application/json; charset=iso-8859-1", false},
	    {"application/json; charset=utf8", false},
	    {"application/json; charset=", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (ta_media_charset_is_utf8(cases[i].ct) != cases[i].is_utf8)
			fail_msg("case %zu: %s", i,
			    cases[i].ct ? cases[i].ct : "(null)");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_charset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
