/*
 * The login_failures table (migration 0005): the statements that read,
 * count and forget failed logins, and the keys rows are stored under.
 */
#include "login_limits.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "idem.h"

/* Longest call key taken from the envelope: an idempotency key. */
#define CALL_KEY_MAX TA_IDEM_KEY_MAX

/* Every this many counted failures, a thread deletes rows idle for 24 h. */
#define PURGE_EVERY 256

/*
 * Seconds left on a lock, rounded up. The account-wide lock applies only
 * to an address that failed on this username since its last success, so
 * an owner at a clean address is never locked out by strangers.
 */
#define LOCK_LEFT(t)                                                           \
	"ceil(extract(epoch FROM " t ".locked_until - now()))::bigint"

/* clang-format off: SQL reads best one clause a line */
const ta_pg_stmt auth_limit_stmts[AUTH_ALL_SQL_COUNT - AUTH_SQL_COUNT] = {
    [AUTH_LIMIT_SQL_CHECK - AUTH_SQL_COUNT] = {"auth_limit_check",
        "SELECT (SELECT " LOCK_LEFT(
            "p") " FROM login_failures p "
                 "WHERE p.username_key = $1 AND p.client_addr = $2 "
                 "AND p.locked_until > now()), "
                 "(SELECT " LOCK_LEFT(
                     "a") " FROM login_failures a "
                          "WHERE a.username_key = $1 AND a.client_addr = '*' "
                          "AND a.locked_until > now() AND EXISTS (SELECT 1 "
                          "FROM "
                          "login_failures p WHERE p.username_key = $1 "
                          "AND p.client_addr = $2 AND p.failures > 0)), "
                          "EXISTS (SELECT 1 FROM login_failures p WHERE "
                          "p.username_key = $1 "
                          "AND p.client_addr = $2 AND $3 <> '' AND p.last_key "
                          "= $3)",
        true},
    /*
     * $4 pair limit, $5 account limit (0: no account row), $6 first lock
     * and $7 longest lock in seconds. The n-th failure at or past limit L
     * locks for min($7, $6 * 2^(n - L)). The WHERE skips a repeat of the
     * last counted call (same address and key), also when two copies race.
     */
    [AUTH_LIMIT_SQL_FAIL - AUTH_SQL_COUNT] = {"auth_limit_fail",
        "INSERT INTO login_failures AS f (username_key, client_addr, "
        "failures, locked_until, last_key) "
        "SELECT $1, v.a, 1, CASE WHEN v.lim <= 1 THEN now() + "
        "make_interval(secs => $6::int) END, NULLIF($3, '') "
        "FROM (VALUES ($2::varchar, $4::int), ('*', $5::int)) AS v(a, lim) "
        "WHERE v.lim > 0 "
        "ON CONFLICT (username_key, client_addr) DO UPDATE SET "
        "failures = f.failures + 1, "
        "locked_until = CASE WHEN f.failures + 1 >= CASE WHEN "
        "f.client_addr = '*' THEN $5::int ELSE $4::int END "
        "THEN now() + make_interval(secs => least($7::float8, "
        "$6::float8 * power(2::float8, least(30, f.failures + 1 - CASE "
        "WHEN f.client_addr = '*' THEN $5::int ELSE $4::int END)))) "
        "ELSE f.locked_until END, "
        "last_key = EXCLUDED.last_key, updated_at = now() "
        "WHERE EXCLUDED.last_key IS NULL "
        "OR f.last_key IS DISTINCT FROM EXCLUDED.last_key",
        false},
    [AUTH_LIMIT_SQL_RESET - AUTH_SQL_COUNT] = {"auth_limit_reset",
        "DELETE FROM login_failures WHERE username_key = $1 "
        "AND client_addr IN ($2, '*')",
        false},
    [AUTH_LIMIT_SQL_PURGE - AUTH_SQL_COUNT] = {"auth_limit_purge",
        "DELETE FROM login_failures WHERE ctid IN (SELECT ctid "
        "FROM login_failures WHERE updated_at < now() - interval '24 hours' "
        "AND (locked_until IS NULL OR locked_until < now()) LIMIT 1000)",
        false},
};
/* clang-format on */

