"""e2e.sessions: API v1.1 sessions (docs/sessions.md). Login's refresh_token
and expires_in; POST /auth/refresh rotation, reuse detection revoking the
family, one winner among concurrent refreshes, a re-sent RPC answered the
same; POST /auth/logout of one session and of all; GET /auth/me; PUT
/auth/password (old access tokens refused at once by auth-svc and within
REVOCATION_REFRESH_S by the edge, a wrong current password counted as a
failed login); the edge's check needs no auth-svc per request; refresh
tokens stored only as digests and never logged."""

import hashlib
import os
import re
import subprocess
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from protowire import fbytes, fields, fvarint, read_varint, varint  # noqa: E402,F401
import rpc_auth  # noqa: E402
import taskapi_system as ts  # noqa: E402

REFRESH_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
PAIR_LIMIT = 3
# The edge pulls the revocation list every second here: a revoked access
# token must be refused by the edge within this bound (plus a margin).
REVOCATION_REFRESH_S = 1
EDGE_BOUND_S = REVOCATION_REFRESH_S + 3

SYS = None
SECRETS = []  # every password, access and refresh token: none may be logged

FAST_HASH = {"ARGON2_MEMORY_KIB": "8192", "ARGON2_OPS": "1"}


def setUpModule():
    global SYS
    env_auth = dict(FAST_HASH, LOGIN_FAILURE_LIMIT=str(PAIR_LIMIT),
                    LOGIN_LOCKOUT_BASE_S="60")
    SYS = ts.System(
        jwt_expiration=900, env_auth=env_auth,
        env_edge={"REVOCATION_REFRESH_S": str(REVOCATION_REFRESH_S)}).start()


def tearDownModule():
    if SYS is None:
        return
    try:
        logs = "".join(SYS.log_text(n)
                       for n in ("auth-svc", "task-svc", "edge-api"))
        leaked = [s for s in SECRETS if s and s in logs]
        if leaked:
            raise AssertionError("logged: %r" % leaked[:3])
    finally:
        SYS.stop_checked()
        SYS.cleanup()


def user():
    u = SYS.register_user()
    SECRETS.append(u["password"])
    return u


def login(u, password=None):
    r = SYS.request("POST", "/auth/login",
                    {"username": u["username"],
                     "password": password or u["password"]})
    if r.status == 200:
        SECRETS.extend([r.json["token"], r.json["refresh_token"]])
    return r


def refresh(tok, headers=None):
    r = SYS.request("POST", "/auth/refresh", {"refresh_token": tok},
                    headers=headers)
    if r.status == 200:
        SECRETS.extend([r.json["token"], r.json["refresh_token"]])
    return r


def digest(tok):
    return hashlib.blake2b(tok.encode(), digest_size=32).hexdigest()


def wait_refused(tc, token, path="/tasks", bound=EDGE_BOUND_S):
    """Seconds until the edge answers token 401 on path (fails past
    bound)."""
    t0 = time.monotonic()
    while True:
        r = SYS.request("GET", path, token=token)
        if r.status == 401:
            ts.check_error(tc, r, 401, "Invalid token")
            return time.monotonic() - t0
        tc.assertEqual(r.status, 200, r)
        if time.monotonic() - t0 > bound:
            tc.fail("edge still accepts a revoked token after %.1f s"
                    % (time.monotonic() - t0))
        time.sleep(0.1)


class Login(unittest.TestCase):
    def test_login_answers_refresh_token_and_expires_in(self):
        u = user()
        r = login(u)
        self.assertEqual(r.status, 200, r)
        self.assertRegex(r.json["refresh_token"], REFRESH_RE)
        # int64 is rendered as a JSON number, like the ids.
        self.assertIs(type(r.json["expires_in"]), int)
        self.assertEqual(r.json["expires_in"], 900)
        self.assertIn(b'"expires_in":900', r.raw)
        # The old fields are all still there.
        self.assertEqual(set(r.json), {"message", "token", "user",
                                       "refresh_token", "expires_in"})
        # Two logins, two sessions, two tokens.
        self.assertNotEqual(login(u).json["refresh_token"],
                            r.json["refresh_token"])

    def test_refresh_tokens_are_stored_as_digests_only(self):
        u = user()
        rt = login(u).json["refresh_token"]
        rt2 = refresh(rt).json["refresh_token"]
        rows = ts.psql("SELECT token_hash || ' ' || family_id FROM "
                       "refresh_tokens WHERE user_id = %d ORDER BY "
                       "created_at" % u["id"])
        text = "\n".join(rows)
        self.assertNotIn(rt, text)
        self.assertNotIn(rt2, text)
        hashes = {row.split()[0] for row in rows}
        self.assertEqual(hashes, {digest(rt), digest(rt2)})
        # One login: one family.
        self.assertEqual(len({row.split()[1] for row in rows}), 1)


