/* Allocation wrappers: out of memory is fatal, reported once on stderr. */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *
check(void *p, size_t n)
{
	if (!p && n) {
		fprintf(stderr, "{\"level\":\"error\",\"event\":\"out_of_memory\","
		    "\"msg\":\"allocation of %zu bytes failed\"}\n", n);
		abort();
	}
	return p;
}

void *
ta_xmalloc(size_t n)
{
	return check(malloc(n ? n : 1), n ? n : 1);
}

void *
ta_xcalloc(size_t count, size_t n)
{
	return check(calloc(count ? count : 1, n ? n : 1), 1);
}

void *
ta_xrealloc(void *p, size_t n)
{
	return check(realloc(p, n ? n : 1), n ? n : 1);
}

char *
ta_xstrdup(const char *s)
{
	return ta_xstrndup(s, strlen(s));
}

char *
ta_xstrndup(const char *s, size_t n)
{
	char *d = ta_xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}
