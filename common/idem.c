/*
 * Keyed calls: fingerprints, the keyed create and replay, the lookup, the
 * reuse refusal and the purge (idem.h).
 */
#include "idem.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"

/* Changing it changes every keyed fingerprint: a new version, then. */
static const char fingerprint_context[] = "taskapi idempotency fingerprint v1";

void
ta_idem_key_derive(
    const void *secret, size_t secret_len, unsigned char key[TA_IDEM_KEY_BYTES])
{
	unsigned char k0[crypto_generichash_BYTES];

	/* BLAKE2b keys stop at 64 bytes; a secret may be longer. */
	crypto_generichash(k0, sizeof k0, secret, secret_len, NULL, 0);
	crypto_generichash(key, TA_IDEM_KEY_BYTES,
	    (const unsigned char *)fingerprint_context,
	    sizeof fingerprint_context - 1, k0, sizeof k0);
	sodium_memzero(k0, sizeof k0);
}

void
ta_idem_fingerprint(const ProtobufCMessage *msg, const unsigned char *key,
    char hex[TA_IDEM_HEX_BYTES])
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = ta_xmalloc(n ? n : 1);
	unsigned char digest[32];

	protobuf_c_message_pack(msg, buf);
	crypto_generichash(
	    digest, sizeof digest, buf, n, key, key ? TA_IDEM_KEY_BYTES : 0);
	sodium_memzero(buf, n);
	free(buf);
	sodium_bin2hex(hex, TA_IDEM_HEX_BYTES, digest, sizeof digest);
}

ta_status
ta_idem_lookup(ta_pg *pg, size_t stmt, const char *method, int64_t user_id,
    const char *key, const char *fp, int64_t *result_id, bool *is_same)
{
	char uid[24];
	const char *params[] = {method, uid, key, fp};
	PGresult *res;
	ta_status status;

	snprintf(uid, sizeof uid, "%" PRId64, user_id);
	if ((status = ta_pg_exec(pg, stmt, 4, params, &res)) != TA_OK)
		return status;
	if (PQntuples(res) == 0) {
		status = TA_NOT_FOUND;
	} else if (PQnfields(res) != 2) {
		status = TA_INTERNAL;
	} else {
		*result_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		*is_same = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	}
	PQclear(res);
	return status;
}

/* Every this many keyed calls of a method, a thread purges its keys. */
#define PURGE_EVERY 256

void
ta_idem_purge(ta_pg *pg, ta_idem_method *m)
{
	const char *params[] = {m->method};
	PGresult *res;

	if (atomic_fetch_add(&m->calls, 1) % PURGE_EVERY != 0)
		return;
	if (ta_pg_exec(pg, m->purge, 1, params, &res) == TA_OK)
		PQclear(res);
}

ta_status
ta_idem_create(ta_pg *pg, ta_idem_method *m, int64_t user_id, const char *key,
    const char *fp, ta_idem_params create, ta_idem_params replay,
    PGresult **out, ta_idem_outcome *outcome)
{
	PGresult *res;
	ta_status status;
	int64_t first_id;
	bool is_same;

	ta_idem_purge(pg, m);
	/* Twice at most: a key purged between the statements of the first
	 * round is simply created in the second. */
	for (int round = 0; round < 2; round++) {
		status = ta_pg_exec(pg, m->create, create.n, create.v, &res);
		if (status != TA_OK)
			return status;
		if (PQntuples(res) > 0) {
			*outcome = TA_IDEM_NEW;
			*out = res;
			return TA_OK;
		}
		PQclear(res);
		status = ta_idem_lookup(pg, m->lookup, m->method, user_id, key,
		    fp, &first_id, &is_same);
		if (status == TA_NOT_FOUND)
			continue;
		if (status != TA_OK)
			return status;
		*out = NULL;
		if (!is_same) {
			*outcome = TA_IDEM_MISMATCH;
			return TA_OK;
		}
		status = ta_pg_exec(pg, m->replay, replay.n, replay.v, &res);
		if (status != TA_OK)
			return status;
		if (PQntuples(res) > 0) {
			*outcome = TA_IDEM_REPLAY;
			*out = res;
			return TA_OK;
		}
		PQclear(res);
		*outcome = TA_IDEM_GONE;
		return TA_OK;
	}
	return TA_ABORTED;
}

void
ta_idem_refuse(ta_rpc_ctx *ctx)
{
	ta_rpc_fail(ctx, TA_INVALID_ARGUMENT,
	    "This Idempotency-Key was already used for a different request");
	ta_rpc_violation(ctx, TA_IDEM_REUSE_FIELD,
	    "reuse the key only to retry the identical request");
}
