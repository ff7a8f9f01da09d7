/*
 * The route table of the public API and its matcher. Adding an endpoint is
 * one row here plus the RPC in the .proto and its worker handler.
 */
#include "routes.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "path.h"
#include "taskapi/v1/auth.pb-c.h"
#include "taskapi/v1/health.pb-c.h"
#include "taskapi/v1/task.pb-c.h"

#define AUTH_SVC (&taskapi__v1__auth_service__descriptor)
#define TASK_SVC (&taskapi__v1__task_service__descriptor)
#define HEALTH_SVC (&taskapi__v1__health__descriptor)

static const edge_route route_table[] = {
    {"POST", "/auth/register", EDGE_BACKEND_AUTH, AUTH_SVC, "RegisterUser",
        EDGE_ROUTE_BODY | EDGE_ROUTE_LIMIT_REGISTER, 201},
    {"POST", "/auth/login", EDGE_BACKEND_AUTH, AUTH_SVC, "Login",
        EDGE_ROUTE_BODY | EDGE_ROUTE_LIMIT_LOGIN, 200},
    {"POST", "/auth/validate", EDGE_BACKEND_AUTH, AUTH_SVC, "ValidateToken",
        EDGE_ROUTE_TOKEN, 200},
    /* Sessions (docs/sessions.md). Refresh shares login's bucket. */
    {"POST", "/auth/refresh", EDGE_BACKEND_AUTH, AUTH_SVC, "RefreshSession",
        EDGE_ROUTE_BODY | EDGE_ROUTE_LIMIT_LOGIN, 200},
    {"POST", "/auth/logout", EDGE_BACKEND_AUTH, AUTH_SVC, "Logout",
        EDGE_ROUTE_AUTH | EDGE_ROUTE_BODY | EDGE_ROUTE_TOKEN, 204},
    {"GET", "/auth/me", EDGE_BACKEND_AUTH, AUTH_SVC, "GetMe",
        EDGE_ROUTE_AUTH | EDGE_ROUTE_TOKEN, 200},
    {"PUT", "/auth/password", EDGE_BACKEND_AUTH, AUTH_SVC, "ChangePassword",
        EDGE_ROUTE_AUTH | EDGE_ROUTE_BODY | EDGE_ROUTE_TOKEN, 204},
    {"GET", "/auth/health", EDGE_BACKEND_AUTH, HEALTH_SVC, "Check",
        EDGE_ROUTE_HEALTH, 200},
    {"GET", "/tasks/health", EDGE_BACKEND_TASK, HEALTH_SVC, "Check",
        EDGE_ROUTE_HEALTH, 200},
    {"POST", "/tasks", EDGE_BACKEND_TASK, TASK_SVC, "CreateTask",
        EDGE_ROUTE_AUTH | EDGE_ROUTE_BODY, 201},
    {"GET", "/tasks", EDGE_BACKEND_TASK, TASK_SVC, "ListTasks",
        EDGE_ROUTE_AUTH | EDGE_ROUTE_QUERY, 200},
    {"GET", "/tasks/{id}", EDGE_BACKEND_TASK, TASK_SVC, "GetTask",
        EDGE_ROUTE_AUTH, 200},
    {"PUT", "/tasks/{id}", EDGE_BACKEND_TASK, TASK_SVC, "UpdateTask",
        EDGE_ROUTE_AUTH | EDGE_ROUTE_BODY | EDGE_ROUTE_MASK |
            EDGE_ROUTE_CONDITIONAL,
        200},
    /* A JSON merge patch of a task's flat fields is PUT's partial update. */
    {"PATCH", "/tasks/{id}", EDGE_BACKEND_TASK, TASK_SVC, "UpdateTask",
        EDGE_ROUTE_AUTH | EDGE_ROUTE_BODY | EDGE_ROUTE_MASK |
            EDGE_ROUTE_CONDITIONAL | EDGE_ROUTE_MERGE_PATCH,
        200},
    {"DELETE", "/tasks/{id}", EDGE_BACKEND_TASK, TASK_SVC, "DeleteTask",
        EDGE_ROUTE_AUTH | EDGE_ROUTE_CONDITIONAL, 200},
    /* Answered by the edge itself (load balancer health check). */
    {"GET", "/health", EDGE_BACKEND_NONE, NULL, NULL, EDGE_ROUTE_HEALTH, 200},
    {"GET", "/openapi.json", EDGE_BACKEND_NONE, NULL, NULL, EDGE_ROUTE_OPENAPI,
        200},
};

