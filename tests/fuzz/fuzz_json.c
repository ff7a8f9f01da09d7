/*
 * libFuzzer target for the strict JSON reader (common/json_scan.c,
 * common/json_strict.c), differential against cJSON 1.7.15:
 *  - ta_json_parse_body accepts only what ta_json_scan accepts;
 *  - cJSON accepts all of RFC 8259, so it must parse every text the scan
 *    accepts, to its end; the strict parse then fails only on a duplicate
 *    key;
 *  - a refused text has a TA_JSON_MSG_* sentence and a fault offset within
 *    the text;
 *  - what cJSON prints of an accepted tree is strict JSON again and reads
 *    back equal (when every number is finite: cJSON prints inf as null);
 *  - ta_json_string_size agrees with cJSON's printing of every string.
 * The opposite direction (cJSON lenient where the scan is not) is the
 * point of the strict reader, so it is not an error.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_scan.h"
#include "json_strict.h"

#include "alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether every number in j is finite; checks string sizes on the way. */
static bool
walk(const cJSON *j)
{
	bool is_finite = true;

	if (cJSON_IsNumber(j))
		return isfinite(j->valuedouble);
	if (cJSON_IsString(j)) {
		char *s = cJSON_PrintUnformatted(j);

		if (!s || strlen(s) != ta_json_string_size(j->valuestring))
			abort();
		free(s);
	}
	for (const cJSON *c = j->child; c; c = c->next)
		is_finite = walk(c) && is_finite;
	return is_finite;
}

static bool
is_json_msg(const char *m)
{
	return m && (strcmp(m, TA_JSON_MSG_MALFORMED) == 0 ||
	                strcmp(m, TA_JSON_MSG_UTF8) == 0 ||
	                strcmp(m, TA_JSON_MSG_NUL) == 0 ||
	                strcmp(m, TA_JSON_MSG_DUPLICATE) == 0);
}

/* cJSON's verdict on text: parsed, and up to the end but whitespace. */
static bool
cjson_accepts(const char *text, size_t size)
{
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(text, size, &end, false);
	bool ok = j != NULL;

	cJSON_Delete(j);
	if (!ok)
		return false;
	while (end < text + size &&
	       (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
		end++;
	return end == text + size;
}

/*
 * Printing an accepted tree gives strict JSON that reads back equal: the
 * tree read back prints to the same text. (Not cJSON_Compare: it checks
 * every object member both ways, recursively, so its time doubles with
 * each level of nesting; a 3.5 KB input of nested objects took it past
 * libFuzzer's 10 s timeout, regressions/json/nested_compare_timeout.)
 */
static void
reprint(const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j), *again;
	cJSON *back = NULL;
	bool is_finite;

	if (!s)
		abort();
	is_finite = walk(j);
	if (ta_json_parse_strict(s, strlen(s), &back, NULL, 0) != TA_OK)
		abort();
	if (!(again = cJSON_PrintUnformatted(back)))
		abort();
	if (is_finite && strcmp(s, again) != 0)
		abort();
	free(again);
	cJSON_Delete(back);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes: ASan sees any read past the end. */
	char *text = ta_xmalloc(size ? size : 1);
	ta_json_fault f = {0};
	const char *message = NULL;
	ta_violations details = {0};
	cJSON *j = NULL;
	bool is_scanned;
	ta_status st;

	memcpy(text, data, size);
	is_scanned = ta_json_scan(text, size, &f);
	st = ta_json_parse_body(text, size, &j, &message, &details);
	if (!is_scanned && (!is_json_msg(f.message) || f.offset > size))
		abort();
	if (st == TA_OK) {
		if (!is_scanned || !j || details.n != 0)
			abort();
		reprint(j);
		cJSON_Delete(j);
	} else {
		if (st != TA_INVALID_ARGUMENT || !is_json_msg(message) ||
		    details.n != 1)
			abort();
		/* A text the scan passes fails only on a duplicate key. */
		if (is_scanned && strcmp(message, TA_JSON_MSG_DUPLICATE) != 0)
			abort();
	}
	if (is_scanned && !cjson_accepts(text, size))
		abort();
	ta_violations_fini(&details);
	free(text);
	return 0;
}
