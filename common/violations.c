/* Growable list of field violations. */
#include "violations.h"

#include <stdlib.h>

#include "alloc.h"

void
ta_violations_add(ta_violations *v, const char *field, const char *message)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 4;
		v->items = ta_xrealloc(v->items, v->cap * sizeof *v->items);
	}
	v->items[v->n].field = ta_xstrdup(field);
	v->items[v->n].message = ta_xstrdup(message);
	v->n++;
}

void
ta_violations_fini(ta_violations *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->items[i].field);
		free(v->items[i].message);
	}
	free(v->items);
	v->items = NULL;
	v->n = v->cap = 0;
}
