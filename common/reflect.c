/*
 * Field reflection over protobuf-c descriptors (reflect.h): slot sizes,
 * presence flags, oneof selection, clearing with the memory a value owns,
 * the well-known types, enum value spelling and integer ranges.
 */
#include "reflect.h"

#include <stdlib.h>
#include <string.h>

ta_wkt
ta_reflect_wkt_of(const ProtobufCMessageDescriptor *d)
{
	static const char pfx[] = "google.protobuf.";

	if (strncmp(d->name, pfx, sizeof pfx - 1) != 0)
		return TA_WKT_NONE;
	if (strcmp(d->name, "google.protobuf.Timestamp") == 0)
		return TA_WKT_TIMESTAMP;
	if (strcmp(d->name, "google.protobuf.FieldMask") == 0)
		return TA_WKT_FIELD_MASK;
	if (d->n_fields == 1 && strcmp(d->fields[0].name, "value") == 0 &&
	    d->fields[0].label != PROTOBUF_C_LABEL_REPEATED)
		return TA_WKT_WRAPPER;
	return TA_WKT_NONE;
}

size_t
ta_reflect_elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return sizeof(int64_t);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default: /* 32-bit integers and enums */
		return sizeof(int32_t);
	}
}

/* Frees what one value of f at slot owns (not the slot itself). */
void
ta_reflect_value_free(
    const ProtobufCFieldDescriptor *f, void *slot, bool is_elem)
{
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		char *s = *(char **)slot;

		if (s && (is_elem || s != (const char *)f->default_value))
			free(s);
	} else if (f->type == PROTOBUF_C_TYPE_BYTES) {
		ProtobufCBinaryData *b = slot;
		const ProtobufCBinaryData *def = f->default_value;

		if (b->data && (is_elem || !def || def->data != b->data))
			free(b->data);
	} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		ProtobufCMessage *sm = *(ProtobufCMessage **)slot;

		if (sm)
			protobuf_c_message_free_unpacked(sm, NULL);
	}
}

/* Puts f's default (unset) value into slot, without freeing anything. */
void
ta_reflect_value_reset(const ProtobufCFieldDescriptor *f, void *slot)
{
	if (f->type == PROTOBUF_C_TYPE_STRING)
		*(const char **)slot = f->default_value;
	else if (f->type == PROTOBUF_C_TYPE_BYTES && f->default_value)
		*(ProtobufCBinaryData *)slot =
		    *(const ProtobufCBinaryData *)f->default_value;
	else if (f->default_value && f->type != PROTOBUF_C_TYPE_MESSAGE)
		memcpy(slot, f->default_value, ta_reflect_elem_size(f->type));
	else
		memset(slot, 0, ta_reflect_elem_size(f->type));
}

bool
ta_reflect_has_presence(const ProtobufCFieldDescriptor *f)
{
	return f->label == PROTOBUF_C_LABEL_OPTIONAL &&
	       !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
	       f->type != PROTOBUF_C_TYPE_STRING &&
	       f->type != PROTOBUF_C_TYPE_MESSAGE;
}

/* Makes f unset in m: frees its value and restores the default. */
void
ta_reflect_field_clear(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	void *slot = (char *)m + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t *n = &TA_SLOT(size_t, m, f->quantifier_offset);
		char *arr = *(char **)slot;

		for (size_t i = 0; arr && i < *n; i++)
			ta_reflect_value_free(
			    f, arr + i * ta_reflect_elem_size(f->type), true);
		free(arr);
		*(char **)slot = NULL;
		*n = 0;
		return;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *which = &TA_SLOT(uint32_t, m, f->quantifier_offset);

		if (*which != f->id)
			return; /* the storage belongs to another member */
		*which = 0;
	}
	ta_reflect_value_free(f, slot, false);
	ta_reflect_value_reset(f, slot);
	if (ta_reflect_has_presence(f))
		TA_SLOT(protobuf_c_boolean, m, f->quantifier_offset) = 0;
}

/* Selects f in its oneof: clears the member selected before, if another. */
void
ta_reflect_oneof_claim(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	uint32_t *which = &TA_SLOT(uint32_t, m, f->quantifier_offset);

	if (*which == f->id)
		return;
	if (*which != 0) {
		const ProtobufCFieldDescriptor *old =
		    protobuf_c_message_descriptor_get_field(d, *which);

		if (old)
			ta_reflect_field_clear(m, old);
	}
	ta_reflect_value_reset(f, (char *)m + f->offset);
	*which = f->id;
}

/* Marks a scalar field as set after a successful store. */
void
ta_reflect_field_mark_set(
    ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if (ta_reflect_has_presence(f))
		TA_SLOT(protobuf_c_boolean, m, f->quantifier_offset) = 1;
}

/*
 * Length of the enum value prefix derived from the enum's short name
 * (TaskStatus -> "TASK_STATUS_") when name starts with it, else 0.
 */
size_t
ta_reflect_enum_prefix_len(const ProtobufCEnumDescriptor *ed, const char *name)
{
	const char *s = ed->short_name;
	size_t i = 0;

	for (size_t k = 0; s[k]; k++) {
		char c = s[k];

		if (c >= 'A' && c <= 'Z' && k > 0) {
			if (name[i] != '_')
				return 0;
			i++;
		}
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (name[i] != c)
			return 0;
		i++;
	}
	return name[i] == '_' ? i + 1 : 0;
}

/* The JSON spelling of an enum value name matches text exactly. */
bool
ta_reflect_enum_name_is(
    const ProtobufCEnumDescriptor *ed, const char *vname, const char *text)
{
	const char *a = vname + ta_reflect_enum_prefix_len(ed, vname);

	for (; *a && *text; a++, text++) {
		char c = *a;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != *text)
			return false;
	}
	return *a == '\0' && *text == '\0';
}

/* Range of an integer type, as doubles; false for non-integer types. */
bool
ta_reflect_int_range(ProtobufCType t, double *lo, double *hi)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*lo = -2147483648.0;
		*hi = 2147483647.0;
		return true;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*lo = 0;
		*hi = 4294967295.0;
		return true;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*lo = -TA_INT53_MAX;
		*hi = TA_INT53_MAX;
		return true;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*lo = 0;
		*hi = TA_INT53_MAX;
		return true;
	default:
		return false;
	}
}

void
ta_reflect_int_store(ProtobufCType t, void *slot, int64_t i64, uint64_t u64)
{
	switch (ta_reflect_elem_size(t)) {
	case sizeof(int64_t):
		if (t == PROTOBUF_C_TYPE_UINT64 || t == PROTOBUF_C_TYPE_FIXED64)
			*(uint64_t *)slot = u64;
		else
			*(int64_t *)slot = i64;
		break;
	default:
		if (t == PROTOBUF_C_TYPE_UINT32 || t == PROTOBUF_C_TYPE_FIXED32)
			*(uint32_t *)slot = (uint32_t)u64;
		else
			*(int32_t *)slot = (int32_t)i64;
	}
}
