/*
 * libFuzzer target for common/config.c: the values of a table with an item
 * of every kind (string and integer; free, bounded, with choices, secret,
 * required, negative bounds) come from the input, NUL-separated, as the
 * environment; a missing piece leaves the variable unset, an empty one is
 * set to "". The rows load in order: every row before the one a failure
 * names must hold its value, checked here independently (strtol's own
 * grammar for integers), the named row must refuse its value, and the
 * reason never shows a secret's value. On TA_OK every row holds.
 * ta_cfg_log runs on every loaded struct (stdout is /dev/null).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#include "alloc.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

typedef struct fz_cfg {
	const char *str, *str_bounded, *str_choice, *secret, *required;
	long num, num_bounded, num_choice, num_negative, num_secret;
} fz_cfg;

static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const sizes[] = {"1", "2", "04", "-8", NULL};

#define ROW(n, t, d, lo, hi, sec, ch, m)                                       \
	{                                                                      \
		(n), (t), (d), (lo), (hi), (sec), (ch), offsetof(fz_cfg, m)    \
	}
static const ta_cfg_item items[] = {
    ROW("FZ_STR", TA_CFG_STR, "dflt", 0, 0, false, NULL, str),
    ROW("FZ_STR_BOUNDED", TA_CFG_STR, "abc", 2, 8, false, NULL, str_bounded),
    ROW("FZ_STR_CHOICE", TA_CFG_STR, "info", 0, 0, false, levels, str_choice),
    ROW("FZ_SECRET", TA_CFG_STR, NULL, 4, 64, true, NULL, secret),
    ROW("FZ_REQUIRED", TA_CFG_STR, NULL, 0, 0, false, NULL, required),
    ROW("FZ_NUM", TA_CFG_INT, "7", 0, 0, false, NULL, num),
    ROW("FZ_NUM_BOUNDED", TA_CFG_INT, "8080", 1, 65535, false, NULL,
        num_bounded),
    ROW("FZ_NUM_CHOICE", TA_CFG_INT, "2", 0, 0, false, sizes, num_choice),
    ROW("FZ_NUM_NEGATIVE", TA_CFG_INT, "-5", -10, -1, false, NULL,
        num_negative),
    ROW("FZ_NUM_SECRET", TA_CFG_INT, "3", 1, 100, true, NULL, num_secret),
};
#define NITEMS (sizeof items / sizeof *items)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd = open("/dev/null", O_WRONLY);

	(void)argc;
	(void)argv;
	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
		abort();
	close(fd);
	unsetenv("TA_PRINT_CONFIG"); /* would print the table and exit */
	ta_log_init("fuzz-config", TA_LOG_DEBUG);
	return 0;
}

/* Whether row it accepts value v (NULL: unset), judged independently. */
static bool
value_ok(const ta_cfg_item *it, const char *v)
{
	bool bounded = it->min != 0 || it->max != 0;
	long n;
	char *end;

	if (!v || !*v)
		v = it->def;
	if (!v)
		return false;
	if (it->choices) {
		const char *const *c = it->choices;

		while (*c && strcmp(*c, v) != 0)
			c++;
		if (!*c)
			return false;
	}
	if (it->type == TA_CFG_STR)
		return !bounded || ((long)strlen(v) >= it->min &&
		                       (long)strlen(v) <= it->max);
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end)
		return false;
	return !bounded || (n >= it->min && n <= it->max);
}

/* The member of row it in cfg holds value v (or the default). */
static bool
is_loaded(const ta_cfg_item *it, const char *v, const fz_cfg *cfg)
{
	const char *base = (const char *)cfg, *s;
	long n;

	if (!v || !*v)
		v = it->def;
	if (it->type == TA_CFG_STR) {
		memcpy(&s, base + it->offset, sizeof s);
		return s && strcmp(s, v) == 0;
	}
	memcpy(&n, base + it->offset, sizeof n);
	return n == strtol(v, NULL, 10);
}

/* The row whose name err starts with, or NITEMS. */
static size_t
named_row(const char *err)
{
	for (size_t i = 0; i < NITEMS; i++) {
		size_t n = strlen(items[i].name);

		if (strncmp(err, items[i].name, n) == 0 &&
		    (err[n] == ' ' || err[n] == ':'))
			return i;
	}
	return NITEMS;
}

/*
 * Sets (v != NULL) or unsets variable i of the table. glibc's setenv keeps
 * every value it was ever given; putenv with strings of our own, freed
 * once replaced, keeps memory flat over millions of runs.
 */
static void
env_set(size_t i, const char *v)
{
	static char *owned[NITEMS];
	char *s = NULL;

	if (v) {
		size_t n = strlen(items[i].name) + 1 + strlen(v) + 1;

		s = ta_xmalloc(n);
		snprintf(s, n, "%s=%s", items[i].name, v);
		if (putenv(s) != 0)
			abort();
	} else {
		unsetenv(items[i].name);
	}
	free(owned[i]);
	owned[i] = s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *vals[NITEMS] = {0};
	fz_cfg cfg;
	char err[256] = "";
	size_t at = 0, i, bad;
	ta_status st;

	for (i = 0; i < NITEMS; i++) {
		const uint8_t *nul;
		size_t len;

		if (at >= size) {
			env_set(i, NULL);
			continue;
		}
		nul = memchr(data + at, 0, size - at);
		len = nul ? (size_t)(nul - (data + at)) : size - at;
		vals[i] = ta_xstrndup((const char *)data + at, len);
		env_set(i, vals[i]);
		at += len + 1;
	}
	memset(&cfg, 0, sizeof cfg);
	st = ta_cfg_load(items, NITEMS, &cfg, err, sizeof err);
	/* Rows load in order: all before the failing one are good. */
	bad = st == TA_OK ? NITEMS : named_row(err);
	if (st != TA_OK && (st != TA_INVALID_ARGUMENT || bad == NITEMS))
		abort();
	for (i = 0; i < bad; i++)
		if (!value_ok(&items[i], vals[i]) ||
		    !is_loaded(&items[i], vals[i], &cfg))
			abort();
	if (st == TA_OK) {
		ta_cfg_log(items, NITEMS, &cfg);
	} else {
		char quoted[300];

		if (value_ok(&items[bad], vals[bad]))
			abort();
		/* A secret's value never shows in the reason. */
		snprintf(quoted, sizeof quoted, "\"%s\"",
		    vals[bad] ? vals[bad] : "");
		if (items[bad].is_secret && vals[bad] && *vals[bad] &&
		    strstr(err, quoted))
			abort();
	}
	for (i = 0; i < NITEMS; i++)
		free(vals[i]);
	return 0;
}
