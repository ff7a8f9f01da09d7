/*
 * auth-svc as a real process over nng against the real PostgreSQL named
 * by DB_*: registration, login (Argon2id and legacy bcrypt with upgrade),
 * token validation, deadlines, a malformed envelope, a registration race,
 * health, and a log free of passwords and tokens.
 */
#include <crypt.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "harness.h"
#include "jwt.h"
#include "rpc.h"
#include "taskapi/v1/auth.pb-c.h"
#include "taskapi/v1/envelope.pb-c.h"
#include "taskapi/v1/health.pb-c.h"

/* The worker runs with this lifetime so exp - iat is checked for real. */
#define JWT_LIFETIME 120
#define RACERS 20
#define MAX_SECRETS 64

static ta_test_proc proc;
static ta_rpc_client *client;
static PGconn *db;

/* Passwords and tokens the tests used: none may reach the worker's log. */
static char *secrets[MAX_SECRETS];
static size_t nsecrets;

static void
remember_secret(const char *s)
{
	assert_true(nsecrets < MAX_SECRETS);
	secrets[nsecrets++] = strdup(s);
}

static const char *
name_of(const char *what)
{
	static char buf[8][128];
	static int next;
	char *b = buf[next++ % 8];

	snprintf(b, sizeof buf[0], "%s_%s", what, ta_test_unique());
	return b;
}

/* The single text value of a one-row query with one parameter; free it. */
static char *
db_value(const char *sql, const char *param)
{
	return ta_test_db_text(db, sql, 1, &param);
}

static int
setup(void **state)
{
	static const char *const extra[] = {
	    "JWT_EXPIRATION=120", "DB_POOL_SIZE=4", "HASH_CONCURRENCY=2", NULL};

	(void)state;
	db = ta_test_db_connect();
	ta_test_start(&proc, "auth-svc", extra);
	client = ta_test_client(&proc);
	return 0;
}

static int
teardown(void **state)
{
	int ws;

	(void)state;
	ta_rpc_client_close(client);
	ws = ta_test_stop(&proc);
	PQfinish(db);
	for (size_t i = 0; i < nsecrets; i++)
		free(secrets[i]);
	/* A clean SIGTERM shutdown exits 0. */
	return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : -1;
}

static ta_rpc_call *
auth_call(const char *method, const ProtobufCMessage *req)
{
	return ta_test_call(
	    client, &taskapi__v1__auth_service__descriptor, method, NULL, req);
}

static ta_rpc_call *
do_register(const char *username, const char *email, const char *password)
{
	Taskapi__V1__RegisterRequest req = TASKAPI__V1__REGISTER_REQUEST__INIT;

	req.username = (char *)username;
	req.email = (char *)email;
	req.password = (char *)password;
	return auth_call("RegisterUser", &req.base);
}

static ta_rpc_call *
do_login(const char *username, const char *password)
{
	Taskapi__V1__LoginRequest req = TASKAPI__V1__LOGIN_REQUEST__INIT;

	req.username = (char *)username;
	req.password = (char *)password;
	return auth_call("Login", &req.base);
}

static ta_rpc_call *
do_validate(const char *token)
{
	Taskapi__V1__ValidateTokenRequest req =
	    TASKAPI__V1__VALIDATE_TOKEN_REQUEST__INIT;

	req.token = (char *)token;
	return auth_call("ValidateToken", &req.base);
}

/* Registers a fresh user; returns its id. */
static int64_t
register_ok(const char *username, const char *email, const char *password)
{
	ta_rpc_call *call = do_register(username, email, password);
	Taskapi__V1__RegisterReply *rep = NULL;
	int64_t id;

	assert_int_equal(call->status, TA_OK);
	assert_int_equal(
	    ta_rpc_call_unpack(call, &taskapi__v1__register_reply__descriptor,
	        (ProtobufCMessage **)&rep),
	    TA_OK);
	id = rep->user->id;
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	ta_rpc_call_free(call);
	return id;
}

