"""Password guessing against the real processes (docs/login-limits.md).

The edge trusts 127.0.0.1 as a proxy (TRUSTED_PROXIES), so X-Forwarded-For
plays many client addresses. Policy under test: LOGIN_FAILURE_LIMIT 10 per
(username, address), LOGIN_ACCOUNT_FAILURE_LIMIT 30 per username from all
addresses (only addresses that failed are held back), lockouts of
2 s * 2^n; the edge's login bucket 40 per address per hour, the register
bucket 20 per address per hour.

- 500 wrong passwords for one account from one address: 401 up to the
  10th, 429 "login-failures" from the 11th (Retry-After, RateLimit,
  RateLimit-Policy, the JSON error body), 429 "login" from the edge's
  bucket from the address's 41st request; meanwhile the owner logs in from
  another address and a second account logs in even from that address.
- the lockout grows (2, 4, 8 s) and refuses the right password too; a
  success resets the count; unknown usernames are counted the same way;
- the account-wide cap holds back addresses that failed, not a clean one;
- the register bucket;
- RPC level: the same Login envelope sent again (an nng resend, an edge
  failover) is answered without being counted twice; the 429 signal is a
  RateLimit in the reply envelope.
- No username or password reaches a log line or the failures table.
"""

import hashlib
import os
import subprocess
import sys
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from protowire import fbytes, fields, fvarint, read_varint, varint  # noqa: E402,F401
import rpc_auth  # noqa: E402
import taskapi_system as ts  # noqa: E402

PAIR_LIMIT = 10
ACCOUNT_LIMIT = 30
BASE_S = 2
LOGIN_Q, LOGIN_W = 40, 3600
REGISTER_Q, REGISTER_W = 20, 3600

SYS = None
SECRETS = []  # every username and password sent: none may be logged


def setUpModule():
    global SYS
    SYS = ts.System(
        env_auth={"ARGON2_MEMORY_KIB": "8192", "ARGON2_OPS": "1",
                  "LOGIN_FAILURE_LIMIT": str(PAIR_LIMIT),
                  "LOGIN_ACCOUNT_FAILURE_LIMIT": str(ACCOUNT_LIMIT),
                  "LOGIN_LOCKOUT_BASE_S": str(BASE_S),
                  "LOGIN_LOCKOUT_MAX_S": "900"},
        env_edge={"TRUSTED_PROXIES": "127.0.0.1/32",
                  "LOGIN_RATE_LIMIT": str(LOGIN_Q),
                  "LOGIN_RATE_WINDOW_S": str(LOGIN_W),
                  "REGISTER_RATE_LIMIT": str(REGISTER_Q),
                  "REGISTER_RATE_WINDOW_S": str(REGISTER_W)}).start()


def tearDownModule():
    if SYS is None:
        return
    try:
        logs = SYS.log_text("auth-svc") + SYS.log_text("edge-api")
        leaked = [s for s in SECRETS if s in logs]
        if leaked:
            raise AssertionError("logged: %r" % leaked[:3])
        rows = "\n".join(ts.psql("SELECT username_key || client_addr || "
                                 "coalesce(last_key, '') "
                                 "FROM login_failures"))
        stored = [s for s in SECRETS if s in rows]
        if stored:
            raise AssertionError("stored: %r" % stored[:3])
    finally:
        SYS.stop_checked()
        SYS.cleanup()


def user():
    u = SYS.register_user()
    SECRETS.extend([u["username"], u["password"]])
    return u


def wrong():
    pw = "wrong-" + uuid.uuid4().hex
    SECRETS.append(pw)
    return pw


def login(username, password, addr, key=None):
    headers = {"X-Forwarded-For": "192.0.2.250, " + addr}
    if key:
        headers["Idempotency-Key"] = key
    return SYS.request("POST", "/auth/login",
                       {"username": username, "password": password},
                       headers=headers)


def user_key(username):
    return hashlib.blake2b(username.encode(), digest_size=32).hexdigest()


def failures(username, addr):
    rows = ts.psql("SELECT failures FROM login_failures WHERE username_key"
                   " = '%s' AND client_addr = '%s'" % (user_key(username),
                                                       addr))
    return int(rows[0]) if rows and rows[0] else 0


