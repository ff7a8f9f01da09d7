/* Reads and orders the migration files of a directory (migrate_scan.h). */
#include "migrate_scan.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "log.h"

void
migrate_set_free(migration_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->v[i].name);
		free(set->v[i].path);
		free(set->v[i].sql);
		free(set->v[i].applied_checksum);
		free(set->v[i].applied_at);
	}
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

bool
migrate_name_parse(const char *fname, long *version, char **name)
{
	const char *p = fname, *start;
	long v = 0;
	size_t len;

	while (*p >= '0' && *p <= '9' && p - fname < 9)
		v = v * 10 + (*p++ - '0');
	if (p == fname || *p != '_' || v == 0)
		return false;
	start = ++p;
	while (
	    (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')
		p++;
	len = (size_t)(p - start);
	if (len == 0 || strcmp(p, ".sql") != 0)
		return false;
	*version = v;
	*name = ta_xstrndup(start, len);
	return true;
}

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Reads the whole file; *out is NUL-terminated and owned by the caller. */
static ta_status
read_file(const char *path, char **out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, got;
	ta_status status = TA_OK;

	if (!f) {
		ta_log(TA_LOG_ERROR, "migration_read_failed", strerror(errno),
		    TA_S("path", path));
		return TA_NOT_FOUND;
	}
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = ta_xrealloc(buf, cap);
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
	} while (got > 0);
	if (ferror(f)) {
		ta_log(TA_LOG_ERROR, "migration_read_failed", "read error",
		    TA_S("path", path));
		free(buf);
		status = TA_INTERNAL;
		goto out;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		ta_log(TA_LOG_ERROR, "migration_read_failed",
		    "file contains a NUL byte", TA_S("path", path));
		free(buf);
		status = TA_INVALID_ARGUMENT;
		goto out;
	}
	*out = buf;
out:
	fclose(f);
	return status;
}

static int
cmp_version(const void *a, const void *b)
{
	const migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

ta_status
migrate_set_scan(const char *dir, migration_set *out)
{
	migration_set set = {0};
	size_t cap = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	ta_status status = TA_OK;

	if (!d) {
		ta_log(TA_LOG_ERROR, "migrations_dir_unreadable",
		    strerror(errno), TA_S("dir", dir));
		return TA_NOT_FOUND;
	}
	while (status == TA_OK && (e = readdir(d)) != NULL) {
		migration m = {0};
		unsigned char hash[crypto_hash_sha256_BYTES];

		if (!has_suffix(e->d_name, ".sql"))
			continue; // READMEs and the like may sit alongside
		if (!migrate_name_parse(e->d_name, &m.version, &m.name)) {
			ta_log(TA_LOG_ERROR, "migration_bad_name",
			    "a migration file must be named NNNN_name.sql "
			    "(name in [a-z0-9_])",
			    TA_S("file", e->d_name));
			status = TA_INVALID_ARGUMENT;
			break;
		}
		m.path = ta_xmalloc(strlen(dir) + strlen(e->d_name) + 2);
		sprintf(m.path, "%s/%s", dir, e->d_name);
		if ((status = read_file(m.path, &m.sql)) != TA_OK) {
			free(m.name);
			free(m.path);
			break;
		}
		crypto_hash_sha256(
		    hash, (const unsigned char *)m.sql, strlen(m.sql));
		sodium_bin2hex(
		    m.checksum, sizeof m.checksum, hash, sizeof hash);
		if (set.n == cap) {
			cap = cap ? cap * 2 : 16;
			set.v = ta_xrealloc(set.v, cap * sizeof *set.v);
		}
		set.v[set.n++] = m;
	}
	closedir(d);
	if (status == TA_OK)
		qsort(set.v, set.n, sizeof *set.v, cmp_version);
	for (size_t i = 1; status == TA_OK && i < set.n; i++) {
		if (set.v[i].version == set.v[i - 1].version) {
			ta_log(TA_LOG_ERROR, "migration_duplicate_version",
			    "two migration files share a version",
			    TA_I("version", set.v[i].version),
			    TA_S("file", set.v[i - 1].path),
			    TA_S("other", set.v[i].path));
			status = TA_INVALID_ARGUMENT;
		}
	}
	if (status == TA_OK)
		*out = set;
	else
		migrate_set_free(&set);
	return status;
}

migration *
migrate_set_find(migration_set *set, long version)
{
	migration key = {.version = version};

	return bsearch(&key, set->v, set->n, sizeof *set->v, cmp_version);
}
