/* Error responses written by the front itself (see reply.h). */
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "headers.h"
#include "render.h"
#include "status.h"

static void
put_header(edge_buf *b, const char *name, const char *value)
{
	edge_buf_append(b, name, strlen(name));
	edge_buf_append(b, ": ", 2);
	edge_buf_append(b, value, strlen(value));
	edge_buf_append(b, "\r\n", 2);
}

char *
edge_reply_error(int status, const char *message, const char *request_id,
    const edge_header *extra, size_t nextra, bool is_head, size_t *len)
{
	char *body = edge_error_json(status, message, NULL);
	edge_header sec[EDGE_SECURITY_MAX_HEADERS];
	size_t nsec = edge_security_headers(false, sec);
	edge_buf b = {0};
	char line[96];

	snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", status,
	    ta_http_reason(status));
	edge_buf_append(&b, line, strlen(line));
	put_header(&b, "Content-Type", "application/json; charset=utf-8");
	snprintf(line, sizeof line, "%zu", strlen(body));
	put_header(&b, "Content-Length", line);
	put_header(&b, "X-Request-Id", request_id);
	for (size_t i = 0; i < nsec; i++)
		put_header(&b, sec[i].name, sec[i].value);
	if (edge_retry_after(status))
		put_header(&b, "Retry-After", edge_retry_after(status));
	for (size_t i = 0; i < nextra; i++)
		put_header(&b, extra[i].name, extra[i].value);
	put_header(&b, "Connection", "close");
	edge_buf_append(&b, "\r\n", 2);
	if (!is_head)
		edge_buf_append(&b, body, strlen(body));
	free(body);
	*len = b.len;
	edge_buf_append(&b, "", 1); // a C string too, NUL not counted
	return b.p;
}