class Guessing(unittest.TestCase):
    def check_429(self, r, policy, q, w=None):
        ts.check_error(self, r, 429)
        ra = r.headers.get("Retry-After")
        self.assertIsNotNone(ra, r)
        self.assertRegex(ra, r"^[1-9][0-9]*$", r)
        want = '"%s";q=%d' % (policy, q) + (";w=%d" % w if w else "")
        self.assertEqual(r.headers.get("RateLimit-Policy"), want, r)
        self.assertEqual(r.headers.get("RateLimit"),
                         '"%s";r=0;t=%s' % (policy, ra), r)
        return int(ra)

    def test_500_guesses_one_account_one_address(self):
        victim, other = user(), user()
        attacker, owner_addr = "198.51.100.10", "203.0.113.20"
        from_attacker = 0
        bucket_from = None
        started = time.monotonic()
        tenth = None
        for i in range(1, 501):
            if i == 15:
                # A second account, even from the attacker's address.
                r = login(other["username"], other["password"], attacker)
                from_attacker += 1
                self.assertEqual(r.status, 200, r)
            if i == 250:
                # The owner, from another address, meanwhile.
                r = login(victim["username"], victim["password"],
                          owner_addr)
                self.assertEqual(r.status, 200, r)
            r = login(victim["username"], wrong(), attacker)
            from_attacker += 1
            if from_attacker > LOGIN_Q:
                if bucket_from is None:
                    bucket_from = i
                t = self.check_429(r, "login", LOGIN_Q, LOGIN_W)
                self.assertGreater(t, 60, r)
            elif i <= PAIR_LIMIT:
                ts.check_error(self, r, 401, message=ts.MSG_BAD_LOGIN)
                tenth = time.monotonic()
            elif r.status == 401:
                # Only once the 2 s lock of the 10th failure has run out
                # (these requests are fast; a loaded machine may be not).
                self.assertGreater(i, PAIR_LIMIT + 1, r)
                self.assertGreater(time.monotonic() - tenth, BASE_S - 0.1,
                                   r)
                ts.check_error(self, r, 401, message=ts.MSG_BAD_LOGIN)
            else:
                t = self.check_429(r, "login-failures", PAIR_LIMIT)
                self.assertLessEqual(t, BASE_S, r)
        self.assertEqual(bucket_from, LOGIN_Q, "one request went to the "
                         "second account")
        self.assertGreaterEqual(failures(victim["username"], attacker),
                                PAIR_LIMIT)
        self.assertLess(time.monotonic() - started, 100)

    def test_lockout_grows_and_refuses_the_right_password(self):
        u = user()
        addr = "198.51.100.30"
        for _ in range(PAIR_LIMIT):
            ts.check_error(self, login(u["username"], wrong(), addr), 401)
        for n in range(3):
            want = BASE_S * 2 ** n
            r = login(u["username"], wrong(), addr)
            self.assertEqual(self.check_429(r, "login-failures", PAIR_LIMIT),
                             want, r)
            # Refused before hashing: the right password does not help.
            r = login(u["username"], u["password"], addr)
            self.assertEqual(r.status, 429, r)
            time.sleep(want + 0.2)
            if n < 2:
                ts.check_error(self, login(u["username"], wrong(), addr),
                               401)
        self.assertEqual(failures(u["username"], addr), PAIR_LIMIT + 2)
        r = login(u["username"], u["password"], addr)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(failures(u["username"], addr), 0)

    def test_success_resets_the_count(self):
        u = user()
        addr = "198.51.100.40"
        for _ in range(PAIR_LIMIT - 1):
            ts.check_error(self, login(u["username"], wrong(), addr), 401)
        self.assertEqual(login(u["username"], u["password"], addr).status,
                         200)
        for _ in range(PAIR_LIMIT):
            ts.check_error(self, login(u["username"], wrong(), addr), 401)
        self.check_429(login(u["username"], wrong(), addr),
                       "login-failures", PAIR_LIMIT)

    def test_unknown_username_is_counted_the_same(self):
        name = ts.unique("nobody")
        SECRETS.append(name)
        addr = "198.51.100.50"
        for _ in range(PAIR_LIMIT):
            ts.check_error(self, login(name, wrong(), addr), 401,
                           message=ts.MSG_BAD_LOGIN)
        r = login(name, wrong(), addr)
        self.assertEqual(self.check_429(r, "login-failures", PAIR_LIMIT),
                         BASE_S)
        self.assertEqual(failures(name, addr), PAIR_LIMIT)

    def test_nfc_and_nfd_spellings_share_one_count(self):
        base = ts.unique("cafe")
        nfc, nfd = base + "caf\u00e9", base + "cafe\u0301"
        SECRETS.extend([nfc, nfd])
        addr = "198.51.100.55"
        for i in range(PAIR_LIMIT):
            ts.check_error(self, login(nfc if i % 2 else nfd, wrong(), addr),
                           401, message=ts.MSG_BAD_LOGIN)
        self.check_429(login(nfd, wrong(), addr), "login-failures",
                       PAIR_LIMIT)
        self.check_429(login(nfc, wrong(), addr), "login-failures",
                       PAIR_LIMIT)
        self.assertEqual(failures(nfc, addr), PAIR_LIMIT)

    def test_account_cap_holds_back_failing_addresses_only(self):
        u = user()
        addrs = ["198.51.100.%d" % (60 + i) for i in range(4)]
        counted = 0
        for a in addrs:
            for _ in range(min(PAIR_LIMIT - 2, ACCOUNT_LIMIT - counted)):
                ts.check_error(self, login(u["username"], wrong(), a), 401)
                counted += 1
        self.assertEqual(counted, ACCOUNT_LIMIT)
        # Locked account-wide for 2 s: an address that failed waits...
        r = login(u["username"], wrong(), addrs[0])
        self.assertEqual(self.check_429(r, "login-failures", ACCOUNT_LIMIT),
                         BASE_S, r)
        self.assertEqual(failures(u["username"], "*"), ACCOUNT_LIMIT)
        # ... the owner at a clean address logs in, which clears it.
        r = login(u["username"], u["password"], "203.0.113.60")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(failures(u["username"], "*"), 0)

    def test_register_bucket(self):
        addr = "198.51.100.70"
        for i in range(REGISTER_Q):
            r = SYS.request("POST", "/auth/register", {"username": ""},
                            headers={"X-Forwarded-For": addr})
            self.assertEqual(r.status, 400, "request %d: %r" % (i + 1, r))
        r = SYS.request("POST", "/auth/register", {"username": ""},
                        headers={"X-Forwarded-For": addr})
        self.check_429(r, "register", REGISTER_Q, REGISTER_W)
        # Another address is unaffected.
        r = SYS.request("POST", "/auth/register", {"username": ""},
                        headers={"X-Forwarded-For": "198.51.100.71"})
        self.assertEqual(r.status, 400, r)

    def test_garbage_forwarded_for_is_the_proxy(self):
        # A list that does not parse is not believed: the peer (the
        # trusted proxy, 127.0.0.1) is the client, and the access line
        # says so.
        r = SYS.request("GET", "/health",
                        headers={"X-Forwarded-For": "1.2.3.4, not-an-ip",
                                 "X-Request-Id": "xff-garbage-1"})
        self.assertEqual(r.status, 200, r)
        r = SYS.request("GET", "/health",
                        headers={"X-Forwarded-For": "1.2.3.4, 2001:db8::7",
                                 "X-Request-Id": "xff-good-1"})
        self.assertEqual(r.status, 200, r)

        def access(rid):
            rec = SYS.wait_log("edge-api", lambda rec: rec.get(
                "event") == "http_request" and rec.get("request_id") == rid)
            self.assertIsNotNone(rec, rid)
            return rec

        self.assertEqual(access("xff-garbage-1")["client_addr"], "127.0.0.1")
        self.assertEqual(access("xff-good-1")["client_addr"], "2001:db8::7")


