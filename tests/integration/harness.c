/*
 * Integration-test harness: starts worker binaries as child processes with
 * an extended environment, logs them to files in a private temporary
 * directory, waits for Health/Check and stops them by pid. Also the tests'
 * own libpq connection, one-value queries and test users.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "alloc.h"
#include "rpc_auth.h"
#include "taskapi/v1/health.pb-c.h"

extern char **environ;

#define START_TIMEOUT_MS 15000
#define STOP_GRACE_MS 10000
#define CALL_TIMEOUT_MS 10000
#define LOG_TAIL_LINES 40

static char log_dir[256];

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A required environment variable; fails the test loudly when unset. */
static const char *
need_env(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v)
		fail_msg("%s is not set: integration tests need the worker "
		         "binaries (TA_BIN_DIR, set by ctest) and a PostgreSQL "
		         "(DB_HOST, DB_PORT, DB_NAME, DB_USER)",
		    name);
	return v;
}

/* The run's log directory, created on first use. */
static const char *
logs(void)
{
	const char *tmp = getenv("TMPDIR");

	if (log_dir[0])
		return log_dir;
	snprintf(log_dir, sizeof log_dir, "%s/taskapi-it-XXXXXX",
	    tmp && *tmp ? tmp : P_tmpdir);
	if (!mkdtemp(log_dir))
		fail_msg("mkdtemp %s: %s", log_dir, strerror(errno));
	return log_dir;
}

int
ta_test_free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		fail_msg("socket: %s", strerror(errno));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	if (port <= 0)
		fail_msg("no free port on 127.0.0.1: %s", strerror(errno));
	return port;
}

const char *
ta_test_jwt_secret(void)
{
	/* 48 characters; test-only, never a deployed secret. */
	return "integration-test-jwt-secret-0123456789abcdefghij";
}

const char *
ta_test_rpc_auth_key(void)
{
	/* 50 characters; test-only, never a deployed key. */
	return "integration-test-rpc-auth-key-0123456789abcdefghij";
}

static ta_rpc_auth *test_auth;
static pthread_once_t test_auth_once = PTHREAD_ONCE_INIT;

static void
test_auth_build(void)
{
	if (ta_rpc_auth_new(ta_test_rpc_auth_key(), NULL, &test_auth) != TA_OK)
		abort();
}

const ta_rpc_auth *
ta_test_rpc_auth(void)
{
	pthread_once(&test_auth_once, test_auth_build);
	return test_auth;
}

const char *
ta_test_unique(void)
{
	static char ring[8][64];
	static unsigned counter;
	unsigned n = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
	char *buf = ring[n % 8];

	snprintf(buf, sizeof ring[0], "%lld-%ld-%u", (long long)time(NULL),
	    (long)getpid(), n);
	return buf;
}

/* Whether "K=V" entry e sets the variable of "K=..." kv. */
static bool
same_key(const char *e, const char *kv)
{
	size_t n = strcspn(kv, "=");

	return strncmp(e, kv, n) == 0 && e[n] == '=';
}

static bool
list_sets(const char *const *list, const char *kv)
{
	for (; list && *list; list++)
		if (same_key(*list, kv))
			return true;
	return false;
}

/*
 * The child's environment: ours without the keys that own (RPC_LISTEN,
 * JWT_SECRET, RPC_AUTH_KEY unless extra has them) or extra override, then those. The
 * strings are borrowed except own[], which the caller keeps alive.
 */
static char **
child_env(const char *const *own, const char *const *extra)
{
	size_t n = 0, k = 0;
	char **env;

	for (char **e = environ; *e; e++)
		n++;
	for (const char *const *e = own; *e; e++)
		n++;
	for (const char *const *e = extra; e && *e; e++)
		n++;
	env = ta_xcalloc(n + 1, sizeof *env);
	for (char **e = environ; *e; e++)
		if (!list_sets(own, *e) && !list_sets(extra, *e))
			env[k++] = *e;
	for (const char *const *e = own; *e; e++)
		if (!list_sets(extra, *e))
			env[k++] = (char *)*e;
	for (const char *const *e = extra; e && *e; e++)
		env[k++] = (char *)*e;
	env[k] = NULL;
	return env;
}

