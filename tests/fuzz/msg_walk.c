/*
 * Walks over protobuf-c messages for the fuzz harnesses (msg_walk.h).
 */
#include "msg_walk.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "google/protobuf/timestamp.pb-c.h"

/* Largest integer the JSON reader takes for a 64-bit field (2^53 - 1). */
#define INT53_MAX INT64_C(9007199254740991)

typedef bool (*elem_pred)(const ProtobufCFieldDescriptor *f, const void *v);

/* Whether pred holds for some non-message element at any depth of m. */
static bool
any_elem(const ProtobufCMessage *m, elem_pred pred)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *slot = (const char *)m + f->offset;
		size_t n = 1;

		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t which;

			memcpy(&which, (const char *)m + f->quantifier_offset,
			    sizeof which);
			if (which != f->id)
				continue;
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			const char *elems;

			memcpy(&n, (const char *)m + f->quantifier_offset,
			    sizeof n);
			memcpy(&elems, slot, sizeof elems);
			slot = elems;
		}
		for (size_t k = 0; k < n; k++) {
			if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
				const ProtobufCMessage *sub;

				memcpy(&sub, slot + k * sizeof sub, sizeof sub);
				/* A Timestamp renders clamped: it always reads.
				 */
				if (sub &&
				    sub->descriptor !=
				        &google__protobuf__timestamp__descriptor &&
				    any_elem(sub, pred))
					return true;
			} else if (f->type == PROTOBUF_C_TYPE_ENUM) {
				if (pred(f, slot + k * sizeof(int32_t)))
					return true;
			} else if (f->type == PROTOBUF_C_TYPE_INT64 ||
			           f->type == PROTOBUF_C_TYPE_SINT64 ||
			           f->type == PROTOBUF_C_TYPE_SFIXED64 ||
			           f->type == PROTOBUF_C_TYPE_UINT64 ||
			           f->type == PROTOBUF_C_TYPE_FIXED64) {
				if (pred(f, slot + k * sizeof(int64_t)))
					return true;
			}
		}
	}
	return false;
}

static bool
is_unknown_enum(const ProtobufCFieldDescriptor *f, const void *v)
{
	int32_t x;

	if (f->type != PROTOBUF_C_TYPE_ENUM)
		return false;
	memcpy(&x, v, sizeof x);
	return protobuf_c_enum_descriptor_get_value(f->descriptor, x) == NULL;
}

static bool
is_wide_int(const ProtobufCFieldDescriptor *f, const void *v)
{
	int64_t x;
	uint64_t u;

	if (f->type == PROTOBUF_C_TYPE_UINT64 ||
	    f->type == PROTOBUF_C_TYPE_FIXED64) {
		memcpy(&u, v, sizeof u);
		return u > (uint64_t)INT53_MAX;
	}
	if (f->type == PROTOBUF_C_TYPE_ENUM)
		return false;
	memcpy(&x, v, sizeof x);
	return x > INT53_MAX || x < -INT53_MAX;
}

bool
ta_fuzz_has_unknown_enum(const ProtobufCMessage *m)
{
	return any_elem(m, is_unknown_enum);
}

bool
ta_fuzz_has_wide_int(const ProtobufCMessage *m)
{
	return any_elem(m, is_wide_int);
}
