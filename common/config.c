/*
 * Table-driven environment configuration with bounds and secret masking.
 * With TA_PRINT_CONFIG=1 in the environment, loading instead prints the
 * table itself as one JSON line and exits 0, so deployment checks can
 * compare a task definition with what the binary reads.
 */
#define _GNU_SOURCE	/* program_invocation_short_name: the service name */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "log.h"

static ta_status
load_one(const ta_cfg_item *it, char *base, char *err, size_t errlen)
{
	const char *v = getenv(it->name);
	bool bounded = it->min != 0 || it->max != 0;

	if (!v || !*v)
		v = it->def;
	if (!v) {
		snprintf(err, errlen, "%s is required but not set", it->name);
		return TA_INVALID_ARGUMENT;
	}
	if (it->choices) {
		const char *const *c = it->choices;

		while (*c && strcmp(*c, v) != 0)
			c++;
		if (!*c) {
			snprintf(err, errlen, "%s: \"%s\" is not an allowed value",
			    it->name, it->is_secret ? "***" : v);
			return TA_INVALID_ARGUMENT;
		}
	}
	if (it->type == TA_CFG_STR) {
		long len = (long)strlen(v);

		if (bounded && (len < it->min || len > it->max)) {
			snprintf(err, errlen,
			    "%s must be %ld to %ld characters long (got %ld)",
			    it->name, it->min, it->max, len);
			return TA_INVALID_ARGUMENT;
		}
		memcpy(base + it->offset, &v, sizeof v);
		return TA_OK;
	}

	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end) {
		snprintf(err, errlen, "%s: \"%s\" is not an integer", it->name,
		    it->is_secret ? "***" : v);
		return TA_INVALID_ARGUMENT;
	}
	if (bounded && (n < it->min || n > it->max)) {
		snprintf(err, errlen, "%s must be between %ld and %ld (got %ld)",
		    it->name, it->min, it->max, n);
		return TA_INVALID_ARGUMENT;
	}
	memcpy(base + it->offset, &n, sizeof n);
	return TA_OK;
}

/* A growing output line for the schema dump. */
typedef struct schema_line {
	char *buf;
	size_t len, cap;
} schema_line;

static void
schema_reserve(schema_line *l, size_t more)
{
	while (l->len + more + 1 > l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->buf = ta_xrealloc(l->buf, l->cap);
	}
}

static void
schema_raw(schema_line *l, const char *s)
{
	size_t n = strlen(s);

	schema_reserve(l, n);
	memcpy(l->buf + l->len, s, n + 1);
	l->len += n;
}

/* The JSON string literal of s, or null. */
static void
schema_str(schema_line *l, const char *s)
{
	size_t n;

	if (!s) {
		schema_raw(l, "null");
		return;
	}
	n = ta_json_quote(NULL, 0, s);
	schema_reserve(l, n);
	ta_json_quote(l->buf + l->len, n + 1, s);
	l->len += n;
}

/*
 * {"service":...,"settings":[{"name","default","required","secret"}]} on
 * stdout in one write, then exit 0. Only defaults are printed, never values.
 */
static void
print_schema_and_exit(const ta_cfg_item *items, size_t n)
{
	schema_line l = {0};

	schema_raw(&l, "{\"service\":");
	schema_str(&l, program_invocation_short_name);
	schema_raw(&l, ",\"settings\":[");
	for (size_t i = 0; i < n; i++) {
		schema_raw(&l, i ? ",{\"name\":" : "{\"name\":");
		schema_str(&l, items[i].name);
		schema_raw(&l, ",\"default\":");
		schema_str(&l, items[i].def);
		schema_raw(&l, items[i].def ? ",\"required\":false"
					    : ",\"required\":true");
		schema_raw(&l, items[i].is_secret ? ",\"secret\":true}"
						  : ",\"secret\":false}");
	}
	schema_raw(&l, "]}\n");
	fwrite(l.buf, 1, l.len, stdout);
	fflush(stdout);
	free(l.buf);
	exit(0);
}

ta_status
ta_cfg_load(const ta_cfg_item *items, size_t n, void *out, char *err,
    size_t errlen)
{
	ta_status status = TA_OK;
	const char *dump = getenv("TA_PRINT_CONFIG");

	if (dump && strcmp(dump, "1") == 0)
		print_schema_and_exit(items, n);

	for (size_t i = 0; i < n && status == TA_OK; i++)
		status = load_one(&items[i], out, err, errlen);
	return status;
}

void
ta_cfg_log(const ta_cfg_item *items, size_t n, const void *cfg)
{
	const char *base = cfg;
	ta_kv *kvs = ta_xcalloc(n + 1, sizeof *kvs);

	for (size_t i = 0; i < n; i++) {
		kvs[i].key = items[i].name;
		if (items[i].is_secret) {
			kvs[i].type = TA_KV_STR;
			kvs[i].s = "***";
		} else if (items[i].type == TA_CFG_STR) {
			kvs[i].type = TA_KV_STR;
			memcpy(&kvs[i].s, base + items[i].offset,
			    sizeof kvs[i].s);
		} else {
			long v;

			memcpy(&v, base + items[i].offset, sizeof v);
			kvs[i].type = TA_KV_INT;
			kvs[i].i = v;
		}
	}
	kvs[n].type = TA_KV_END;
	ta_log_kv(TA_LOG_INFO, "config", "effective configuration", kvs);
	free(kvs);
}

void
ta_cfg_load_or_exit(const ta_cfg_item *items, size_t n, void *out)
{
	char err[256];

	if (ta_cfg_load(items, n, out, err, sizeof err) != TA_OK) {
		ta_log(TA_LOG_ERROR, "config_invalid", err);
		exit(2);
	}
	ta_cfg_log(items, n, out);
}