/* Updates whose body names no field: read instead (routes.h, noop_md). */
static const struct {
	const ProtobufCServiceDescriptor *service;
	const char *rpc, *noop_rpc, *message;
} noop_table[] = {
    {TASK_SVC, "UpdateTask", "GetTask", "Task updated successfully"},
};

struct edge_router {
	edge_resolved_route *routes;
	size_t n;
};

const edge_route *
edge_route_table(size_t *n)
{
	*n = sizeof route_table / sizeof route_table[0];
	return route_table;
}

static bool
is_param(const char *seg, size_t len)
{
	return len >= 3 && seg[0] == '{' && seg[len - 1] == '}';
}

/* A pattern is "/" followed by non-empty segments; braces only as {name}. */
static bool
pattern_is_valid(const char *p)
{
	if (!p || *p != '/' || p[1] == '\0')
		return false;
	while (*p == '/') {
		const char *s = ++p;

		while (*p && *p != '/')
			p++;
		size_t len = (size_t)(p - s);

		if (len == 0)
			return false;
		if (is_param(s, len)) {
			if (memchr(s + 1, '{', len - 2) ||
			    memchr(s + 1, '}', len - 2))
				return false;
		} else if (memchr(s, '{', len) || memchr(s, '}', len)) {
			return false;
		}
	}
	return *p == '\0';
}

static ta_status
resolve(
    const edge_route *row, edge_resolved_route *out, char *err, size_t errcap)
{
	out->row = row;
	out->md = NULL;
	out->noop_md = NULL;
	out->noop_message = NULL;
	out->full_method[0] = '\0';
	if (!row->method || !*row->method || !pattern_is_valid(row->pattern)) {
		snprintf(err, errcap,
		    "route %s %s: malformed method or pattern",
		    row->method ? row->method : "(null)",
		    row->pattern ? row->pattern : "(null)");
		return TA_INVALID_ARGUMENT;
	}
	if ((row->backend == EDGE_BACKEND_NONE) != (row->service == NULL)) {
		snprintf(err, errcap,
		    "route %s %s: a backend needs a service and vice versa",
		    row->method, row->pattern);
		return TA_INVALID_ARGUMENT;
	}
	if (!row->service)
		return TA_OK;
	if (row->rpc)
		out->md = protobuf_c_service_descriptor_get_method_by_name(
		    row->service, row->rpc);
	if (!out->md) {
		snprintf(err, errcap, "route %s %s: %s has no method %s",
		    row->method, row->pattern, row->service->name,
		    row->rpc ? row->rpc : "(null)");
		return TA_INVALID_ARGUMENT;
	}
	int len = snprintf(out->full_method, sizeof out->full_method, "/%s/%s",
	    row->service->name, out->md->name);

	for (size_t i = 0; i < sizeof noop_table / sizeof noop_table[0]; i++) {
		if (noop_table[i].service != row->service ||
		    strcmp(noop_table[i].rpc, out->md->name) != 0)
			continue;
		out->noop_md = protobuf_c_service_descriptor_get_method_by_name(
		    row->service, noop_table[i].noop_rpc);
		if (!out->noop_md) {
			snprintf(err, errcap, "route %s %s: no noop RPC %s",
			    row->method, row->pattern, noop_table[i].noop_rpc);
			return TA_INVALID_ARGUMENT;
		}
		out->noop_message = noop_table[i].message;
		snprintf(out->noop_full_method, sizeof out->noop_full_method,
		    "/%s/%s", row->service->name, out->noop_md->name);
	}
	if (len < 0 || (size_t)len >= sizeof out->full_method) {
		snprintf(err, errcap, "route %s %s: method name too long",
		    row->method, row->pattern);
		return TA_INVALID_ARGUMENT;
	}
	return TA_OK;
}

ta_status
edge_router_new(const edge_route *rows, size_t n, edge_router **out, char *err,
    size_t errcap)
{
	edge_router *r = ta_xcalloc(1, sizeof *r);
	ta_status status = TA_OK;

	r->routes = ta_xcalloc(n ? n : 1, sizeof *r->routes);
	r->n = n;
	for (size_t i = 0; i < n && status == TA_OK; i++) {
		status = resolve(&rows[i], &r->routes[i], err, errcap);
		for (size_t j = 0; j < i && status == TA_OK; j++) {
			if (strcmp(rows[i].method, rows[j].method) == 0 &&
			    strcmp(rows[i].pattern, rows[j].pattern) == 0) {
				snprintf(err, errcap,
				    "route %s %s is listed twice",
				    rows[i].method, rows[i].pattern);
				status = TA_INVALID_ARGUMENT;
			}
		}
	}
	if (status != TA_OK) {
		edge_router_free(r);
		return status;
	}
	*out = r;
	return TA_OK;
}

