/*
 * message -> JSON (transcode.h): renders a protobuf-c message by the
 * public contract's rules, driven only by its descriptor. Pure, no
 * globals. Oneof members: only the selected member renders, or every
 * member as null when none is selected.
 */
#include "transcode.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "base64.h"
#include "reflect.h"
#include "utf8.h"

static cJSON *
raw_i64(int64_t v)
{
	char b[24];

	snprintf(b, sizeof b, "%" PRId64, v);
	return cJSON_CreateRaw(b);
}

static cJSON *
raw_u64(uint64_t v)
{
	char b[24];

	snprintf(b, sizeof b, "%" PRIu64, v);
	return cJSON_CreateRaw(b);
}

static cJSON *
enum_to_json(const ProtobufCEnumDescriptor *ed, int32_t v)
{
	const ProtobufCEnumValue *ev;
	cJSON *item;

	if (v == 0)
		return cJSON_CreateNull();
	ev = protobuf_c_enum_descriptor_get_value(ed, v);
	if (!ev)
		return raw_i64(v); /* unknown to this build: as protojson */
	item = cJSON_CreateString(
	    ev->name + ta_reflect_enum_prefix_len(ed, ev->name));
	for (char *c = item ? item->valuestring : NULL; c && *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return item;
}

static cJSON *message_value_to_json(
    const ProtobufCMessageDescriptor *d, const ProtobufCMessage *sm);

static cJSON *
scalar_to_json(const ProtobufCFieldDescriptor *f, const void *slot)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return raw_i64(*(const int32_t *)slot);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return raw_u64(*(const uint32_t *)slot);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return raw_i64(*(const int64_t *)slot);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return raw_u64(*(const uint64_t *)slot);
	case PROTOBUF_C_TYPE_FLOAT:
		return cJSON_CreateNumber(*(const float *)slot);
	case PROTOBUF_C_TYPE_DOUBLE:
		return cJSON_CreateNumber(*(const double *)slot);
	case PROTOBUF_C_TYPE_BOOL:
		return cJSON_CreateBool(*(const protobuf_c_boolean *)slot);
	case PROTOBUF_C_TYPE_ENUM:
		return enum_to_json(f->descriptor, *(const int32_t *)slot);
	case PROTOBUF_C_TYPE_STRING: {
		/* protobuf-c does not check a peer's strings are UTF-8. */
		const char *s = *(const char *const *)slot;
		char *fixed = ta_utf8_repaired(s ? s : "");
		cJSON *item = cJSON_CreateString(fixed ? fixed : s ? s : "");

		free(fixed);
		return item;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = slot;
		char *s = ta_base64_encode(b->data, b->data ? b->len : 0);
		cJSON *item = cJSON_CreateString(s);

		free(s);
		return item;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return message_value_to_json(
		    f->descriptor, *(const ProtobufCMessage *const *)slot);
	}
	return cJSON_CreateNull();
}

static cJSON *
field_to_json(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const void *slot = (const char *)m + f->offset;
	cJSON *arr;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t n = TA_CSLOT(size_t, m, f->quantifier_offset);
		const char *elems = *(const char *const *)slot;
		size_t sz = ta_reflect_elem_size(f->type);

		arr = cJSON_CreateArray();
		for (size_t i = 0; arr && elems && i < n; i++)
			cJSON_AddItemToArray(
			    arr, scalar_to_json(f, elems + i * sz));
		return arr;
	}
	if (ta_reflect_has_presence(f) &&
	    !TA_CSLOT(protobuf_c_boolean, m, f->quantifier_offset))
		return cJSON_CreateNull();
	return scalar_to_json(f, slot);
}

static cJSON *
message_object_to_json(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	cJSON *obj = cJSON_CreateObject();

	for (unsigned i = 0; obj && i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		cJSON *v;

		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t which =
			    TA_CSLOT(uint32_t, m, f->quantifier_offset);

			if (which != f->id && which != 0)
				continue; /* another member is set */
			v = which == f->id ? field_to_json(m, f)
			                   : cJSON_CreateNull();
		} else {
			v = field_to_json(m, f);
		}
		/* Descriptor names are static: no copy of the key. */
		cJSON_AddItemToObjectCS(obj, f->name, v);
	}
	return obj;
}

static cJSON *
message_value_to_json(
    const ProtobufCMessageDescriptor *d, const ProtobufCMessage *sm)
{
	if (!sm)
		return cJSON_CreateNull();
	switch (ta_reflect_wkt_of(d)) {
	case TA_WKT_TIMESTAMP: {
		const ProtobufCFieldDescriptor *fs, *fn;
		char buf[32];

		fs = protobuf_c_message_descriptor_get_field_by_name(
		    d, "seconds");
		fn =
		    protobuf_c_message_descriptor_get_field_by_name(d, "nanos");
		if (!fs || !fn)
			break;
		ta_rfc3339_format(TA_CSLOT(int64_t, sm, fs->offset),
		    TA_CSLOT(int32_t, sm, fn->offset), buf, sizeof buf);
		return cJSON_CreateString(buf);
	}
	case TA_WKT_WRAPPER:
		return scalar_to_json(
		    &d->fields[0], (const char *)sm + d->fields[0].offset);
	case TA_WKT_FIELD_MASK: {
		const ProtobufCFieldDescriptor *f = &d->fields[0];
		size_t n = TA_CSLOT(size_t, sm, f->quantifier_offset), len = 0;
		char *const *paths =
		    *(char *const *const *)((const char *)sm + f->offset);
		char *s, *o;
		cJSON *item;

		for (size_t i = 0; i < n; i++)
			len += strlen(paths[i]) + 1;
		s = o = ta_xmalloc(len + 1);
		for (size_t i = 0; i < n; i++) {
			size_t l = strlen(paths[i]);

			if (i)
				*o++ = ',';
			memcpy(o, paths[i], l);
			o += l;
		}
		*o = '\0';
		item = cJSON_CreateString(s);
		free(s);
		return item;
	}
	case TA_WKT_NONE:
		break;
	}
	return message_object_to_json(sm);
}

cJSON *
ta_message_to_json(const ProtobufCMessage *msg)
{
	if (!msg)
		return cJSON_CreateNull();
	return message_value_to_json(msg->descriptor, msg);
}
