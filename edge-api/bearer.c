/* Authorization header parsing for protected routes (RFC 6750 "Bearer"). */
#include "bearer.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"

#define NO_TOKEN "No authentication token provided"
#define BAD_TOKEN "Invalid token"

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

ta_status
edge_bearer_parse(const char *header, char **token, const char **reason)
{
	const char *p = header ? header : "";
	const char *tok, *end;

	while (is_space(*p))
		p++;
	if (!*p) {
		*reason = NO_TOKEN;
		return TA_UNAUTHENTICATED;
	}
	if (strncasecmp(p, "Bearer", 6) != 0 ||
	    (p[6] != '\0' && !is_space(p[6]))) {
		*reason = BAD_TOKEN;
		return TA_UNAUTHENTICATED;
	}
	tok = p + 6;
	while (is_space(*tok))
		tok++;
	end = tok + strlen(tok);
	while (end > tok && is_space(end[-1]))
		end--;
	if (end == tok) {
		*reason = NO_TOKEN;
		return TA_UNAUTHENTICATED;
	}
	/* A JWT has no blanks; "Bearer a b" is not one token. */
	for (const char *q = tok; q < end; q++) {
		if (is_space(*q)) {
			*reason = BAD_TOKEN;
			return TA_UNAUTHENTICATED;
		}
	}
	*token = ta_xstrndup(tok, (size_t)(end - tok));
	return TA_OK;
}
