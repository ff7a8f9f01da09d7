/*
 * Integration-test harness: starts the real worker binaries (from
 * TA_BIN_DIR) against the real PostgreSQL named by the DB_* environment,
 * waits until they answer Health/Check over nng, and stops them; also
 * queries that PostgreSQL and creates test users in it. A missing
 * TA_BIN_DIR or DB_* setting fails the test loudly; nothing is skipped.
 */
#ifndef TA_TESTS_INTEGRATION_HARNESS_H
#define TA_TESTS_INTEGRATION_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

#include <libpq-fe.h>

#include "rpc.h"

/* A process started by the harness. */
typedef struct ta_test_proc {
	pid_t pid;
	char rpc_url[64];   /* "tcp://127.0.0.1:<port>" it listens on */
	char log_path[256]; /* its stdout+stderr */
} ta_test_proc;

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int ta_test_free_port(void);

/*
 * Starts TA_BIN_DIR/<binary> ("auth-svc", "task-svc") listening on a free
 * port (RPC_LISTEN), with the current environment plus extra ("K=V"
 * strings, NULL-terminated, may be NULL), JWT_SECRET set to
 * ta_test_jwt_secret() and RPC_AUTH_KEY to ta_test_rpc_auth_key() unless
 * extra sets them. Waits up to 15 s for
 * Health/Check to answer OK. Aborts the test (cmocka fail) on failure.
 */
void ta_test_start(
    ta_test_proc *p, const char *binary, const char *const *extra);

/* SIGTERM, then SIGKILL after 10 s; returns the exit status (waitpid). */
int ta_test_stop(ta_test_proc *p);

/* The JWT secret the harness gives the workers (48 characters). */
const char *ta_test_jwt_secret(void);

/* The internal key the harness gives the workers (50 characters). */
const char *ta_test_rpc_auth_key(void);

/* ta_test_rpc_auth_key()'s derived keys, built once; never freed. */
const ta_rpc_auth *ta_test_rpc_auth(void);

/*
 * A client dialled to p->rpc_url that signs its calls with
 * ta_test_rpc_auth(); ta_rpc_client_close when done.
 */
ta_rpc_client *ta_test_client(const ta_test_proc *p);

/*
 * Sends len raw bytes (an envelope, or junk) to url on a plain REQ socket
 * of its own and returns the unpacked reply envelope (caller frees it with
 * taskapi__v1__reply_envelope__free_unpacked). Fails the test when no
 * reply comes within 10 s (a hang) or the reply does not decode.
 */
Taskapi__V1__ReplyEnvelope *ta_test_raw_call(
    const char *url, const void *bytes, size_t len);

/*
 * ta_test_raw_call with the caller_mac trailer of ta_test_rpc_auth()
 * appended to bytes, as the edge sends them.
 */
Taskapi__V1__ReplyEnvelope *ta_test_raw_call_signed(
    const char *url, const void *bytes, size_t len);

/*
 * Calls method of service sd (by method name, e.g. "GetTask") with request,
 * as principal (may be NULL), timeout 10 s; returns the finished call
 * (caller ta_rpc_call_free's it).
 */
ta_rpc_call *ta_test_call(ta_rpc_client *c,
    const ProtobufCServiceDescriptor *sd, const char *method,
    const Taskapi__V1__Principal *principal, const ProtobufCMessage *request);

/* Whether the file at path contains needle (for log assertions). */
bool ta_test_file_contains(const char *path, const char *needle);

/* A unique suffix for names created by a test run ("1732790000-12345-7"). */
const char *ta_test_unique(void);

/*
 * A libpq connection to the PostgreSQL named by DB_HOST, DB_PORT, DB_NAME,
 * DB_USER and DB_PASSWORD; the caller PQfinish'es it. Fails the test
 * (cmocka fail) when DB_HOST or DB_NAME is unset or the connection fails.
 */
PGconn *ta_test_db_connect(void);

/*
 * Runs sql with nparams text params (borrowed) on db and returns the value
 * of its one row and one column as a number (atoll). Fails the test when
 * the query fails or does not return exactly one row.
 */
long long ta_test_db_value(
    PGconn *db, const char *sql, int nparams, const char *const *params);

/*
 * Like ta_test_db_value, but returns the value as text in a new string
 * that the caller frees.
 */
char *ta_test_db_text(
    PGconn *db, const char *sql, int nparams, const char *const *params);

/*
 * Inserts a user named "<prefix>-<ta_test_unique()>" into db (email
 * "<name>@example.test", a dummy password hash), writes the name to
 * name[cap] and fills p as that user with role "user": p->username borrows
 * name, so name must outlive p. Fails the test when the name does not fit
 * or the insert fails; deleting the user is the caller's.
 */
void ta_test_user_create(PGconn *db, Taskapi__V1__Principal *p, char *name,
    size_t cap, const char *prefix);

#endif
