/*
 * The browser console's files (console/ in the source tree), embedded in
 * the binary at build time (embed_console.cmake), and the headers the edge
 * serves them with. Pure: lookups touch no socket.
 */
#ifndef EDGE_API_CONSOLE_H
#define EDGE_API_CONSOLE_H

#include <stddef.h>

/* One embedded file (plain data, static storage). */
typedef struct edge_asset {
	const char *path; /* "/" or "/console/app.js" */
	const char *type; /* Content-Type */
	const char *etag; /* strong: "\"<32 hex digits of its SHA-256>\"" */
	const unsigned char *data;
	size_t len;
} edge_asset;

/* Defined in the generated console_assets.c. */
extern const edge_asset edge_console_assets[];
extern const size_t edge_console_assets_n;

/*
 * The Content-Security-Policy of the console's files: everything from the
 * edge's own origin only, no inline script or style, no framing.
 */
#define EDGE_CONSOLE_CSP                                                       \
	"default-src 'none'; script-src 'self'; style-src 'self'; "            \
	"img-src 'self'; connect-src 'self'; base-uri 'none'; "                \
	"form-action 'self'; frame-ancestors 'none'"

/*
 * The files are not named by content, so a browser keeps them but asks
 * again each time (If-None-Match; 304 while unchanged): a new build is
 * seen at once.
 */
#define EDGE_CONSOLE_CACHE "no-cache"

/* The methods a console file answers (405's Allow). */
#define EDGE_CONSOLE_ALLOW "GET, HEAD"

/*
 * The embedded file served at the raw request path path (a query string
 * is ignored; the match is exact, no decoding: the paths are plain
 * ASCII), or NULL. The result is static.
 */
const edge_asset *edge_console_find(const char *path);

#endif
