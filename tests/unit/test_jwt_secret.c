/*
 * Unit tests of ta_jwt_secret_check and ta_jwt_cfg_check (common/jwt.h):
 * which secrets a process refuses at start, and that the reason names the
 * variable but never the value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jwt.h"

static ta_status
check(const char *secret, char *err, size_t errlen)
{
	err[0] = '\0';
	return ta_jwt_secret_check(
	    "JWT_SECRET", secret, strlen(secret), err, errlen);
}

static void
test_good_secrets(void **state)
{
	(void)state;
	static const char *const good[] = {
	    /* scripts/run.sh: token_urlsafe(48) */
	    "q7mJ2v_xK9pL0aZ-Nw3rT8yB5cD1eF6gH4iJ7kL2mN9oP0qR3sT6uV8wX1yZ4aB",
	    /* ecs/data.yaml: 64 letters and digits */
	    "Zx81Lq0Wm3Rt7Yb2Nc5Vd9Kf4Hg6Js1Pa8Qe0Uo3Ii7Ty2Re5Wq9As4Df6Gh1Jk8L",
	    /* tests/integration/harness.c */
	    "integration-test-jwt-secret-0123456789abcdefghij",
	    /* 32 bytes exactly */
	    "0123456789abcdefABCDEF0123456789",
	};
	char err[256];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_int_equal(check(good[i], err, sizeof err), TA_OK);
}

static void
test_weak_secrets(void **state)
{
	(void)state;
	static const char *const weak[] = {
	    "",
	    "secret",
	    "your-secret-key",
	    "0123456789abcdefABCDEF012345678", /* 31 bytes */
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "abababababababababababababababababababab",
	    "abcdefgabcdefgabcdefgabcdefgabcdefgabcdefg", /* 7 distinct */
	    "your-secret-key-your-secret-key-your-secret-key",
	    "Your_Secret_Key_1234567890-please-replace",
	    "changeme-changeme-changeme-changeme-0123456789",
	    "CHANGE-ME-0123456789-abcdefghijklmnopqrstuvwxyz",
	    "your-256-bit-secret-0123456789abcdefghijklmnopq",
	    "supersecret-0123456789abcdefghijklmnopqrstuvwxyz",
	};
	char err[256];

	for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++) {
		assert_int_equal(
		    check(weak[i], err, sizeof err), TA_INVALID_ARGUMENT);
		assert_non_null(strstr(err, "JWT_SECRET"));
		/* Short ones ("secret") are words of the message itself. */
		if (strlen(weak[i]) >= 16)
			assert_null(strstr(err, weak[i]));
	}
}

static void
test_cfg_check_names_the_variable(void **state)
{
	(void)state;
	static const char good[] = "0123456789abcdefABCDEF0123456789xyz";
	static const char weak[] = "changeme-changeme-changeme-changeme";
	ta_jwt_cfg cfg;
	char err[256];

	ta_jwt_cfg_init(&cfg, good, NULL, "taskapi", "taskapi");
	assert_int_equal(ta_jwt_cfg_check(&cfg, err, sizeof err), TA_OK);
	ta_jwt_cfg_init(&cfg, good, "", "taskapi", "taskapi");
	assert_int_equal(ta_jwt_cfg_check(&cfg, err, sizeof err), TA_OK);
	ta_jwt_cfg_init(&cfg, good, weak, "taskapi", "taskapi");
	assert_int_equal(
	    ta_jwt_cfg_check(&cfg, err, sizeof err), TA_INVALID_ARGUMENT);
	assert_non_null(strstr(err, "JWT_SECRET_PREVIOUS"));
	assert_null(strstr(err, "changeme-"));
	ta_jwt_cfg_init(&cfg, weak, good, "taskapi", "taskapi");
	assert_int_equal(
	    ta_jwt_cfg_check(&cfg, err, sizeof err), TA_INVALID_ARGUMENT);
	assert_non_null(strstr(err, "JWT_SECRET "));
	assert_null(strstr(err, "JWT_SECRET_PREVIOUS"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_secrets),
	    cmocka_unit_test(test_weak_secrets),
	    cmocka_unit_test(test_cfg_check_names_the_variable),
	};

	return cmocka_run_group_tests_name("jwt_secret", tests, NULL, NULL);
}
