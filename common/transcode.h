/*
 * Generic JSON <-> protobuf conversion driven by protobuf-c descriptors, in
 * the manner of protojson / grpc-gateway, with the public contract's
 * rendering rules:
 *  - JSON names are the proto field names (snake_case);
 *  - int32/int64/uint* are JSON numbers (int64 printed exactly, never as a
 *    double; read only within +-(2^53 - 1), as cJSON reads doubles, so a
 *    wider value renders but does not read back); bool is true/false;
 *    string is a string (a peer's non-UTF-8 bytes render as U+FFFD);
 *  - enums are the lower-case value name without the enum's prefix
 *    (TASK_STATUS_IN_PROGRESS of TaskStatus is "in_progress"); the zero
 *    value (*_UNSPECIFIED) renders as null and is what null/absent parse to;
 *    a string naming no value parses to TA_ENUM_UNRECOGNIZED (-1), which
 *    the owning worker rejects with its other violations; a non-string is
 *    a type error;
 *  - google.protobuf.Timestamp is an RFC 3339 string, rendered in UTC with
 *    milliseconds ("2025-03-02T10:15:04.221Z"); parsing accepts any offset,
 *    fractional seconds, and a plain date ("2025-03-02" = midnight UTC);
 *  - google.protobuf.StringValue (and the other wrappers) is its bare value;
 *  - google.protobuf.FieldMask renders as a comma-separated string;
 *  - a message-typed field that is unset renders as null (never omitted);
 *    every scalar renders even when zero; repeated fields are arrays.
 * Pure: no sockets, no SQL. JSON in is transcode_in.c, JSON out
 * transcode_out.c, the text setter transcode_text.c; they share reflect.h,
 * field_path.h, base64.h and civil_time.h.
 */
#ifndef TA_COMMON_TRANSCODE_H
#define TA_COMMON_TRANSCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <protobuf-c/protobuf-c.h>

#include "civil_time.h"  /* ta_rfc3339_parse, ta_rfc3339_format */
#include "json_strict.h" /* ta_json_parse_strict, ta_json_parse_body */
#include "status.h"
#include "violations.h"

/* An enum string that names no value of the enum (the worker rejects it). */
#define TA_ENUM_UNRECOGNIZED (-1)

/*
 * Fills msg (an initialised message of its descriptor, e.g. from
 * ta_message_new) from the JSON object obj. Unknown keys are ignored; null
 * means "unset". A wrong JSON type, an unknown enum name, a number that is
 * not an integer or out of range, or a malformed timestamp adds a violation
 * named after the field ("title must be a string") and the result is
 * TA_INVALID_ARGUMENT (msg then holds what parsed, still freeable).
 * If mask_field is non-NULL and names a google.protobuf.FieldMask field of
 * msg, the top-level keys present in obj (that are fields of msg) are
 * recorded there as paths. Strings and sub-messages are heap-allocated so
 * that protobuf_c_message_free_unpacked(msg, NULL) frees everything.
 */
ta_status ta_json_to_message(const cJSON *obj, ProtobufCMessage *msg,
    const char *mask_field, ta_violations *errs);

/*
 * Sets the scalar field named field of msg from text (a path parameter):
 * integers in range for the field's type, strings, bools, enums.
 * TA_INVALID_ARGUMENT with a violation for text that does not convert,
 * TA_NOT_FOUND when msg has no such field.
 */
ta_status ta_message_set_text(ProtobufCMessage *msg, const char *field,
    const char *text, ta_violations *errs);

/* A new message of descriptor d, initialised; free_unpacked frees it. */
ProtobufCMessage *ta_message_new(const ProtobufCMessageDescriptor *d);

/* The JSON rendering of msg (rules above); caller cJSON_Deletes it. */
cJSON *ta_message_to_json(const ProtobufCMessage *msg);

#endif
