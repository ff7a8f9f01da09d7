"""e2e.tokens: JWT_EXPIRATION reaches the tokens, and every protected route
and method refuses a missing or bad token (expired, alg none, tampered,
wrong secret, garbage) with the contract's 401 message and changes
nothing."""

import os
import random
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taskapi_system as ts  # noqa: E402

SYS = None
USER = None
TASK = None


def setUpModule():
    global SYS, USER, TASK
    SYS = ts.System(jwt_expiration=1234).start()
    USER = SYS.new_user()
    r = SYS.request("POST", "/tasks", {"title": "protected"},
                    token=USER["token"])
    if r.status != 201:
        raise AssertionError("create failed: %r" % (r,))
    TASK = r.json["task"]


def tearDownModule():
    if SYS:
        SYS.stop_checked()


def call(method, path, token=None, headers=None):
    path = path.replace("{id}", str(TASK["id"]))
    body = {"title": "changed"} if method in ("POST", "PUT") else None
    return SYS.request(method, path, body, token=token, headers=headers)


class Expiration(unittest.TestCase):
    def test_exp_minus_iat(self):
        before = int(time.time())
        r, tok = SYS.login(USER["username"], USER["password"])
        self.assertEqual(r.status, 200, r)
        hdr, claims, _ = ts.jwt_decode(tok)
        self.assertEqual(hdr["alg"], "HS256")
        self.assertEqual(hdr["typ"], "JWT")
        self.assertEqual((claims["iss"], claims["aud"]),
                         ("taskapi", "taskapi"))
        # SEED-API's claims stay: the set only grew.
        self.assertLessEqual({"user_id", "username", "email", "role", "iat",
                              "exp"}, set(claims))
        self.assertEqual(claims["exp"] - claims["iat"], 1234, claims)
        self.assertTrue(before - 2 <= claims["iat"] <= time.time() + 2)
        self.assertTrue(ts.jwt_verify_hs256(tok, SYS.jwt_secret))

    def test_forged_valid_token_works_everywhere(self):
        tok = SYS.forge(USER)
        for method, path in ts.PROTECTED:
            if method == "DELETE":
                continue
            with self.subTest(route=method + " " + path):
                r = call(method, path, token=tok)
                self.assertIn(r.status, (200, 201), r)


class Refused(unittest.TestCase):
    def snapshot(self):
        return ts.task_rows(USER["id"])

    def test_missing_token(self):
        snap = self.snapshot()
        for method, path in ts.PROTECTED:
            for hdr in (None, {"Authorization": ""},
                        {"Authorization": "Bearer"},
                        {"Authorization": "Bearer "}):
                with self.subTest(route=method + " " + path, header=hdr):
                    r = call(method, path, headers=hdr)
                    ts.check_error(self, r, 401, message=ts.MSG_NO_TOKEN)
        self.assertEqual(self.snapshot(), snap)

    def test_bad_tokens(self):
        snap = self.snapshot()
        rng = random.Random(7)
        bad = SYS.bad_tokens(USER, USER["token"], rng)
        for method, path in ts.PROTECTED:
            for label, tok, msg in bad:
                with self.subTest(route=method + " " + path, kind=label):
                    r = call(method, path, token=tok)
                    ts.check_error(self, r, 401, message=msg)
        self.assertEqual(self.snapshot(), snap)

    def test_wrong_scheme(self):
        for method, path in ts.PROTECTED:
            for value in ("Basic dXNlcjpwYXNz", "Token " + USER["token"],
                          USER["token"]):
                with self.subTest(route=method + " " + path, value=value[:8]):
                    r = call(method, path, headers={"Authorization": value})
                    ts.check_error(self, r, 401,
                                   messages=(ts.MSG_NO_TOKEN, ts.MSG_INVALID))

    def test_token_expires_for_real(self):
        # A token 26 s past exp is still inside the 30 s leeway; its
        # leeway runs out while the test waits.
        tok = SYS.forge(USER, lifetime=-26)
        self.assertEqual(SYS.request("GET", "/tasks", token=tok).status, 200)
        self.assertEqual(
            SYS.request("POST", "/auth/validate", token=tok).status, 200)
        time.sleep(5.1)
        ts.check_error(self, SYS.request("GET", "/tasks", token=tok), 401,
                       message=ts.MSG_EXPIRED)
        ts.check_error(self, SYS.request("POST", "/auth/validate", token=tok),
                       401, message=ts.MSG_EXPIRED)


if __name__ == "__main__":
    ts.run_tests()
