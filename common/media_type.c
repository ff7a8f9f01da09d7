/*
 * Media type parameters of a request's Content-Type (see media_type.h).
 * Pure string work: no headers are read here.
 */
#include "media_type.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

static const char *
skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * One parameter at p (after its ';'): whether it is a charset other than
 * utf-8 (*is_bad), and where the next parameter's ';' is (NULL: none).
 */
static const char *
param_next(const char *p, bool *is_bad)
{
	const char *name = skip_ows(p), *v;
	size_t nlen = strcspn(name, "=; \t");
	char val[32];
	size_t vlen = 0;

	*is_bad = false;
	v = skip_ows(name + nlen);
	if (*v != '=')
		return strchr(v, ';');
	v = skip_ows(v + 1);
	if (*v == '"') {
		/* quoted-string: backslash escapes one character */
		for (v++; *v && *v != '"'; v++) {
			if (*v == '\\' && v[1])
				v++;
			if (vlen < sizeof val - 1)
				val[vlen++] = *v;
		}
		if (*v == '"')
			v++;
	} else {
		for (; *v && *v != ';' && *v != ' ' && *v != '\t'; v++)
			if (vlen < sizeof val - 1)
				val[vlen++] = *v;
	}
	val[vlen] = '\0';
	if (nlen == 7 && strncasecmp(name, "charset", 7) == 0)
		*is_bad = strcasecmp(val, "utf-8") != 0;
	return strchr(v, ';');
}

bool
ta_media_charset_is_utf8(const char *content_type)
{
	const char *p = content_type ? strchr(content_type, ';') : NULL;

	while (p) {
		bool is_bad;

		p = param_next(p + 1, &is_bad);
		if (is_bad)
			return false;
	}
	return true;
}
