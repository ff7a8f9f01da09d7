/*
 * Username rules and normalisation (identifier.h). utf8proc supplies NFC
 * and the Unicode properties; the three confusable alphabets come from a
 * small table of script blocks, since utf8proc has no script property.
 */
#include "identifier.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "utf8.h"

auth_text_scan
auth_text_scan_of(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	auth_text_scan r = {.is_utf8 = true};
	uint32_t cp;
	size_t n;

	while (*s) {
		if (!(n = ta_utf8_next(s, SIZE_MAX, &cp))) {
			r.is_utf8 = false;
			return r;
		}
		if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
			r.has_control = true;
		if (cp == ' ' || cp == 0xA0 || cp == 0x1680 ||
		    (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
		    cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
		    cp == 0x3000 || (cp >= 0x09 && cp <= 0x0D))
			r.has_space = true;
		r.chars++;
		s += n;
	}
	return r;
}

char *
auth_identifier_nfc(const char *s)
{
	if (!auth_text_scan_of(s).is_utf8)
		return NULL;
	/* utf8proc allocates with malloc: the caller's free() fits. */
	return (char *)utf8proc_NFC((const utf8proc_uint8_t *)s);
}

/* The alphabets whose letters look alike (UTS #39 confusables). */
enum { SCRIPT_LATIN = 1, SCRIPT_GREEK = 2, SCRIPT_CYRILLIC = 4 };

static const struct {
	uint32_t lo, hi;
	unsigned script;
} script_blocks[] = {
    {0x0041, 0x005A, SCRIPT_LATIN},
    {0x0061, 0x007A, SCRIPT_LATIN},
    {0x00C0, 0x024F, SCRIPT_LATIN}, /* Latin-1 letters, Extended-A, -B */
    {0x0250, 0x02AF, SCRIPT_LATIN}, /* IPA extensions */
    {0x1D00, 0x1D25, SCRIPT_LATIN},
    {0x1E00, 0x1EFF, SCRIPT_LATIN},
    {0x2C60, 0x2C7F, SCRIPT_LATIN},
    {0xA720, 0xA7FF, SCRIPT_LATIN},
    {0xAB30, 0xAB64, SCRIPT_LATIN},
    {0x0370, 0x03FF, SCRIPT_GREEK},
    {0x1D26, 0x1D2A, SCRIPT_GREEK},
    {0x1F00, 0x1FFF, SCRIPT_GREEK},
    {0x0400, 0x052F, SCRIPT_CYRILLIC},
    {0x1C80, 0x1C8F, SCRIPT_CYRILLIC},
    {0x2DE0, 0x2DFF, SCRIPT_CYRILLIC},
    {0xA640, 0xA69F, SCRIPT_CYRILLIC},
};

/* Which of the three alphabets letter cp belongs to; 0: none of them. */
static unsigned
script_of(uint32_t cp)
{
	for (size_t i = 0; i < sizeof script_blocks / sizeof script_blocks[0];
	     i++)
		if (cp >= script_blocks[i].lo && cp <= script_blocks[i].hi)
			return script_blocks[i].script;
	return 0;
}

static bool
is_letter(int category)
{
	return category >= UTF8PROC_CATEGORY_LU &&
	       category <= UTF8PROC_CATEGORY_LO;
}

/* The rule code point cp breaks, NULL when none; *scripts accumulates. */
static const char *
code_point_problem(uint32_t cp, unsigned *scripts)
{
	const utf8proc_property_t *p = utf8proc_get_property((int32_t)cp);

	switch (p->category) {
	case UTF8PROC_CATEGORY_CC:
		return "username must not contain control characters";
	case UTF8PROC_CATEGORY_CF:
		return "username must not contain invisible or formatting "
		       "characters (zero-width, byte order mark, bidi "
		       "controls)";
	case UTF8PROC_CATEGORY_ZS:
	case UTF8PROC_CATEGORY_ZL:
	case UTF8PROC_CATEGORY_ZP:
		if (cp != ' ')
			return "username must not contain spaces other than "
			       "U+0020";
		return NULL;
	case UTF8PROC_CATEGORY_CN:
	case UTF8PROC_CATEGORY_CO:
	case UTF8PROC_CATEGORY_CS:
		return "username must not contain unassigned or private-use "
		       "characters";
	default:
		break;
	}
	/* Hangul fillers, variation selectors, CGJ: invisible, not Cf. */
	if (p->ignorable)
		return "username must not contain invisible or formatting "
		       "characters (zero-width, byte order mark, bidi "
		       "controls)";
	/* PRECIS IdentifierClass: HasCompat code points are disallowed. */
	if (p->decomp_type != 0)
		return "username must not contain compatibility characters "
		       "(fullwidth forms, ligatures, styled or superscript "
		       "letters)";
	if (is_letter(p->category))
		*scripts |= script_of(cp);
	return NULL;
}

/* The first rule nfc breaks, NULL when it passes. */
static const char *
username_problem(const char *nfc)
{
	const unsigned char *s = (const unsigned char *)nfc;
	size_t len = strlen(nfc), n;
	unsigned scripts = 0;
	const char *problem;
	uint32_t cp;

	if (nfc[0] == ' ' || nfc[len - 1] == ' ')
		return "username must not start or end with a space";
	for (; *s; s += n) {
		if (!(n = ta_utf8_next(s, SIZE_MAX, &cp)))
			return "username must be valid UTF-8";
		if ((problem = code_point_problem(cp, &scripts)) != NULL)
			return problem;
	}
	/* Only one bit may be set: one alphabet per username. */
	if (scripts & (scripts - 1))
		return "username must not mix Latin, Greek and Cyrillic "
		       "letters";
	return NULL;
}

void
auth_username_prepare(const char *username, char **nfc, ta_violations *v)
{
	const char *problem = NULL;
	char *norm = NULL;

	*nfc = NULL;
	if (!username || !*username) {
		problem = "username is required";
	} else if (!(norm = auth_identifier_nfc(username))) {
		problem = "username must be valid UTF-8";
	} else if (auth_text_scan_of(norm).chars > AUTH_USERNAME_MAX_CHARS) {
		problem = "username must be at most 50 characters";
	} else {
		problem = username_problem(norm);
	}
	if (problem) {
		ta_violations_add(v, "username", problem);
		free(norm);
		return;
	}
	*nfc = norm;
}