# ---- RPC level: a hand-packed envelope to auth-svc over nng

def wire_tool():
    return os.path.join(os.environ["TA_BIN_DIR"], "contract_wire_fixtures")


class RpcLevel(unittest.TestCase):
    def call(self, username, password, key, addr):
        req = fbytes(1, username) + fbytes(2, password)
        env = (fbytes(1, "/taskapi.v1.AuthService/Login")
               + fbytes(2, "rpc-" + key)
               + fbytes(3, fvarint(1, int(time.time()) + 10))
               + fbytes(5, req) + fbytes(6, key) + fbytes(7, addr))
        env = rpc_auth.sign(env, SYS.rpc_auth_key)
        p = subprocess.run([wire_tool(), "--call", SYS.auth_url], input=env,
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return fields(p.stdout)

    def test_a_resent_login_counts_once(self):
        u = user()
        addr = "198.51.100.80"
        pw = wrong()
        for _ in range(12):  # one call, delivered twelve times
            rep = self.call(u["username"], pw, "resend-key-1", addr)
            self.assertEqual(rep.get(1), [16], rep)
        self.assertEqual(failures(u["username"], addr), 1)
        for i in range(2, PAIR_LIMIT + 1):
            rep = self.call(u["username"], wrong(), "resend-key-%d" % i, addr)
            self.assertEqual(rep.get(1), [16], rep)
        self.assertEqual(failures(u["username"], addr), PAIR_LIMIT)
        rep = self.call(u["username"], u["password"], "resend-key-x", addr)
        self.assertEqual(rep.get(1), [8], rep)  # RESOURCE_EXHAUSTED
        rl = fields(rep[5][0])
        self.assertEqual(rl[1], [b"login-failures"], rl)
        self.assertEqual(rl[2], [PAIR_LIMIT], rl)
        self.assertIn(rl[4][0], range(1, BASE_S + 1), rl)
        # The same key from another address is another call.
        rep = self.call(u["username"], pw, "resend-key-1", "198.51.100.81")
        self.assertEqual(rep.get(1), [16], rep)
        self.assertEqual(failures(u["username"], "198.51.100.81"), 1)


if __name__ == "__main__":
    ts.run_tests()