/* Logs in; returns the token (caller frees). */
static char *
login_ok(
    const char *username, const char *password, Taskapi__V1__LoginReply **out)
{
	ta_rpc_call *call = do_login(username, password);
	Taskapi__V1__LoginReply *rep = NULL;
	char *token;

	assert_int_equal(call->status, TA_OK);
	assert_int_equal(
	    ta_rpc_call_unpack(call, &taskapi__v1__login_reply__descriptor,
	        (ProtobufCMessage **)&rep),
	    TA_OK);
	token = strdup(rep->token);
	remember_secret(token);
	if (out)
		*out = rep;
	else
		protobuf_c_message_free_unpacked(&rep->base, NULL);
	ta_rpc_call_free(call);
	return token;
}

/* Whether call's details hold field with message. */
static bool
has_detail(const ta_rpc_call *call, const char *field, const char *message)
{
	for (size_t i = 0; i < call->reply->n_details; i++)
		if (strcmp(call->reply->details[i]->field, field) == 0 &&
		    strcmp(call->reply->details[i]->message, message) == 0)
			return true;
	return false;
}

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static void
test_register_ok(void **state)
{
	(void)state;
	const char *user = name_of("reg");
	char email[160];
	const char *pw = "Register-Secret-pw-1";
	ta_rpc_call *call;
	Taskapi__V1__RegisterReply *rep = NULL;
	char idbuf[24];
	char *hash, *role;

	snprintf(email, sizeof email, "%s@example.test", user);
	remember_secret(pw);
	call = do_register(user, email, pw);
	assert_int_equal(call->status, TA_OK);
	assert_int_equal(call->reply->code, 0);
	assert_int_equal(
	    ta_rpc_call_unpack(call, &taskapi__v1__register_reply__descriptor,
	        (ProtobufCMessage **)&rep),
	    TA_OK);
	assert_string_equal(rep->message, "User registered successfully");
	assert_non_null(rep->user);
	assert_true(rep->user->id > 0);
	assert_string_equal(rep->user->username, user);
	assert_string_equal(rep->user->email, email);
	assert_non_null(rep->user->created_at);
	assert_true(rep->user->created_at->seconds > now_s() - 300);
	assert_true(rep->user->created_at->seconds < now_s() + 300);

	snprintf(idbuf, sizeof idbuf, "%" PRId64, rep->user->id);
	hash = db_value("SELECT password_hash FROM users WHERE id = $1", idbuf);
	role = db_value("SELECT role FROM users WHERE id = $1", idbuf);
	assert_true(strncmp(hash, "$argon2id$", 10) == 0);
	assert_non_null(strstr(hash, "$m=19456,t=2,p=1$"));
	assert_null(strstr(hash, pw));
	assert_string_equal(role, "user");
	remember_secret(hash); // hashes stay out of the log too
	free(hash);
	free(role);
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	ta_rpc_call_free(call);
}

static void
test_register_duplicates(void **state)
{
	(void)state;
	const char *user = name_of("dup");
	char email[160], email2[160];
	ta_rpc_call *call;

	snprintf(email, sizeof email, "%s@example.test", user);
	snprintf(email2, sizeof email2, "other_%s@example.test", user);
	register_ok(user, email, "dup-password-1");

	call = do_register(user, email2, "dup-password-2");
	assert_int_equal(call->status, TA_ALREADY_EXISTS);
	assert_string_equal(call->message, "Username or email already exists");
	ta_rpc_call_free(call);

	call = do_register(name_of("dup2"), email, "dup-password-3");
	assert_int_equal(call->status, TA_ALREADY_EXISTS);
	assert_string_equal(call->message, "Username or email already exists");
	ta_rpc_call_free(call);
}

