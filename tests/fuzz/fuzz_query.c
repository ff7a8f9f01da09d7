/*
 * libFuzzer target for the edge's query parameters (edge-api/query.c):
 * the input is a raw query string, split on "&" and "=" as libmicrohttpd
 * does, filled into ListTasksRequest and into GetTaskRequest (whose id is
 * a path parameter). TA_OK adds no violation, TA_INVALID_ARGUMENT at least
 * one, each named by a short non-empty field; the filled message packs,
 * unpacks to the same bytes, and its strings are UTF-8 without NUL.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "query.h"
#include "taskapi/v1/task.pb-c.h"
#include "transcode.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *s)
{
	size_t n = strlen(s), at = 0;

	while (at < n) {
		size_t len = ta_utf8_next((const unsigned char *)s + at,
		    n - at, NULL);

		if (len == 0)
			abort();
		at += len;
	}
}

static void
check(const ProtobufCMessageDescriptor *d, const edge_query_param *qs,
    size_t n, const edge_param *path, size_t npath)
{
	ProtobufCMessage *m = ta_message_new(d), *back;
	ta_violations v = {0};
	ta_status st = edge_query_fill(m, qs, n, path, npath, &v);
	size_t len, len2;
	uint8_t *buf, *buf2;

	if ((st == TA_OK) != (v.n == 0) ||
	    (st != TA_OK && st != TA_INVALID_ARGUMENT))
		abort();
	for (size_t i = 0; i < v.n; i++)
		if (!*v.items[i].field ||
		    strlen(v.items[i].field) > EDGE_QUERY_NAME_MAX)
			abort();
	ta_violations_fini(&v);
	if (d == &taskapi__v1__list_tasks_request__descriptor) {
		const Taskapi__V1__ListTasksRequest *r = (const void *)m;

		check_text(r->cursor);
		check_text(r->q);
		check_text(r->sort);
	}
	len = protobuf_c_message_get_packed_size(m);
	buf = ta_xmalloc(len + 1);
	if (protobuf_c_message_pack(m, buf) != len)
		abort();
	back = protobuf_c_message_unpack(d, NULL, len, buf);
	if (!back)
		abort();
	len2 = protobuf_c_message_get_packed_size(back);
	buf2 = ta_xmalloc(len2 + 1);
	if (protobuf_c_message_pack(back, buf2) != len2 || len2 != len ||
	    memcmp(buf, buf2, len) != 0)
		abort();
	free(buf);
	free(buf2);
	protobuf_c_message_free_unpacked(back, NULL);
	protobuf_c_message_free_unpacked(m, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *end = s + size;
	edge_query_param qs[64];
	edge_param path = {"id}", 2, "5", 1};
	size_t n = 0;

	/* "a=1&b&=c": libmicrohttpd's split; at most 64 (the front's cap
	 * is 100 per request). */
	while (s < end && n < 64) {
		const char *amp = memchr(s, '&', (size_t)(end - s));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(s, '=', (size_t)(stop - s));

		qs[n].key = s;
		qs[n].key_len = (size_t)((eq ? eq : stop) - s);
		qs[n].value = eq ? eq + 1 : NULL;
		qs[n].value_len = eq ? (size_t)(stop - eq - 1) : 0;
		n++;
		s = amp ? amp + 1 : end;
	}
	check(&taskapi__v1__list_tasks_request__descriptor, qs, n, NULL, 0);
	check(&taskapi__v1__get_task_request__descriptor, qs, n, &path, 1);
	return 0;
}
