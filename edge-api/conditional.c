/* Conditional requests at the edge (see conditional.h). */
#include "conditional.h"

#include <string.h>

#include "routes.h"

ta_status
edge_cond_if_match(unsigned flags, const char *header, const char **value)
{
	bool is_any;

	if (!(flags & EDGE_ROUTE_CONDITIONAL) || !header) {
		*value = NULL;
		return TA_OK;
	}
	if (ta_etag_list_check(header, &is_any) != TA_OK)
		return TA_INVALID_ARGUMENT;
	*value = header;
	return TA_OK;
}

bool
edge_cond_take_etag(cJSON *json, char *buf, size_t cap)
{
	cJSON *e =
	    cJSON_DetachItemFromObjectCaseSensitive(json, EDGE_ETAG_FIELD);
	bool ok = cJSON_IsString(e) && strlen(e->valuestring) < cap;

	if (ok)
		memcpy(buf, e->valuestring, strlen(e->valuestring) + 1);
	cJSON_Delete(e);
	return ok;
}

int
edge_cond_status(const char *method, const char *if_none_match,
    const char *if_match, bool is_noop, const char *etag)
{
	bool is_any;

	if (!etag || !*etag)
		return 0;
	/* RFC 9110 section 13.1.2: only a GET or HEAD answers 304. */
	if (if_none_match &&
	    (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) &&
	    ta_etag_list_check(if_none_match, &is_any) == TA_OK &&
	    ta_etag_list_matches(if_none_match, etag, true))
		return 304;
	/* The worker checks If-Match when it changes; a no-op change is a
	 * read, checked here against what it read. */
	if (is_noop && if_match && !ta_etag_list_matches(if_match, etag, false))
		return 412;
	return 0;
}
