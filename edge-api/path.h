/*
 * Raw URL path segments (RFC 3986 §3.3): the router matches the path as
 * sent and decodes a segment only after matching, so an escaped "/" or
 * "?" never changes the path's structure. Pure.
 */
#ifndef EDGE_API_PATH_H
#define EDGE_API_PATH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Decodes every %HH of the raw segment [s, s+n) into out (room for n + 1
 * bytes, NUL-terminated) and sets *outlen. false for a malformed escape,
 * or one that decodes to a control character (%00-%1F, %7F), which no
 * parameter may hold.
 */
bool edge_path_segment_decode(
    const char *s, size_t n, char *out, size_t *outlen);

/*
 * Whether the raw segment [s, s+n) equals lit (lit_len bytes of
 * unreserved characters) once escapes of unreserved characters are
 * decoded (RFC 3986 §6.2.2.2): "tas%6Bs" is "tasks", "a%2Fb" is no
 * literal.
 */
bool edge_path_segment_equals(
    const char *s, size_t n, const char *lit, size_t lit_len);

/* The value of the hex digit c (either case), or -1; for every %HH the
 * edge decodes (path segments and query parameters). */
int edge_path_hex_value(char c);

/* Whether the raw segment is "." or "..", also escaped ("%2E%2e"). */
bool edge_path_segment_is_dot(const char *s, size_t n);

#endif
