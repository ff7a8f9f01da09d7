/*
 * Structured logging: one JSON object per line on stdout. Fixed keys first
 * (time, level, service, event, msg), then the caller's key/value pairs in
 * order. Values are escaped here; callers never log secrets.
 */
#ifndef TA_COMMON_LOG_H
#define TA_COMMON_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

typedef enum ta_log_level {
	TA_LOG_DEBUG = 0,
	TA_LOG_INFO,
	TA_LOG_WARN,
	TA_LOG_ERROR,
} ta_log_level;

typedef enum ta_kv_type {
	TA_KV_END = 0,
	TA_KV_STR,
	TA_KV_INT,
	TA_KV_DBL,
	TA_KV_BOOL,
} ta_kv_type;

/* One key/value of a log line; build them with the TA_S/TA_I/... macros. */
typedef struct ta_kv {
	const char *key;
	ta_kv_type type;
	const char *s;	/* TA_KV_STR; NULL is logged as null */
	int64_t i;	/* TA_KV_INT, TA_KV_BOOL */
	double d;	/* TA_KV_DBL */
} ta_kv;

#define TA_S(k, v) ((ta_kv){.key = (k), .type = TA_KV_STR, .s = (v)})
#define TA_I(k, v) ((ta_kv){.key = (k), .type = TA_KV_INT, .i = (int64_t)(v)})
#define TA_F(k, v) ((ta_kv){.key = (k), .type = TA_KV_DBL, .d = (double)(v)})
#define TA_B(k, v) ((ta_kv){.key = (k), .type = TA_KV_BOOL, .i = !!(v)})

/*
 * Sets the service name written on every line and the lowest level written.
 * Call once from main before any thread starts.
 */
void ta_log_init(const char *service, ta_log_level min);

/*
 * The level names indexed by ta_log_level, NULL-terminated: the choices of
 * every process's LOG_LEVEL setting (ta_cfg_item.choices).
 */
extern const char *const ta_log_levels[];

/* Parses "debug", "info", "warn" or "error"; false for anything else. */
bool ta_log_level_parse(const char *s, ta_log_level *out);

bool ta_log_enabled(ta_log_level level);

/* Writes one line; kvs ends with an element whose type is TA_KV_END. */
void ta_log_kv(ta_log_level level, const char *event, const char *msg,
    const ta_kv *kvs);

/*
 * ta_log(TA_LOG_INFO, "started", "listening", TA_S("url", url), TA_I("port", 7));
 * Thread-safe; each line is written with a single write(2).
 */
#define ta_log(level, event, msg, ...)                                         \
	ta_log_kv((level), (event), (msg),                                     \
	    (const ta_kv[]){__VA_ARGS__ __VA_OPT__(, ){.type = TA_KV_END}})

/*
 * Writes a JSON string literal (with quotes) of s into buf, escaping quotes,
 * backslashes, control characters and invalid UTF-8 (as U+FFFD). Returns the
 * length it needed, like snprintf; buf is NUL-terminated when cap > 0.
 */
size_t ta_json_quote(char *buf, size_t cap, const char *s);

#endif
