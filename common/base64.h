/* Base64 of protobuf bytes fields, as protojson writes and reads it. */
#ifndef TA_COMMON_BASE64_H
#define TA_COMMON_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The standard alphabet with padding; the caller frees the string. */
char *ta_base64_encode(const uint8_t *in, size_t len);

/*
 * Decodes s, standard or URL-safe alphabet, padding optional. On success
 * *out (caller frees) and *out_len are set; false when s is not base64.
 */
bool ta_base64_decode(const char *s, uint8_t **out, size_t *out_len);

#endif
