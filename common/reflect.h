/*
 * Field reflection over protobuf-c descriptors, for the transcoder: where
 * a field's value sits, how big it is, what it owns, how it is made unset
 * or marked set, which well-known type a message is, how enum values are
 * spelt, and the range of each integer type.
 */
#ifndef TA_COMMON_REFLECT_H
#define TA_COMMON_REFLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* The member of message m at byte offset off, as an lvalue of type. */
#define TA_SLOT(type, m, off) (*(type *)((char *)(m) + (off)))
#define TA_CSLOT(type, m, off) (*(const type *)((const char *)(m) + (off)))

#define TA_INT53_MAX 9007199254740991.0 /* a double is exact up to here */

/* The google.protobuf types with a JSON form of their own. */
typedef enum ta_wkt {
	TA_WKT_NONE = 0,
	TA_WKT_TIMESTAMP,
	TA_WKT_WRAPPER,
	TA_WKT_FIELD_MASK,
} ta_wkt;

ta_wkt ta_reflect_wkt_of(const ProtobufCMessageDescriptor *d);

/* Bytes of one value (one array element) of type t. */
size_t ta_reflect_elem_size(ProtobufCType t);

/* Frees what one value of f at slot owns (not the slot itself); is_elem:
 * an element of a repeated field, which never shares the default. */
void ta_reflect_value_free(
    const ProtobufCFieldDescriptor *f, void *slot, bool is_elem);

/* Puts f's default (unset) value into slot, without freeing anything. */
void ta_reflect_value_reset(const ProtobufCFieldDescriptor *f, void *slot);

/* f has a has_ flag (proto2-style optional scalar outside a oneof). */
bool ta_reflect_has_presence(const ProtobufCFieldDescriptor *f);

/* Makes f unset in m: frees its value and restores the default. */
void ta_reflect_field_clear(
    ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

/* Selects f in its oneof: clears the member selected before, if another. */
void ta_reflect_oneof_claim(
    ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

/* Marks a scalar field as set after a successful store. */
void ta_reflect_field_mark_set(
    ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

/* Length of the prefix derived from the enum's short name (TaskStatus ->
 * "TASK_STATUS_") when value name starts with it, else 0. */
size_t ta_reflect_enum_prefix_len(
    const ProtobufCEnumDescriptor *ed, const char *name);

/* The JSON spelling of an enum value name vname matches text exactly. */
bool ta_reflect_enum_name_is(
    const ProtobufCEnumDescriptor *ed, const char *vname, const char *text);

/* Range of an integer type, as doubles; false for non-integer types. */
bool ta_reflect_int_range(ProtobufCType t, double *lo, double *hi);

/* Stores an integer into slot by type t (i64 or u64, whichever fits). */
void ta_reflect_int_store(
    ProtobufCType t, void *slot, int64_t i64, uint64_t u64);

#endif
