/*
 * The process state auth-svc's handlers share (auth_app, service.h): built
 * once by main before serving starts, torn down after it stops.
 */
#include "service.h"

#include <sodium.h>

ta_status
auth_app_init(auth_app *a, const auth_pw_params *pw, unsigned hash_concurrency,
    const ta_jwt_cfg *jwt, int64_t lifetime_s)
{
	unsigned char random_pw[32];
	ta_status status;

	*a = (auth_app){
	    .pw = *pw, .tokens = {.jwt = *jwt, .lifetime_s = lifetime_s}};
	ta_idem_key_derive(jwt->secret, jwt->secret_len, a->idem_key);
	auth_refresh_key_derive(jwt->secret, jwt->secret_len, a->refresh_key);
	if ((status = auth_pw_gate_init(&a->gate, hash_concurrency)) != TA_OK)
		return status;
	/* Nobody knows this password: it only has to cost a verification. */
	randombytes_buf(random_pw, sizeof random_pw);
	status = auth_pw_hash(
	    &a->pw, (const char *)random_pw, sizeof random_pw, a->dummy_hash);
	sodium_memzero(random_pw, sizeof random_pw);
	if (status != TA_OK)
		auth_pw_gate_fini(&a->gate);
	return status;
}

void
auth_app_fini(auth_app *a)
{
	auth_pw_gate_fini(&a->gate);
	sodium_memzero(a->dummy_hash, sizeof a->dummy_hash);
	sodium_memzero(a->idem_key, sizeof a->idem_key);
	sodium_memzero(a->refresh_key, sizeof a->refresh_key);
}
