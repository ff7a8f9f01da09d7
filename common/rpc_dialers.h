/*
 * The dialers of one backend (common/rpc_dialers.c): resolve its names,
 * keep one nng dialer per instance address. Private to the RPC client.
 */
#ifndef TA_COMMON_RPC_DIALERS_H
#define TA_COMMON_RPC_DIALERS_H

#include <stdbool.h>
#include <stddef.h>

#include <nng/nng.h>

#include "discovery.h"
#include "status.h"

struct ta_rpc_dial;

/* Plain data owned by the client; only rpc_dialers.c reads the fields. */
typedef struct ta_rpc_dialers {
	nng_socket sock;         /* borrowed: the client's REQ socket */
	const char *name;        /* borrowed: "task", for log lines */
	char *dns_server;        /* owned; NULL: getaddrinfo */
	ta_disc_target *targets; /* owned, ntargets */
	size_t ntargets;
	ta_addr_set *last;         /* per target: the last good lookup */
	bool is_failing;           /* inside a streak of failed lookups */
	struct ta_rpc_dial *dials; /* owned, ndials */
	size_t ndials;
} ta_rpc_dialers;

/*
 * Parses urls (comma-separated tcp://host:port) and dns_server ("ip:port";
 * NULL or "": getaddrinfo) into d, dialling nothing yet; name is borrowed.
 * Set d->sock before the first refresh. TA_INVALID_ARGUMENT (logged) for a
 * malformed list or DNS server; d is then empty.
 */
ta_status ta_rpc_dialers_init(ta_rpc_dialers *d, const char *name,
    const char *urls, const char *dns_server);

/*
 * Resolves every target (a failed lookup keeps that target's last good
 * addresses; a failure is logged once per streak) and makes the dialers
 * match the union: vanished addresses closed, new ones dialled
 * non-blocking. Returns how many dials failed (bad URLs).
 */
int ta_rpc_dialers_refresh(ta_rpc_dialers *d);

/* Frees d's memory; call after the socket (and so its dialers) closed. */
void ta_rpc_dialers_fini(ta_rpc_dialers *d);

#endif
