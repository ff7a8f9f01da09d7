/*
 * Text -> one field of a message (transcode.h): path and query parameters
 * set scalars, wrappers, timestamps and field masks from their text.
 */
#include "transcode.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reflect.h"
#include "transcode_in.h"
#include "transcode_scalar.h"

/* [-]digits only, fully consumed, within [lo, hi]. */
static bool
text_to_int(const char *text, double lo, double hi, bool is_unsigned,
    int64_t *i64, uint64_t *u64, const ta_field_path *p, ta_violations *errs)
{
	const char *s = text + (text[0] == '-');
	char *end;

	if (*s < '0' || *s > '9' || (is_unsigned && text[0] == '-')) {
		ta_field_path_violate(errs, p, "must be an integer");
		return false;
	}
	errno = 0;
	if (is_unsigned) {
		*u64 = strtoull(text, &end, 10);
		*i64 = (int64_t)*u64;
	} else {
		*i64 = strtoll(text, &end, 10);
		*u64 = (uint64_t)*i64;
	}
	if (*end != '\0') {
		ta_field_path_violate(errs, p, "must be an integer");
		return false;
	}
	/* 64-bit fields take the full range here: no double in between. */
	if (errno == ERANGE ||
	    (hi < TA_INT53_MAX &&
	        (is_unsigned ? (double)*u64 > hi
	                     : ((double)*i64 < lo || (double)*i64 > hi)))) {
		ta_field_path_violate(errs, p, "is out of range");
		return false;
	}
	return true;
}

ta_status
ta_message_set_text(ProtobufCMessage *msg, const char *field, const char *text,
    ta_violations *errs)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(
	        msg->descriptor, field);
	const ProtobufCFieldDescriptor *tf = f;
	ProtobufCMessage *target = msg, *sm = NULL;
	ta_field_path p = {NULL, field, 0};
	int64_t i64 = 0;
	uint64_t u64 = 0;
	double lo, hi;
	bool ok;

	if (!f || f->label == PROTOBUF_C_LABEL_REPEATED || !text)
		return TA_NOT_FOUND;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		const ProtobufCMessageDescriptor *d = f->descriptor;
		cJSON *s;

		if (ta_reflect_wkt_of(d) == TA_WKT_NONE ||
		    (ta_reflect_wkt_of(d) == TA_WKT_WRAPPER &&
		        d->fields[0].type == PROTOBUF_C_TYPE_MESSAGE))
			return TA_NOT_FOUND;
		sm = ta_message_new(d);
		if (ta_reflect_wkt_of(d) != TA_WKT_WRAPPER) {
			/* Timestamp and FieldMask read a JSON string. */
			s = cJSON_CreateString(text);
			ok = s && ta_submessage_from_json(s, sm, &p, errs);
			cJSON_Delete(s);
			goto done;
		}
		target = sm;
		tf = &d->fields[0];
	}
	if (ta_reflect_int_range(tf->type, &lo, &hi)) {
		ok = text_to_int(text, lo, hi,
		    tf->type == PROTOBUF_C_TYPE_UINT32 ||
		        tf->type == PROTOBUF_C_TYPE_FIXED32 ||
		        tf->type == PROTOBUF_C_TYPE_UINT64 ||
		        tf->type == PROTOBUF_C_TYPE_FIXED64,
		    &i64, &u64, &p, errs);
		if (ok) {
			if (target == msg &&
			    (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
				ta_reflect_oneof_claim(msg, f);
			ta_reflect_int_store(
			    tf->type, (char *)target + tf->offset, i64, u64);
		}
	} else if (tf->type == PROTOBUF_C_TYPE_FLOAT ||
	           tf->type == PROTOBUF_C_TYPE_DOUBLE) {
		char *end;
		double x;

		errno = 0;
		x = strtod(text, &end);
		ok = *text && *end == '\0' && errno == 0 && isfinite(x);
		if (!ok)
			ta_field_path_violate(errs, &p, "must be a number");
		else {
			cJSON *n = cJSON_CreateNumber(x);

			if (target == msg &&
			    (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
				ta_reflect_oneof_claim(msg, f);
			ok = n &&
			     ta_scalar_from_json(tf, n,
			         (char *)target + tf->offset, false, &p, errs);
			cJSON_Delete(n);
		}
	} else {
		/* Strings, enums, bools and bytes go through their JSON form.
		 */
		cJSON *v = tf->type == PROTOBUF_C_TYPE_BOOL
		               ? (strcmp(text, "true") == 0 ? cJSON_CreateTrue()
		                     : strcmp(text, "false") == 0
		                         ? cJSON_CreateFalse()
		                         : cJSON_CreateString(text))
		               : cJSON_CreateString(text);

		if (target == msg && (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			ta_reflect_oneof_claim(msg, f);
		ok = v && ta_scalar_from_json(tf, v,
		              (char *)target + tf->offset, false, &p, errs);
		cJSON_Delete(v);
	}
	if (ok && target == msg)
		ta_reflect_field_mark_set(msg, f);
done:
	if (sm) {
		if (!ok) {
			protobuf_c_message_free_unpacked(sm, NULL);
		} else {
			if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
				ta_reflect_oneof_claim(msg, f);
			ta_reflect_value_free(
			    f, (char *)msg + f->offset, false);
			TA_SLOT(ProtobufCMessage *, msg, f->offset) = sm;
		}
	}
	return ok ? TA_OK : TA_INVALID_ARGUMENT;
}