static void
test_register_validation(void **state)
{
	(void)state;
	ta_rpc_call *call;
	char long_name[60];
	char long_pw[1100];

	/* Everything missing: one detail per field, all at once. */
	call = do_register("", "", "");
	assert_int_equal(call->status, TA_INVALID_ARGUMENT);
	assert_non_null(call->reply);
	assert_int_equal(call->reply->n_details, 3);
	assert_true(has_detail(call, "username", "username is required"));
	assert_true(has_detail(call, "email", "email is required"));
	assert_true(has_detail(call, "password", "password is required"));
	ta_rpc_call_free(call);

	/* Bad values. 51 characters; a bare word; 1025 bytes. */
	memset(long_name, 'n', 51);
	long_name[51] = '\0';
	memset(long_pw, 'p', 1025);
	long_pw[1025] = '\0';
	call = do_register(long_name, "not-an-address", long_pw);
	assert_int_equal(call->status, TA_INVALID_ARGUMENT);
	assert_int_equal(call->reply->n_details, 3);
	assert_true(has_detail(
	    call, "username", "username must be at most 50 characters"));
	assert_true(
	    has_detail(call, "email", "email must be a valid email address"));
	assert_true(has_detail(
	    call, "password", "password must be at most 1024 bytes"));
	ta_rpc_call_free(call);

	/* 50 two-byte characters are fine; a control character is not. */
	char wide[101];

	for (int i = 0; i < 50; i++)
		memcpy(wide + 2 * i, "\xc3\xa9", 2); // é
	wide[100] = '\0';
	call = do_register("tab\tname", "a b@example.test", "x");
	assert_int_equal(call->status, TA_INVALID_ARGUMENT);
	assert_true(has_detail(
	    call, "username", "username must not contain control characters"));
	assert_true(
	    has_detail(call, "email", "email must be a valid email address"));
	assert_int_equal(call->reply->n_details, 2);
	ta_rpc_call_free(call);

	static const char *const bad_emails[] = {"@example.test", "a@b",
	    "a@@example.test", "a@example.", "a@.example", "a@x@y.test"};

	for (size_t i = 0; i < sizeof bad_emails / sizeof bad_emails[0]; i++) {
		call = do_register(wide, bad_emails[i], "x");
		assert_int_equal(call->status, TA_INVALID_ARGUMENT);
		assert_int_equal(call->reply->n_details, 1);
		assert_true(has_detail(
		    call, "email", "email must be a valid email address"));
		ta_rpc_call_free(call);
	}

	/* Invalid UTF-8 is refused here, not by the database. */
	call = do_register("bad\xff\xfe", "u@example.test", "x");
	assert_int_equal(call->status, TA_INVALID_ARGUMENT);
	assert_true(
	    has_detail(call, "username", "username must be valid UTF-8"));
	ta_rpc_call_free(call);
}

static void
test_register_wide_username(void **state)
{
	(void)state;
	/* 20 two-byte characters + the suffix: over 50 bytes, under 50
	 * characters. */
	char name[200];
	char email[200];
	size_t n = 0;

	for (int i = 0; i < 20; i++, n += 2)
		memcpy(name + n, "\xc3\xa9", 2);
	snprintf(name + n, sizeof name - n, "%.29s", ta_test_unique());
	snprintf(email, sizeof email, "wide_%s@example.test", ta_test_unique());
	assert_true(register_ok(name, email, "wide-pw") > 0);
}

static void
test_login_ok(void **state)
{
	(void)state;
	const char *user = name_of("login");
	const char *pw = "Login-Secret-pw-2";
	char email[160];
	int64_t id;
	Taskapi__V1__LoginReply *rep = NULL;
	char *token;
	ta_claims c = {0};
	const char *reason = NULL;
	ta_jwt_cfg jwt;

	ta_jwt_cfg_init(&jwt, ta_test_jwt_secret(), NULL, "taskapi", "taskapi");
	snprintf(email, sizeof email, "%s@example.test", user);
	remember_secret(pw);
	id = register_ok(user, email, pw);
	token = login_ok(user, pw, &rep);
	assert_string_equal(rep->message, "Login successful");
	assert_int_equal(rep->user->id, id);
	assert_string_equal(rep->user->username, user);
	assert_string_equal(rep->user->email, email);

	assert_int_equal(
	    ta_jwt_verify(&jwt, token, now_s(), &c, &reason), TA_OK);
	assert_int_equal(c.user_id, id);
	assert_string_equal(c.username, user);
	assert_string_equal(c.email, email);
	assert_string_equal(c.role, "user");
	assert_int_equal(c.exp - c.iat, JWT_LIFETIME);
	assert_true(c.iat >= now_s() - 60 && c.iat <= now_s() + 5);
	ta_claims_fini(&c);
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	free(token);
}