class Refresh(unittest.TestCase):
    def test_rotation(self):
        u = user()
        r0 = login(u)
        r1 = refresh(r0.json["refresh_token"])
        self.assertEqual(r1.status, 200, r1)
        self.assertEqual(set(r1.json), {"token", "refresh_token",
                                        "expires_in"})
        self.assertRegex(r1.json["refresh_token"], REFRESH_RE)
        self.assertNotEqual(r1.json["refresh_token"],
                            r0.json["refresh_token"])
        self.assertEqual(r1.json["expires_in"], 900)
        _, claims, _ = ts.jwt_decode(r1.json["token"])
        self.assertEqual(claims["user_id"], u["id"])
        self.assertEqual(SYS.request("GET", "/tasks",
                                     token=r1.json["token"]).status, 200)
        r2 = refresh(r1.json["refresh_token"])
        self.assertEqual(r2.status, 200, r2)

    def test_reuse_revokes_the_family(self):
        u = user()
        first = login(u).json["refresh_token"]
        other = login(u).json["refresh_token"]  # another session
        second = refresh(first).json["refresh_token"]
        third = refresh(second).json["refresh_token"]
        # The spent first token again: refused, and the family dies.
        r = refresh(first)
        ts.check_error(self, r, 401, "Invalid refresh token")
        r = refresh(third)
        ts.check_error(self, r, 401, "Invalid refresh token")
        rows = ts.psql("SELECT count(*) FROM refresh_tokens WHERE "
                       "token_hash = '%s' AND revoked_at IS NOT NULL"
                       % digest(third))
        self.assertEqual(rows, ["1"])
        self.assertTrue(SYS.wait_log(
            "auth-svc", lambda rec: rec.get("event") ==
            "refresh_token_reused" and rec.get("user_id") == u["id"]))
        # The other session is untouched.
        self.assertEqual(refresh(other).status, 200)

    def test_concurrent_refresh_has_one_winner(self):
        u = user()
        tok = login(u).json["refresh_token"]
        n = 8
        barrier = threading.Barrier(n)
        results = [None] * n

        def go(i):
            barrier.wait()
            results[i] = refresh(tok)

        threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status for r in results)
        self.assertEqual(codes, [200] + [401] * (n - 1), results)
        for r in results:
            if r.status == 401:
                ts.check_error(self, r, 401, "Invalid refresh token")

    def test_bad_requests(self):
        for body, status, fields in (
                ({}, 400, ["refresh_token"]),
                ({"refresh_token": ""}, 400, ["refresh_token"]),
                ({"refresh_token": 5}, 400, ["refresh_token"])):
            r = SYS.request("POST", "/auth/refresh", body)
            ts.check_error(self, r, status, fields=fields)
        for tok in ("garbage", "x" * 43, "A" * 44, "é" * 43,
                    "R8Yh0H5yL6wT3q8u0Kc9bXvN2sP4mZ1aJ7eQ5dW3fGk"):
            r = refresh(tok)
            ts.check_error(self, r, 401, "Invalid refresh token")
        r = SYS.request("POST", "/auth/refresh", b"{not json")
        ts.check_error(self, r, 400)

    def test_expired_refresh_token(self):
        u = user()
        tok = login(u).json["refresh_token"]
        ts.psql("UPDATE refresh_tokens SET expires_at = now() - "
                "interval '1 second' WHERE token_hash = '%s'" % digest(tok))
        ts.check_error(self, refresh(tok), 401, "Invalid refresh token")


