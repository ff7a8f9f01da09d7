/*
 * JSON -> message (transcode.h): fills a protobuf-c message from a cJSON
 * tree by its descriptor, naming each violation by the field's path.
 *
 * Design notes: pure functions, no globals, safe from any thread. Every
 * string, array and sub-message written into a message is malloc'd, so
 * protobuf_c_message_free_unpacked(msg, NULL) frees it; unset strings keep
 * their descriptor default pointer, which free_unpacked skips. Duplicate
 * JSON keys never come from a request body (ta_json_parse_body refuses
 * them); in a tree built otherwise the first one wins.
 */
#include "transcode_in.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "civil_time.h"
#include "reflect.h"
#include "transcode_scalar.h"

static void object_to_message(const cJSON *obj, ProtobufCMessage *m,
    const ProtobufCFieldDescriptor *mask, const ta_field_path *p,
    ta_violations *errs);

/* Appends a copy of s to a FieldMask's paths. */
static void
mask_append(ProtobufCMessage *fm, const char *s, size_t len)
{
	const ProtobufCFieldDescriptor *f = &fm->descriptor->fields[0];
	size_t *n = &TA_SLOT(size_t, fm, f->quantifier_offset);
	char ***paths = &TA_SLOT(char **, fm, f->offset);

	*paths = ta_xrealloc(*paths, (*n + 1) * sizeof **paths);
	(*paths)[(*n)++] = ta_xstrndup(s, len);
}

/*
 * Fills sm, a fresh message of d, from v by d's kind. False after a
 * violation; sm stays freeable either way.
 */
bool
ta_submessage_from_json(const cJSON *v, ProtobufCMessage *sm,
    const ta_field_path *p, ta_violations *errs)
{
	const ProtobufCMessageDescriptor *d = sm->descriptor;
	size_t before = errs->n;

	switch (ta_reflect_wkt_of(d)) {
	case TA_WKT_TIMESTAMP: {
		const ProtobufCFieldDescriptor *fs, *fn;
		int64_t secs;
		int32_t ns;

		fs = protobuf_c_message_descriptor_get_field_by_name(
		    d, "seconds");
		fn =
		    protobuf_c_message_descriptor_get_field_by_name(d, "nanos");
		if (!cJSON_IsString(v) || !fs || !fn ||
		    !ta_rfc3339_parse(v->valuestring, &secs, &ns)) {
			ta_field_path_violate(
			    errs, p, "must be an RFC 3339 date-time");
			return false;
		}
		TA_SLOT(int64_t, sm, fs->offset) = secs;
		TA_SLOT(int32_t, sm, fn->offset) = ns;
		return true;
	}
	case TA_WKT_WRAPPER:
		if (d->fields[0].type == PROTOBUF_C_TYPE_MESSAGE) {
			ta_field_path_violate(
			    errs, p, "has an unsupported type");
			return false;
		}
		return ta_scalar_from_json(&d->fields[0], v,
		    (char *)sm + d->fields[0].offset, false, p, errs);
	case TA_WKT_FIELD_MASK: {
		const char *s, *c;

		if (!cJSON_IsString(v) || !v->valuestring) {
			ta_field_path_violate(errs, p, "must be a string");
			return false;
		}
		for (s = v->valuestring; *s; s = *c ? c + 1 : c) {
			c = strchr(s, ',');
			if (!c)
				c = s + strlen(s);
			if (c > s)
				mask_append(sm, s, (size_t)(c - s));
		}
		return true;
	}
	case TA_WKT_NONE:
		if (!cJSON_IsObject(v)) {
			ta_field_path_violate(errs, p, "must be an object");
			return false;
		}
		object_to_message(v, sm, NULL, p, errs);
		return errs->n == before;
	}
	return false;
}

static void
repeated_from_json(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    const cJSON *v, const ta_field_path *p, ta_violations *errs)
{
	size_t n = 0, i = 0, sz = ta_reflect_elem_size(f->type);
	const cJSON *e;
	char *arr;

	if (!cJSON_IsArray(v)) {
		ta_field_path_violate(errs, p, "must be an array");
		return;
	}
	cJSON_ArrayForEach(e, v) n++;
	ta_reflect_field_clear(m, f);
	if (n == 0)
		return;
	arr = ta_xcalloc(n, sz);
	cJSON_ArrayForEach(e, v)
	{
		ta_field_path ep = {p, NULL, i};
		void *slot = arr + i * sz;

		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			ProtobufCMessage *sm = ta_message_new(f->descriptor);

			*(ProtobufCMessage **)slot = sm;
			ta_submessage_from_json(e, sm, &ep, errs);
		} else {
			ta_scalar_from_json(f, e, slot, true, &ep, errs);
		}
		i++;
	}
	TA_SLOT(char *, m, f->offset) = arr;
	TA_SLOT(size_t, m, f->quantifier_offset) = n;
}