static void
test_login_failures(void **state)
{
	(void)state;
	const char *user = name_of("lfail");
	char email[160];
	ta_rpc_call *wrong, *unknown, *call;
	struct timespec t0, t1;
	double unknown_ms;

	snprintf(email, sizeof email, "%s@example.test", user);
	remember_secret("Right-pw-3");
	remember_secret("Wrong-pw-3");
	register_ok(user, email, "Right-pw-3");

	wrong = do_login(user, "Wrong-pw-3");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unknown = do_login(name_of("nobody"), "Wrong-pw-3");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unknown_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	             (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_int_equal(wrong->status, TA_UNAUTHENTICATED);
	assert_int_equal(unknown->status, TA_UNAUTHENTICATED);
	assert_string_equal(wrong->message, "Invalid username or password");
	assert_string_equal(unknown->message, wrong->message);
	assert_int_equal(unknown->reply->n_details, 0);
	/* An unknown user still costs a hash verification (~30 ms). */
	assert_true(unknown_ms >= 5.0);
	ta_rpc_call_free(wrong);
	ta_rpc_call_free(unknown);

	/* Usernames match exactly. */
	char upper[160];

	snprintf(upper, sizeof upper, "LFAIL%s", user + 5);
	call = do_login(upper, "Right-pw-3");
	assert_int_equal(call->status, TA_UNAUTHENTICATED);
	ta_rpc_call_free(call);

	call = do_login("", "");
	assert_int_equal(call->status, TA_INVALID_ARGUMENT);
	assert_int_equal(call->reply->n_details, 2);
	assert_true(has_detail(call, "username", "username is required"));
	assert_true(has_detail(call, "password", "password is required"));
	ta_rpc_call_free(call);
}

/* A bcrypt cost-10 hash of pw made the way the old services did. */
static char *
bcrypt_hash(const char *pw)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = calloc(1, sizeof *cd);
	char *h;

	assert_non_null(cd);
	assert_non_null(
	    crypt_gensalt_rn("$2b$", 10, NULL, 0, salt, sizeof salt));
	h = crypt_rn(pw, salt, cd, (int)sizeof *cd);
	assert_non_null(h);
	h = strdup(h);
	free(cd);
	return h;
}