/* Prints the last lines of a process log to stderr. */
static void
print_tail(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long size, start;
	int lines = 0;

	if (!f) {
		fprintf(stderr, "(no log at %s)\n", path);
		return;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	buf = ta_xmalloc((size_t)size + 1);
	fseek(f, 0, SEEK_SET);
	size = (long)fread(buf, 1, (size_t)size, f);
	buf[size] = '\0';
	fclose(f);
	for (start = size; start > 0; start--)
		if (buf[start - 1] == '\n' && start != size &&
		    ++lines > LOG_TAIL_LINES)
			break;
	fprintf(stderr, "---- last lines of %s ----\n%s---- end ----\n", path,
	    buf + start);
	free(buf);
}

/* Whether p answered Health/Check OK; false also when it died. */
static bool
wait_healthy(ta_test_proc *p, int *wstatus, bool *is_dead)
{
	ta_rpc_client *c = ta_test_client(p);
	Taskapi__V1__HealthCheckRequest req =
	    TASKAPI__V1__HEALTH_CHECK_REQUEST__INIT;
	char method[128];
	struct timespec t0, now;
	bool ok = false;

	ta_rpc_method_name(
	    &taskapi__v1__health__descriptor, 0, method, sizeof method);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ta_rpc_call *call = ta_rpc_call_new(
		    method, "harness-health", 500, NULL, NULL, &req.base);
		long elapsed;

		ok = ta_rpc_call_sync(c, call) == TA_OK;
		ta_rpc_call_free(call);
		if (ok)
			break;
		if (waitpid(p->pid, wstatus, WNOHANG) == p->pid) {
			*is_dead = true;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (now.tv_sec - t0.tv_sec) * 1000 +
		          (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (elapsed > START_TIMEOUT_MS)
			break;
		sleep_ms(100);
	}
	ta_rpc_client_close(c);
	return ok;
}

void
ta_test_start(ta_test_proc *p, const char *binary, const char *const *extra)
{
	const char *bin_dir = need_env("TA_BIN_DIR");
	char path[512], listen[96], secret[96], rpc_key[96];
	const char *own[4];
	char **env;
	int port, fd, wstatus = 0;
	bool is_dead = false;

	need_env("DB_HOST");
	memset(p, 0, sizeof *p);
	snprintf(path, sizeof path, "%s/%s", bin_dir, binary);
	if (access(path, X_OK) != 0)
		fail_msg("%s is not an executable: %s", path, strerror(errno));
	port = ta_test_free_port();
	snprintf(p->rpc_url, sizeof p->rpc_url, "tcp://127.0.0.1:%d", port);
	if (snprintf(p->log_path, sizeof p->log_path, "%s/%s-%d.log", logs(),
	        binary, port) >= (int)sizeof p->log_path)
		fail_msg("log path too long under %s", logs());
	snprintf(listen, sizeof listen, "RPC_LISTEN=%s", p->rpc_url);
	snprintf(secret, sizeof secret, "JWT_SECRET=%s", ta_test_jwt_secret());
	snprintf(rpc_key, sizeof rpc_key, "RPC_AUTH_KEY=%s",
	    ta_test_rpc_auth_key());
	own[0] = listen;
	own[1] = secret;
	own[2] = rpc_key;
	own[3] = NULL;
	env = child_env(own, extra);

	fd = open(p->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		fail_msg("open %s: %s", p->log_path, strerror(errno));
	fflush(NULL);
	p->pid = fork();
	if (p->pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (p->pid == 0) {
		char *argv[] = {(char *)binary, NULL};

		/* Only async-signal-safe calls between fork and exec. */
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execve(path, argv, env);
		_exit(127);
	}
	close(fd);
	free(env);
	if (!wait_healthy(p, &wstatus, &is_dead)) {
		if (!is_dead) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &wstatus, 0);
		}
		print_tail(p->log_path);
		p->pid = 0;
		fail_msg("%s did not answer Health/Check on %s within %d ms "
		         "(%s, wait status %d)",
		    binary, p->rpc_url, START_TIMEOUT_MS,
		    is_dead ? "it exited" : "killed", wstatus);
	}
}

int
ta_test_stop(ta_test_proc *p)
{
	int wstatus = 0;

	if (p->pid <= 0)
		return -1;
	kill(p->pid, SIGTERM);
	for (int waited = 0;; waited += 50) {
		pid_t r = waitpid(p->pid, &wstatus, WNOHANG);

		if (r == p->pid || (r < 0 && errno != EINTR))
			break;
		if (waited >= STOP_GRACE_MS) {
			fprintf(stderr,
			    "%s (pid %ld) ignored SIGTERM for %d ms; "
			    "killing it\n",
			    p->log_path, (long)p->pid, STOP_GRACE_MS);
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &wstatus, 0);
			break;
		}
		sleep_ms(50);
	}
	p->pid = 0;
	return wstatus;
}

ta_rpc_client *
ta_test_client(const ta_test_proc *p)
{
	ta_rpc_client *c = NULL;

	if (ta_rpc_client_open(p->rpc_url, 0, &c) != TA_OK)
		fail_msg("cannot open an RPC client to %s", p->rpc_url);
	ta_rpc_client_set_auth(c, ta_test_rpc_auth());
	return c;
}

ta_rpc_call *
ta_test_call(ta_rpc_client *c, const ProtobufCServiceDescriptor *sd,
    const char *method, const Taskapi__V1__Principal *principal,
    const ProtobufCMessage *request)
{
	const ProtobufCMethodDescriptor *md =
	    protobuf_c_service_descriptor_get_method_by_name(sd, method);
	char name[160], rid[96];
	ta_rpc_call *call;

	if (!md)
		fail_msg("%s has no method %s", sd->name, method);
	ta_rpc_method_name(sd, (unsigned)(md - sd->methods), name, sizeof name);
	snprintf(rid, sizeof rid, "it-%s", ta_test_unique());
	call = ta_rpc_call_new(
	    name, rid, CALL_TIMEOUT_MS, principal, NULL, request);
	ta_rpc_call_sync(c, call);
	return call;
}

bool
ta_test_file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long size;
	bool found;

	if (!f)
		return false;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = ta_xmalloc((size_t)size + 1);
	size = (long)fread(buf, 1, (size_t)size, f);
	buf[size] = '\0';
	fclose(f);
	found = strstr(buf, needle) != NULL; // logs hold no NUL bytes
	free(buf);
	return found;
}