class Logout(unittest.TestCase):
    def test_logout_one_session(self):
        u = user()
        a = login(u).json
        b = login(u).json
        r = SYS.request("POST", "/auth/logout",
                        {"refresh_token": a["refresh_token"]},
                        token=a["token"])
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.raw, b"")
        self.assertIsNone(r.headers.get("Content-Type"))
        ts.check_error(self, refresh(a["refresh_token"]), 401)
        self.assertEqual(refresh(b["refresh_token"]).status, 200)
        # The same logout again changes nothing and says the same.
        r = SYS.request("POST", "/auth/logout",
                        {"refresh_token": a["refresh_token"]},
                        token=a["token"])
        self.assertEqual(r.status, 204, r)

    def test_logout_ends_the_whole_rotation_family(self):
        u = user()
        a = login(u).json
        nxt = refresh(a["refresh_token"]).json
        r = SYS.request("POST", "/auth/logout",
                        {"refresh_token": nxt["refresh_token"]},
                        token=a["token"])
        self.assertEqual(r.status, 204, r)
        ts.check_error(self, refresh(nxt["refresh_token"]), 401)

    def test_another_users_token_is_left_alone(self):
        u, v = user(), user()
        a = login(u).json
        b = login(v).json
        r = SYS.request("POST", "/auth/logout",
                        {"refresh_token": b["refresh_token"]},
                        token=a["token"])
        self.assertEqual(r.status, 204, r)
        self.assertEqual(refresh(b["refresh_token"]).status, 200)

    def test_logout_needs_a_token_and_a_body(self):
        r = SYS.request("POST", "/auth/logout", {"all": True})
        ts.check_error(self, r, 401, "No authentication token provided")
        u = user()
        a = login(u).json
        r = SYS.request("POST", "/auth/logout", {}, token=a["token"])
        ts.check_error(self, r, 400, fields=["refresh_token"])
        r = SYS.request("POST", "/auth/logout", {"all": "yes"},
                        token=a["token"])
        ts.check_error(self, r, 400, fields=["all"])

    def test_logout_all(self):
        u = user()
        a = login(u).json
        b = login(u).json
        self.assertEqual(SYS.request("GET", "/tasks",
                                     token=b["token"]).status, 200)
        r = SYS.request("POST", "/auth/logout", {"all": True},
                        token=a["token"])
        self.assertEqual(r.status, 204, r)
        # auth-svc refuses them at once ...
        for tok in (a["token"], b["token"]):
            r = SYS.request("POST", "/auth/validate", token=tok)
            ts.check_error(self, r, 401, "Invalid token")
        for rt in (a["refresh_token"], b["refresh_token"]):
            ts.check_error(self, refresh(rt), 401)
        # ... the edge within REVOCATION_REFRESH_S.
        took = wait_refused(self, b["token"])
        self.assertLess(took, EDGE_BOUND_S)
        # A new login is a new generation: it works.
        c = login(u).json
        self.assertEqual(ts.jwt_decode(c["token"])[1]["gen"], 1)
        self.assertEqual(SYS.request("GET", "/tasks",
                                     token=c["token"]).status, 200)
        self.assertEqual(SYS.request("GET", "/auth/me",
                                     token=c["token"]).status, 200)
        self.assertEqual(refresh(c["refresh_token"]).status, 200)


class BadTokens(unittest.TestCase):
    def test_every_session_route_refuses_bad_tokens(self):
        u = user()
        a = login(u).json
        routes = (("POST", "/auth/logout", {"all": True}),
                  ("GET", "/auth/me", None),
                  ("PUT", "/auth/password",
                   {"current_password": u["password"],
                    "new_password": "never-set-" + uuid.uuid4().hex}))
        for method, path, body in routes:
            r = SYS.request(method, path, body)
            ts.check_error(self, r, 401, "No authentication token provided")
            for label, tok, msg in SYS.bad_tokens(u, a["token"]):
                with self.subTest(route=path, token=label):
                    r = SYS.request(method, path, body, token=tok)
                    ts.check_error(self, r, 401, msg)
        # Nothing happened: the session and the password still work.
        self.assertEqual(refresh(a["refresh_token"]).status, 200)
        self.assertEqual(login(u).status, 200)


class Me(unittest.TestCase):
    def test_me(self):
        u = user()
        tok = login(u).json["token"]
        r = SYS.request("GET", "/auth/me", token=tok)
        self.assertEqual(r.status, 200, r)
        me = r.json["user"]
        self.assertEqual(set(me), {"id", "username", "email", "role",
                                   "created_at"})
        self.assertEqual((me["id"], me["username"], me["email"], me["role"]),
                         (u["id"], u["username"], u["email"], "user"))
        self.assertEqual(me["created_at"], u["created_at"])
        r = SYS.request("HEAD", "/auth/me", token=tok)
        self.assertEqual(r.status, 200, r)

    def test_me_refuses_bad_tokens_and_deleted_users(self):
        ts.check_error(self, SYS.request("GET", "/auth/me"), 401,
                       "No authentication token provided")
        ts.check_error(self, SYS.request("GET", "/auth/me", token="x.y.z"),
                       401, "Invalid token")
        u = user()
        tok = login(u).json["token"]
        ts.psql("DELETE FROM users WHERE id = %d" % u["id"])
        ts.check_error(self, SYS.request("GET", "/auth/me", token=tok), 401,
                       "Invalid token")