static void
insert_user(const char *user, const char *hash)
{
	char email[200];
	const char *params[] = {user, email, hash};
	PGresult *r;

	snprintf(email, sizeof email, "%s@legacy.test", user);
	r = PQexecParams(db,
	    "INSERT INTO users (username, email, password_hash) "
	    "VALUES ($1, $2, $3)",
	    3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("insert: %s", PQerrorMessage(db));
	PQclear(r);
}

static void
test_login_legacy_bcrypt(void **state)
{
	(void)state;
	const char *user = name_of("legacy");
	const char *pw = "Legacy-bcrypt-pw-4";
	char *old = bcrypt_hash(pw);
	char *now_hash, *again_hash;
	ta_rpc_call *call;

	remember_secret(pw);
	remember_secret(old);
	insert_user(user, old);

	call = do_login(user, "Legacy-bcrypt-pw-X");
	assert_int_equal(call->status, TA_UNAUTHENTICATED);
	ta_rpc_call_free(call);
	now_hash = db_value(
	    "SELECT password_hash FROM users WHERE username = $1", user);
	assert_string_equal(now_hash, old); // no upgrade on a failure
	free(now_hash);

	free(login_ok(user, pw, NULL));
	now_hash = db_value(
	    "SELECT password_hash FROM users WHERE username = $1", user);
	assert_true(strncmp(now_hash, "$argon2id$", 10) == 0);
	remember_secret(now_hash);

	/* Logging in again verifies the new hash and leaves it alone. */
	free(login_ok(user, pw, NULL));
	again_hash = db_value(
	    "SELECT password_hash FROM users WHERE username = $1", user);
	assert_string_equal(again_hash, now_hash);
	call = do_login(user, "Legacy-bcrypt-pw-X");
	assert_int_equal(call->status, TA_UNAUTHENTICATED);
	ta_rpc_call_free(call);
	assert_true(ta_test_file_contains(proc.log_path, "password_rehashed"));
	free(again_hash);
	free(now_hash);
	free(old);
}

static void
test_login_unknown_hash_format(void **state)
{
	(void)state;
	const char *user = name_of("oddhash");
	ta_rpc_call *call;

	/* md5-crypt of "password": a format no service ever wrote. */
	insert_user(user, "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/");
	call = do_login(user, "password");
	assert_int_equal(call->status, TA_UNAUTHENTICATED);
	assert_string_equal(call->message, "Invalid username or password");
	ta_rpc_call_free(call);
	assert_true(
	    ta_test_file_contains(proc.log_path, "unknown_hash_format"));
	assert_false(ta_test_file_contains(proc.log_path, "qjXMvbEw8oaL"));
}

static void
expect_validate_fails(const char *token, const char *message)
{
	ta_rpc_call *call = do_validate(token);

	assert_int_equal(call->status, TA_UNAUTHENTICATED);
	assert_string_equal(call->message, message);
	ta_rpc_call_free(call);
}

static char *
craft_token(const char *secret, int64_t iat, int64_t exp)
{
	ta_claims c = {.user_id = 7,
	    .username = "crafted",
	    .email = "crafted@example.test",
	    .role = "user",
	    .iat = iat,
	    .exp = exp};
	char *tok = NULL;
	ta_jwt_cfg jwt;

	ta_jwt_cfg_init(&jwt, secret, NULL, "taskapi", "taskapi");
	assert_int_equal(ta_jwt_issue(&jwt, &c, &tok), TA_OK);
	remember_secret(tok);
	return tok;
}

static void
test_validate_token(void **state)
{
	(void)state;
	const char *user = name_of("val");
	char email[160];
	int64_t id;
	char *token, *expired, *foreign;
	ta_rpc_call *call;
	Taskapi__V1__ValidateTokenReply *rep = NULL;

	snprintf(email, sizeof email, "%s@example.test", user);
	id = register_ok(user, email, "Validate-pw-5");
	remember_secret("Validate-pw-5");
	token = login_ok(user, "Validate-pw-5", NULL);

	call = do_validate(token);
	assert_int_equal(call->status, TA_OK);
	assert_int_equal(ta_rpc_call_unpack(call,
	                     &taskapi__v1__validate_token_reply__descriptor,
	                     (ProtobufCMessage **)&rep),
	    TA_OK);
	assert_true(rep->valid);
	assert_int_equal(rep->user->user_id, id);
	assert_string_equal(rep->user->username, user);
	assert_string_equal(rep->user->email, email);
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	ta_rpc_call_free(call);

	expect_validate_fails("", "No authentication token provided");
	expect_validate_fails("garbage", "Invalid token");
	expect_validate_fails("a.b.c", "Invalid token");
	expired =
	    craft_token(ta_test_jwt_secret(), now_s() - 7200, now_s() - 3600);
	expect_validate_fails(expired, "Token has expired");
	foreign = craft_token("another-secret-of-at-least-32-bytes-long!",
	    now_s(), now_s() + 3600);
	expect_validate_fails(foreign, "Invalid token");
	free(token);
	free(expired);
	free(foreign);
}

static void
test_deadline_passed(void **state)
{
	(void)state;
	const char *user = name_of("late");
	char email[160];
	Taskapi__V1__RegisterRequest req = TASKAPI__V1__REGISTER_REQUEST__INIT;
	Taskapi__V1__RequestEnvelope env = TASKAPI__V1__REQUEST_ENVELOPE__INIT;
	Google__Protobuf__Timestamp dl = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	uint8_t payload[512], packed[1024];
	Taskapi__V1__ReplyEnvelope *rep;
	ta_rpc_call *call;

	snprintf(email, sizeof email, "%s@example.test", user);
	req.username = (char *)user;
	req.email = email;
	req.password = "Late-pw-6";
	remember_secret(req.password);
	assert_true(taskapi__v1__register_request__get_packed_size(&req) <
	            sizeof payload);
	env.payload.len = taskapi__v1__register_request__pack(&req, payload);
	env.payload.data = payload;
	env.method = "/taskapi.v1.AuthService/RegisterUser";
	env.request_id = "late-call";
	dl.seconds = now_s() - 2; // passed while "in flight"
	env.deadline = &dl;
	assert_true(taskapi__v1__request_envelope__get_packed_size(&env) <
	            sizeof packed);
	rep = ta_test_raw_call_signed(proc.rpc_url, packed,
	    taskapi__v1__request_envelope__pack(&env, packed));
	assert_int_equal(rep->code, TA_DEADLINE_EXCEEDED);
	assert_int_equal(rep->payload.len, 0);
	taskapi__v1__reply_envelope__free_unpacked(rep, NULL);

	/* Nothing was registered. */
	call = do_login(user, "Late-pw-6");
	assert_int_equal(call->status, TA_UNAUTHENTICATED);
	ta_rpc_call_free(call);
}

static void
check_health(void)
{
	Taskapi__V1__HealthCheckRequest req =
	    TASKAPI__V1__HEALTH_CHECK_REQUEST__INIT;
	Taskapi__V1__HealthCheckReply *rep = NULL;
	ta_rpc_call *call = ta_test_call(
	    client, &taskapi__v1__health__descriptor, "Check", NULL, &req.base);

	assert_int_equal(call->status, TA_OK);
	assert_int_equal(ta_rpc_call_unpack(call,
	                     &taskapi__v1__health_check_reply__descriptor,
	                     (ProtobufCMessage **)&rep),
	    TA_OK);
	assert_string_equal(rep->status, "healthy");
	assert_string_equal(rep->service, "auth-service");
	protobuf_c_message_free_unpacked(&rep->base, NULL);
	ta_rpc_call_free(call);
}

static void
test_malformed_envelope(void **state)
{
	(void)state;
	static const uint8_t junk[] = {
	    0xff, 0xff, 0xff, 0xff, 0x0f, 0x42, 0x13, 0x37, 0x00, 0x99};
	Taskapi__V1__ReplyEnvelope *rep =
	    ta_test_raw_call(proc.rpc_url, junk, sizeof junk);

	assert_int_equal(rep->code, TA_INVALID_ARGUMENT);
	taskapi__v1__reply_envelope__free_unpacked(rep, NULL);

	/* A valid envelope whose payload is not a RegisterRequest. */
	Taskapi__V1__RequestEnvelope env = TASKAPI__V1__REQUEST_ENVELOPE__INIT;
	uint8_t packed[256];

	env.method = "/taskapi.v1.AuthService/RegisterUser";
	env.payload.data = (uint8_t *)junk;
	env.payload.len = sizeof junk;
	rep = ta_test_raw_call_signed(proc.rpc_url, packed,
	    taskapi__v1__request_envelope__pack(&env, packed));
	assert_int_equal(rep->code, TA_INVALID_ARGUMENT);
	taskapi__v1__reply_envelope__free_unpacked(rep, NULL);

	/* Still serving. */
	check_health();
}

typedef struct race {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	int ok, exists, other;
} race;

static void
race_done(void *arg, ta_rpc_call *call)
{
	race *r = arg;

	pthread_mutex_lock(&r->mu);
	if (call->status == TA_OK)
		r->ok++;
	else if (call->status == TA_ALREADY_EXISTS)
		r->exists++;
	else
		r->other++;
	r->done++;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static void
test_concurrent_register(void **state)
{
	(void)state;
	const char *user = name_of("race");
	char emails[RACERS][160];
	ta_rpc_call *calls[RACERS];
	race r = {.done = 0};
	char method[128];
	struct timespec until;

	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	ta_rpc_method_name(
	    &taskapi__v1__auth_service__descriptor, 0, method, sizeof method);
	assert_string_equal(method, "/taskapi.v1.AuthService/RegisterUser");
	for (int i = 0; i < RACERS; i++) {
		Taskapi__V1__RegisterRequest req =
		    TASKAPI__V1__REGISTER_REQUEST__INIT;

		snprintf(
		    emails[i], sizeof emails[i], "%s_%d@example.test", user, i);
		req.username = (char *)user;
		req.email = emails[i];
		req.password = "Race-pw-7";
		calls[i] = ta_rpc_call_new(
		    method, "race", 60000, NULL, NULL, &req.base);
	}
	remember_secret("Race-pw-7");
	for (int i = 0; i < RACERS; i++)
		assert_int_equal(
		    ta_rpc_start(client, calls[i], race_done, &r), TA_OK);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 90;
	pthread_mutex_lock(&r.mu);
	while (r.done < RACERS)
		if (pthread_cond_timedwait(&r.cv, &r.mu, &until) != 0)
			break;
	pthread_mutex_unlock(&r.mu);
	assert_int_equal(r.done, RACERS);
	assert_int_equal(r.ok, 1);
	assert_int_equal(r.exists, RACERS - 1);
	assert_int_equal(r.other, 0);
	for (int i = 0; i < RACERS; i++)
		ta_rpc_call_free(calls[i]);
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mu);
}

/*
 * More registrations than hashing slots, each with a short deadline: the
 * ones still waiting for a slot at their deadline give up in the gate
 * (hash_queue_timeout) instead of hashing for a client that has left.
 * N is sized so that some always do: 40 calls on HASH_CONCURRENCY=2 need
 * 20 hashes in a row, and one Argon2id hash (19 MiB, two passes) takes
 * 23-37 ms on the test machine and no less than about 10 ms anywhere, so
 * the last ones wait past 100 ms. (10 calls were 5 hashes in a row: all
 * of them finished in time once in CI.)
 */
static void
test_hash_queue_deadline(void **state)
{
	(void)state;
	enum { N = 40 };
	ta_rpc_call *calls[N];
	race r = {.done = 0};
	char method[128], names[N][96], emails[N][160];
	struct timespec until;

	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	ta_rpc_method_name(
	    &taskapi__v1__auth_service__descriptor, 0, method, sizeof method);
	for (int i = 0; i < N; i++) {
		Taskapi__V1__RegisterRequest req =
		    TASKAPI__V1__REGISTER_REQUEST__INIT;

		snprintf(names[i], sizeof names[i], "%s", name_of("queue"));
		if (snprintf(emails[i], sizeof emails[i], "%s@example.test",
		        names[i]) >= (int)sizeof emails[i])
			fail_msg("email too long");
		req.username = names[i];
		req.email = emails[i];
		req.password = "Queue-pw-8";
		calls[i] = ta_rpc_call_new(
		    method, "queue", 100, NULL, NULL, &req.base);
	}
	remember_secret("Queue-pw-8");
	for (int i = 0; i < N; i++)
		assert_int_equal(
		    ta_rpc_start(client, calls[i], race_done, &r), TA_OK);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 30;
	pthread_mutex_lock(&r.mu);
	while (r.done < N)
		if (pthread_cond_timedwait(&r.cv, &r.mu, &until) != 0)
			break;
	pthread_mutex_unlock(&r.mu);
	assert_int_equal(r.done, N);
	assert_int_equal(r.exists, 0);
	for (int i = 0; i < N; i++) {
		assert_true(calls[i]->status == TA_OK ||
		            calls[i]->status == TA_DEADLINE_EXCEEDED);
		ta_rpc_call_free(calls[i]);
	}
	assert_true(r.other >= 1); // some ran out of time
	/*
	 * The worker notices at the same deadline; give it a moment. A call
	 * that expired while waiting for a hashing slot logs
	 * hash_queue_timeout; one that expired still queued for a serving
	 * thread is dropped before its handler runs (DEADLINE_EXCEEDED).
	 * Which of the two happens depends on timing; either way no call
	 * waited past its deadline.
	 */
	bool is_seen = false;

	for (int i = 0; i < 50 && !is_seen; i++) {
		is_seen = ta_test_file_contains(
		              proc.log_path, "hash_queue_timeout") ||
		          ta_test_file_contains(
		              proc.log_path, "\"code\":\"DEADLINE_EXCEEDED\"");
		if (!is_seen)
			nng_msleep(100);
	}
	assert_true(is_seen);
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mu);
	check_health();
}

