/*
 * Unit tests of auth-svc's password module: Argon2id hash and verify,
 * legacy bcrypt verification, when to re-hash, refused formats, bcrypt's
 * 72-byte truncation, and the concurrency gate's deadline.
 */
#include <crypt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

/*
 * passwords.c belongs to the auth-svc executable, not to a library the
 * test could link: compile it into this test directly.
 */
#include "passwords.h"

/* Cheap parameters keep the test fast; the service uses its config. */
static const auth_pw_params CHEAP = {.ops = 1, .mem_bytes = 8192u * 1024u};
static const auth_pw_params SERVICE = {.ops = 2, .mem_bytes = 19456u * 1024u};

/* Made once with crypt_gensalt_rn("$2b$", 10) + crypt_rn("password123"). */
static const char KNOWN_BCRYPT[] =
    "$2b$10$vkkG55YzrjoDgRZ4zu8nauPC1AbelZJS.UrxyBICwG/K2YuZaKiHy";

static bool
verify(const char *hash, const char *pw)
{
	return auth_pw_verify(hash, pw, strlen(pw));
}

/* A crypt(3) hash of pw with a fresh salt of the given prefix. */
static char *
crypt_hash(const char *prefix, unsigned long cost, const char *pw)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = calloc(1, sizeof *cd);
	char *out;

	assert_non_null(cd);
	assert_non_null(
	    crypt_gensalt_rn(prefix, cost, NULL, 0, salt, sizeof salt));
	out = crypt_rn(pw, salt, cd, (int)sizeof *cd);
	assert_non_null(out);
	assert_true(out[0] != '*');
	out = strdup(out);
	free(cd);
	return out;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_argon2id_hash_verify(void **state)
{
	(void)state;
	char h[AUTH_PW_HASH_MAX];
	char h2[AUTH_PW_HASH_MAX];
	const char *pw = "correct horse battery staple";

	assert_int_equal(auth_pw_hash(&CHEAP, pw, strlen(pw), h), TA_OK);
	assert_true(strncmp(h, "$argon2id$", 10) == 0);
	assert_null(strstr(h, pw));
	assert_int_equal(auth_pw_kind_of(h), AUTH_PW_ARGON2ID);
	assert_true(verify(h, pw));
	assert_false(verify(h, "correct horse battery stapl"));
	assert_false(verify(h, ""));
	/* Fresh salt every time. */
	assert_int_equal(auth_pw_hash(&CHEAP, pw, strlen(pw), h2), TA_OK);
	assert_string_not_equal(h, h2);
	/* UTF-8 and an empty password round-trip as bytes. */
	assert_int_equal(auth_pw_hash(&CHEAP, "pässwörd€", 13, h), TA_OK);
	assert_true(verify(h, "pässwörd€"));
	assert_false(verify(h, "passwörd€"));
}

static void
test_argon2id_service_params(void **state)
{
	(void)state;
	char h[AUTH_PW_HASH_MAX];

	assert_int_equal(auth_pw_hash(&SERVICE, "pw", 2, h), TA_OK);
	assert_non_null(strstr(h, "$m=19456,t=2,p=1$"));
	assert_true(verify(h, "pw"));
	assert_false(auth_pw_needs_rehash(&SERVICE, h));
}

static void
test_bcrypt_generated(void **state)
{
	(void)state;
	static const char *const prefixes[] = {"$2b$", "$2a$", "$2y$"};

	for (size_t i = 0; i < 3; i++) {
		char *h = crypt_hash(prefixes[i], 10, "hunter2hunter2");

		assert_true(strncmp(h, prefixes[i], 4) == 0);
		assert_true(strncmp(h + 4, "10$", 3) == 0);
		assert_int_equal(auth_pw_kind_of(h), AUTH_PW_BCRYPT);
		assert_true(verify(h, "hunter2hunter2"));
		assert_false(verify(h, "hunter2hunter3"));
		assert_false(verify(h, ""));
		free(h);
	}
}

static void
test_bcrypt_known_vector(void **state)
{
	(void)state;
	assert_true(verify(KNOWN_BCRYPT, "password123"));
	assert_false(verify(KNOWN_BCRYPT, "password124"));
	assert_false(verify(KNOWN_BCRYPT, "Password123"));
	/* The same hash relabelled $2a$ / $2y$ still verifies: same cipher. */
	char h[sizeof KNOWN_BCRYPT];

	memcpy(h, KNOWN_BCRYPT, sizeof h);
	h[2] = 'a';
	assert_true(verify(h, "password123"));
	h[2] = 'y';
	assert_true(verify(h, "password123"));
}

static void
test_needs_rehash(void **state)
{
	(void)state;
	char weak[AUTH_PW_HASH_MAX];
	char same[AUTH_PW_HASH_MAX];

	assert_true(auth_pw_needs_rehash(&SERVICE, KNOWN_BCRYPT));
	assert_int_equal(auth_pw_hash(&CHEAP, "pw", 2, weak), TA_OK);
	assert_true(auth_pw_needs_rehash(&SERVICE, weak));
	assert_false(auth_pw_needs_rehash(&CHEAP, weak));
	assert_int_equal(auth_pw_hash(&SERVICE, "pw", 2, same), TA_OK);
	assert_false(auth_pw_needs_rehash(&SERVICE, same));
	/* Stronger stored hashes are also re-hashed to the configured cost. */
	assert_true(auth_pw_needs_rehash(&CHEAP, same));
	assert_false(auth_pw_needs_rehash(&SERVICE, "plaintext"));
}

