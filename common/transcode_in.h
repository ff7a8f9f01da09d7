/*
 * The sub-message reader of the JSON -> message direction, shared with
 * the text setter (transcode_text.c) for timestamps and field masks.
 */
#ifndef TA_COMMON_TRANSCODE_IN_H
#define TA_COMMON_TRANSCODE_IN_H

#include <stdbool.h>

#include <cjson/cJSON.h>
#include <protobuf-c/protobuf-c.h>

#include "field_path.h"
#include "transcode.h"

/*
 * Fills sm, a fresh message, from v by its kind (well-known type or plain
 * object). False after a violation; sm stays freeable either way.
 */
bool ta_submessage_from_json(const cJSON *v, ProtobufCMessage *sm,
    const ta_field_path *p, ta_violations *errs);

#endif