static void
hex_digest(const void *in, size_t len, char out[AUTH_LIMIT_KEY_MAX])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof h, in, len, NULL, 0);
	sodium_bin2hex(out, AUTH_LIMIT_KEY_MAX, h, sizeof h);
}

static bool
is_addr_text(const char *s)
{
	size_t n = strlen(s);

	return n < AUTH_LIMIT_ADDR_MAX &&
	       strspn(s, "0123456789abcdefABCDEF.:") == n;
}

void
auth_limit_keys_of(const char *username, const char *client_addr,
    const char *idempotency_key, const char *request_id, auth_limit_keys *k)
{
	const char *call = idempotency_key[0] ? idempotency_key : request_id;
	char both[AUTH_LIMIT_ADDR_MAX + 1 + CALL_KEY_MAX + 1];

	hex_digest(username, strlen(username), k->user);
	snprintf(k->addr, sizeof k->addr, "%s",
	    is_addr_text(client_addr) ? client_addr : "");
	k->call[0] = '\0';
	if (call[0] && strlen(call) <= CALL_KEY_MAX) {
		/* The address is part of it: a key reused elsewhere differs. */
		snprintf(both, sizeof both, "%s|%s", k->addr, call);
		hex_digest(both, strlen(both), k->call);
	}
}

static int64_t
int_or_zero(const PGresult *res, int col)
{
	return PQgetisnull(res, 0, col)
	           ? 0
	           : strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

ta_status
auth_limit_check(ta_pg *pg, const auth_limit_cfg *c, const auth_limit_keys *k,
    auth_limit_verdict *out)
{
	const char *params[] = {k->user, k->addr, k->call};
	PGresult *res = NULL;
	int64_t pair, account;
	ta_status status;

	status = ta_pg_exec(pg, AUTH_LIMIT_SQL_CHECK, 3, params, &res);
	if (status != TA_OK)
		return status;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return TA_INTERNAL;
	}
	pair = int_or_zero(res, 0);
	account = int_or_zero(res, 1);
	*out = (auth_limit_verdict){
	    .retry_after_s = pair > account ? pair : account,
	    .quota = pair >= account ? c->pair_limit : c->account_limit,
	    .is_repeat = strcmp(PQgetvalue(res, 0, 2), "t") == 0,
	};
	PQclear(res);
	return TA_OK;
}

static void
purge(ta_pg *pg)
{
	static atomic_uint calls;
	PGresult *res;

	/* Opportunistic: a failure only delays the cleanup (logged). */
	if (atomic_fetch_add(&calls, 1) % PURGE_EVERY != 0)
		return;
	if (ta_pg_exec(pg, AUTH_LIMIT_SQL_PURGE, 0, NULL, &res) == TA_OK)
		PQclear(res);
}

ta_status
auth_limit_fail(ta_pg *pg, const auth_limit_cfg *c, const auth_limit_keys *k)
{
	char pair[24], account[24], base[24], max[24];
	const char *params[] = {
	    k->user, k->addr, k->call, pair, account, base, max};
	PGresult *res = NULL;
	ta_status status;

	snprintf(pair, sizeof pair, "%ld", c->pair_limit);
	snprintf(account, sizeof account, "%ld", c->account_limit);
	snprintf(base, sizeof base, "%ld", c->base_s);
	snprintf(max, sizeof max, "%ld", c->max_s);
	purge(pg);
	status = ta_pg_exec(pg, AUTH_LIMIT_SQL_FAIL, 7, params, &res);
	if (status == TA_OK)
		PQclear(res);
	return status;
}

ta_status
auth_limit_reset(ta_pg *pg, const auth_limit_keys *k)
{
	const char *params[] = {k->user, k->addr};
	PGresult *res = NULL;
	ta_status status;

	status = ta_pg_exec(pg, AUTH_LIMIT_SQL_RESET, 2, params, &res);
	if (status == TA_OK)
		PQclear(res);
	return status;
}
