/*
 * What the transcoding harnesses need to know of a message to judge its
 * round trip (fuzz_transcode.c, fuzz_render.c).
 */
#ifndef TA_TESTS_FUZZ_MSG_WALK_H
#define TA_TESTS_FUZZ_MSG_WALK_H

#include <stdbool.h>

#include <protobuf-c/protobuf-c.h>

/*
 * Whether m holds, at any depth, an enum value its descriptor has no name
 * for (TA_ENUM_UNRECOGNIZED among them): such a message renders the value
 * as a number, which does not read back (common/transcode.h).
 */
bool ta_fuzz_has_unknown_enum(const ProtobufCMessage *m);

/*
 * Whether m holds, at any depth, a 64-bit integer beyond +-(2^53 - 1): it
 * renders exactly, but the JSON reader refuses it as out of range (cJSON
 * reads numbers as doubles).
 */
bool ta_fuzz_has_wide_int(const ProtobufCMessage *m);

#endif
