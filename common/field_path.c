/*
 * Violation names built from where a value sits in a message
 * (field_path.h): "user.email", "tasks[2].title".
 */
#include "field_path.h"

#include <stdio.h>

static size_t
path_write(const ta_field_path *p, char *buf, size_t cap, size_t at)
{
	int n;

	if (!p)
		return at;
	at = path_write(p->up, buf, cap, at);
	if (at >= cap)
		return at;
	if (p->name)
		n = snprintf(
		    buf + at, cap - at, "%s%s", at ? "." : "", p->name);
	else
		n = snprintf(buf + at, cap - at, "[%zu]", p->index);
	return n < 0 ? at : at + (size_t)n;
}

void
ta_field_path_violate(
    ta_violations *errs, const ta_field_path *p, const char *what)
{
	char name[256], text[512];

	name[0] = '\0';
	path_write(p, name, sizeof name, 0);
	snprintf(text, sizeof text, "%s %s", name, what);
	ta_violations_add(errs, name, text);
}
