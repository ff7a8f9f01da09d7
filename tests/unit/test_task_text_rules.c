/*
 * Unit tests of task-svc's text rules: controls, bidi overrides and
 * isolates, and invisible-only titles are refused; descriptions keep tab,
 * line feed and carriage return.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "text_rules.h"

static void
expect_title(const char *title, const char *message_part)
{
	const char *got = task_title_problem(title);

	if (!message_part) {
		if (got)
			fail_msg("title refused: %s", got);
		return;
	}
	assert_non_null(got);
	if (!strstr(got, message_part))
		fail_msg("%s lacks %s", got, message_part);
}

static void
expect_description(const char *d, const char *message_part)
{
	const char *got = task_description_problem(d);

	if (!message_part) {
		if (got)
			fail_msg("description refused: %s", got);
		return;
	}
	assert_non_null(got);
	if (!strstr(got, message_part))
		fail_msg("%s lacks %s", got, message_part);
}

static void
test_titles_pass(void **state)
{
	(void)state;
	expect_title("Buy milk", NULL);
	expect_title("  padded  ", NULL);
	expect_title("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", NULL); /* Hebrew */
	expect_title("a\xe2\x80\x8f" "b", NULL); /* RLM is a mark, kept */
	expect_title("caf\xc3\xa9 \xf0\x9f\x98\x80", NULL);
	expect_title("x\xe2\x80\x8b", NULL); /* visible text around ZWSP */
}

static void
test_title_controls(void **state)
{
	(void)state;
	expect_title("a\tb", "control characters");
	expect_title("a\nb", "control characters");
	expect_title("a\x01", "control characters");
	expect_title("a\x7f", "control characters");
	expect_title("a\xc2\x80", "control characters"); /* U+0080 */
	expect_title("a\xc2\x9f", "control characters"); /* U+009F */
}

static void
test_title_bidi(void **state)
{
	(void)state;
	for (unsigned cp = 0x202A; cp <= 0x202E; cp++) {
		char s[8] = {'a', (char)0xE2, (char)0x80,
		    (char)(0x80 | (cp & 0x3F)), 'b', 0};

		expect_title(s, "bidi override");
	}
	for (unsigned cp = 0x2066; cp <= 0x2069; cp++) {
		char s[8] = {'a', (char)0xE2, (char)0x81,
		    (char)(0x80 | (cp & 0x3F)), 'b', 0};

		expect_title(s, "bidi override");
	}
}

static void
test_title_invisible(void **state)
{
	(void)state;
	expect_title("\xe2\x80\x8b", "visible character");          /* ZWSP */
	expect_title("\xef\xbb\xbf\xe2\x80\x8c", "visible character"); /* BOM ZWNJ */
	expect_title("\xe3\x85\xa4", "visible character");            /* U+3164 */
	expect_title(" \xe2\x81\xa0 ", "visible character");          /* WJ */
	expect_title("\xc2\xad", "visible character");                /* SHY */
}

static void
test_descriptions(void **state)
{
	(void)state;
	expect_description("line one\nline two\r\n\tindented", NULL);
	expect_description("\xe2\x80\x8b", NULL); /* may be invisible */
	expect_description("a\x0b" "b", "other than tab");
	expect_description("a\x1b[31m", "other than tab");
	expect_description("a\xc2\x85", "other than tab"); /* NEL */
	expect_description("a\xe2\x80\xae" "b", "bidi override");
	expect_description("a\xe2\x81\xa7" "b", "bidi override");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_titles_pass),
	    cmocka_unit_test(test_title_controls),
	    cmocka_unit_test(test_title_bidi),
	    cmocka_unit_test(test_title_invisible),
	    cmocka_unit_test(test_descriptions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