void
edge_router_free(edge_router *r)
{
	if (!r)
		return;
	free(r->routes);
	free(r);
}

/*
 * Whether pattern fits path[0..len). On a fit, *score ranks specificity:
 * one bit per segment, 1 for a literal, leftmost most significant, so a
 * literal beats a {param} in the same place.
 */
static bool
fits(const char *pat, const char *path, size_t len, edge_param *params,
    size_t *nparams, unsigned long *score)
{
	const char *p = pat, *q = path, *end = path + len;
	unsigned long sc = 0;
	size_t np = 0;

	while (*p == '/' && q < end && *q == '/') {
		const char *ps = ++p, *qs = ++q;

		while (*p && *p != '/')
			p++;
		while (q < end && *q != '/')
			q++;
		size_t pl = (size_t)(p - ps), ql = (size_t)(q - qs);

		if (is_param(ps, pl)) {
			if (ql == 0 || np == EDGE_MAX_PARAMS)
				return false;
			params[np].name = ps + 1;
			params[np].name_len = pl - 2;
			params[np].value = qs;
			params[np].value_len = ql;
			np++;
			sc <<= 1;
		} else {
			if (!edge_path_segment_equals(qs, ql, ps, pl))
				return false;
			sc = sc << 1 | 1;
		}
	}
	if (*p || q != end)
		return false;
	*nparams = np;
	*score = sc;
	return true;
}

static void
build_allow(const edge_router *r, const char *pattern, char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < r->n; i++) {
		const edge_route *row = r->routes[i].row;
		bool is_get = strcmp(row->method, "GET") == 0;

		if (strcmp(row->pattern, pattern) != 0)
			continue;
		/* HEAD is served wherever GET is (RFC 9110 §9.3.2). */
		int k = snprintf(buf + used, cap - used, "%s%s%s",
		    used ? ", " : "", row->method, is_get ? ", HEAD" : "");

		if (k < 0 || (size_t)k >= cap - used)
			break;
		used += (size_t)k;
	}
	/* The edge answers CORS preflights on every known path. */
	snprintf(buf + used, cap - used, "%sOPTIONS", used ? ", " : "");
}

/* "." and ".." are never path structure here: such a path fits nothing. */
static bool
has_dot_segment(const char *path, size_t len)
{
	const char *q = path, *end = path + len;

	while (q < end) {
		const char *s = ++q;

		while (q < end && *q != '/')
			q++;
		if (edge_path_segment_is_dot(s, (size_t)(q - s)))
			return true;
	}
	return false;
}

/* Decodes each parameter into m->values; false when one cannot be. */
static bool
decode_params(edge_match *m)
{
	for (size_t i = 0; i < m->nparams; i++) {
		edge_param *p = &m->params[i];
		size_t n;

		if (p->value_len > EDGE_PARAM_MAX ||
		    !edge_path_segment_decode(
		        p->value, p->value_len, m->values[i], &n))
			return false;
		p->value = m->values[i];
		p->value_len = n;
	}
	return true;
}

ta_status
edge_route_match(
    const edge_router *r, const char *method, const char *path, edge_match *m)
{
	size_t len = strcspn(path, "?");
	const char *best = NULL;
	unsigned long best_score = 0;

	memset(m, 0, sizeof *m);
	if (len > 1 && path[len - 1] == '/')
		len--;
	if (len == 0 || path[0] != '/' || has_dot_segment(path, len))
		return TA_NOT_FOUND;
	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	for (size_t i = 0; i < r->n; i++) {
		edge_param params[EDGE_MAX_PARAMS];
		size_t np;
		unsigned long score;
		const char *pat = r->routes[i].row->pattern;

		if (!fits(pat, path, len, params, &np, &score))
			continue;
		if (best && score <= best_score) // first row wins a tie
			continue;
		best = pat;
		best_score = score;
		memcpy(m->params, params, sizeof params);
		m->nparams = np;
	}
	if (!best || !decode_params(m))
		return TA_NOT_FOUND;
	m->pattern = best;
	for (size_t i = 0; i < r->n; i++) {
		const edge_route *row = r->routes[i].row;

		if (strcmp(row->pattern, best) == 0 &&
		    strcmp(row->method, method) == 0) {
			m->route = &r->routes[i];
			return TA_OK;
		}
	}
	build_allow(r, best, m->allow, sizeof m->allow);
	return TA_UNIMPLEMENTED;
}
