/*
 * JSON <-> protobuf transcoding driven only by protobuf-c descriptors:
 * message filling with field violations, rendering by the public
 * contract's rules, and RFC 3339 timestamps (see transcode.h).
 *
 * Design notes: pure functions, no globals, safe from any thread. Every
 * string, array and sub-message written into a message is malloc'd, so
 * protobuf_c_message_free_unpacked(msg, NULL) frees it; unset strings keep
 * their descriptor default pointer, which free_unpacked skips. Duplicate
 * JSON keys never come from a request body (ta_json_parse_body refuses
 * them); in a tree built otherwise the first one wins. Oneof members:
 * rendering emits only the selected member, or every member as null when
 * none is selected.
 */
#include "transcode.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

#define SLOT(type, m, off) (*(type *)((char *)(m) + (off)))
#define CSLOT(type, m, off) (*(const type *)((const char *)(m) + (off)))

#define INT53_MAX 9007199254740991.0 /* a double is exact up to here */
#define TS_MIN -62135596800LL        /* 0001-01-01T00:00:00Z */
#define TS_MAX 253402300799LL        /* 9999-12-31T23:59:59Z */

typedef enum wkt_kind {
	WKT_NONE = 0,
	WKT_TIMESTAMP,
	WKT_WRAPPER,
	WKT_FIELD_MASK,
} wkt_kind;

/* Where a value sits, for violation names: "user.email", "tasks[2].title". */
typedef struct path {
	const struct path *up;
	const char *name; /* NULL: element index of the parent */
	size_t index;
} path;

/* ------------------------------------------------------------------ */
/* Violations */

static size_t
path_write(const path *p, char *buf, size_t cap, size_t at)
{
	int n;

	if (!p)
		return at;
	at = path_write(p->up, buf, cap, at);
	if (at >= cap)
		return at;
	if (p->name)
		n = snprintf(
		    buf + at, cap - at, "%s%s", at ? "." : "", p->name);
	else
		n = snprintf(buf + at, cap - at, "[%zu]", p->index);
	return n < 0 ? at : at + (size_t)n;
}

static void
violate(ta_violations *errs, const path *p, const char *what)
{
	char name[256], text[512];

	name[0] = '\0';
	path_write(p, name, sizeof name, 0);
	snprintf(text, sizeof text, "%s %s", name, what);
	ta_violations_add(errs, name, text);
}

/* ------------------------------------------------------------------ */
/* Descriptor helpers */

static wkt_kind
wkt_of(const ProtobufCMessageDescriptor *d)
{
	static const char pfx[] = "google.protobuf.";

	if (strncmp(d->name, pfx, sizeof pfx - 1) != 0)
		return WKT_NONE;
	if (strcmp(d->name, "google.protobuf.Timestamp") == 0)
		return WKT_TIMESTAMP;
	if (strcmp(d->name, "google.protobuf.FieldMask") == 0)
		return WKT_FIELD_MASK;
	if (d->n_fields == 1 && strcmp(d->fields[0].name, "value") == 0 &&
	    d->fields[0].label != PROTOBUF_C_LABEL_REPEATED)
		return WKT_WRAPPER;
	return WKT_NONE;
}

static size_t
elem_size(ProtobufCType t)
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
static void
value_free(const ProtobufCFieldDescriptor *f, void *slot, bool is_elem)
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
static void
value_reset(const ProtobufCFieldDescriptor *f, void *slot)
{
	if (f->type == PROTOBUF_C_TYPE_STRING)
		*(const char **)slot = f->default_value;
	else if (f->type == PROTOBUF_C_TYPE_BYTES && f->default_value)
		*(ProtobufCBinaryData *)slot =
		    *(const ProtobufCBinaryData *)f->default_value;
	else if (f->default_value && f->type != PROTOBUF_C_TYPE_MESSAGE)
		memcpy(slot, f->default_value, elem_size(f->type));
	else
		memset(slot, 0, elem_size(f->type));
}

static bool
has_presence_flag(const ProtobufCFieldDescriptor *f)
{
	return f->label == PROTOBUF_C_LABEL_OPTIONAL &&
	       !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
	       f->type != PROTOBUF_C_TYPE_STRING &&
	       f->type != PROTOBUF_C_TYPE_MESSAGE;
}