static void
field_from_json(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    const cJSON *v, const ta_field_path *p, ta_violations *errs)
{
	void *slot = (char *)m + f->offset;

	if (cJSON_IsNull(v)) {
		ta_reflect_field_clear(m, f);
		return;
	}
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		repeated_from_json(m, f, v, p, errs);
		return;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		ta_reflect_oneof_claim(m, f);
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		ProtobufCMessage *sm = ta_message_new(f->descriptor);
		bool ok = ta_submessage_from_json(v, sm, p, errs);

		/* A bad plain object still keeps what parsed; a bad WKT not. */
		if (!ok && ta_reflect_wkt_of(f->descriptor) != TA_WKT_NONE) {
			protobuf_c_message_free_unpacked(sm, NULL);
			return;
		}
		ta_reflect_value_free(f, slot, false);
		*(ProtobufCMessage **)slot = sm;
		return;
	}
	if (ta_scalar_from_json(f, v, slot, false, p, errs))
		ta_reflect_field_mark_set(m, f);
}

static bool
is_field_mask_field(const ProtobufCFieldDescriptor *f)
{
	return f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
	       f->label != PROTOBUF_C_LABEL_REPEATED &&
	       ta_reflect_wkt_of(f->descriptor) == TA_WKT_FIELD_MASK;
}

/*
 * Fills m from the object obj. mask, when non-NULL, is m's FieldMask field
 * that records the keys present (it is itself never read from obj).
 */
static void
object_to_message(const cJSON *obj, ProtobufCMessage *m,
    const ProtobufCFieldDescriptor *mask, const ta_field_path *p,
    ta_violations *errs)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	uint8_t *seen = ta_xcalloc(d->n_fields, 1); /* 1 null, 2 value */
	ProtobufCMessage *fm = NULL;
	const cJSON *v;

	if (mask) {
		ProtobufCMessage **slot =
		    &TA_SLOT(ProtobufCMessage *, m, mask->offset);

		if (!*slot)
			*slot = ta_message_new(mask->descriptor);
		fm = *slot;
	}
	cJSON_ArrayForEach(v, obj)
	{
		const ProtobufCFieldDescriptor *f;
		ta_field_path fp;
		size_t idx;

		if (!v->string ||
		    !(f = protobuf_c_message_descriptor_get_field_by_name(
		          d, v->string)) ||
		    f == mask)
			continue;
		idx = (size_t)(f - d->fields);
		if (seen[idx])
			continue; /* duplicate key: the first one wins */
		seen[idx] = cJSON_IsNull(v) ? 1 : 2;
		fp = (ta_field_path){p, f->name, 0};
		if (fm)
			mask_append(fm, f->name, strlen(f->name));
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    seen[idx] == 2) {
			uint32_t which =
			    TA_SLOT(uint32_t, m, f->quantifier_offset);
			const ProtobufCFieldDescriptor *o =
			    which && which != f->id
			        ? protobuf_c_message_descriptor_get_field(
			              d, which)
			        : NULL;

			if (o && seen[o - d->fields] == 2) {
				char text[300];

				snprintf(text, sizeof text,
				    "cannot be set together with %s", o->name);
				ta_field_path_violate(errs, &fp, text);
				continue;
			}
		}
		field_from_json(m, f, v, &fp, errs);
	}
	free(seen);
}

ta_status
ta_json_to_message(const cJSON *obj, ProtobufCMessage *msg,
    const char *mask_field, ta_violations *errs)
{
	const ProtobufCFieldDescriptor *mask = NULL;
	size_t before = errs->n;

	if (!cJSON_IsObject(obj)) {
		ta_field_path p = {NULL, "body", 0};

		ta_field_path_violate(errs, &p, "must be a JSON object");
		return TA_INVALID_ARGUMENT;
	}
	if (mask_field) {
		mask = protobuf_c_message_descriptor_get_field_by_name(
		    msg->descriptor, mask_field);
		if (!is_field_mask_field(mask))
			mask = NULL;
	}
	object_to_message(obj, msg, mask, NULL, errs);
	return errs->n == before ? TA_OK : TA_INVALID_ARGUMENT;
}

ProtobufCMessage *
ta_message_new(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = ta_xmalloc(d->sizeof_message);

	protobuf_c_message_init(d, m);
	return m;
}
