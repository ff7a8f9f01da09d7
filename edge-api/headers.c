/* The security headers of every response (see headers.h). */
#include "headers.h"

size_t
edge_security_headers(bool is_https, edge_header *out)
{
	size_t n = 0;

	/* Answers carry tokens and private data: never stored by a cache. */
	out[n++] = (edge_header){"Cache-Control", "no-store"};
	out[n++] =
	    (edge_header){"Content-Security-Policy", "frame-ancestors 'none'"};
	out[n++] = (edge_header){"X-Content-Type-Options", "nosniff"};
	out[n++] = (edge_header){"X-Frame-Options", "DENY"};
	out[n++] = (edge_header){"Referrer-Policy", "no-referrer"};
	if (is_https)
		out[n++] = (edge_header){"Strict-Transport-Security",
		    "max-age=31536000; includeSubDomains"};
	return n;
}
