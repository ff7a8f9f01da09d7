/* Character rules of titles and descriptions (text_rules.h). */
#include "text_rules.h"

#include <stdbool.h>
#include <stdint.h>

#include <utf8proc.h>

#include "utf8.h"

/* C0, DEL and C1: what "control" means here (Unicode category Cc). */
static bool
is_control(int32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* Embeddings, overrides (U+202A..E) and isolates (U+2066..9): they
 * reorder the text around them, so a title can read as another. */
static bool
is_bidi_control(int32_t cp)
{
	return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Draws nothing: spaces, format characters, default-ignorables. */
static bool
is_invisible(int32_t cp)
{
	const utf8proc_property_t *p = utf8proc_get_property(cp);

	return p->ignorable || p->category == UTF8PROC_CATEGORY_CF ||
	       p->category == UTF8PROC_CATEGORY_ZS ||
	       p->category == UTF8PROC_CATEGORY_ZL ||
	       p->category == UTF8PROC_CATEGORY_ZP || is_control(cp);
}

/* The problem of text for field ("title" messages or "description"). */
static const char *
text_problem(const char *text, bool is_title)
{
	const unsigned char *s = (const unsigned char *)text;
	bool is_visible = false;
	uint32_t u;
	int32_t cp;
	size_t n;

	for (; *s; s += n) {
		if (!(n = ta_utf8_next(s, SIZE_MAX, &u)))
			return is_title ? "title must be valid UTF-8"
			                : "description must be valid UTF-8";
		cp = (int32_t)u; /* at most U+10FFFF */
		if (is_control(cp) &&
		    (is_title || (cp != '\t' && cp != '\n' && cp != '\r')))
			return is_title
			           ? "title must not contain control "
			             "characters"
			           : "description must not contain control "
			             "characters other than tab, line feed "
			             "and carriage return";
		if (is_bidi_control(cp))
			return is_title
			           ? "title must not contain bidi override "
			             "or isolate characters"
			           : "description must not contain bidi "
			             "override or isolate characters";
		is_visible = is_visible || !is_invisible(cp);
	}
	if (is_title && !is_visible)
		return "title must contain a visible character";
	return NULL;
}

const char *
task_title_problem(const char *title)
{
	return text_problem(title, true);
}

const char *
task_description_problem(const char *description)
{
	return text_problem(description, false);
}
