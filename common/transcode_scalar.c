/*
 * JSON value -> one scalar field (transcode_scalar.h): integers within
 * their type's range, floats, bools, enum names, strings and base64 bytes.
 */
#include "transcode_scalar.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "base64.h"
#include "reflect.h"

/* "must be one of: pending, in_progress, completed" (non-zero values). */
static void
enum_violate(const ProtobufCEnumDescriptor *ed, const ta_field_path *p,
    ta_violations *errs)
{
	static const char head[] = "must be one of: ";
	char text[400];
	size_t at = sizeof head - 1;

	memcpy(text, head, at);
	for (unsigned i = 0; i < ed->n_values && at < sizeof text; i++) {
		const char *n = ed->values[i].name;

		if (ed->values[i].value == 0)
			continue;
		n += ta_reflect_enum_prefix_len(ed, n);
		if (at > sizeof head - 1 && at + 2 < sizeof text) {
			text[at++] = ',';
			text[at++] = ' ';
		}
		for (; *n && at + 1 < sizeof text; n++)
			text[at++] = (*n >= 'A' && *n <= 'Z')
			                 ? (char)(*n - 'A' + 'a')
			                 : *n;
	}
	text[at < sizeof text ? at : sizeof text - 1] = '\0';
	ta_field_path_violate(errs, p, text);
}

/* Without libm's trunc: every double of magnitude >= 2^53 is integral. */
static bool
is_integral(double x)
{
	if (!isfinite(x))
		return false;
	if (x >= 9007199254740992.0 || x <= -9007199254740992.0)
		return true;
	return x == (double)(int64_t)x;
}

/* An integral JSON number within [lo, hi]. */
static bool
number_to_int(const cJSON *v, double lo, double hi, int64_t *i64, uint64_t *u64,
    const ta_field_path *p, ta_violations *errs)
{
	double x;

	if (!cJSON_IsNumber(v) || !is_integral(v->valuedouble)) {
		ta_field_path_violate(errs, p, "must be an integer");
		return false;
	}
	x = v->valuedouble;
	if (x < lo || x > hi) {
		ta_field_path_violate(errs, p, "is out of range");
		return false;
	}
	*i64 = (int64_t)x; /* |x| <= 2^53: exact */
	*u64 = (uint64_t)*i64;
	return true;
}

/*
 * Stores the enum value named text. A string that names no value is stored
 * as TA_ENUM_UNRECOGNIZED: which values are acceptable is the owning
 * worker's rule, and it reports the violation together with the others.
 * Anything but a string is a type error here (false, with a violation).
 */
static bool
enum_from_text(const ProtobufCFieldDescriptor *f, const char *text, void *slot,
    const ta_field_path *p, ta_violations *errs)
{
	const ProtobufCEnumDescriptor *ed = f->descriptor;

	if (!text) {
		enum_violate(ed, p, errs);
		return false;
	}
	/* The zero value is what absence means, not a name clients send. */
	for (unsigned i = 0; i < ed->n_values; i++) {
		if (ed->values[i].value != 0 &&
		    ta_reflect_enum_name_is(ed, ed->values[i].name, text)) {
			*(int32_t *)slot = ed->values[i].value;
			return true;
		}
	}
	*(int32_t *)slot = TA_ENUM_UNRECOGNIZED;
	return true;
}

/* One non-message value of f from v into slot; false after a violation. */
bool
ta_scalar_from_json(const ProtobufCFieldDescriptor *f, const cJSON *v,
    void *slot, bool is_elem, const ta_field_path *p, ta_violations *errs)
{
	int64_t i64 = 0;
	uint64_t u64 = 0;
	double lo, hi;

	if (ta_reflect_int_range(f->type, &lo, &hi)) {
		if (!number_to_int(v, lo, hi, &i64, &u64, p, errs))
			return false;
		ta_reflect_int_store(f->type, slot, i64, u64);
		return true;
	}
	switch (f->type) {
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		if (!cJSON_IsNumber(v)) {
			ta_field_path_violate(errs, p, "must be a number");
			return false;
		}
		if (f->type == PROTOBUF_C_TYPE_FLOAT)
			*(float *)slot = (float)v->valuedouble;
		else
			*(double *)slot = v->valuedouble;
		return true;
	case PROTOBUF_C_TYPE_BOOL:
		if (!cJSON_IsBool(v)) {
			ta_field_path_violate(errs, p, "must be a boolean");
			return false;
		}
		*(protobuf_c_boolean *)slot = cJSON_IsTrue(v);
		return true;
	case PROTOBUF_C_TYPE_ENUM:
		return enum_from_text(f,
		    cJSON_IsString(v) ? v->valuestring : NULL, slot, p, errs);
	case PROTOBUF_C_TYPE_STRING:
		if (!cJSON_IsString(v) || !v->valuestring) {
			ta_field_path_violate(errs, p, "must be a string");
			return false;
		}
		ta_reflect_value_free(f, slot, is_elem);
		*(char **)slot = ta_xstrdup(v->valuestring);
		return true;
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData b;

		if (!cJSON_IsString(v) || !v->valuestring ||
		    !ta_base64_decode(v->valuestring, &b.data, &b.len)) {
			ta_field_path_violate(
			    errs, p, "must be a base64 string");
			return false;
		}
		ta_reflect_value_free(f, slot, is_elem);
		*(ProtobufCBinaryData *)slot = b;
		return true;
	}
	default:
		ta_field_path_violate(errs, p, "has an unsupported type");
		return false;
	}
}
