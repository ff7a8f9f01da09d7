/*
 * The edge's side of login and registration limits: the request's client
 * address (client_addr.h), the per-address buckets (rate_limit.h) of the
 * routes that have one, and the 429 answer with Retry-After, RateLimit and
 * RateLimit-Policy, for the edge's buckets and for a worker's lockout.
 */
#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "clock.h"
#include "log.h"

/* X-Forwarded-For lines joined, at most: a longer list is not believed. */
#define XFF_MAX 4096

typedef struct xff_buf {
	char s[XFF_MAX + 1];
	size_t len;
	bool is_too_long;
} xff_buf;

/* Joins every X-Forwarded-For line with ",", in arrival order. */
static enum MHD_Result
xff_collect(
    void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	xff_buf *b = cls;
	size_t n = value ? strlen(value) : 0;

	(void)kind;
	if (!key || strcasecmp(key, "X-Forwarded-For") != 0 || !value)
		return MHD_YES;
	if (b->len + n + 1 > XFF_MAX) {
		b->is_too_long = true;
		return MHD_NO;
	}
	if (b->len)
		b->s[b->len++] = ',';
	memcpy(b->s + b->len, value, n);
	b->len += n;
	b->s[b->len] = '\0';
	return MHD_YES;
}

void
edge_req_client_addr(edge_req *r)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
	    r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	xff_buf *b;

	r->client_addr[0] = '\0';
	if (!ci || !ci->client_addr)
		return;
	if (!edge_cidrs_contain(r->h->app->trusted, ci->client_addr)) {
		edge_client_addr(ci->client_addr, NULL, NULL, r->client_addr);
		return;
	}
	b = ta_xcalloc(1, sizeof *b);
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, xff_collect, b);
	edge_client_addr(ci->client_addr,
	    b->len && !b->is_too_long ? b->s : NULL, r->h->app->trusted,
	    r->client_addr);
	free(b);
}

static void
set_limited(edge_req *r, const char *name, long q, long w, long retry_s)
{
	snprintf(r->retry_after, sizeof r->retry_after, "%ld", retry_s);
	edge_rl_headers(name, q, w, 0, retry_s, r->rl_policy, r->rl_state);
}

bool
edge_req_throttle(
    edge_req *r, const edge_resolved_route *rt, enum MHD_Result *ret)
{
	const edge_app *app = r->h->app;

	for (size_t i = 0; i < EDGE_LIMITERS; i++) {
		const edge_limiter *l = &app->limiters[i];
		edge_rl_result res;

		if (!(rt->row->flags & l->flag) || !l->table)
			continue;
		res = edge_rl_take(
		    l->table, &l->policy, r->client_addr, ta_mono_us());
		if (res.is_allowed)
			continue;
		ta_log(TA_LOG_INFO, "rate_limited",
		    "request refused by a per-address limit",
		    TA_S("request_id", r->request_id),
		    TA_S("policy", l->policy.name),
		    TA_S("client_addr", r->client_addr),
		    TA_I("retry_after_s", res.retry_after_s));
		set_limited(r, l->policy.name, l->policy.quota,
		    l->policy.window_s, res.retry_after_s);
		*ret = edge_respond_error(r, 429,
		    "Too many requests from this address; retry later", NULL,
		    NULL);
		return true;
	}
	return false;
}

int
edge_req_limited_status(edge_req *r, const ta_rpc_call *call)
{
	const Taskapi__V1__RateLimit *rl =
	    call->reply ? call->reply->rate_limit : NULL;
	long retry_s;

	if (call->status != TA_RESOURCE_EXHAUSTED || !rl)
		return 0;
	retry_s = rl->retry_after_s ? (long)rl->retry_after_s : 1;
	/* The policy name comes from a worker: keep it a plain token. */
	set_limited(r,
	    rl->policy && rl->policy[0] &&
	            strspn(rl->policy, "abcdefghijklmnopqrstuvwxyz-") ==
	                strlen(rl->policy) &&
	            strlen(rl->policy) <= 32
	        ? rl->policy
	        : "limit",
	    (long)rl->quota, (long)rl->window_s, retry_s);
	return 429;
}
