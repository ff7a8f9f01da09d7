/*
 * libFuzzer target for the protobuf -> JSON side (common/transcode_out.c) as
 * the edge uses it on a worker's reply: the first byte picks a reply type,
 * the rest is unpacked as it (protobuf-c) and rendered
 * (ta_message_to_json, cJSON_PrintUnformatted). The text must be strict
 * JSON, and reading it back into the same type and rendering again must
 * give the same text (timestamps are clamped and cut to milliseconds when
 * rendered, so the first rendering is the reference). Two documented
 * asymmetries of transcode.h make reading back fail instead: an enum value
 * unknown to this build renders as its number, and a 64-bit integer beyond
 * 2^53 renders exactly but is out of the reader's range. Strings that are
 * not UTF-8 (protobuf-c does not check) render with U+FFFD.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transcode.h"

#include "msg_walk.h"

#include "taskapi/v1/auth.pb-c.h"
#include "taskapi/v1/health.pb-c.h"
#include "taskapi/v1/task.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *const types[] = {
    &taskapi__v1__task__descriptor,
    &taskapi__v1__list_tasks_reply__descriptor,
    &taskapi__v1__get_task_reply__descriptor,
    &taskapi__v1__create_task_reply__descriptor,
    &taskapi__v1__update_task_reply__descriptor,
    &taskapi__v1__delete_task_reply__descriptor,
    &taskapi__v1__register_reply__descriptor,
    &taskapi__v1__login_reply__descriptor,
    &taskapi__v1__validate_token_reply__descriptor,
    &taskapi__v1__health_check_reply__descriptor,
};

static char *
render(const ProtobufCMessage *m)
{
	cJSON *j = ta_message_to_json(m);
	char *s = j ? cJSON_PrintUnformatted(j) : NULL;

	cJSON_Delete(j);
	if (!s)
		abort();
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const ProtobufCMessageDescriptor *d;
	ProtobufCMessage *m, *m2;
	ta_violations errs = {0};
	cJSON *back = NULL;
	char *s, *s2, why[128];
	ta_status st;

	if (size == 0)
		return 0;
	d = types[data[0] % (sizeof types / sizeof *types)];
	m = protobuf_c_message_unpack(d, NULL, size - 1, data + 1);
	if (!m)
		return 0;
	s = render(m);
	if (ta_json_parse_strict(s, strlen(s), &back, why, sizeof why) != TA_OK)
		abort(); /* the edge would send a client something not JSON */
	m2 = ta_message_new(d);
	st = ta_json_to_message(back, m2, NULL, &errs);
	if (ta_fuzz_has_unknown_enum(m) || ta_fuzz_has_wide_int(m)) {
		/* Rendered as the contract says, refused when read back. */
		if (st != TA_INVALID_ARGUMENT)
			abort();
	} else if (st != TA_OK) {
		abort(); /* what the edge renders it must be able to read */
	} else {
		s2 = render(m2);
		if (strcmp(s, s2) != 0)
			abort();
		free(s2);
	}
	free(s);
	cJSON_Delete(back);
	ta_violations_fini(&errs);
	protobuf_c_message_free_unpacked(m2, NULL);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}
