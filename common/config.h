/*
 * Configuration from the environment only, read once at start from one
 * table per process into a plain struct. A bad value is a one-line reason
 * naming the variable; secrets are shown as *** when the values are logged.
 */
#ifndef TA_COMMON_CONFIG_H
#define TA_COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

typedef enum ta_cfg_type {
	TA_CFG_STR,	/* const char * member; min/max bound the length */
	TA_CFG_INT,	/* long member; min/max bound the value */
} ta_cfg_type;

/* One setting: a row of a process's configuration table. */
typedef struct ta_cfg_item {
	const char *name;		/* environment variable */
	ta_cfg_type type;
	const char *def;		/* NULL: required */
	long min, max;			/* bounds; both 0: unbounded */
	bool is_secret;			/* logged as *** */
	const char *const *choices;	/* NULL-terminated allowed values */
	size_t offset;			/* offsetof the member in the struct */
} ta_cfg_item;

/*
 * Fills the struct at out from the environment according to items. Strings
 * point into the environment or the defaults (live for the process).
 * Returns TA_INVALID_ARGUMENT with a one-line reason in err on a bad or
 * missing value.
 */
ta_status ta_cfg_load(const ta_cfg_item *items, size_t n, void *out,
    char *err, size_t errlen);

/* Logs the effective values on one line (event "config"), secrets as ***. */
void ta_cfg_log(const ta_cfg_item *items, size_t n, const void *cfg);

/*
 * ta_cfg_load, then on failure prints {"level":"error",...} with the reason
 * and exits with status 2; on success logs the values. For main().
 */
void ta_cfg_load_or_exit(const ta_cfg_item *items, size_t n, void *out);

#endif
