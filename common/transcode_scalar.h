/*
 * JSON value -> one scalar field of a message, for the JSON reader
 * (transcode_in.c) and the text setter (transcode_text.c).
 */
#ifndef TA_COMMON_TRANSCODE_SCALAR_H
#define TA_COMMON_TRANSCODE_SCALAR_H

#include <stdbool.h>

#include <cjson/cJSON.h>
#include <protobuf-c/protobuf-c.h>

#include "field_path.h"
#include "transcode.h"

/*
 * One non-message value of f from v into slot (is_elem: an element of a
 * repeated field, which never shares the default). An enum name that
 * names no value stores TA_ENUM_UNRECOGNIZED. False after a violation
 * named by p.
 */
bool ta_scalar_from_json(const ProtobufCFieldDescriptor *f, const cJSON *v,
    void *slot, bool is_elem, const ta_field_path *p, ta_violations *errs);

#endif
