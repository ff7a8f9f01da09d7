/*
 * Strict request-body JSON (see json_strict.h): ta_json_scan before
 * cJSON_ParseWithLength, then a duplicate-key walk over the tree cJSON
 * builds. The walk sorts each object's keys (O(n log n): a body of 100,000
 * keys costs milliseconds, not the O(n^2) of pairwise compares) and
 * recurses at most TA_JSON_MAX_DEPTH levels, as cJSON itself does.
 */
#include "json_strict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "json_scan.h"

/* ------------------------------------------------------------------ */
/* Duplicate keys */

static int
key_cmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

/* A key that obj holds twice, or NULL. */
static const char *
object_dup(const cJSON *obj)
{
	const cJSON *ch, **keys;
	const char *dup = NULL;
	size_t n = 0, i = 0;

	for (ch = obj->child; ch; ch = ch->next)
		n++;
	if (n < 2)
		return NULL;
	keys = ta_xmalloc(n * sizeof *keys);
	for (ch = obj->child; ch; ch = ch->next)
		keys[i++] = ch;
	qsort(keys, n, sizeof *keys, key_cmp);
	for (i = 1; i < n && !dup; i++)
		if (strcmp(keys[i - 1]->string, keys[i]->string) == 0)
			dup = keys[i]->string;
	free(keys);
	return dup;
}

/* Appends ".name" (or "name" at the start) or "[i]" to path at at. */
static size_t
path_push(char *path, size_t cap, size_t at, const char *name, size_t i)
{
	int n = name
	            ? snprintf(path + at, cap - at, "%s%s", at ? "." : "", name)
	            : snprintf(path + at, cap - at, "[%zu]", i);

	if (n < 0)
		return at;
	return at + (size_t)n < cap ? at + (size_t)n : cap - 1;
}

/* True when item holds a duplicate key; path then names it. */
static bool
dup_walk(const cJSON *item, char *path, size_t cap, size_t at)
{
	const char *dup;
	size_t i = 0;

	if (!cJSON_IsObject(item) && !cJSON_IsArray(item))
		return false;
	if (cJSON_IsObject(item) && (dup = object_dup(item))) {
		path_push(path, cap, at, dup, 0);
		return true;
	}
	for (const cJSON *ch = item->child; ch; ch = ch->next, i++) {
		size_t next = path_push(
		    path, cap, at, cJSON_IsObject(item) ? ch->string : NULL, i);

		if (dup_walk(ch, path, cap, next))
			return true;
		path[at] = '\0';
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Parsing */

ta_status
ta_json_parse_body(const char *body, size_t len, cJSON **out,
    const char **message, ta_violations *details)
{
	ta_json_fault f = {TA_JSON_MSG_MALFORMED, 0, "no body"};
	char field[200] = "body", text[320];
	cJSON *item = NULL;

	if (body && ta_json_scan(body, len, &f)) {
		/* The scanner proved the length holds exactly one value. */
		item = cJSON_ParseWithLength(body, len);
		if (!item) {
			f.message = TA_JSON_MSG_MALFORMED;
			f.offset = 0;
			snprintf(f.why, sizeof f.why,
			    "a value the JSON parser cannot hold");
		}
	}
	if (item) {
		field[0] = '\0';
		if (!dup_walk(item, field, sizeof field, 0)) {
			*out = item;
			return TA_OK;
		}
		cJSON_Delete(item);
		*message = TA_JSON_MSG_DUPLICATE;
		snprintf(text, sizeof text, "%s appears more than once", field);
	} else {
		*message = f.message;
		snprintf(text, sizeof text, "%s at byte %zu", f.why, f.offset);
	}
	if (details)
		ta_violations_add(details, field, text);
	return TA_INVALID_ARGUMENT;
}

ta_status
ta_json_parse_strict(
    const char *body, size_t len, cJSON **out, char *msg, size_t msgcap)
{
	const char *message = NULL;
	ta_status st = ta_json_parse_body(body, len, out, &message, NULL);

	if (st != TA_OK && msg && msgcap)
		snprintf(msg, msgcap, "%s", message);
	return st;
}

/* ------------------------------------------------------------------ */
/* Output size */

size_t
ta_json_string_size(const char *s)
{
	size_t n = 2;

	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		if (*p == '"' || *p == '\\' || *p == '\b' || *p == '\f' ||
		    *p == '\n' || *p == '\r' || *p == '\t')
			n += 2;
		else if (*p < 0x20)
			n += 6;
		else
			n += 1;
	}
	return n;
}