class Password(unittest.TestCase):
    def change(self, tok, current, new):
        SECRETS.extend([current, new])
        return SYS.request("PUT", "/auth/password",
                           {"current_password": current,
                            "new_password": new}, token=tok)

    def test_change_ends_every_session(self):
        u = user()
        a = login(u).json
        b = login(u).json
        new = "new-" + uuid.uuid4().hex
        r = self.change(a["token"], u["password"], new)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.raw, b"")
        # The old password is gone, the new one works.
        ts.check_error(self, login(u), 401, "Invalid username or password")
        c = login(u, new)
        self.assertEqual(c.status, 200, c)
        # Old access tokens: auth-svc at once, the edge within the bound.
        ts.check_error(self, SYS.request("POST", "/auth/validate",
                                         token=b["token"]), 401,
                       "Invalid token")
        ts.check_error(self, SYS.request("GET", "/auth/me",
                                         token=a["token"]), 401,
                       "Invalid token")
        wait_refused(self, a["token"])
        # Every refresh token of the user is revoked.
        for rt in (a["refresh_token"], b["refresh_token"]):
            ts.check_error(self, refresh(rt), 401)
        rows = ts.psql("SELECT count(*) FROM refresh_tokens WHERE user_id"
                       " = %d AND revoked_at IS NULL" % u["id"])
        self.assertEqual(rows, ["1"])  # c's only
        # The stored hash is Argon2id.
        rows = ts.psql("SELECT substr(password_hash, 1, 10) FROM users "
                       "WHERE id = %d" % u["id"])
        self.assertEqual(rows, ["$argon2id$"])
        self.assertEqual(SYS.request("GET", "/tasks",
                                     token=c.json["token"]).status, 200)

    def test_change_from_a_legacy_bcrypt_hash(self):
        # A row the old Node.js services wrote (password in test_auth.py).
        legacy_pw = "Legacy-Passw0rd!"
        u = user()
        ts.psql("UPDATE users SET password_hash = '$2b$10$9h9BsEqpj9LKf/"
                "AeO7rTMOkvJAfMOVR2Hq.AOEZppHdwfMPG6cKKu' WHERE id = %d"
                % u["id"])
        tok = SYS.forge(u)  # a login would upgrade the hash first
        new = "from-bcrypt-" + uuid.uuid4().hex
        r = self.change(tok, legacy_pw, new)
        self.assertEqual(r.status, 204, r)
        rows = ts.psql("SELECT substr(password_hash, 1, 10) FROM users "
                       "WHERE id = %d" % u["id"])
        self.assertEqual(rows, ["$argon2id$"])
        self.assertEqual(login(u, new).status, 200)

    def test_wrong_current_password_counts_as_failed_login(self):
        u = user()
        tok = login(u).json["token"]
        for i in range(PAIR_LIMIT):
            r = self.change(tok, "wrong-%d-%s" % (i, uuid.uuid4().hex),
                            "whatever-new-1")
            ts.check_error(self, r, 401, "Current password is incorrect")
        # Locked now: 429 for the change, and for a login from here too.
        r = self.change(tok, u["password"], "whatever-new-2")
        self.assertEqual(r.status, 429, r)
        self.assertIn("Retry-After", r.headers)
        self.assertEqual(login(u).status, 429)
        # The password did not change.
        rows = ts.psql("SELECT token_generation FROM users WHERE id = %d"
                       % u["id"])
        self.assertEqual(rows, ["0"])

    def test_validation(self):
        u = user()
        tok = login(u).json["token"]
        r = SYS.request("PUT", "/auth/password", {}, token=tok)
        ts.check_error(self, r, 400,
                       fields=["current_password", "new_password"])
        r = self.change(tok, u["password"], "x" * 1025)
        ts.check_error(self, r, 400, fields=["new_password"])
        r = SYS.request("PUT", "/auth/password",
                        {"current_password": u["password"],
                         "new_password": "n"})
        ts.check_error(self, r, 401, "No authentication token provided")


# ---- RPC level: the same envelope delivered twice (an nng re-send)

