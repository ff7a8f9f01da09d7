/*
 * JSON-lines logger. Design notes: any thread may call in; each line is
 * built in a local buffer and written with one write(2) to stdout, so lines
 * from different threads never interleave. The service name and level are
 * set once by main before threads start and read-only afterwards.
 */
#include "log.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "utf8.h"

static const char *log_service = "taskapi";
static ta_log_level log_min = TA_LOG_INFO;

const char *const ta_log_levels[] = {
    [TA_LOG_DEBUG] = "debug",
    [TA_LOG_INFO] = "info",
    [TA_LOG_WARN] = "warn",
    [TA_LOG_ERROR] = "error",
    [TA_LOG_ERROR + 1] = NULL,
};

void
ta_log_init(const char *service, ta_log_level min)
{
	log_service = service;
	log_min = min;
}

bool
ta_log_level_parse(const char *s, ta_log_level *out)
{
	for (int i = 0; ta_log_levels[i]; i++) {
		if (strcmp(s, ta_log_levels[i]) == 0) {
			*out = (ta_log_level)i;
			return true;
		}
	}
	return false;
}

bool
ta_log_enabled(ta_log_level level)
{
	return level >= log_min;
}

size_t
ta_json_quote(char *buf, size_t cap, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = 0;
	char esc[8];

#define PUT(c)                                                                 \
	do {                                                                   \
		if (len + 1 < cap)                                             \
			buf[len] = (char)(c);                                  \
		len++;                                                         \
	} while (0)

	PUT('"');
	while (*p) {
		size_t n = ta_utf8_next(p, SIZE_MAX, NULL);
		const char *e = NULL;

		if (n == 0) {
			e = "\xEF\xBF\xBD";	/* U+FFFD for an invalid byte */
			n = 1;
		} else if (*p == '"') {
			e = "\\\"";
		} else if (*p == '\\') {
			e = "\\\\";
		} else if (*p == '\n') {
			e = "\\n";
		} else if (*p == '\r') {
			e = "\\r";
		} else if (*p == '\t') {
			e = "\\t";
		} else if (*p < 0x20 || *p == 0x7F) {
			snprintf(esc, sizeof esc, "\\u%04x", *p);
			e = esc;
		}
		if (e) {
			for (; *e; e++)
				PUT(*e);
		} else {
			for (size_t i = 0; i < n; i++)
				PUT(p[i]);
		}
		p += n;
	}
	PUT('"');
#undef PUT
	if (cap)
		buf[len < cap ? len : cap - 1] = '\0';
	return len;
}

/*
 * d as a JSON number in buf (cap >= 32): "%.3f" while that stays short,
 * "%.17g" beyond 1e15 (printf's "%.3f" of 1e300 is 305 characters), and
 * null for NaN and the infinities, which JSON has no spelling for
 * (printf's "nan" and "inf" made the whole line unparseable).
 */
static size_t
json_double(char *buf, size_t cap, double d)
{
	int n;

	if (!isfinite(d))
		n = snprintf(buf, cap, "null");
	else if (d < 1e15 && d > -1e15)
		n = snprintf(buf, cap, "%.3f", d);
	else
		n = snprintf(buf, cap, "%.17g", d);
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

typedef struct line {
	char *buf;
	size_t len, cap;
	bool heap;
} line;

static void
line_reserve(line *l, size_t extra)
{
	if (l->len + extra + 1 <= l->cap)
		return;
	while (l->len + extra + 1 > l->cap)
		l->cap *= 2;
	if (l->heap) {
		l->buf = ta_xrealloc(l->buf, l->cap);
	} else {
		char *heap = ta_xmalloc(l->cap);

		memcpy(heap, l->buf, l->len + 1);
		l->buf = heap;
		l->heap = true;
	}
}

static void
line_raw(line *l, const char *s, size_t n)
{
	line_reserve(l, n);
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = '\0';
}

static void
line_str(line *l, const char *s)
{
	size_t need;

	if (!s) {
		line_raw(l, "null", 4);
		return;
	}
	need = ta_json_quote(NULL, 0, s);
	line_reserve(l, need);
	ta_json_quote(l->buf + l->len, need + 1, s);
	l->len += need;
}

static void
line_key(line *l, const char *key)
{
	line_raw(l, ",", 1);
	line_str(l, key);
	line_raw(l, ":", 1);
}

void
ta_log_kv(ta_log_level level, const char *event, const char *msg,
    const ta_kv *kvs)
{
	char stack[1024], num[64], ts[96];
	line l = {.buf = stack, .len = 0, .cap = sizeof stack};
	struct timespec now;
	struct tm tm;

	if (level < log_min)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof ts, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\"",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);

	/* The stack buffer is replaced by a heap one when a line outgrows it. */
	l.buf[0] = '\0';
	line_raw(&l, "{\"time\":", 8);
	line_raw(&l, ts, strlen(ts));
	line_key(&l, "level");
	line_str(&l, ta_log_levels[level]);
	line_key(&l, "service");
	line_str(&l, log_service);
	line_key(&l, "event");
	line_str(&l, event);
	line_key(&l, "msg");
	line_str(&l, msg);
	for (; kvs && kvs->type != TA_KV_END; kvs++) {
		int n = 0;

		line_key(&l, kvs->key);
		switch (kvs->type) {
		case TA_KV_STR:
			line_str(&l, kvs->s);
			break;
		case TA_KV_INT:
			n = snprintf(num, sizeof num, "%" PRId64, kvs->i);
			line_raw(&l, num, (size_t)n);
			break;
		case TA_KV_DBL:
			line_raw(&l, num, json_double(num, sizeof num, kvs->d));
			break;
		case TA_KV_BOOL:
			line_raw(&l, kvs->i ? "true" : "false", kvs->i ? 4 : 5);
			break;
		case TA_KV_END:
			break;
		}
	}
	line_raw(&l, "}\n", 2);
	for (size_t off = 0; off < l.len;) {
		ssize_t w = write(STDOUT_FILENO, l.buf + off, l.len - off);

		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (l.heap)
		free(l.buf);
}
