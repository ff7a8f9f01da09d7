/*
 * libFuzzer target for common/transcode: a body goes through the strict
 * parser, into the create and update requests (the latter with its field
 * mask) and a list reply, and back out to JSON. Rendering, re-parsing and
 * rendering again must give the same text, or the run aborts.
 *
 * One documented exception (transcode.h): an enum string that names no
 * value parses to TA_ENUM_UNRECOGNIZED, which the owning worker rejects;
 * the name itself is not kept, and a value unknown to this build renders
 * as its number, as protojson does. A number is a type error when read, so
 * such a message must fail to read back (TA_INVALID_ARGUMENT), and it is
 * never a reply a client sees.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transcode.h"

#include "alloc.h"
#include "msg_walk.h"
#include "taskapi/v1/task.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
render(const ProtobufCMessage *m)
{
	cJSON *j = ta_message_to_json(m);
	char *s = cJSON_PrintUnformatted(j);

	cJSON_Delete(j);
	if (!s)
		abort();
	return s;
}

static void
run(const cJSON *j, const ProtobufCMessageDescriptor *d, const char *mask)
{
	ProtobufCMessage *m = ta_message_new(d), *m2;
	ta_violations errs = {0};
	ta_status st = ta_json_to_message(j, m, mask, &errs);
	char *s = render(m), *s2;
	cJSON *back = NULL;

	if (st == TA_OK && ta_fuzz_has_unknown_enum(m)) {
		/* Rendered as a number: a type error when read back. */
		if (ta_json_parse_strict(s, strlen(s), &back, NULL, 0) != TA_OK)
			abort();
		m2 = ta_message_new(d);
		if (ta_json_to_message(back, m2, NULL, &errs) !=
		    TA_INVALID_ARGUMENT)
			abort();
		cJSON_Delete(back);
		protobuf_c_message_free_unpacked(m2, NULL);
	} else if (st == TA_OK) {
		/* What we render we must read back to the same thing. */
		if (ta_json_parse_strict(s, strlen(s), &back, NULL, 0) != TA_OK)
			abort();
		m2 = ta_message_new(d);
		if (ta_json_to_message(back, m2, NULL, &errs) != TA_OK)
			abort();
		s2 = render(m2);
		if (strcmp(s, s2) != 0)
			abort();
		free(s2);
		cJSON_Delete(back);
		protobuf_c_message_free_unpacked(m2, NULL);
	}
	free(s);
	ta_violations_fini(&errs);
	protobuf_c_message_free_unpacked(m, NULL);
}

static void
run_text(const uint8_t *data, size_t size)
{
	static const char *fields[] = {
	    "id", "title", "status", "due_date", "description"};
	ProtobufCMessage *m =
	    ta_message_new(&taskapi__v1__update_task_request__descriptor);
	char *text = ta_xstrndup((const char *)data, size);
	ta_violations errs = {0};

	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		ta_message_set_text(m, fields[i], text, &errs);
	free(render(m));
	ta_violations_fini(&errs);
	protobuf_c_message_free_unpacked(m, NULL);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *j = NULL;
	char msg[128];

	if (size < 64)
		run_text(data, size);
	if (ta_json_parse_strict(
	        (const char *)data, size, &j, msg, sizeof msg) != TA_OK)
		return 0;
	run(j, &taskapi__v1__create_task_request__descriptor, NULL);
	run(j, &taskapi__v1__update_task_request__descriptor, "update_mask");
	run(j, &taskapi__v1__list_tasks_reply__descriptor, NULL);
	cJSON_Delete(j);
	return 0;
}
