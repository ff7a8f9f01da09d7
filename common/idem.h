/*
 * Keyed calls of any method: the key length limit, the fingerprint each
 * keyed call stores with its key (idempotency_keys.fingerprint), the keyed
 * create with its replay, the lookup that tells a replay from a reuse of
 * the key for another request, the refusal a reuse gets, and the purge of
 * one method's expired keys.
 */
#ifndef TA_COMMON_IDEM_H
#define TA_COMMON_IDEM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "idem_key.h"
#include "pg.h"
#include "rpc.h"
#include "status.h"

#define TA_IDEM_KEY_BYTES 32
/* A fingerprint as lowercase hex (32 bytes) plus NUL. */
#define TA_IDEM_HEX_BYTES 65


/*
 * The statement of ta_idem_lookup; each worker puts it in its statement
 * table. $1 method, $2 user_id, $3 key, $4 fingerprint (hex).
 */
#define TA_IDEM_SQL_LOOKUP                                                     \
	"SELECT result_id, fingerprint IS NULL OR "                            \
	"fingerprint = decode($4, 'hex') FROM idempotency_keys "               \
	"WHERE method = $1 AND user_id = $2 AND key = $3"

/*
 * The statement of ta_idem_purge; each worker puts it in its statement
 * table. $1 method: only that method's keys older than a day go, at most
 * 1000 a call.
 */
#define TA_IDEM_SQL_PURGE                                                      \
	"DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid "             \
	"FROM idempotency_keys WHERE method = $1 AND "                         \
	"created_at < now() - interval '24 hours' LIMIT 1000)"

/* What a keyed call turned out to be. */
typedef enum ta_idem_outcome {
	TA_IDEM_NEW = 0,  /* first use of the key: the work was done */
	TA_IDEM_REPLAY,   /* same key, same request: the first result */
	TA_IDEM_MISMATCH, /* same key, another request: refused */
	TA_IDEM_GONE,     /* same key, but its first result no longer exists */
} ta_idem_outcome;

/*
 * A keyed method of a worker: its name in idempotency_keys.method and its
 * rows in the worker's statement table. One per method, static in the
 * module that owns the method's SQL.
 */
typedef struct ta_idem_method {
	const char *method; /* "CreateTask" */
	/*
	 * Inserts the key row and the result in one statement (a CTE), and
	 * returns the result's rows only when the key row was inserted.
	 */
	size_t create;
	size_t replay;     /* the rows of the key's first result, if any */
	size_t lookup;     /* TA_IDEM_SQL_LOOKUP */
	size_t purge;      /* TA_IDEM_SQL_PURGE */
	atomic_uint calls; /* keyed calls so far; every 256th purges */
} ta_idem_method;

/* The parameters of one statement (borrowed). */
typedef struct ta_idem_params {
	int n;
	const char *const *v;
} ta_idem_params;

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
 * The keyed create of method m for (user_id, key, fp): runs m->create with
 * create; when no row comes back the key exists, and the key row decides:
 * another fingerprint is TA_IDEM_MISMATCH (*out NULL); the same one runs
 * m->replay with replay, whose rows are TA_IDEM_REPLAY, or TA_IDEM_GONE
 * (*out NULL) when it finds none. The first use is TA_IDEM_NEW with the
 * create's rows. *out is the caller's (PQclear). TA_ABORTED when the key
 * came and went twice (purged in between); others from ta_pg_exec. Purges
 * m's expired keys now and then (ta_idem_purge).
 */
ta_status ta_idem_create(ta_pg *pg, ta_idem_method *m, int64_t user_id,
    const char *key, const char *fp, ta_idem_params create,
    ta_idem_params replay, PGresult **out, ta_idem_outcome *outcome);

/*
 * Every 256th call for m deletes some of m's expired keys (statement
 * m->purge), never another method's. Opportunistic: a failure is logged
 * by ta_pg_exec and only delays the cleanup.
 */
void ta_idem_purge(ta_pg *pg, ta_idem_method *m);

/*
 * Fails ctx as a reused key: INVALID_ARGUMENT with one violation on
 * TA_IDEM_REUSE_FIELD. Says nothing of the first request.
 */
void ta_idem_refuse(ta_rpc_ctx *ctx);

#endif
