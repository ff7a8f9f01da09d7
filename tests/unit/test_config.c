/*
 * Table-driven configuration: defaults, integer and length bounds, choices,
 * required settings, and error texts that name the variable but never show
 * a secret's value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"

#define SECRET_VALUE "s3cr3t-value-never-shown"

typedef struct test_cfg {
	long port;
	const char *host;
	const char *mode;
	const char *secret;
	const char *required;
	long unbounded;
} test_cfg;

static const char *const modes[] = {"prefer", "require", "disable", NULL};

static const ta_cfg_item items[] = {
    {"TA_T_PORT", TA_CFG_INT, "8080", 1, 65535, false, NULL,
        offsetof(test_cfg, port)},
    {"TA_T_HOST", TA_CFG_STR, "127.0.0.1", 1, 16, false, NULL,
        offsetof(test_cfg, host)},
    {"TA_T_MODE", TA_CFG_STR, "prefer", 0, 0, false, modes,
        offsetof(test_cfg, mode)},
    {"TA_T_SECRET", TA_CFG_STR, "default-secret-0123456789abcdefgh", 32, 128,
        true, NULL, offsetof(test_cfg, secret)},
    {"TA_T_REQUIRED", TA_CFG_STR, NULL, 0, 0, false, NULL,
        offsetof(test_cfg, required)},
    {"TA_T_UNBOUNDED", TA_CFG_INT, "-5", 0, 0, false, NULL,
        offsetof(test_cfg, unbounded)},
};
#define NITEMS (sizeof items / sizeof items[0])

static int
reset_env(void **state)
{
	(void)state;
	for (size_t i = 0; i < NITEMS; i++)
		unsetenv(items[i].name);
	setenv("TA_T_REQUIRED", "here", 1);
	return 0;
}

/* Loads and expects failure; err gets the reason. */
static void
expect_fail(char *err, size_t cap)
{
	test_cfg cfg = {0};

	err[0] = '\0';
	assert_int_equal(
	    ta_cfg_load(items, NITEMS, &cfg, err, cap), TA_INVALID_ARGUMENT);
	assert_true(err[0] != '\0');
	/* One line. */
	assert_null(strchr(err, '\n'));
}

static void
test_defaults(void **state)
{
	test_cfg cfg = {0};
	char err[256];

	(void)state;
	assert_int_equal(
	    ta_cfg_load(items, NITEMS, &cfg, err, sizeof err), TA_OK);
	assert_int_equal(cfg.port, 8080);
	assert_string_equal(cfg.host, "127.0.0.1");
	assert_string_equal(cfg.mode, "prefer");
	assert_string_equal(cfg.secret, "default-secret-0123456789abcdefgh");
	assert_string_equal(cfg.required, "here");
	assert_int_equal(cfg.unbounded, -5);

	/* An empty value counts as unset. */
	setenv("TA_T_PORT", "", 1);
	assert_int_equal(
	    ta_cfg_load(items, NITEMS, &cfg, err, sizeof err), TA_OK);
	assert_int_equal(cfg.port, 8080);
}

static void
test_ints(void **state)
{
	test_cfg cfg = {0};
	char err[256];

	(void)state;
	setenv("TA_T_PORT", "1", 1);
	assert_int_equal(
	    ta_cfg_load(items, NITEMS, &cfg, err, sizeof err), TA_OK);
	assert_int_equal(cfg.port, 1);
	setenv("TA_T_PORT", "65535", 1);
	assert_int_equal(
	    ta_cfg_load(items, NITEMS, &cfg, err, sizeof err), TA_OK);
	assert_int_equal(cfg.port, 65535);

	setenv("TA_T_PORT", "0", 1);
	expect_fail(err, sizeof err);
	assert_string_equal(
	    err, "TA_T_PORT must be between 1 and 65535 (got 0)");
	setenv("TA_T_PORT", "65536", 1);
	expect_fail(err, sizeof err);
	assert_non_null(strstr(err, "TA_T_PORT"));
	setenv("TA_T_PORT", "-1", 1);
	expect_fail(err, sizeof err);

	/* min = max = 0: no bounds. */
	setenv("TA_T_PORT", "80", 1);
	setenv("TA_T_UNBOUNDED", "-99999", 1);
	assert_int_equal(
	    ta_cfg_load(items, NITEMS, &cfg, err, sizeof err), TA_OK);
	assert_int_equal(cfg.unbounded, -99999);
}

static void
test_not_an_integer(void **state)
{
	const char *bad[] = {
	    "12abc", "abc", "1.5", " 7x", "0x", "99999999999999999999999"};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		setenv("TA_T_PORT", bad[i], 1);
		expect_fail(err, sizeof err);
		assert_non_null(strstr(err, "TA_T_PORT"));
		assert_non_null(strstr(err, "not an integer"));
	}
}

static void
test_required(void **state)
{
	char err[256];

	(void)state;
	unsetenv("TA_T_REQUIRED");
	expect_fail(err, sizeof err);
	assert_string_equal(err, "TA_T_REQUIRED is required but not set");
	setenv("TA_T_REQUIRED", "", 1);
	expect_fail(err, sizeof err);
	assert_string_equal(err, "TA_T_REQUIRED is required but not set");
}

