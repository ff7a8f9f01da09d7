/* A list of field violations ("title", "title is required"), owned strings. */
#ifndef TA_COMMON_VIOLATIONS_H
#define TA_COMMON_VIOLATIONS_H

#include <stddef.h>

typedef struct ta_violation {
	char *field;
	char *message;
} ta_violation;

typedef struct ta_violations {
	ta_violation *items;
	size_t n, cap;
} ta_violations;

/* Appends copies of field and message. */
void ta_violations_add(ta_violations *v, const char *field,
    const char *message);

/* Frees the strings and the array; leaves v empty and reusable. */
void ta_violations_fini(ta_violations *v);

#endif
