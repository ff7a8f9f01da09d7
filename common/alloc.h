/* Allocation that logs and aborts on exhaustion: callers never check NULL. */
#ifndef TA_COMMON_ALLOC_H
#define TA_COMMON_ALLOC_H

#include <stddef.h>

void *ta_xmalloc(size_t n);
void *ta_xcalloc(size_t count, size_t n);
void *ta_xrealloc(void *p, size_t n);
char *ta_xstrdup(const char *s);
char *ta_xstrndup(const char *s, size_t n);

#endif
