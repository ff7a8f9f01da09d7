/* Request id acceptance and generation, and the JSON media type check. */
#include "request.h"

#include <string.h>
#include <strings.h>

#include <sodium.h>

bool
edge_request_id_is_valid(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	              "0123456789._:-");
	return n >= 1 && n <= EDGE_REQUEST_ID_MAX && s[n] == '\0';
}

char *
edge_request_id_pick(const char *header, char *buf)
{
	unsigned char rnd[8];

	if (edge_request_id_is_valid(header)) {
		strcpy(buf, header); // length checked just above
		return buf;
	}
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(buf, EDGE_REQUEST_ID_MAX + 1, rnd, sizeof rnd);
	return buf;
}

/* Whether value's media type (before any ";") is type, in any case. */
static bool
media_type_is(const char *value, const char *type)
{
	const char *p = value, *e;

	while (*p == ' ' || *p == '\t')
		p++;
	e = p + strcspn(p, ";");
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return (size_t)(e - p) == strlen(type) &&
	       strncasecmp(p, type, (size_t)(e - p)) == 0;
}

bool
edge_content_type_is_json(const char *value)
{
	return !value || media_type_is(value, "application/json");
}

bool
edge_content_type_is_merge_patch(const char *value)
{
	return value && media_type_is(value, "application/merge-patch+json");
}
