/*
 * Client addresses: strict parsing of X-Forwarded-For entries and the
 * right-most-untrusted rule (client_addr.h). Entries left of the client are
 * the client's own words and are never parsed.
 */
#include "client_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

bool
edge_addr_parse(const char *s, size_t n, struct sockaddr_storage *out)
{
	char buf[EDGE_ADDR_MAX];
	struct sockaddr_in *v4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
	bool is_bracketed = n >= 2 && s[0] == '[' && s[n - 1] == ']';

	if (is_bracketed) {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof buf || memchr(s, '\0', n))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(out, 0, sizeof *out);
	if (!is_bracketed && inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, buf, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		return true;
	}
	return false;
}

void
edge_addr_text(const struct sockaddr *sa, char out[EDGE_ADDR_MAX])
{
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;

	out[0] = '\0';
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    out, EDGE_ADDR_MAX);
	} else if (sa->sa_family == AF_INET6) {
		if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr))
			inet_ntop(AF_INET, v6->sin6_addr.s6_addr + 12, out,
			    EDGE_ADDR_MAX);
		else
			inet_ntop(AF_INET6, &v6->sin6_addr, out, EDGE_ADDR_MAX);
	}
}

bool
edge_addr_unmap(struct sockaddr_storage *ss, socklen_t *len)
{
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;
	struct sockaddr_in v4 = {.sin_family = AF_INET};

	if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr))
		return false;
	v4.sin_port = v6->sin6_port;
	memcpy(&v4.sin_addr, v6->sin6_addr.s6_addr + 12, 4);
	memset(ss, 0, sizeof *ss);
	memcpy(ss, &v4, sizeof v4);
	*len = sizeof v4;
	return true;
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The entry of xff ending at index *end (exclusive), trimmed, as s and n.
 * Returns whether another entry lies left of it; *end then indexes the
 * comma between them.
 */
static bool
prev_entry(const char *xff, size_t *end, const char **s, size_t *n)
{
	size_t b = *end, e = *end;
	bool has_more;

	while (b > 0 && xff[b - 1] != ',')
		b--;
	has_more = b > 0;
	*end = has_more ? b - 1 : 0;
	while (b < e && is_ows(xff[b]))
		b++;
	while (e > b && is_ows(xff[e - 1]))
		e--;
	*s = xff + b;
	*n = e - b;
	return has_more;
}

void
edge_client_addr(const struct sockaddr *peer, const char *xff,
    const edge_cidrs *trusted, char out[EDGE_ADDR_MAX])
{
	struct sockaddr_storage ss;
	size_t end, n;
	const char *s;
	bool has_more = true;

	edge_addr_text(peer, out);
	if (!xff || !edge_cidrs_contain(trusted, peer))
		return;
	end = strlen(xff);
	for (int hop = 0; has_more; hop++) {
		if (hop == EDGE_XFF_MAX_HOPS)
			return;
		has_more = prev_entry(xff, &end, &s, &n);
		if (!edge_addr_parse(s, n, &ss))
			return;
		/* The first untrusted entry, or the left-most of all. */
		if (!has_more ||
		    !edge_cidrs_contain(trusted, (struct sockaddr *)&ss)) {
			edge_addr_text((struct sockaddr *)&ss, out);
			return;
		}
	}
}
