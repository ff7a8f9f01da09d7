/*
 * Caller authentication of the internal RPC (rpc_auth.h): key derivation,
 * the caller_mac trailer and its verification. Pure apart from
 * ta_rpc_auth_from_cfg_or_exit, which logs and may exit.
 */
#include "rpc_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"
#include "log.h"

/* Field 8, wire type 2 (length-delimited): (8 << 3) | 2. */
#define CALLER_MAC_TAG 0x42

/*
 * Domain separation of the derived keys: the same material used elsewhere
 * (it must not be, but a copy-paste happens) gives unrelated MAC keys.
 */
static const char derive_context[] = "taskapi.v1 RequestEnvelope caller_mac";

struct ta_rpc_auth {
	unsigned char key[crypto_auth_KEYBYTES];
	unsigned char previous[crypto_auth_KEYBYTES];
	bool has_previous;
	bool accepts_unsigned; /* RPC_AUTH=transition */
};

const char *const ta_rpc_auth_modes[] = {"required", "transition", "off", NULL};

/* BLAKE2b-256 keyed with the context: any length of material, one key. */
static void
derive(const char *material, unsigned char out[crypto_auth_KEYBYTES])
{
	crypto_generichash(out, crypto_auth_KEYBYTES,
	    (const unsigned char *)material, strlen(material),
	    (const unsigned char *)derive_context, sizeof derive_context - 1);
}

ta_status
ta_rpc_auth_new(const char *key, const char *previous, ta_rpc_auth **out)
{
	ta_rpc_auth *a;

	if (!key || strlen(key) < TA_RPC_AUTH_KEY_MIN ||
	    (previous && *previous && strlen(previous) < TA_RPC_AUTH_KEY_MIN))
		return TA_INVALID_ARGUMENT;
	if (sodium_init() < 0)
		return TA_INTERNAL;
	a = ta_xcalloc(1, sizeof *a);
	derive(key, a->key);
	if (previous && *previous) {
		derive(previous, a->previous);
		a->has_previous = true;
	}
	*out = a;
	return TA_OK;
}

bool
ta_rpc_auth_accepts_unsigned(const ta_rpc_auth *a)
{
	return a->accepts_unsigned;
}

void
ta_rpc_auth_free(ta_rpc_auth *a)
{
	if (!a)
		return;
	sodium_memzero(a, sizeof *a);
	free(a);
}

void
ta_rpc_auth_sign(const ta_rpc_auth *a, const uint8_t *env, size_t len,
    uint8_t trailer[TA_RPC_AUTH_TRAILER_BYTES])
{
	trailer[0] = CALLER_MAC_TAG;
	trailer[1] = TA_RPC_AUTH_MAC_BYTES;
	crypto_auth(trailer + 2, env, len, a->key);
}

bool
ta_rpc_auth_verify(const ta_rpc_auth *a, const uint8_t *msg, size_t len)
{
	const uint8_t *mac;
	size_t n;

	if (len < TA_RPC_AUTH_TRAILER_BYTES)
		return false;
	n = len - TA_RPC_AUTH_TRAILER_BYTES;
	if (msg[n] != CALLER_MAC_TAG || msg[n + 1] != TA_RPC_AUTH_MAC_BYTES)
		return false;
	mac = msg + n + 2;
	/* crypto_auth_verify compares in constant time. */
	if (crypto_auth_verify(mac, msg, n, a->key) == 0)
		return true;
	return a->has_previous &&
	       crypto_auth_verify(mac, msg, n, a->previous) == 0;
}

static void
exit_bad(const char *reason)
{
	ta_log(TA_LOG_ERROR, "config_invalid", reason);
	exit(2);
}

ta_rpc_auth *
ta_rpc_auth_from_cfg_or_exit(const ta_rpc_auth_cfg *cfg)
{
	ta_rpc_auth *a = NULL;

	if (strcmp(cfg->mode, "off") == 0) {
		ta_log(TA_LOG_WARN, "rpc_auth_off",
		    "RPC_AUTH=off: internal calls are neither signed nor "
		    "verified (development only)");
		return NULL;
	}
	if (strlen(cfg->key) < TA_RPC_AUTH_KEY_MIN)
		exit_bad("RPC_AUTH_KEY: at least 32 bytes");
	if (*cfg->previous && strlen(cfg->previous) < TA_RPC_AUTH_KEY_MIN)
		exit_bad("RPC_AUTH_KEY_PREVIOUS: at least 32 bytes when set");
	if (ta_rpc_auth_new(cfg->key, cfg->previous, &a) != TA_OK)
		exit_bad("RPC_AUTH_KEY: libsodium failed to initialise");
	if (strcmp(cfg->mode, "transition") == 0) {
		a->accepts_unsigned = true;
		ta_log(TA_LOG_WARN, "rpc_auth_transition",
		    "RPC_AUTH=transition: calls are signed, and a worker also "
		    "serves calls without caller_mac (one rollout only)");
	}
	return a;
}
