/*
 * The dialers of one backend: its URL list's hosts resolved (discovery.h),
 * one nng dialer per instance address, and the diff that dials new
 * addresses and closes vanished ones. Owned by an RPC client
 * (rpc_client.c), whose discovery thread alone refreshes it.
 */
#include "rpc_dialers.h"

#include <stdlib.h>

#include "alloc.h"
#include "log.h"

/* One instance address and its dialer (which redials in the background). */
struct ta_rpc_dial {
	char *url; /* owned: "tcp://10.0.0.7:7002" */
	nng_dialer d;
};

ta_status
ta_rpc_dialers_init(ta_rpc_dialers *c, const char *name, const char *urls,
    const char *dns_server)
{
	unsigned char ip[4];
	unsigned short port;

	*c = (ta_rpc_dialers){.name = name};
	if (dns_server && *dns_server) {
		if (ta_disc_dns_server_parse(dns_server, ip, &port) != TA_OK) {
			ta_log(TA_LOG_ERROR, "rpc_dial_failed",
			    "DNS server is not ip:port",
			    TA_S("backend", c->name));
			return TA_INVALID_ARGUMENT;
		}
		c->dns_server = ta_xstrdup(dns_server);
	}
	if (ta_disc_parse(urls, &c->targets, &c->ntargets) != TA_OK) {
		ta_log(TA_LOG_ERROR, "rpc_dial_failed",
		    "malformed RPC URL list", TA_S("backend", c->name),
		    TA_S("urls", urls));
		free(c->dns_server);
		c->dns_server = NULL;
		return TA_INVALID_ARGUMENT;
	}
	c->last = ta_xcalloc(c->ntargets, sizeof *c->last);
	return TA_OK;
}

/*
 * Makes the dialers match want: closes those of vanished addresses and
 * dials the new ones (non-blocking: an absent server is redialled in the
 * background). Returns how many dials failed (bad URLs).
 */
static int
dials_apply(ta_rpc_dialers *c, const ta_addr_set *want)
{
	ta_addr_set have = {0}, added = {0}, removed = {0};
	int failed = 0;
	char *list;

	for (size_t i = 0; i < c->ndials; i++)
		ta_addr_set_add(&have, c->dials[i].url);
	ta_addr_set_diff(&have, want, &added, &removed);
	for (size_t i = 0; i < c->ndials;) {
		if (!ta_addr_set_has(&removed, c->dials[i].url)) {
			i++;
			continue;
		}
		/* Calls on its pipe see ECONNRESET: retried if safe. */
		nng_dialer_close(c->dials[i].d);
		free(c->dials[i].url);
		c->dials[i] = c->dials[--c->ndials];
	}
	for (size_t i = 0; i < added.n; i++) {
		nng_dialer d;
		int rv =
		    nng_dial(c->sock, added.urls[i], &d, NNG_FLAG_NONBLOCK);

		if (rv != 0) {
			ta_log(TA_LOG_ERROR, "rpc_dial_failed",
			    "cannot dial RPC URL", TA_S("backend", c->name),
			    TA_S("url", added.urls[i]),
			    TA_S("error", nng_strerror(rv)));
			failed++;
			continue;
		}
		c->dials =
		    ta_xrealloc(c->dials, (c->ndials + 1) * sizeof *c->dials);
		c->dials[c->ndials].url = ta_xstrdup(added.urls[i]);
		c->dials[c->ndials].d = d;
		c->ndials++;
	}
	if (added.n > 0 || removed.n > 0) {
		list = ta_addr_set_join(want);
		ta_log(TA_LOG_INFO, "discovery_changed",
		    "backend instances changed", TA_S("backend", c->name),
		    TA_S("addresses", list), TA_I("count", want->n),
		    TA_I("added", added.n), TA_I("removed", removed.n));
		free(list);
	}
	ta_addr_set_fini(&have);
	ta_addr_set_fini(&added);
	ta_addr_set_fini(&removed);
	return failed;
}

int
ta_rpc_dialers_refresh(ta_rpc_dialers *c)
{
	ta_addr_set want = {0};
	const char *failed_host = NULL;
	int failed;

	for (size_t i = 0; i < c->ntargets; i++) {
		ta_addr_set got = {0};

		if (ta_disc_resolve(&c->targets[i], c->dns_server, &got) ==
		    TA_OK)
			ta_addr_set_copy(&c->last[i], &got);
		else if (!failed_host)
			failed_host = c->targets[i].host;
		ta_addr_set_fini(&got);
		for (size_t j = 0; j < c->last[i].n; j++)
			ta_addr_set_add(&want, c->last[i].urls[j]);
	}
	if (failed_host && !c->is_failing)
		ta_log(TA_LOG_WARN, "discovery_failed",
		    "name lookup failed; keeping the last good addresses",
		    TA_S("backend", c->name), TA_S("host", failed_host),
		    TA_I("count", want.n));
	else if (!failed_host && c->is_failing)
		ta_log(TA_LOG_INFO, "discovery_recovered",
		    "name lookup works again", TA_S("backend", c->name));
	c->is_failing = failed_host != NULL;
	failed = dials_apply(c, &want);
	ta_addr_set_fini(&want);
	return failed;
}

void
ta_rpc_dialers_fini(ta_rpc_dialers *c)
{
	for (size_t i = 0; i < c->ndials; i++)
		free(c->dials[i].url);
	free(c->dials);
	for (size_t i = 0; i < c->ntargets; i++)
		ta_addr_set_fini(&c->last[i]);
	free(c->last);
	ta_disc_targets_free(c->targets, c->ntargets);
	free(c->dns_server);
	*c = (ta_rpc_dialers){0};
}
