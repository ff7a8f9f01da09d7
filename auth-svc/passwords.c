/*
 * Argon2id hashing and verification through libsodium, bcrypt verification
 * through libxcrypt, and the semaphore that bounds concurrent hashing.
 */
#include "passwords.h"

#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

auth_pw_kind
auth_pw_kind_of(const char *hash)
{
	if (!hash)
		return AUTH_PW_UNKNOWN;
	if (has_prefix(hash, "$argon2id$"))
		return AUTH_PW_ARGON2ID;
	if (has_prefix(hash, "$2a$") || has_prefix(hash, "$2b$") ||
	    has_prefix(hash, "$2y$"))
		return AUTH_PW_BCRYPT;
	return AUTH_PW_UNKNOWN;
}

ta_status
auth_pw_hash(const auth_pw_params *p, const char *pw, size_t len,
    char out[AUTH_PW_HASH_MAX])
{
	if (crypto_pwhash_str(out, pw, len, p->ops, p->mem_bytes) != 0)
		return TA_INTERNAL;
	return TA_OK;
}

/*
 * libsodium declares its string arguments as char[crypto_pwhash_STRBYTES]:
 * give it exactly that, NUL-padded, so it never reads past a shorter hash.
 */
static bool
argon2_copy(const char *hash, char buf[crypto_pwhash_STRBYTES])
{
	size_t n = strnlen(hash, crypto_pwhash_STRBYTES);

	if (n >= crypto_pwhash_STRBYTES)
		return false;
	memset(buf, 0, crypto_pwhash_STRBYTES);
	memcpy(buf, hash, n);
	return true;
}

static bool
bcrypt_verify(const char *hash, const char *pw)
{
	/* About 32 KiB: on the heap, not on a serving thread's stack. */
	struct crypt_data *cd = ta_xcalloc(1, sizeof *cd);
	const char *out = crypt_rn(pw, hash, cd, (int)sizeof *cd);
	size_t n = strlen(hash);
	bool ok = false;

	/* NULL or "*0"/"*1": the setting (salt, cost) did not parse. */
	if (out && out[0] != '*' && strlen(out) == n)
		ok = sodium_memcmp(out, hash, n) == 0;
	sodium_memzero(cd, sizeof *cd); // holds state derived from pw
	free(cd);
	return ok;
}

bool
auth_pw_verify(const char *hash, const char *pw, size_t len)
{
	char buf[crypto_pwhash_STRBYTES];
	bool ok = false;

	switch (auth_pw_kind_of(hash)) {
	case AUTH_PW_ARGON2ID:
		if (argon2_copy(hash, buf))
			ok = crypto_pwhash_str_verify(buf, pw, len) == 0;
		break;
	case AUTH_PW_BCRYPT:
		ok = bcrypt_verify(hash, pw);
		break;
	case AUTH_PW_UNKNOWN:
		break;
	}
	return ok;
}

bool
auth_pw_needs_rehash(const auth_pw_params *p, const char *hash)
{
	char buf[crypto_pwhash_STRBYTES];

	switch (auth_pw_kind_of(hash)) {
	case AUTH_PW_ARGON2ID:
		/* 1: other parameters; -1: not a well-formed argon2id string.
		 */
		return !argon2_copy(hash, buf) ||
		       crypto_pwhash_str_needs_rehash(
		           buf, p->ops, p->mem_bytes) != 0;
	case AUTH_PW_BCRYPT:
		return true;
	case AUTH_PW_UNKNOWN:
		break;
	}
	return false;
}

ta_status
auth_pw_gate_init(auth_pw_gate *g, unsigned n)
{
	return sem_init(&g->sem, 0, n) == 0 ? TA_OK : TA_INTERNAL;
}

void
auth_pw_gate_fini(auth_pw_gate *g)
{
	sem_destroy(&g->sem);
}

ta_status
auth_pw_gate_enter(auth_pw_gate *g, int64_t deadline_ms)
{
	struct timespec now, until;
	int rc;

	if (deadline_ms == 0) {
		while ((rc = sem_wait(&g->sem)) != 0 && errno == EINTR)
			;
		return rc == 0 ? TA_OK : TA_INTERNAL;
	}
	/* sem_timedwait succeeds past the deadline when a slot is free. */
	clock_gettime(CLOCK_REALTIME, &now);
	if ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 >= deadline_ms)
		return TA_DEADLINE_EXCEEDED;
	until.tv_sec = (time_t)(deadline_ms / 1000);
	until.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
	while ((rc = sem_timedwait(&g->sem, &until)) != 0 && errno == EINTR)
		;
	if (rc == 0)
		return TA_OK;
	return errno == ETIMEDOUT ? TA_DEADLINE_EXCEEDED : TA_INTERNAL;
}

void
auth_pw_gate_leave(auth_pw_gate *g)
{
	sem_post(&g->sem);
}

void
auth_pw_secret_free(char *s)
{
	if (s) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}
