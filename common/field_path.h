/*
 * Where a value sits in a message, for violation names: "user.email",
 * "tasks[2].title". A path is a chain of stack frames, innermost first.
 */
#ifndef TA_COMMON_FIELD_PATH_H
#define TA_COMMON_FIELD_PATH_H

#include <stddef.h>

#include "violations.h"

typedef struct ta_field_path {
	const struct ta_field_path *up; /* borrowed: the enclosing value */
	const char *name;               /* NULL: element index of the parent */
	size_t index;
} ta_field_path;

/* Adds the violation "<path> <what>" named after p to errs. */
void ta_field_path_violate(
    ta_violations *errs, const ta_field_path *p, const char *what);

#endif
