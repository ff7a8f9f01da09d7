/* The keys failed logins are stored under (login_limits.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "login_limits.h"

static void
test_keys(void **state)
{
	auth_limit_keys a, b;

	(void)state;
	auth_limit_keys_of("alice", "198.51.100.1", "key-1", "rid", &a);
	assert_int_equal(strlen(a.user), 64);
	assert_null(strstr(a.user, "alice"));
	assert_string_equal(a.addr, "198.51.100.1");
	assert_int_equal(strlen(a.call), 64);
	/* The same call again: the same keys. */
	auth_limit_keys_of("alice", "198.51.100.1", "key-1", "other", &b);
	assert_string_equal(a.user, b.user);
	assert_string_equal(a.addr, b.addr);
	assert_string_equal(a.call, b.call);
	/* The key reused from another address is another call. */
	auth_limit_keys_of("alice", "198.51.100.2", "key-1", "rid", &b);
	assert_string_equal(a.user, b.user);
	assert_string_not_equal(a.call, b.call);
	/* Usernames are compared as sent. */
	auth_limit_keys_of("Alice", "198.51.100.1", "key-1", "rid", &b);
	assert_string_not_equal(a.user, b.user);
	/* No idempotency key: the request id; neither: no call key. */
	auth_limit_keys_of("alice", "198.51.100.1", "", "rid", &b);
	assert_int_equal(strlen(b.call), 64);
	assert_string_not_equal(a.call, b.call);
	auth_limit_keys_of("alice", "198.51.100.1", "", "", &b);
	assert_string_equal(b.call, "");
}

static void
test_addresses(void **state)
{
	static const char *const bad[] = {"*", "", "1.2.3.4 ", "a'b",
	    "1.2.3.4;DROP", "x:y",
	    "1111:2222:3333:4444:5555:6666:7777:8888:9999:0"};
	char key[300];
	auth_limit_keys k;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		auth_limit_keys_of("u", bad[i], "", "r", &k);
		assert_string_equal(k.addr, "");
	}
	auth_limit_keys_of("u", "2001:db8::1", "", "r", &k);
	assert_string_equal(k.addr, "2001:db8::1");
	/* Call keys longer than any idempotency key are not keys. */
	memset(key, 'k', sizeof key - 1);
	key[sizeof key - 1] = '\0';
	auth_limit_keys_of("u", "2001:db8::1", key, "r", &k);
	assert_string_equal(k.call, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_addresses),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name(
	    "auth_login_limits", tests, NULL, NULL);
}
