/*
 * Idempotency fingerprints: the digest each keyed call stores with its key
 * (idempotency_keys.fingerprint), the lookup that tells a replay from a
 * reuse of the key for another request, and the refusal a reuse gets.
 */
#ifndef TA_COMMON_IDEM_H
#define TA_COMMON_IDEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "pg.h"
#include "rpc.h"
#include "status.h"

#define TA_IDEM_KEY_BYTES 32
/* A fingerprint as lowercase hex (32 bytes) plus NUL. */
#define TA_IDEM_HEX_BYTES 65

/*
 * The field of the one violation a reused key gets. The edge renders an
 * INVALID_ARGUMENT carrying it as 422 (edge-api/render.c).
 */
#define TA_IDEM_REUSE_FIELD "Idempotency-Key"

/*
 * The statement of ta_idem_lookup; each worker puts it in its statement
 * table. $1 method, $2 user_id, $3 key, $4 fingerprint (hex).
 */
#define TA_IDEM_SQL_LOOKUP                                                     \
	"SELECT result_id, fingerprint IS NULL OR "                            \
	"fingerprint = decode($4, 'hex') FROM idempotency_keys "               \
	"WHERE method = $1 AND user_id = $2 AND key = $3"

/* What a keyed call turned out to be. */
typedef enum ta_idem_outcome {
	TA_IDEM_NEW = 0,  /* first use of the key: the work was done */
	TA_IDEM_REPLAY,   /* same key, same request: the first result */
	TA_IDEM_MISMATCH, /* same key, another request: refused */
} ta_idem_outcome;

/*
 * Derives the fingerprint key of a process from one of its secrets (any
 * length, borrowed): BLAKE2b-256 keyed with BLAKE2b-256(secret) over a
 * fixed context string. Another secret gives another key, so fingerprints
 * stored under the old one no longer match.
 */
void ta_idem_key_derive(const void *secret, size_t secret_len,
    unsigned char key[TA_IDEM_KEY_BYTES]);

/*
 * Writes into hex the BLAKE2b-256 of msg's protobuf encoding (field order,
 * as protobuf-c packs it), keyed with key when key is not NULL. The
 * encoding is wiped after use (it may hold a password).
 */
void ta_idem_fingerprint(const ProtobufCMessage *msg, const unsigned char *key,
    char hex[TA_IDEM_HEX_BYTES]);

/*
 * Runs statement stmt (TA_IDEM_SQL_LOOKUP) for the key row of (method,
 * user_id, key): TA_NOT_FOUND when there is none; on TA_OK *result_id is
 * what the first call made and *is_same whether fp matches the stored
 * fingerprint (a row without one matches). Others from ta_pg_exec.
 */
ta_status ta_idem_lookup(ta_pg *pg, size_t stmt, const char *method,
    int64_t user_id, const char *key, const char *fp, int64_t *result_id,
    bool *is_same);

/*
 * Fails ctx as a reused key: INVALID_ARGUMENT with one violation on
 * TA_IDEM_REUSE_FIELD. Says nothing of the first request.
 */
void ta_idem_refuse(ta_rpc_ctx *ctx);

#endif
