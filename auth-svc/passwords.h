/*
 * Password hashes: Argon2id (libsodium) for every new hash, bcrypt
 * ($2a$/$2b$/$2y$, via libxcrypt) verified for rows the old services wrote,
 * and a counting gate bounding how many hashes run at once (each Argon2id
 * hash holds its whole memory cost while it runs).
 */
#ifndef TA_AUTH_PASSWORDS_H
#define TA_AUTH_PASSWORDS_H

#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "status.h"

/* Room for any hash auth_pw_hash writes, NUL included. */
#define AUTH_PW_HASH_MAX crypto_pwhash_STRBYTES

/* Argon2id cost of new hashes. */
typedef struct auth_pw_params {
	unsigned long long ops; /* ARGON2_OPS: passes */
	size_t mem_bytes;       /* ARGON2_MEMORY_KIB * 1024 */
} auth_pw_params;

typedef enum auth_pw_kind {
	AUTH_PW_UNKNOWN = 0,
	AUTH_PW_ARGON2ID, /* "$argon2id$" */
	AUTH_PW_BCRYPT,   /* "$2a$", "$2b$", "$2y$" */
} auth_pw_kind;

/* The kind of a stored hash, by its prefix. */
auth_pw_kind auth_pw_kind_of(const char *hash);

/*
 * Hashes pw (len bytes) with Argon2id at p's cost into out. TA_INTERNAL
 * when libsodium fails (it cannot get the memory).
 */
ta_status auth_pw_hash(const auth_pw_params *p, const char *pw, size_t len,
    char out[AUTH_PW_HASH_MAX]);

/*
 * Whether pw (NUL-terminated, len bytes) matches hash, in constant time
 * for the comparison. false for a mismatch, a malformed hash and a hash of
 * unknown kind. bcrypt compares only the first 72 bytes of pw.
 */
bool auth_pw_verify(const char *hash, const char *pw, size_t len);

/* Wipes the heap string s (a hash, a token) and frees it; NULL is fine. */
void auth_pw_secret_free(char *s);

/*
 * Whether a verified hash should be replaced by a new Argon2id hash: every
 * bcrypt hash, and Argon2id hashes made with other parameters than p.
 */
bool auth_pw_needs_rehash(const auth_pw_params *p, const char *hash);

/* At most n hashes at once; callers' storage. */
typedef struct auth_pw_gate {
	sem_t sem;
} auth_pw_gate;

/* TA_INTERNAL when the semaphore cannot be made. */
ta_status auth_pw_gate_init(auth_pw_gate *g, unsigned n);
void auth_pw_gate_fini(auth_pw_gate *g);

/*
 * Takes a slot, waiting at most until deadline_ms (unix epoch ms; 0 waits
 * as long as it takes). TA_DEADLINE_EXCEEDED when the deadline has passed
 * before a slot was free. Each TA_OK is paired with auth_pw_gate_leave.
 */
ta_status auth_pw_gate_enter(auth_pw_gate *g, int64_t deadline_ms);
void auth_pw_gate_leave(auth_pw_gate *g);

#endif
