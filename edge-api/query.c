/*
 * Query parameters -> request message (query.h): names checked against the
 * descriptor, then each value set through the transcoder's text and JSON
 * setters, so types are read the same way as in a body or a path.
 */
#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alloc.h"
#include "transcode.h"
#include "utf8.h"

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes form-urlencoded s[0..n) ("+" is a space, "%HH" a byte) into a
 * new string (caller frees; *len its length, NULs included). NULL when an
 * escape is malformed.
 */
static char *
form_decode(const char *s, size_t n, size_t *len)
{
	char *out = ta_xmalloc(n + 1);
	size_t at = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[at++] = ' ';
		} else if (s[i] != '%') {
			out[at++] = s[i];
		} else if (i + 2 < n && hex_value(s[i + 1]) >= 0 &&
		           hex_value(s[i + 2]) >= 0) {
			out[at++] = (char)(hex_value(s[i + 1]) * 16 +
			                   hex_value(s[i + 2]));
			i += 2;
		} else {
			free(out);
			return NULL;
		}
	}
	out[at] = '\0';
	*len = at;
	return out;
}

/* Whether s[0..n) is UTF-8 without NUL or other C0 control characters. */
static bool
is_clean_text(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t at = 0;

	while (at < n) {
		size_t len = ta_utf8_next(p + at, n - at, NULL);

		if (len == 0 || p[at] < 0x20 || p[at] == 0x7f)
			return false;
		at += len;
	}
	return true;
}

/* A parameter decoded; key or value NULL when its escapes are malformed
 * (value also NULL for a bare "?key"). */
typedef struct decoded {
	char *key, *value;
	size_t key_len, value_len;
	bool is_bare;
} decoded;

/* Copies the key into buf when it is a name a violation may quote: short
 * clean text. False (buf "query") otherwise. */
static bool
name_of(const decoded *q, char *buf, size_t cap)
{
	if (q->key && q->key_len > 0 && q->key_len <= EDGE_QUERY_NAME_MAX &&
	    is_clean_text(q->key, q->key_len)) {
		snprintf(buf, cap, "%.*s", (int)q->key_len, q->key);
		return true;
	}
	snprintf(buf, cap, "query");
	return false;
}

static void
violate(ta_violations *errs, const char *name, const char *what)
{
	char text[EDGE_QUERY_NAME_MAX + 128];

	snprintf(text, sizeof text, "%s %s", name, what);
	ta_violations_add(errs, name, text);
}

static bool
is_path_param(const edge_param *path, size_t npath, const char *name)
{
	for (size_t i = 0; i < npath; i++)
		if (strlen(name) == path[i].name_len &&
		    memcmp(name, path[i].name, path[i].name_len) == 0)
			return true;
	return false;
}

/* The field a parameter may fill, or NULL. */
static const ProtobufCFieldDescriptor *
field_of(const ProtobufCMessage *msg, const char *name, const edge_param *path,
    size_t npath)
{
	const ProtobufCFieldDescriptor *f;

	if (is_path_param(path, npath, name))
		return NULL;
	f = protobuf_c_message_descriptor_get_field_by_name(
	    msg->descriptor, name);
	if (f && f->label == PROTOBUF_C_LABEL_REPEATED &&
	    f->type != PROTOBUF_C_TYPE_ENUM &&
	    f->type != PROTOBUF_C_TYPE_STRING)
		return NULL;
	return f;
}

/* A repeated enum or string field from "a,b,c": through the JSON reader,
 * as the array ["a","b","c"]. */
static ta_status
set_list(ProtobufCMessage *msg, const char *name, const char *value,
    ta_violations *errs)
{
	cJSON *obj = cJSON_CreateObject(), *arr = cJSON_CreateArray();
	const char *s = value;
	ta_status st;

	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		char *item = ta_xstrndup(s, len);

		cJSON_AddItemToArray(arr, cJSON_CreateString(item));
		free(item);
		if (!comma)
			break;
		s = comma + 1;
	}
	cJSON_AddItemToObject(obj, name, arr);
	st = ta_json_to_message(obj, msg, NULL, errs);
	cJSON_Delete(obj);
	return st;
}

/* Whether qs[i] repeats the name of an earlier one. */
static bool
is_repeat(const decoded *qs, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (qs[j].key && qs[j].key_len == qs[i].key_len &&
		    memcmp(qs[j].key, qs[i].key, qs[i].key_len) == 0)
			return true;
	return false;
}

/* One parameter into msg; false after a violation. */
static bool
fill_one(ProtobufCMessage *msg, const decoded *qs, size_t i,
    const edge_param *path, size_t npath, ta_violations *errs)
{
	const decoded *q = &qs[i];
	const ProtobufCFieldDescriptor *f;
	char name[EDGE_QUERY_NAME_MAX + 8];
	ta_violations sub = {0};
	ta_status st;

	if (!name_of(q, name, sizeof name)) {
		violate(errs, name, "has a parameter with a malformed name");
		return false;
	}
	if (!(f = field_of(msg, name, path, npath))) {
		violate(errs, name, "is not a parameter of this route");
		return false;
	}
	if (is_repeat(qs, i)) {
		violate(errs, name, "must be given at most once");
		return false;
	}
	if (q->is_bare) {
		violate(errs, name, "needs a value (name=value)");
		return false;
	}
	if (!q->value || !is_clean_text(q->value, q->value_len)) {
		violate(errs, name,
		    "must be %-encoded UTF-8 text without control characters");
		return false;
	}
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		st = set_list(msg, name, q->value, &sub);
	else
		st = ta_message_set_text(msg, name, q->value, &sub);
	if (st == TA_NOT_FOUND)
		violate(errs, name, "is not a parameter of this route");
	/* Name the parameter, not the element ("status", not "status[1]"). */
	for (size_t k = 0; k < sub.n; k++)
		ta_violations_add(errs, name, sub.items[k].message);
	ta_violations_fini(&sub);
	return st == TA_OK;
}

ta_status
edge_query_fill(ProtobufCMessage *msg, const edge_query_param *params, size_t n,
    const edge_param *path, size_t npath, ta_violations *errs)
{
	decoded *qs = n ? ta_xcalloc(n, sizeof *qs) : NULL;
	size_t before = errs->n;

	for (size_t i = 0; i < n; i++) {
		qs[i].key = form_decode(
		    params[i].key, params[i].key_len, &qs[i].key_len);
		qs[i].is_bare = !params[i].value;
		if (params[i].value)
			qs[i].value = form_decode(params[i].value,
			    params[i].value_len, &qs[i].value_len);
	}
	for (size_t i = 0; i < n; i++)
		(void)fill_one(msg, qs, i, path, npath, errs);
	for (size_t i = 0; i < n; i++) {
		free(qs[i].key);
		free(qs[i].value);
	}
	free(qs);
	return errs->n == before ? TA_OK : TA_INVALID_ARGUMENT;
}