static void
test_choices(void **state)
{
	test_cfg cfg = {0};
	char err[256];

	(void)state;
	setenv("TA_T_MODE", "require", 1);
	assert_int_equal(
	    ta_cfg_load(items, NITEMS, &cfg, err, sizeof err), TA_OK);
	assert_string_equal(cfg.mode, "require");
	setenv("TA_T_MODE", "bogus", 1);
	expect_fail(err, sizeof err);
	assert_string_equal(
	    err, "TA_T_MODE: \"bogus\" is not an allowed value");
	/* Choices are case-sensitive. */
	setenv("TA_T_MODE", "Require", 1);
	expect_fail(err, sizeof err);
}

static void
test_string_length(void **state)
{
	test_cfg cfg = {0};
	char err[256];

	(void)state;
	setenv("TA_T_HOST", "0123456789abcdef", 1); /* 16: the max */
	assert_int_equal(
	    ta_cfg_load(items, NITEMS, &cfg, err, sizeof err), TA_OK);
	setenv("TA_T_HOST", "0123456789abcdefg", 1);
	expect_fail(err, sizeof err);
	assert_string_equal(
	    err, "TA_T_HOST must be 1 to 16 characters long (got 17)");
}

static void
test_secret_never_shown(void **state)
{
	char err[256];

	(void)state;
	/* Too short. */
	setenv("TA_T_SECRET", "short-" SECRET_VALUE, 1);
	expect_fail(err, sizeof err);
	assert_non_null(strstr(err, "TA_T_SECRET"));
	assert_null(strstr(err, SECRET_VALUE));
	/* Too long. */
	char longv[200];

	memset(longv, 'k', sizeof longv - 1);
	longv[sizeof longv - 1] = '\0';
	memcpy(longv, SECRET_VALUE, strlen(SECRET_VALUE));
	setenv("TA_T_SECRET", longv, 1);
	expect_fail(err, sizeof err);
	assert_non_null(strstr(err, "TA_T_SECRET"));
	assert_null(strstr(err, SECRET_VALUE));
}

static const char *const secret_choices[] = {"a", "b", NULL};

static void
test_secret_choice_never_shown(void **state)
{
	const ta_cfg_item one[] = {
	    {"TA_T_SECRET", TA_CFG_STR, "a", 0, 0, true, secret_choices,
	        offsetof(test_cfg, secret)},
	};
	test_cfg cfg = {0};
	char err[256];

	(void)state;
	setenv("TA_T_SECRET", SECRET_VALUE, 1);
	assert_int_equal(
	    ta_cfg_load(one, 1, &cfg, err, sizeof err), TA_INVALID_ARGUMENT);
	assert_non_null(strstr(err, "TA_T_SECRET"));
	assert_null(strstr(err, SECRET_VALUE));
	assert_non_null(strstr(err, "***"));
}

/* Runs fn in a child with stdout to a pipe; returns its output. */
static int
run_child(void (*fn)(void), char *out, size_t cap)
{
	int fds[2], status = 0;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		fn();
		_exit(0);
	}
	close(fds[1]);
	while (
	    len + 1 < cap && (n = read(fds[0], out + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void
load_or_exit(void)
{
	test_cfg cfg;

	ta_log_init("unit-config", TA_LOG_INFO);
	ta_cfg_load_or_exit(items, NITEMS, &cfg);
}

static void
test_load_or_exit(void **state)
{
	char out[4096];
	int status;

	(void)state;
	/* Success: one config line, the secret masked. */
	setenv("TA_T_SECRET", SECRET_VALUE "-padding-to-32-chars", 1);
	status = run_child(load_or_exit, out, sizeof out);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_non_null(strstr(out, "\"event\":\"config\""));
	assert_non_null(strstr(out, "\"TA_T_SECRET\":\"***\""));
	assert_non_null(strstr(out, "\"TA_T_PORT\":8080"));
	assert_non_null(strstr(out, "\"TA_T_MODE\":\"prefer\""));
	assert_null(strstr(out, SECRET_VALUE));
	assert_int_equal(count_lines(out), 1);

	/* Failure: exit status 2 and a one-line reason naming the variable. */
	setenv("TA_T_PORT", "70000", 1);
	status = run_child(load_or_exit, out, sizeof out);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	assert_non_null(strstr(out, "\"level\":\"error\""));
	assert_non_null(strstr(out, "TA_T_PORT must be between"));
	assert_null(strstr(out, SECRET_VALUE));
	assert_int_equal(count_lines(out), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_defaults, reset_env),
	    cmocka_unit_test_setup(test_ints, reset_env),
	    cmocka_unit_test_setup(test_not_an_integer, reset_env),
	    cmocka_unit_test_setup(test_required, reset_env),
	    cmocka_unit_test_setup(test_choices, reset_env),
	    cmocka_unit_test_setup(test_string_length, reset_env),
	    cmocka_unit_test_setup(test_secret_never_shown, reset_env),
	    cmocka_unit_test_setup(test_secret_choice_never_shown, reset_env),
	    cmocka_unit_test_setup(test_load_or_exit, reset_env),
	};

	return cmocka_run_group_tests_name(
	    "unit.common.config", tests, NULL, NULL);
}
