/*
 * Decisions on a request's Content-Type value that the edge calls: pure
 * functions of the header's text.
 */
#ifndef TA_COMMON_MEDIA_TYPE_H
#define TA_COMMON_MEDIA_TYPE_H

#include <stdbool.h>

/*
 * Whether a Content-Type value lets the body be read as UTF-8 JSON: true
 * when it has no charset parameter (RFC 8259 section 8.1: JSON is UTF-8)
 * or charset=utf-8 (any case, quoted or not); false for any other charset
 * (utf-16, iso-8859-1, "utf8", an empty one), which the edge answers 415.
 * NULL (no Content-Type) is true here: whether a body needs a
 * Content-Type is the edge's media-type rule, not this one. The media
 * type itself (application/json) is not looked at. content_type is
 * borrowed.
 */
bool ta_media_charset_is_utf8(const char *content_type);

#endif
