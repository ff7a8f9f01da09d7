/*
 * The migration-set scan (db/migrate_scan.c): file names, order, checksums
 * and the refusals (bad name, duplicate version, NUL byte), on a temporary
 * directory; no database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "migrate_scan.h"

/* SHA-256 of "SELECT 1;\n". */
#define SELECT1_SHA256                                                         \
	"b4e0497804e46e0a0b0b8c31975b062152d551bac49c3c2e80932567b4085dcd"

static char dir[64];

static void
put(const char *name, const char *text, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static void
drop(const char *name)
{
	char path[128];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/ta-migrate-scan-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	const char *names[] = {"0001_first.sql", "0002_second.sql",
	    "0010_tenth.sql", "README.md", "0002_again.sql", "1_Bad.sql",
	    "0003_nul.sql"};

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		drop(names[i]);
	return rmdir(dir);
}

static void
test_names(void **state)
{
	static const char *const bad[] = {"_x.sql", "0000_zero.sql", "0001.sql",
	    "0001_.sql", "0001_Upper.sql", "0001_x.SQL", "0001_x.sql~",
	    "x_0001.sql", "0001-x.sql", "1234567890_x.sql"};
	long v = -1;
	char *name = NULL;

	(void)state;
	assert_true(migrate_name_parse("0002_user_role.sql", &v, &name));
	assert_int_equal(v, 2);
	assert_string_equal(name, "user_role");
	free(name);
	assert_true(migrate_name_parse("7_a1_b2.sql", &v, &name));
	assert_int_equal(v, 7);
	assert_string_equal(name, "a1_b2");
	free(name);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		name = NULL;
		assert_false(migrate_name_parse(bad[i], &v, &name));
		assert_null(name);
	}
}

static void
test_order_and_checksums(void **state)
{
	migration_set set = {0};

	(void)state;
	put("0010_tenth.sql", "SELECT 10;\n", 11);
	put("0002_second.sql", "SELECT 2;\n", 10);
	put("0001_first.sql", "SELECT 1;\n", 10);
	put("README.md", "not a migration\n", 16);
	assert_int_equal(migrate_set_scan(dir, &set), TA_OK);
	assert_int_equal(set.n, 3);
	assert_int_equal(set.v[0].version, 1);
	assert_int_equal(set.v[1].version, 2);
	assert_int_equal(set.v[2].version, 10);
	assert_string_equal(set.v[0].name, "first");
	assert_string_equal(set.v[2].name, "tenth");
	assert_string_equal(set.v[1].sql, "SELECT 2;\n");
	assert_string_equal(set.v[0].checksum, SELECT1_SHA256);
	assert_false(set.v[0].is_applied);
	assert_ptr_equal(migrate_set_find(&set, 10), &set.v[2]);
	assert_null(migrate_set_find(&set, 3));
	migrate_set_free(&set);
	assert_int_equal(set.n, 0);
	assert_null(set.v);
}

static void
test_refusals(void **state)
{
	migration_set set = {0};

	(void)state;
	drop("0010_tenth.sql");
	drop("README.md");
	put("0001_first.sql", "SELECT 1;\n", 10);
	put("0002_second.sql", "SELECT 2;\n", 10);
	put("0002_again.sql", "SELECT 2;\n", 10);
	assert_int_equal(migrate_set_scan(dir, &set), TA_INVALID_ARGUMENT);
	assert_null(set.v);
	drop("0002_again.sql");
	put("1_Bad.sql", "SELECT 1;\n", 10);
	assert_int_equal(migrate_set_scan(dir, &set), TA_INVALID_ARGUMENT);
	drop("1_Bad.sql");
	put("0003_nul.sql", "SELECT\0 1;\n", 11);
	assert_int_equal(migrate_set_scan(dir, &set), TA_INVALID_ARGUMENT);
	drop("0003_nul.sql");
	assert_int_equal(migrate_set_scan(dir, &set), TA_OK);
	assert_int_equal(set.n, 2);
	migrate_set_free(&set);
	assert_int_equal(
	    migrate_set_scan("/nonexistent/ta-migrations", &set), TA_NOT_FOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_order_and_checksums),
	    cmocka_unit_test(test_refusals),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
