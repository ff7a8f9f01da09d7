/*
 * The response headers every answer of the edge carries for safety (OWASP
 * REST Security Cheat Sheet, "Security headers"). Pure.
 */
#ifndef EDGE_API_HEADERS_H
#define EDGE_API_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

#include "cors.h"

/* The most headers edge_security_headers writes. */
#define EDGE_SECURITY_MAX_HEADERS 8

/*
 * Fills out with Cache-Control: no-store, Content-Security-Policy:
 * frame-ancestors 'none', X-Content-Type-Options: nosniff,
 * X-Frame-Options: DENY and Referrer-Policy: no-referrer, plus
 * Strict-Transport-Security when is_https (the client reached a trusted
 * proxy over TLS: HSTS sent over plain HTTP means nothing). Returns how
 * many; the values are static.
 */
size_t edge_security_headers(bool is_https, edge_header *out);

#endif