class Resent(unittest.TestCase):
    def envelope(self, method, payload, rid, signed=True):
        env = (fbytes(1, "/taskapi.v1.AuthService/" + method)
               + fbytes(2, rid)
               + fbytes(3, fvarint(1, int(time.time()) + 20))
               + fbytes(5, payload) + fbytes(7, "127.0.0.1"))
        return rpc_auth.sign(env, SYS.rpc_auth_key) if signed else env

    def send(self, env):
        tool = os.path.join(os.environ["TA_BIN_DIR"],
                            "contract_wire_fixtures")
        p = subprocess.run([tool, "--call", SYS.auth_url], input=env,
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return fields(p.stdout)

    def test_resent_refresh_is_answered_the_same(self):
        u = user()
        tok = login(u).json["refresh_token"]
        env = self.envelope("RefreshSession", fbytes(1, tok),
                            "resend-" + uuid.uuid4().hex)
        first = self.send(env)
        again = self.send(env)  # the very same bytes
        self.assertNotIn(1, first)  # code 0 (OK) is not on the wire
        self.assertNotIn(1, again)
        next1 = fields(first[4][0])[2][0].decode()
        next2 = fields(again[4][0])[2][0].decode()
        SECRETS.extend([next1])
        self.assertEqual(next1, next2)
        # No reuse detection: the successor still works, once.
        self.assertEqual(refresh(next1).status, 200)
        # Another call with the spent token is reuse.
        other = self.send(self.envelope("RefreshSession", fbytes(1, tok),
                                        "resend-" + uuid.uuid4().hex))
        self.assertEqual(other.get(1), [16], other)

    def test_resent_password_change_is_answered_the_same(self):
        u = user()
        tok = login(u).json["token"]
        new = "resent-" + uuid.uuid4().hex
        SECRETS.append(new)
        env = self.envelope("ChangePassword",
                            fbytes(1, tok) + fbytes(2, u["password"])
                            + fbytes(3, new), "resend-" + uuid.uuid4().hex)
        self.assertNotIn(1, self.send(env))
        self.assertNotIn(1, self.send(env))  # not 401: the same call
        rows = ts.psql("SELECT token_generation FROM users WHERE id = %d"
                       % u["id"])
        self.assertEqual(rows, ["1"])  # moved once
        self.assertEqual(login(u, new).status, 200)

    def test_list_revocations_needs_caller_auth(self):
        env = self.envelope("ListRevocations", b"", "rev-unsigned",
                            signed=False)
        self.assertEqual(self.send(env).get(1), [16])
        rep = self.send(self.envelope("ListRevocations", b"", "rev-signed"))
        self.assertNotIn(1, rep)


class Bucket(unittest.TestCase):
    """POST /auth/refresh takes from the per-address login bucket."""

    def test_refresh_shares_the_login_bucket(self):
        with ts.System(env_auth=FAST_HASH,
                       env_edge={"LOGIN_RATE_LIMIT": "4",
                                 "LOGIN_RATE_WINDOW_S": "3600"}) as s:
            u = s.register_user()
            SECRETS.append(u["password"])
            r = s.request("POST", "/auth/login",
                          {"username": u["username"],
                           "password": u["password"]})
            self.assertEqual(r.status, 200, r)
            SECRETS.extend([r.json["token"], r.json["refresh_token"]])
            for _ in range(3):
                r = s.request("POST", "/auth/refresh",
                              {"refresh_token": "x" * 43})
                ts.check_error(self, r, 401, "Invalid refresh token")
            r = s.request("POST", "/auth/refresh",
                          {"refresh_token": "x" * 43})
            ts.check_error(self, r, 429)
            self.assertEqual(r.headers.get("RateLimit-Policy"),
                             '"login";q=4;w=3600', r)
            self.assertIsNotNone(r.headers.get("Retry-After"), r)
            # And logins from this address now wait as well.
            r = s.request("POST", "/auth/login",
                          {"username": u["username"],
                           "password": u["password"]})
            self.assertEqual(r.status, 429, r)


class ZEdgeAlone(unittest.TestCase):
    """Runs last: stops this module's auth-svc. The edge's check needs no
    RPC and no SQL per request: with auth-svc gone, a valid token is still
    served and a revoked one still refused (the last list is kept)."""

    def test_requests_are_checked_without_auth_svc(self):
        u = user()
        keep = login(u).json["token"]
        v = user()
        a = login(v).json
        r = SYS.request("POST", "/auth/logout", {"all": True},
                        token=a["token"])
        self.assertEqual(r.status, 204, r)
        wait_refused(self, a["token"])
        self.assertEqual(SYS.stop_process("auth-svc"), 0)
        self.assertTrue(SYS.wait_log(
            "edge-api", lambda rec: rec.get("event") ==
            "revocations_refresh_failed", timeout=EDGE_BOUND_S + 2))
        for _ in range(20):
            self.assertEqual(SYS.request("GET", "/tasks",
                                         token=keep).status, 200)
            ts.check_error(self, SYS.request("GET", "/tasks",
                                             token=a["token"]), 401,
                           "Invalid token")


if __name__ == "__main__":
    ts.run_tests()
