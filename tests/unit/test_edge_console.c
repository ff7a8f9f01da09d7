/*
 * The browser console's embedded files (edge-api/console.c and the table
 * embed_console.cmake generates): which path finds which file, and the
 * shape of every row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "console.h"

static void
test_index_and_files(void **state)
{
	const edge_asset *a;

	(void)state;
	a = edge_console_find("/");
	assert_non_null(a);
	assert_string_equal(a->type, "text/html; charset=utf-8");
	assert_non_null(strstr((const char *)a->data, "/console/app.js"));
	assert_ptr_equal(edge_console_find("/?x=1"), a);
	a = edge_console_find("/console/app.js");
	assert_non_null(a);
	assert_string_equal(a->type, "text/javascript; charset=utf-8");
	assert_string_equal(edge_console_find("/console/style.css")->type,
	    "text/css; charset=utf-8");
	assert_string_equal(
	    edge_console_find("/console/icon.svg")->type, "image/svg+xml");
}

static void
test_not_found(void **state)
{
	static const char *const paths[] = {"", "/index.html", "/console",
	    "/console/", "/console/app.js/", "/console/APP.JS",
	    "/console/%61pp.js", "/console//app.js", "//", "/console/app.j",
	    "/console/app.jsx", "/tasks", "/console/index.html"};

	(void)state;
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		assert_null(edge_console_find(paths[i]));
}

static void
test_rows(void **state)
{
	(void)state;
	assert_true(edge_console_assets_n >= 5);
	for (size_t i = 0; i < edge_console_assets_n; i++) {
		const edge_asset *a = &edge_console_assets[i];
		size_t n = strlen(a->etag);

		/* A strong tag: quoted, 32 hex digits. */
		assert_int_equal(n, 34);
		assert_true(a->etag[0] == '"' && a->etag[n - 1] == '"');
		assert_int_equal(strspn(a->etag + 1, "0123456789abcdef"), 32);
		assert_true(a->len > 0);
		assert_int_equal(a->data[a->len], 0); // NUL after the bytes
		assert_ptr_equal(edge_console_find(a->path), a);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(
			    edge_console_assets[j].etag, a->etag);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_index_and_files),
	    cmocka_unit_test(test_not_found),
	    cmocka_unit_test(test_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