/* Makes f unset in m: frees its value and restores the default. */
static void
field_clear(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	void *slot = (char *)m + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t *n = &SLOT(size_t, m, f->quantifier_offset);
		char *arr = *(char **)slot;

		for (size_t i = 0; arr && i < *n; i++)
			value_free(f, arr + i * elem_size(f->type), true);
		free(arr);
		*(char **)slot = NULL;
		*n = 0;
		return;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *which = &SLOT(uint32_t, m, f->quantifier_offset);

		if (*which != f->id)
			return; /* the storage belongs to another member */
		*which = 0;
	}
	value_free(f, slot, false);
	value_reset(f, slot);
	if (has_presence_flag(f))
		SLOT(protobuf_c_boolean, m, f->quantifier_offset) = 0;
}

/* Selects f in its oneof: clears the member selected before, if another. */
static void
oneof_claim(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	uint32_t *which = &SLOT(uint32_t, m, f->quantifier_offset);

	if (*which == f->id)
		return;
	if (*which != 0) {
		const ProtobufCFieldDescriptor *old =
		    protobuf_c_message_descriptor_get_field(d, *which);

		if (old)
			field_clear(m, old);
	}
	value_reset(f, (char *)m + f->offset);
	*which = f->id;
}

/* Marks a scalar field as set after a successful store. */
static void
field_mark_set(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if (has_presence_flag(f))
		SLOT(protobuf_c_boolean, m, f->quantifier_offset) = 1;
}

/*
 * Length of the enum value prefix derived from the enum's short name
 * (TaskStatus -> "TASK_STATUS_") when name starts with it, else 0.
 */
static size_t
enum_prefix_len(const ProtobufCEnumDescriptor *ed, const char *name)
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
static bool
enum_name_is(
    const ProtobufCEnumDescriptor *ed, const char *vname, const char *text)
{
	const char *a = vname + enum_prefix_len(ed, vname);

	for (; *a && *text; a++, text++) {
		char c = *a;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != *text)
			return false;
	}
	return *a == '\0' && *text == '\0';
}

/* "must be one of: pending, in_progress, completed" (non-zero values). */
static void
enum_violate(
    const ProtobufCEnumDescriptor *ed, const path *p, ta_violations *errs)
{
	static const char head[] = "must be one of: ";
	char text[400];
	size_t at = sizeof head - 1;

	memcpy(text, head, at);
	for (unsigned i = 0; i < ed->n_values && at < sizeof text; i++) {
		const char *n = ed->values[i].name;

		if (ed->values[i].value == 0)
			continue;
		n += enum_prefix_len(ed, n);
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
	violate(errs, p, text);
}

/* ------------------------------------------------------------------ */
/* Base64 (bytes fields, as protojson) */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *
b64_encode(const uint8_t *in, size_t len)
{
	char *out = ta_xmalloc((len + 2) / 3 * 4 + 1), *o = out;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*o++ = b64_alphabet[(v >> 18) & 63];
		*o++ = b64_alphabet[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Standard or URL-safe alphabet, padding optional. */
static bool
b64_decode(const char *s, ProtobufCBinaryData *out)
{
	size_t len = strlen(s), n = 0;
	uint32_t acc = 0;
	int bits = 0;
	uint8_t *buf;

	while (len > 0 && s[len - 1] == '=')
		len--;
	if (len % 4 == 1 || strlen(s) - len > 2)
		return false;
	buf = ta_xmalloc(len * 3 / 4 + 1);
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(s[i]);

		if (v < 0) {
			free(buf);
			return false;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (uint8_t)(acc >> bits);
		}
	}
	out->data = buf;
	out->len = n;
	return true;
}

/* ------------------------------------------------------------------ */
/* RFC 3339 */

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
	static const int dim[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* n decimal digits at s, or -1; stops at the first non-digit (or NUL). */
static int
digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

bool
ta_rfc3339_parse(const char *s, int64_t *seconds, int32_t *nanos)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
	int32_t ns = 0;
	const char *p;
	int64_t t;

	if (!s)
		return false;
	if ((y = digits(s, 4)) < 0 || s[4] != '-' ||
	    (mo = digits(s + 5, 2)) < 0 || s[7] != '-' ||
	    (d = digits(s + 8, 2)) < 0)
		return false;
	p = s + 10;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if ((h = digits(p + 1, 2)) < 0 || p[3] != ':' ||
		    (mi = digits(p + 4, 2)) < 0 || p[6] != ':' ||
		    (sec = digits(p + 7, 2)) < 0)
			return false;
		p += 9;
		if (*p == '.') {
			int nd = 0;

			for (p++; *p >= '0' && *p <= '9'; p++, nd++) {
				if (nd == 9)
					return false;
				ns = ns * 10 + (*p - '0');
			}
			if (nd == 0)
				return false;
			for (; nd < 9; nd++)
				ns *= 10;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int oh = digits(p + 1, 2), om;

			if (oh < 0 || p[3] != ':' ||
			    (om = digits(p + 4, 2)) < 0 || oh > 23 || om > 59)
				return false;
			off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
			p += 6;
		} else {
			return false;
		}
	}
	if (*p != '\0')
		return false;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)
		return false;
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
	    mi * 60 + sec - off;
	if (t < TS_MIN || t > TS_MAX)
		return false;
	*seconds = t;
	*nanos = ns;
	return true;
}

