/*
 * libFuzzer target for the client address of a request behind trusted
 * proxies (edge-api/client_addr.c): the input is an X-Forwarded-For value
 * from a trusted peer. The answer is always a non-empty address that parses
 * again to itself (normal form).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "alloc.h"
#include "client_addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static edge_cidrs *trusted;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in peer = {.sin_family = AF_INET};
	struct sockaddr_storage ss;
	char out[EDGE_ADDR_MAX], again[EDGE_ADDR_MAX];
	char err[128];
	char *xff;

	if (!trusted && edge_cidrs_parse("10.0.0.0/8, fd00::/8", &trusted, err,
	                    sizeof err) != TA_OK)
		abort();
	inet_pton(AF_INET, "10.0.0.2", &peer.sin_addr);
	xff = ta_xmalloc(size + 1);
	memcpy(xff, data, size);
	xff[size] = '\0'; // a header value ends at its first NUL
	edge_client_addr((struct sockaddr *)&peer, xff, trusted, out);
	if (!out[0] || strlen(out) >= EDGE_ADDR_MAX)
		abort();
	if (!edge_addr_parse(out, strlen(out), &ss))
		abort();
	edge_addr_text((struct sockaddr *)&ss, again);
	if (strcmp(out, again) != 0)
		abort();
	free(xff);
	return 0;
}