/* auth-svc --health-check: exit 0 against a live worker, 1 otherwise. */
static int
run_health_check(const char *rpc_listen)
{
	char cmd[1024];
	const char *bin = getenv("TA_BIN_DIR");
	int rc;

	assert_non_null(bin);
	snprintf(cmd, sizeof cmd,
	    "RPC_LISTEN='%s' '%s/auth-svc' --health-check >/dev/null 2>&1",
	    rpc_listen, bin);
	rc = system(cmd);
	assert_true(WIFEXITED(rc));
	return WEXITSTATUS(rc);
}

static void
test_health_check_flag(void **state)
{
	(void)state;
	char dead[64];

	/* The live worker, addressed as its listen URL would be. */
	assert_int_equal(run_health_check(proc.rpc_url), 0);
	snprintf(dead, sizeof dead, "tcp://0.0.0.0:%d", ta_test_free_port());
	assert_int_equal(run_health_check(dead), 1);
}

static void
test_health(void **state)
{
	(void)state;
	check_health();
}

/* Runs last: nothing secret reached the worker's log. */
static void
test_log_has_no_secrets(void **state)
{
	(void)state;
	assert_true(ta_test_file_contains(proc.log_path, "\"rpc_call\""));
	assert_true(ta_test_file_contains(proc.log_path, "user_registered"));
	assert_false(
	    ta_test_file_contains(proc.log_path, ta_test_jwt_secret()));
	assert_true(nsecrets > 10);
	for (size_t i = 0; i < nsecrets; i++)
		if (ta_test_file_contains(proc.log_path, secrets[i]))
			fail_msg("the worker log contains secret #%zu", i);
	/* Not even a token's signature or a hash's digest part. */
	for (size_t i = 0; i < nsecrets; i++) {
		const char *tail = strrchr(secrets[i], '.');

		if (!tail)
			tail = strrchr(secrets[i], '$');
		if (tail && strlen(tail) > 16)
			assert_false(
			    ta_test_file_contains(proc.log_path, tail + 1));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_health),
	    cmocka_unit_test(test_register_ok),
	    cmocka_unit_test(test_register_duplicates),
	    cmocka_unit_test(test_register_validation),
	    cmocka_unit_test(test_register_wide_username),
	    cmocka_unit_test(test_login_ok),
	    cmocka_unit_test(test_login_failures),
	    cmocka_unit_test(test_login_legacy_bcrypt),
	    cmocka_unit_test(test_login_unknown_hash_format),
	    cmocka_unit_test(test_validate_token),
	    cmocka_unit_test(test_deadline_passed),
	    cmocka_unit_test(test_malformed_envelope),
	    cmocka_unit_test(test_concurrent_register),
	    cmocka_unit_test(test_hash_queue_deadline),
	    cmocka_unit_test(test_health_check_flag),
	    cmocka_unit_test(test_log_has_no_secrets),
	};

	return cmocka_run_group_tests_name("auth_rpc", tests, setup, teardown);
}