static char *
put_digits(char *o, int v, int n)
{
	for (int i = n - 1; i >= 0; i--, v /= 10)
		o[i] = (char)('0' + v % 10);
	return o + n;
}

void
ta_rfc3339_format(int64_t seconds, int32_t nanos, char *buf, size_t cap)
{
	char tmp[32], *o = tmp;
	int64_t days, rem;
	int y, m, d;

	/* Out-of-range input (a peer's bug) is clamped, never undefined. */
	if (seconds < TS_MIN)
		seconds = TS_MIN;
	if (seconds > TS_MAX)
		seconds = TS_MAX;
	if (nanos < 0 || nanos > 999999999)
		nanos = 0;
	days = seconds / 86400;
	rem = seconds % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	o = put_digits(o, y, 4);
	*o++ = '-';
	o = put_digits(o, m, 2);
	*o++ = '-';
	o = put_digits(o, d, 2);
	*o++ = 'T';
	o = put_digits(o, (int)(rem / 3600), 2);
	*o++ = ':';
	o = put_digits(o, (int)(rem / 60 % 60), 2);
	*o++ = ':';
	o = put_digits(o, (int)(rem % 60), 2);
	*o++ = '.';
	o = put_digits(o, nanos / 1000000, 3);
	*o++ = 'Z';
	*o = '\0';
	if (cap > 0)
		snprintf(buf, cap, "%s", tmp);
}

/* ------------------------------------------------------------------ */
/* JSON -> message */

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
    const path *p, ta_violations *errs)
{
	double x;

	if (!cJSON_IsNumber(v) || !is_integral(v->valuedouble)) {
		violate(errs, p, "must be an integer");
		return false;
	}
	x = v->valuedouble;
	if (x < lo || x > hi) {
		violate(errs, p, "is out of range");
		return false;
	}
	*i64 = (int64_t)x; /* |x| <= 2^53: exact */
	*u64 = (uint64_t)*i64;
	return true;
}

/* Range of an integer type, as doubles; false for non-integer types. */
static bool
int_range(ProtobufCType t, double *lo, double *hi)
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
		*lo = -INT53_MAX;
		*hi = INT53_MAX;
		return true;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*lo = 0;
		*hi = INT53_MAX;
		return true;
	default:
		return false;
	}
}

