/*
 * Entity tags and If-Match / If-None-Match lists (see etag.h). The list
 * grammar is RFC 9110 section 5.6.1 (#rule, empty elements tolerated) over
 * section 8.8.3's entity-tag: [ "W/" ] DQUOTE *etagc DQUOTE.
 */
#include "etag.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* One entity tag of a list: its opaque part (between the quotes). */
typedef struct etag_item {
	const char *opaque;
	size_t len;
	bool is_weak;
} etag_item;

void
ta_etag_format(int64_t id, int64_t version, char buf[TA_ETAG_MAX])
{
	snprintf(buf, TA_ETAG_MAX, "\"%" PRId64 "-%" PRId64 "\"", id, version);
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* etagc: %x21 / %x23-7E / obs-text. */
static bool
is_etagc(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c != 0x7F);
}

/*
 * Reads one entity tag at *p into *it and moves *p past it; false when
 * *p does not start one.
 */
static bool
read_tag(const char **p, etag_item *it)
{
	const char *s = *p;

	it->is_weak = s[0] == 'W' && s[1] == '/';
	if (it->is_weak)
		s += 2;
	if (*s != '"')
		return false;
	it->opaque = ++s;
	while (*s && is_etagc((unsigned char)*s))
		s++;
	if (*s != '"')
		return false;
	it->len = (size_t)(s - it->opaque);
	*p = s + 1;
	return true;
}

/*
 * Walks the list value, calling each(it, arg) per tag (may be NULL).
 * Returns the number of tags, or -1 when the value is malformed.
 */
static int
walk(const char *value, bool (*each)(const etag_item *, void *), void *arg)
{
	const char *p = value;
	int n = 0;

	for (;;) {
		etag_item it;

		while (is_ows(*p) || *p == ',')
			p++;
		if (!*p)
			break;
		if (!read_tag(&p, &it) || ++n > TA_ETAG_LIST_MAX)
			return -1;
		if (each && each(&it, arg))
			each = NULL; // found: only the syntax is left to check
		while (is_ows(*p))
			p++;
		if (*p && *p != ',')
			return -1;
	}
	return n;
}

/* Whether value is "*" with optional whitespace around it. */
static bool
is_star(const char *value)
{
	const char *p = value;

	while (is_ows(*p))
		p++;
	if (*p++ != '*')
		return false;
	while (is_ows(*p))
		p++;
	return *p == '\0';
}

ta_status
ta_etag_list_check(const char *value, bool *is_any)
{
	if (!value)
		return TA_INVALID_ARGUMENT;
	if (is_star(value)) {
		*is_any = true;
		return TA_OK;
	}
	if (walk(value, NULL, NULL) <= 0)
		return TA_INVALID_ARGUMENT;
	*is_any = false;
	return TA_OK;
}

typedef struct match_arg {
	const char *opaque; /* the tag's, without quotes */
	size_t len;
	bool is_weak_cmp;
	bool is_found;
} match_arg;

static bool
match_one(const etag_item *it, void *arg)
{
	match_arg *m = arg;

	if (it->is_weak && !m->is_weak_cmp)
		return false;
	if (it->len == m->len && memcmp(it->opaque, m->opaque, m->len) == 0)
		m->is_found = true;
	return m->is_found;
}

bool
ta_etag_list_matches(const char *value, const char *tag, bool is_weak)
{
	match_arg m = {.is_weak_cmp = is_weak};
	size_t len = tag ? strlen(tag) : 0;

	if (!value || len < 2 || tag[0] != '"' || tag[len - 1] != '"')
		return false;
	if (is_star(value))
		return true;
	m.opaque = tag + 1;
	m.len = len - 2;
	return walk(value, match_one, &m) > 0 && m.is_found;
}

typedef struct versions_arg {
	int64_t id;
	int64_t *versions;
	size_t cap, n;
} versions_arg;

/* Decimal digits without a sign or a leading zero, within int64. */
static bool
parse_i64(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;

	if (len == 0 || len > 19 || (s[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool
version_of(const etag_item *it, void *arg)
{
	versions_arg *a = arg;
	const char *dash = memchr(it->opaque, '-', it->len);
	int64_t id, version;

	if (it->is_weak || !dash || a->n == a->cap)
		return false;
	if (parse_i64(it->opaque, (size_t)(dash - it->opaque), &id) &&
	    id == a->id &&
	    parse_i64(
	        dash + 1, it->len - (size_t)(dash + 1 - it->opaque), &version))
		a->versions[a->n++] = version;
	return false;
}

size_t
ta_etag_list_versions(
    const char *value, int64_t id, int64_t *versions, size_t cap)
{
	versions_arg a = {.id = id, .versions = versions, .cap = cap};

	if (!value || is_star(value) || walk(value, version_of, &a) < 0)
		return 0;
	return a.n;
}