static void
test_unknown_formats_fail(void **state)
{
	(void)state;
	/* yescrypt is what crypt(3) prefers here, but no old row uses it. */
	char *yescrypt = crypt_hash("$y$", 0, "password123");
	static const char *const bad[] = {"password123", "", "$1$abc$def",
	    "$argon2i$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
	    "$argon2id$garbage", "$2b$10$short",
	    "$2b$99$"
	    "vkkG55YzrjoDgRZ4zu8"
	    "nauPC1AbelZJS.UrxyBICwG/K2YuZaKiHy",
	    "$2x$10$vkkG55YzrjoDgRZ4zu8"
	    "nauPC1AbelZJS.UrxyBICwG/K2YuZaKiHy"};

	assert_true(strncmp(yescrypt, "$y$", 3) == 0);
	assert_int_equal(auth_pw_kind_of(yescrypt), AUTH_PW_UNKNOWN);
	assert_false(verify(yescrypt, "password123"));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(verify(bad[i], "password123"));
	assert_int_equal(auth_pw_kind_of(NULL), AUTH_PW_UNKNOWN);
	assert_int_equal(auth_pw_kind_of("$2x$10$abc"), AUTH_PW_UNKNOWN);
	/* An argon2id-looking string too long for libsodium's buffer. */
	char longer[300];

	memset(longer, 'a', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	memcpy(longer, "$argon2id$", 10);
	assert_false(verify(longer, "password123"));
	assert_true(auth_pw_needs_rehash(&SERVICE, longer));
	free(yescrypt);
}

/*
 * bcrypt reads only the first 72 bytes of a password: the old rows accept
 * any password sharing those 72 bytes. Argon2id hashes all bytes, so the
 * re-hash on login ends that for each user who logs in.
 */
static void
test_bcrypt_72_byte_truncation(void **state)
{
	(void)state;
	char pw80[81];
	char pw72[73];
	char h[AUTH_PW_HASH_MAX];

	memset(pw80, 'k', 80);
	pw80[80] = '\0';
	memcpy(pw80 + 60, "0123456789abcdefghij", 20);
	memcpy(pw72, pw80, 72);
	pw72[72] = '\0';

	char *bh = crypt_hash("$2b$", 10, pw80);

	assert_true(verify(bh, pw80));
	assert_true(verify(bh, pw72)); // truncated: still matches
	pw72[71] = '\0';
	assert_false(verify(bh, pw72)); // byte 72 counts
	free(bh);

	assert_int_equal(auth_pw_hash(&CHEAP, pw80, 80, h), TA_OK);
	memcpy(pw72, pw80, 72);
	pw72[72] = '\0';
	assert_true(verify(h, pw80));
	assert_false(verify(h, pw72));
}

static void
test_gate_deadline(void **state)
{
	(void)state;
	auth_pw_gate g;
	int64_t t0;

	assert_int_equal(auth_pw_gate_init(&g, 1), TA_OK);
	assert_int_equal(auth_pw_gate_enter(&g, now_ms() + 1000), TA_OK);
	/* Full: waits until the deadline, then gives up. */
	t0 = now_ms();
	assert_int_equal(
	    auth_pw_gate_enter(&g, t0 + 150), TA_DEADLINE_EXCEEDED);
	assert_true(now_ms() - t0 >= 140);
	assert_true(now_ms() - t0 < 2000);
	auth_pw_gate_leave(&g);
	/* Free, but the deadline has passed: refused at once. */
	assert_int_equal(
	    auth_pw_gate_enter(&g, now_ms() - 1), TA_DEADLINE_EXCEEDED);
	/* No deadline. */
	assert_int_equal(auth_pw_gate_enter(&g, 0), TA_OK);
	auth_pw_gate_leave(&g);
	auth_pw_gate_fini(&g);
}

static void
test_gate_counts(void **state)
{
	(void)state;
	auth_pw_gate g;
	int64_t dl = now_ms() + 2000;

	assert_int_equal(auth_pw_gate_init(&g, 3), TA_OK);
	for (int i = 0; i < 3; i++)
		assert_int_equal(auth_pw_gate_enter(&g, dl), TA_OK);
	assert_int_equal(
	    auth_pw_gate_enter(&g, now_ms() + 50), TA_DEADLINE_EXCEEDED);
	auth_pw_gate_leave(&g);
	assert_int_equal(auth_pw_gate_enter(&g, dl), TA_OK);
	for (int i = 0; i < 3; i++)
		auth_pw_gate_leave(&g);
	auth_pw_gate_fini(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_argon2id_hash_verify),
	    cmocka_unit_test(test_argon2id_service_params),
	    cmocka_unit_test(test_bcrypt_generated),
	    cmocka_unit_test(test_bcrypt_known_vector),
	    cmocka_unit_test(test_needs_rehash),
	    cmocka_unit_test(test_unknown_formats_fail),
	    cmocka_unit_test(test_bcrypt_72_byte_truncation),
	    cmocka_unit_test(test_gate_deadline),
	    cmocka_unit_test(test_gate_counts),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("passwords", tests, NULL, NULL);
}