static void
int_store(ProtobufCType t, void *slot, int64_t i64, uint64_t u64)
{
	switch (elem_size(t)) {
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

/*
 * Stores the enum value named text. A string that names no value is stored
 * as TA_ENUM_UNRECOGNIZED: which values are acceptable is the owning
 * worker's rule, and it reports the violation together with the others.
 * Anything but a string is a type error here (false, with a violation).
 */
static bool
enum_from_text(const ProtobufCFieldDescriptor *f, const char *text, void *slot,
    const path *p, ta_violations *errs)
{
	const ProtobufCEnumDescriptor *ed = f->descriptor;

	if (!text) {
		enum_violate(ed, p, errs);
		return false;
	}
	/* The zero value is what absence means, not a name clients send. */
	for (unsigned i = 0; i < ed->n_values; i++) {
		if (ed->values[i].value != 0 &&
		    enum_name_is(ed, ed->values[i].name, text)) {
			*(int32_t *)slot = ed->values[i].value;
			return true;
		}
	}
	*(int32_t *)slot = TA_ENUM_UNRECOGNIZED;
	return true;
}

/* One non-message value of f from v into slot; false after a violation. */
static bool
scalar_from_json(const ProtobufCFieldDescriptor *f, const cJSON *v, void *slot,
    bool is_elem, const path *p, ta_violations *errs)
{
	int64_t i64 = 0;
	uint64_t u64 = 0;
	double lo, hi;

	if (int_range(f->type, &lo, &hi)) {
		if (!number_to_int(v, lo, hi, &i64, &u64, p, errs))
			return false;
		int_store(f->type, slot, i64, u64);
		return true;
	}
	switch (f->type) {
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		if (!cJSON_IsNumber(v)) {
			violate(errs, p, "must be a number");
			return false;
		}
		if (f->type == PROTOBUF_C_TYPE_FLOAT)
			*(float *)slot = (float)v->valuedouble;
		else
			*(double *)slot = v->valuedouble;
		return true;
	case PROTOBUF_C_TYPE_BOOL:
		if (!cJSON_IsBool(v)) {
			violate(errs, p, "must be a boolean");
			return false;
		}
		*(protobuf_c_boolean *)slot = cJSON_IsTrue(v);
		return true;
	case PROTOBUF_C_TYPE_ENUM:
		return enum_from_text(f,
		    cJSON_IsString(v) ? v->valuestring : NULL, slot, p, errs);
	case PROTOBUF_C_TYPE_STRING:
		if (!cJSON_IsString(v) || !v->valuestring) {
			violate(errs, p, "must be a string");
			return false;
		}
		value_free(f, slot, is_elem);
		*(char **)slot = ta_xstrdup(v->valuestring);
		return true;
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData b;

		if (!cJSON_IsString(v) || !v->valuestring ||
		    !b64_decode(v->valuestring, &b)) {
			violate(errs, p, "must be a base64 string");
			return false;
		}
		value_free(f, slot, is_elem);
		*(ProtobufCBinaryData *)slot = b;
		return true;
	}
	default:
		violate(errs, p, "has an unsupported type");
		return false;
	}
}

static void object_to_message(const cJSON *obj, ProtobufCMessage *m,
    const ProtobufCFieldDescriptor *mask, const path *p, ta_violations *errs);

/* Appends a copy of s to a FieldMask's paths. */
static void
mask_append(ProtobufCMessage *fm, const char *s, size_t len)
{
	const ProtobufCFieldDescriptor *f = &fm->descriptor->fields[0];
	size_t *n = &SLOT(size_t, fm, f->quantifier_offset);
	char ***paths = &SLOT(char **, fm, f->offset);

	*paths = ta_xrealloc(*paths, (*n + 1) * sizeof **paths);
	(*paths)[(*n)++] = ta_xstrndup(s, len);
}

/*
 * Fills sm, a fresh message of d, from v by d's kind. False after a
 * violation; sm stays freeable either way.
 */
static bool
submessage_from_json(
    const cJSON *v, ProtobufCMessage *sm, const path *p, ta_violations *errs)
{
	const ProtobufCMessageDescriptor *d = sm->descriptor;
	size_t before = errs->n;

	switch (wkt_of(d)) {
	case WKT_TIMESTAMP: {
		const ProtobufCFieldDescriptor *fs, *fn;
		int64_t secs;
		int32_t ns;

		fs = protobuf_c_message_descriptor_get_field_by_name(
		    d, "seconds");
		fn =
		    protobuf_c_message_descriptor_get_field_by_name(d, "nanos");
		if (!cJSON_IsString(v) || !fs || !fn ||
		    !ta_rfc3339_parse(v->valuestring, &secs, &ns)) {
			violate(errs, p, "must be an RFC 3339 date-time");
			return false;
		}
		SLOT(int64_t, sm, fs->offset) = secs;
		SLOT(int32_t, sm, fn->offset) = ns;
		return true;
	}
	case WKT_WRAPPER:
		if (d->fields[0].type == PROTOBUF_C_TYPE_MESSAGE) {
			violate(errs, p, "has an unsupported type");
			return false;
		}
		return scalar_from_json(&d->fields[0], v,
		    (char *)sm + d->fields[0].offset, false, p, errs);
	case WKT_FIELD_MASK: {
		const char *s, *c;

		if (!cJSON_IsString(v) || !v->valuestring) {
			violate(errs, p, "must be a string");
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
	case WKT_NONE:
		if (!cJSON_IsObject(v)) {
			violate(errs, p, "must be an object");
			return false;
		}
		object_to_message(v, sm, NULL, p, errs);
		return errs->n == before;
	}
	return false;
}

static void
repeated_from_json(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    const cJSON *v, const path *p, ta_violations *errs)
{
	size_t n = 0, i = 0, sz = elem_size(f->type);
	const cJSON *e;
	char *arr;

	if (!cJSON_IsArray(v)) {
		violate(errs, p, "must be an array");
		return;
	}
	cJSON_ArrayForEach(e, v) n++;
	field_clear(m, f);
	if (n == 0)
		return;
	arr = ta_xcalloc(n, sz);
	cJSON_ArrayForEach(e, v)
	{
		path ep = {p, NULL, i};
		void *slot = arr + i * sz;

		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			ProtobufCMessage *sm = ta_message_new(f->descriptor);

			*(ProtobufCMessage **)slot = sm;
			submessage_from_json(e, sm, &ep, errs);
		} else {
			scalar_from_json(f, e, slot, true, &ep, errs);
		}
		i++;
	}
	SLOT(char *, m, f->offset) = arr;
	SLOT(size_t, m, f->quantifier_offset) = n;
}

static void
field_from_json(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
    const cJSON *v, const path *p, ta_violations *errs)
{
	void *slot = (char *)m + f->offset;

	if (cJSON_IsNull(v)) {
		field_clear(m, f);
		return;
	}
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		repeated_from_json(m, f, v, p, errs);
		return;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		oneof_claim(m, f);
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		ProtobufCMessage *sm = ta_message_new(f->descriptor);
		bool ok = submessage_from_json(v, sm, p, errs);

		/* A bad plain object still keeps what parsed; a bad WKT not. */
		if (!ok && wkt_of(f->descriptor) != WKT_NONE) {
			protobuf_c_message_free_unpacked(sm, NULL);
			return;
		}
		value_free(f, slot, false);
		*(ProtobufCMessage **)slot = sm;
		return;
	}
	if (scalar_from_json(f, v, slot, false, p, errs))
		field_mark_set(m, f);
}

static bool
is_field_mask_field(const ProtobufCFieldDescriptor *f)
{
	return f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
	       f->label != PROTOBUF_C_LABEL_REPEATED &&
	       wkt_of(f->descriptor) == WKT_FIELD_MASK;
}

/*
 * Fills m from the object obj. mask, when non-NULL, is m's FieldMask field
 * that records the keys present (it is itself never read from obj).
 */
static void
object_to_message(const cJSON *obj, ProtobufCMessage *m,
    const ProtobufCFieldDescriptor *mask, const path *p, ta_violations *errs)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	uint8_t *seen = ta_xcalloc(d->n_fields, 1); /* 1 null, 2 value */
	ProtobufCMessage *fm = NULL;
	const cJSON *v;

	if (mask) {
		ProtobufCMessage **slot =
		    &SLOT(ProtobufCMessage *, m, mask->offset);

		if (!*slot)
			*slot = ta_message_new(mask->descriptor);
		fm = *slot;
	}
	cJSON_ArrayForEach(v, obj)
	{
		const ProtobufCFieldDescriptor *f;
		path fp;
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
		fp = (path){p, f->name, 0};
		if (fm)
			mask_append(fm, f->name, strlen(f->name));
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    seen[idx] == 2) {
			uint32_t which =
			    SLOT(uint32_t, m, f->quantifier_offset);
			const ProtobufCFieldDescriptor *o =
			    which && which != f->id
			        ? protobuf_c_message_descriptor_get_field(
			              d, which)
			        : NULL;

			if (o && seen[o - d->fields] == 2) {
				char text[300];

				snprintf(text, sizeof text,
				    "cannot be set together with %s", o->name);
				violate(errs, &fp, text);
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
		path p = {NULL, "body", 0};

		violate(errs, &p, "must be a JSON object");
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

/* ------------------------------------------------------------------ */
/* Path parameters */

/* [-]digits only, fully consumed, within [lo, hi]. */
static bool
text_to_int(const char *text, double lo, double hi, bool is_unsigned,
    int64_t *i64, uint64_t *u64, const path *p, ta_violations *errs)
{
	const char *s = text + (text[0] == '-');
	char *end;

	if (*s < '0' || *s > '9' || (is_unsigned && text[0] == '-')) {
		violate(errs, p, "must be an integer");
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
		violate(errs, p, "must be an integer");
		return false;
	}
	/* 64-bit fields take the full range here: no double in between. */
	if (errno == ERANGE ||
	    (hi < INT53_MAX &&
	        (is_unsigned ? (double)*u64 > hi
	                     : ((double)*i64 < lo || (double)*i64 > hi)))) {
		violate(errs, p, "is out of range");
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
	path p = {NULL, field, 0};
	int64_t i64 = 0;
	uint64_t u64 = 0;
	double lo, hi;
	bool ok;

	if (!f || f->label == PROTOBUF_C_LABEL_REPEATED || !text)
		return TA_NOT_FOUND;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		const ProtobufCMessageDescriptor *d = f->descriptor;
		cJSON *s;

		if (wkt_of(d) == WKT_NONE ||
		    (wkt_of(d) == WKT_WRAPPER &&
		        d->fields[0].type == PROTOBUF_C_TYPE_MESSAGE))
			return TA_NOT_FOUND;
		sm = ta_message_new(d);
		if (wkt_of(d) != WKT_WRAPPER) {
			/* Timestamp and FieldMask read a JSON string. */
			s = cJSON_CreateString(text);
			ok = s && submessage_from_json(s, sm, &p, errs);
			cJSON_Delete(s);
			goto done;
		}
		target = sm;
		tf = &d->fields[0];
	}
	if (int_range(tf->type, &lo, &hi)) {
		ok = text_to_int(text, lo, hi,
		    tf->type == PROTOBUF_C_TYPE_UINT32 ||
		        tf->type == PROTOBUF_C_TYPE_FIXED32 ||
		        tf->type == PROTOBUF_C_TYPE_UINT64 ||
		        tf->type == PROTOBUF_C_TYPE_FIXED64,
		    &i64, &u64, &p, errs);
		if (ok) {
			if (target == msg &&
			    (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
				oneof_claim(msg, f);
			int_store(
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
			violate(errs, &p, "must be a number");
		else {
			cJSON *n = cJSON_CreateNumber(x);

			if (target == msg &&
			    (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
				oneof_claim(msg, f);
			ok = n &&
			     scalar_from_json(tf, n,
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
			oneof_claim(msg, f);
		ok = v && scalar_from_json(tf, v, (char *)target + tf->offset,
		              false, &p, errs);
		cJSON_Delete(v);
	}
	if (ok && target == msg)
		field_mark_set(msg, f);
done:
	if (sm) {
		if (!ok) {
			protobuf_c_message_free_unpacked(sm, NULL);
		} else {
			if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
				oneof_claim(msg, f);
			value_free(f, (char *)msg + f->offset, false);
			SLOT(ProtobufCMessage *, msg, f->offset) = sm;
		}
	}
	return ok ? TA_OK : TA_INVALID_ARGUMENT;
}

ProtobufCMessage *
ta_message_new(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = ta_xmalloc(d->sizeof_message);

	protobuf_c_message_init(d, m);
	return m;
}

/* ------------------------------------------------------------------ */
/* message -> JSON */

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
	item = cJSON_CreateString(ev->name + enum_prefix_len(ed, ev->name));
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
		char *s = b64_encode(b->data, b->data ? b->len : 0);
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
		size_t n = CSLOT(size_t, m, f->quantifier_offset);
		const char *elems = *(const char *const *)slot;
		size_t sz = elem_size(f->type);

		arr = cJSON_CreateArray();
		for (size_t i = 0; arr && elems && i < n; i++)
			cJSON_AddItemToArray(
			    arr, scalar_to_json(f, elems + i * sz));
		return arr;
	}
	if (has_presence_flag(f) &&
	    !CSLOT(protobuf_c_boolean, m, f->quantifier_offset))
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
			    CSLOT(uint32_t, m, f->quantifier_offset);

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
	switch (wkt_of(d)) {
	case WKT_TIMESTAMP: {
		const ProtobufCFieldDescriptor *fs, *fn;
		char buf[32];

		fs = protobuf_c_message_descriptor_get_field_by_name(
		    d, "seconds");
		fn =
		    protobuf_c_message_descriptor_get_field_by_name(d, "nanos");
		if (!fs || !fn)
			break;
		ta_rfc3339_format(CSLOT(int64_t, sm, fs->offset),
		    CSLOT(int32_t, sm, fn->offset), buf, sizeof buf);
		return cJSON_CreateString(buf);
	}
	case WKT_WRAPPER:
		return scalar_to_json(
		    &d->fields[0], (const char *)sm + d->fields[0].offset);
	case WKT_FIELD_MASK: {
		const ProtobufCFieldDescriptor *f = &d->fields[0];
		size_t n = CSLOT(size_t, sm, f->quantifier_offset), len = 0;
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
	case WKT_NONE:
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
