/*
 * The migration set of a directory: NNNN_name.sql files read, checked for
 * shape and duplicate versions, sorted by version, each with its SHA-256.
 * Touches no database, so unit tests reach it directly.
 */
#ifndef TA_DB_MIGRATE_SCAN_H
#define TA_DB_MIGRATE_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include <sodium.h>

#include "status.h"

/* One migration file, and its schema_migrations row once loaded. */
typedef struct migration {
	long version;
	char *name; /* "initial_schema" */
	char *path;
	char *sql;
	char checksum[crypto_hash_sha256_BYTES * 2 + 1]; /* hex */
	bool is_applied;
	char *applied_checksum;
	char *applied_at;
} migration;

typedef struct migration_set {
	migration *v;
	size_t n;
} migration_set;

/*
 * Splits "0002_user_role.sql" into 2 and "user_role" (*name a heap string
 * the caller frees). false, with nothing set, for any other shape: digits
 * (not all zero), one underscore, then [a-z0-9_]+, then ".sql".
 */
bool migrate_name_parse(const char *fname, long *version, char **name);

/*
 * Loads every *.sql file of dir into *out (the caller's, freed with
 * migrate_set_free), sorted by version, with checksums; other files are
 * ignored. Needs sodium_init() first. TA_NOT_FOUND: dir or a file is
 * unreadable; TA_INVALID_ARGUMENT: a badly named file, a file holding a
 * NUL byte, or two files with one version; TA_INTERNAL: a read error.
 * Each failure is logged once; *out is set only on TA_OK.
 */
ta_status migrate_set_scan(const char *dir, migration_set *out);

/* Frees what set holds and empties it. */
void migrate_set_free(migration_set *set);

/* The migration of version in set (borrowed), or NULL. */
migration *migrate_set_find(migration_set *set, long version);

#endif
