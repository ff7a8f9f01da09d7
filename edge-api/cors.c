/*
 * CORS: which origins may call the API from a browser, and the headers that
 * say so. A disallowed origin gets no CORS headers, so the browser refuses
 * the response; the request itself is still served.
 */
#include "cors.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"

struct edge_cors {
	char **origins; /* owned */
	size_t n;
	bool is_any; /* "*" was listed */
};

edge_cors *
edge_cors_new(const char *list)
{
	edge_cors *c = ta_xcalloc(1, sizeof *c);
	const char *p = list ? list : "";

	while (*p) {
		size_t len = strcspn(p, ",");
		const char *s = p, *e = p + len;

		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e - s == 1 && *s == '*') {
			c->is_any = true;
		} else if (e > s) {
			c->origins = ta_xrealloc(
			    c->origins, (c->n + 1) * sizeof *c->origins);
			c->origins[c->n++] = ta_xstrndup(s, (size_t)(e - s));
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return c;
}

void
edge_cors_free(edge_cors *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->origins[i]);
	free(c->origins);
	free(c);
}

bool
edge_cors_is_enabled(const edge_cors *c)
{
	return c->is_any || c->n > 0;
}

/* Whether origin is allowed only through "*" (not listed by name). */
static bool
is_any_only(const edge_cors *c, const char *origin)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->origins[i], origin) == 0)
			return false;
	return true;
}

bool
edge_cors_is_allowed(const edge_cors *c, const char *origin)
{
	if (!origin || !*origin)
		return false;
	if (c->is_any)
		return true;
	/* Origins are compared exactly: scheme, host and port as sent. */
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->origins[i], origin) == 0)
			return true;
	return false;
}

size_t
edge_cors_headers(
    const edge_cors *c, const char *origin, bool is_preflight, edge_header *out)
{
	size_t n = 0;
	bool is_listed;

	if (!edge_cors_is_enabled(c))
		return 0;
	is_listed = origin && *origin && !is_any_only(c, origin);
	/* A listed origin's answer depends on Origin: caches key on it. */
	if (c->n > 0)
		out[n++] = (edge_header){"Vary", "Origin"};
	if (!edge_cors_is_allowed(c, origin))
		return n;
	if (is_listed) {
		/* Credentials only for an origin listed by name. */
		out[n++] = (edge_header){"Access-Control-Allow-Origin", origin};
		out[n++] =
		    (edge_header){"Access-Control-Allow-Credentials", "true"};
	} else {
		/* "*": any page may call, but never with credentials. */
		out[n++] = (edge_header){"Access-Control-Allow-Origin", "*"};
	}
	if (is_preflight) {
		out[n++] = (edge_header){
		    "Access-Control-Allow-Methods", EDGE_CORS_METHODS};
		out[n++] = (edge_header){
		    "Access-Control-Allow-Headers", EDGE_CORS_ALLOW_HEADERS};
		out[n++] = (edge_header){"Access-Control-Max-Age", "600"};
	} else {
		out[n++] = (edge_header){
		    "Access-Control-Expose-Headers", EDGE_CORS_EXPOSE_HEADERS};
	}
	return n;
}
