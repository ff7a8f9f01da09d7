/*
 * Unit tests of auth-svc's identifier module: the NFC form usernames are
 * stored in, and every rule a new username must pass (identifier.h,
 * docs/identifiers.md), with the confusables of issue 10 as cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "identifier.h"

/* Prepares name; returns its NFC form (caller frees) or NULL. */
static char *
prepare(const char *name, ta_violations *v)
{
	char *nfc = (char *)1;

	auth_username_prepare(name, &nfc, v);
	return nfc;
}

static void
expect_ok(const char *name, const char *want_nfc)
{
	ta_violations v = {0};
	char *nfc = prepare(name, &v);

	if (v.n)
		fail_msg("%s refused: %s", name, v.items[0].message);
	assert_non_null(nfc);
	assert_string_equal(nfc, want_nfc);
	free(nfc);
	ta_violations_fini(&v);
}

static void
expect_refused(const char *name, const char *message_part)
{
	ta_violations v = {0};
	char *nfc = prepare(name, &v);

	assert_null(nfc);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.items[0].field, "username");
	if (!strstr(v.items[0].message, message_part))
		fail_msg("%s: message %s lacks %s", name, v.items[0].message,
		    message_part);
	ta_violations_fini(&v);
}

static void
test_plain_names_pass(void **state)
{
	(void)state;
	expect_ok("alice", "alice");
	expect_ok("Alice_Smith-2.0", "Alice_Smith-2.0"); /* no case mapping */
	expect_ok("alice bob", "alice bob");             /* inner space */
	expect_ok("\xd0\xb0\xd0\xbd\xd1\x8f", "\xd0\xb0\xd0\xbd\xd1\x8f");
	expect_ok("\xce\xb1\xce\xb2\xce\xb3", "\xce\xb1\xce\xb2\xce\xb3");
	expect_ok("\xe5\xb1\xb1\xe7\x94\xb0", "\xe5\xb1\xb1\xe7\x94\xb0");
	/* Digits and punctuation are common to every script. */
	expect_ok("\xd0\xb0\xd0\xbd\xd1\x8f_42", "\xd0\xb0\xd0\xbd\xd1\x8f_42");
}

static void
test_nfc(void **state)
{
	(void)state;
	/* café: NFC (U+00E9) stays, NFD (e + U+0301) is composed. */
	expect_ok("caf\xc3\xa9", "caf\xc3\xa9");
	expect_ok("cafe\xcc\x81", "caf\xc3\xa9");
	/* Angstrom sign U+212B is canonically U+00C5. */
	expect_ok("\xe2\x84\xab" "ngstrom", "\xc3\x85" "ngstrom");
}

static void
test_spaces(void **state)
{
	(void)state;
	expect_refused("alice ", "start or end with a space");
	expect_refused(" alice", "start or end with a space");
	expect_refused(" ", "start or end with a space");
	expect_refused("alice\xc2\xa0" "bob", "spaces other than U+0020");
	expect_refused("alice\xe3\x80\x80" "bob", "spaces other than");
	expect_refused("alice\xe2\x80\xa8" "bob", "spaces other than");
}

static void
test_invisible_and_bidi(void **state)
{
	(void)state;
	expect_refused("alice\xe2\x80\x8b", "invisible"); /* U+200B */
	expect_refused("alice\xe2\x80\xae", "invisible"); /* U+202E RLO */
	expect_refused("\xef\xbb\xbf" "alice", "invisible"); /* BOM */
	expect_refused("al\xe2\x80\x8dice", "invisible");  /* ZWJ */
	expect_refused("alice\xe2\x81\xa6", "invisible"); /* U+2066 LRI */
	expect_refused("al\xc2\xad" "ice", "invisible");   /* soft hyphen */
	expect_refused("alice\xef\xb8\x8f", "invisible"); /* VS16 (Mn) */
	expect_refused("\xe3\x85\xa4" "alice", "invisible"); /* U+3164 (Lo) */
}

static void
test_controls(void **state)
{
	(void)state;
	expect_refused("ali\tce", "control characters");
	expect_refused("alice\x7f", "control characters");
	expect_refused("alice\xc2\x85", "control characters"); /* NEL, C1 */
}

static void
test_mixed_scripts(void **state)
{
	(void)state;
	/* Cyrillic а (U+0430) for the Latin a. */
	expect_refused("\xd0\xb0lice", "mix Latin, Greek and Cyrillic");
	/* Greek ο (U+03BF) in a Latin name. */
	expect_refused("b\xce\xbf" "b", "mix Latin, Greek and Cyrillic");
	/* Cyrillic with Greek. */
	expect_refused("\xd0\xb0\xce\xb1", "mix Latin, Greek and Cyrillic");
}

static void
test_compatibility_and_unassigned(void **state)
{
	(void)state;
	/* Fullwidth ａlice, the ligature ﬁ, mathematical bold a. */
	expect_refused("\xef\xbd\x81lice", "compatibility characters");
	expect_refused("\xef\xac\x81sh", "compatibility characters");
	expect_refused("\xf0\x9d\x90\x9a" "lice", "compatibility characters");
	expect_refused("x\xc2\xb2", "compatibility characters"); /* ² */
	expect_refused("alice\xee\x80\x80", "private-use");      /* U+E000 */
	expect_refused("alice\xf4\x8f\xbf\xbf", "unassigned");   /* U+10FFFF */
}

static void
test_shape(void **state)
{
	char name[160], *nfc;
	ta_violations v = {0};

	(void)state;
	expect_refused("", "username is required");
	expect_refused(NULL, "username is required");
	expect_refused("ali\xc3", "valid UTF-8");
	expect_refused("\xed\xa0\x80", "valid UTF-8"); /* a surrogate */
	memset(name, 'a', 50);
	name[50] = '\0';
	expect_ok(name, name);
	name[50] = 'a';
	name[51] = '\0';
	expect_refused(name, "at most 50 characters");
	/* 100 code points as sent, 50 once composed: the NFC form counts. */
	name[0] = '\0';
	for (int i = 0; i < 50; i++)
		strcat(name, "e\xcc\x81");
	assert_int_equal(auth_text_scan_of(name).chars, 100);
	nfc = prepare(name, &v);
	assert_int_equal(v.n, 0);
	assert_int_equal(auth_text_scan_of(nfc).chars, 50);
	free(nfc);
}

static void
test_nfc_of_anything(void **state)
{
	char *s;

	(void)state;
	/* Login normalises whatever is typed, forbidden or not. */
	s = auth_identifier_nfc("cafe\xcc\x81 \xe2\x80\x8b");
	assert_string_equal(s, "caf\xc3\xa9 \xe2\x80\x8b");
	free(s);
	assert_null(auth_identifier_nfc("\xff"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_names_pass),
	    cmocka_unit_test(test_nfc),
	    cmocka_unit_test(test_spaces),
	    cmocka_unit_test(test_invisible_and_bidi),
	    cmocka_unit_test(test_controls),
	    cmocka_unit_test(test_mixed_scripts),
	    cmocka_unit_test(test_compatibility_and_unassigned),
	    cmocka_unit_test(test_shape),
	    cmocka_unit_test(test_nfc_of_anything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
