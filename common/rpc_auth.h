/*
 * Caller authentication of the internal RPC: the caller appends a MAC of
 * the packed request envelope under an internal key (RPC_AUTH_KEY) as the
 * envelope's last field, caller_mac = 8, and a worker serves a request only
 * when that MAC verifies under its current or previous key. The MAC is
 * HMAC-SHA-512-256 (libsodium crypto_auth) over every byte before the
 * field; see docs/caller-auth.md for the wire rule and the replay window.
 */
#ifndef TA_COMMON_RPC_AUTH_H
#define TA_COMMON_RPC_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "status.h"

/* Shortest accepted key material, in bytes. */
#define TA_RPC_AUTH_KEY_MIN 32

/* MAC length, and the trailer: tag 0x42 (field 8, bytes), length 32, MAC. */
#define TA_RPC_AUTH_MAC_BYTES 32
#define TA_RPC_AUTH_TRAILER_BYTES (2 + TA_RPC_AUTH_MAC_BYTES)

/* The message a worker answers an unauthenticated call with. */
#define TA_RPC_AUTH_FAILED_MESSAGE "caller not authenticated"

/* The derived keys of one process; opaque, read-only once built. */
typedef struct ta_rpc_auth ta_rpc_auth;

/*
 * Derives the MAC keys from key (current, used to sign and verify) and
 * previous (NULL or "": none; only verified, for rotation), each at least
 * TA_RPC_AUTH_KEY_MIN bytes. The caller frees *out with ta_rpc_auth_free.
 * TA_INVALID_ARGUMENT when a key is too short (nothing is built).
 */
ta_status ta_rpc_auth_new(
    const char *key, const char *previous, ta_rpc_auth **out);

/*
 * Whether a worker with a serves calls that carry no caller_mac at all (a
 * bad one is refused all the same): RPC_AUTH=transition, for the one
 * rolling deploy that introduces caller authentication, while edges of the
 * previous release, which do not sign, still run.
 */
bool ta_rpc_auth_accepts_unsigned(const ta_rpc_auth *a);

/* Wipes and frees a; NULL is allowed. */
void ta_rpc_auth_free(ta_rpc_auth *a);

/*
 * Writes the caller_mac trailer of the packed envelope env[0..len) into
 * trailer: appended after env, the bytes are a RequestEnvelope whose field
 * 8 is the MAC of env. Pure.
 */
void ta_rpc_auth_sign(const ta_rpc_auth *a, const uint8_t *env, size_t len,
    uint8_t trailer[TA_RPC_AUTH_TRAILER_BYTES]);

/*
 * Whether msg[0..len) ends with a caller_mac trailer whose MAC of the bytes
 * before it verifies under the current or the previous key (constant-time
 * comparison). Pure.
 */
bool ta_rpc_auth_verify(const ta_rpc_auth *a, const uint8_t *msg, size_t len);

/*
 * The settings every process that calls or serves a worker reads:
 * RPC_AUTH ("required", "transition" or "off"), RPC_AUTH_KEY (required, like
 * JWT_SECRET, whatever RPC_AUTH says) and RPC_AUTH_KEY_PREVIOUS.
 * Use TA_CFG_RPC_AUTH_ITEMS(struct, member) in a config table with a
 * ta_rpc_auth_cfg member.
 */
typedef struct ta_rpc_auth_cfg {
	/* "required" | "transition" (one rollout) | "off" (development) */
	const char *mode;
	const char *key;
	const char *previous;
} ta_rpc_auth_cfg;

extern const char *const ta_rpc_auth_modes[];

#define TA_CFG_RPC_AUTH_ITEMS(type, member)                                    \
	{"RPC_AUTH", TA_CFG_STR, "required", 0, 0, false, ta_rpc_auth_modes,   \
	    offsetof(type, member.mode)},                                      \
	    {"RPC_AUTH_KEY", TA_CFG_STR, NULL, TA_RPC_AUTH_KEY_MIN, 4096,      \
	        true, NULL, offsetof(type, member.key)},                       \
	{                                                                      \
		"RPC_AUTH_KEY_PREVIOUS", TA_CFG_STR, "", 0, 4096, true, NULL,  \
		    offsetof(type, member.previous)                            \
	}

/*
 * The keys of cfg for main(): NULL when RPC_AUTH is "off" (a warning is
 * logged: calls go unsigned and unverified); with "transition" (warning
 * logged too) ta_rpc_auth_accepts_unsigned is true. A short key prints the
 * reason naming the variable and exits with status 2, like ta_cfg_load_or_exit
 * (which already refuses a missing or short RPC_AUTH_KEY).
 */
ta_rpc_auth *ta_rpc_auth_from_cfg_or_exit(const ta_rpc_auth_cfg *cfg);

#endif
