/*
 * Idempotency fingerprints (common/idem.c) and how the edge renders a
 * reused key (edge-api/render.c): 422 only for the reuse violation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "idem.h"
#include "render.h"
#include "taskapi/v1/auth.pb-c.h"

static void
test_fingerprints(void **state)
{
	Taskapi__V1__RegisterRequest a = TASKAPI__V1__REGISTER_REQUEST__INIT;
	Taskapi__V1__RegisterRequest b = TASKAPI__V1__REGISTER_REQUEST__INIT;
	unsigned char k1[TA_IDEM_KEY_BYTES], k2[TA_IDEM_KEY_BYTES];
	char fa[TA_IDEM_HEX_BYTES], fb[TA_IDEM_HEX_BYTES];
	char ka[TA_IDEM_HEX_BYTES], kb[TA_IDEM_HEX_BYTES];
	char long_secret[200];

	(void)state;
	a.username = b.username = "carol";
	a.email = b.email = "carol@example.com";
	a.password = "first password";
	b.password = "first password";
	ta_idem_fingerprint(&a.base, NULL, fa);
	ta_idem_fingerprint(&b.base, NULL, fb);
	assert_int_equal(strlen(fa), 64);
	assert_string_equal(fa, fb); /* same request, same digest */
	b.password = "other password";
	ta_idem_fingerprint(&b.base, NULL, fb);
	assert_string_not_equal(fa, fb);

	/* Keyed: depends on the secret, differs from the unkeyed digest. */
	ta_idem_key_derive("secret one", 10, k1);
	ta_idem_key_derive("secret two", 10, k2);
	assert_memory_not_equal(k1, k2, sizeof k1);
	ta_idem_fingerprint(&a.base, k1, ka);
	ta_idem_fingerprint(&a.base, k2, kb);
	assert_string_not_equal(ka, kb);
	assert_string_not_equal(ka, fa);
	ta_idem_fingerprint(&a.base, k1, kb);
	assert_string_equal(ka, kb);
	/* Secrets longer than a BLAKE2b key still derive one. */
	memset(long_secret, 'x', sizeof long_secret);
	ta_idem_key_derive(long_secret, sizeof long_secret, k2);
	assert_memory_not_equal(k1, k2, sizeof k1);
}

static void
test_reuse_is_422(void **state)
{
	ta_violations v = {0};

	(void)state;
	ta_violations_add(&v, TA_IDEM_REUSE_FIELD, "reuse");
	assert_int_equal(
	    edge_reply_http_status(TA_INVALID_ARGUMENT, 0, 201, &v), 422);
	/* Other statuses with it, and other fields, keep their mapping. */
	assert_int_equal(
	    edge_reply_http_status(TA_ALREADY_EXISTS, 0, 201, &v), 409);
	ta_violations_add(&v, "title", "title is required");
	assert_int_equal(
	    edge_reply_http_status(TA_INVALID_ARGUMENT, 0, 201, &v), 400);
	ta_violations_fini(&v);
	ta_violations_add(&v, "idempotency_key", "too long");
	assert_int_equal(
	    edge_reply_http_status(TA_INVALID_ARGUMENT, 0, 201, &v), 400);
	ta_violations_fini(&v);
	assert_int_equal(
	    edge_reply_http_status(TA_INVALID_ARGUMENT, 0, 201, NULL), 400);
	assert_int_equal(edge_reply_http_status(TA_OK, 0, 201, &v), 201);
	assert_string_equal(ta_http_reason(422), "Unprocessable Content");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fingerprints),
	    cmocka_unit_test(test_reuse_is_422),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
