/*
 * Lookup of the browser console's embedded files (console.h); the table
 * itself is generated into the build tree from console/.
 */
#include "console.h"

#include <string.h>

const edge_asset *
edge_console_find(const char *path)
{
	size_t len = strcspn(path, "?");

	for (size_t i = 0; i < edge_console_assets_n; i++) {
		const edge_asset *a = &edge_console_assets[i];

		if (strlen(a->path) == len && memcmp(a->path, path, len) == 0)
			return a;
	}
	return NULL;
}