PGconn *
ta_test_db_connect(void)
{
	const char *keys[] = {
	    "host", "port", "dbname", "user", "password", NULL};
	const char *vals[] = {getenv("DB_HOST"), getenv("DB_PORT"),
	    getenv("DB_NAME"), getenv("DB_USER"), getenv("DB_PASSWORD"), NULL};
	PGconn *c;

	if (!vals[0] || !vals[2])
		fail_msg("DB_HOST and DB_NAME must be set for this test");
	c = PQconnectdbParams(keys, vals, 0);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect: %s", PQerrorMessage(c));
	return c;
}

/* The result of a query that must return one row; the caller PQclear's it. */
static PGresult *
db_one_row(PGconn *db, const char *sql, int nparams, const char *const *params)
{
	PGresult *res =
	    PQexecParams(db, sql, nparams, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		fail_msg("%s: %s", sql, PQerrorMessage(db));
	return res;
}

long long
ta_test_db_value(
    PGconn *db, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = db_one_row(db, sql, nparams, params);
	long long v = atoll(PQgetvalue(res, 0, 0));

	PQclear(res);
	return v;
}

char *
ta_test_db_text(
    PGconn *db, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = db_one_row(db, sql, nparams, params);
	char *v = ta_xstrdup(PQgetvalue(res, 0, 0));

	PQclear(res);
	return v;
}

void
ta_test_user_create(PGconn *db, Taskapi__V1__Principal *p, char *name,
    size_t cap, const char *prefix)
{
	const char *params[1];

	if (snprintf(name, cap, "%s-%s", prefix, ta_test_unique()) >= (int)cap)
		fail_msg(
		    "user name %s-... does not fit in %zu bytes", prefix, cap);
	params[0] = name;
	p->user_id = ta_test_db_value(db,
	    "INSERT INTO users (username, email, password_hash) "
	    "VALUES ($1::text, $1::text || '@example.test', 'x') RETURNING id",
	    1, params);
	p->username = name;
	p->email = "";
	p->role = "user";
}

Taskapi__V1__ReplyEnvelope *
ta_test_raw_call(const char *url, const void *bytes, size_t len)
{
	nng_socket s;
	void *out = NULL;
	size_t outlen = 0;
	Taskapi__V1__ReplyEnvelope *r;

	assert_int_equal(nng_req0_open(&s), 0);
	assert_int_equal(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 10000), 0);
	assert_int_equal(nng_dial(s, url, NULL, 0), 0);
	assert_int_equal(nng_send(s, (void *)bytes, len, 0), 0);
	/* NNG_ETIMEDOUT here is a hang: the worker never answered. */
	assert_int_equal(nng_recv(s, &out, &outlen, NNG_FLAG_ALLOC), 0);
	r = taskapi__v1__reply_envelope__unpack(NULL, outlen, out);
	assert_non_null(r);
	nng_free(out, outlen);
	nng_close(s);
	return r;
}

Taskapi__V1__ReplyEnvelope *
ta_test_raw_call_signed(const char *url, const void *bytes, size_t len)
{
	uint8_t *buf = ta_xmalloc(len + TA_RPC_AUTH_TRAILER_BYTES);
	Taskapi__V1__ReplyEnvelope *r;

	memcpy(buf, bytes, len);
	ta_rpc_auth_sign(ta_test_rpc_auth(), buf, len, buf + len);
	r = ta_test_raw_call(url, buf, len + TA_RPC_AUTH_TRAILER_BYTES);
	free(buf);
	return r;
}
