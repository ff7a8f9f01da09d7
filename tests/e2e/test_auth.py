"""e2e.auth: POST /auth/register, /auth/login and /auth/validate against the
running system, status by status, including legacy bcrypt rows and the
claims of the issued JWT."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taskapi_system as ts  # noqa: E402

SYS = None

# A bcrypt (cost 10, $2b$) hash as the old Node.js services stored it; the
# password is LEGACY_PASSWORD.
LEGACY_PASSWORD = "Legacy-Passw0rd!"
LEGACY_HASH = "$2b$10$9h9BsEqpj9LKf/AeO7rTMOkvJAfMOVR2Hq.AOEZppHdwfMPG6cKKu"


def setUpModule():
    global SYS
    SYS = ts.System().start()


def tearDownModule():
    if SYS:
        SYS.stop_checked()


class Register(unittest.TestCase):
    def test_created(self):
        name, email = ts.unique("reg"), ts.unique("m") + "@example.com"
        before = int(time.time()) - 5
        r = SYS.request("POST", "/auth/register",
                        {"username": name, "email": email,
                         "password": "correct horse battery"})
        self.assertEqual(r.status, 201, r)
        ts.check_json_type(self, r)
        self.assertEqual(set(r.json), {"message", "user"}, r)
        self.assertIsInstance(r.json["message"], str)
        self.assertTrue(r.json["message"])
        u = r.json["user"]
        self.assertEqual(set(u), {"id", "username", "email", "created_at"}, r)
        self.assertIsInstance(u["id"], int)
        self.assertGreater(u["id"], 0)
        self.assertEqual(u["username"], name)
        self.assertEqual(u["email"], email)
        ts.check_timestamp(self, u["created_at"], "created_at")
        created = ts.parse_ts(u["created_at"]) // 1000
        self.assertTrue(before <= created <= int(time.time()) + 5,
                        "created_at %s is not now" % u["created_at"])
        rows = ts.psql("SELECT username, email, role, password_hash FROM users"
                       " WHERE id = %d" % u["id"])
        self.assertEqual(len(rows), 1)
        uname, mail, role, phash = rows[0].split("|", 3)
        self.assertEqual((uname, mail, role), (name, email, "user"))
        self.assertTrue(phash.startswith("$argon2id$"),
                        "new passwords are hashed with Argon2id")
        self.assertNotIn("correct horse battery", phash)

    def test_missing_fields(self):
        full = {"username": ts.unique("miss"),
                "email": ts.unique("m") + "@example.com",
                "password": "pw-123456"}
        cases = [[k] for k in full] + [["username", "email"],
                                       ["username", "email", "password"]]
        for missing in cases:
            with self.subTest(missing=missing):
                body = {k: v for k, v in full.items() if k not in missing}
                r = SYS.request("POST", "/auth/register", body)
                ts.check_error(self, r, 400, fields=missing)
        for k in full:
            with self.subTest(empty=k):
                r = SYS.request("POST", "/auth/register", dict(full, **{k: ""}))
                ts.check_error(self, r, 400, fields=[k])
        # nothing was stored under that name
        self.assertEqual(ts.psql("SELECT count(*) FROM users WHERE username="
                                 "'%s'" % full["username"]), ["0"])

    def test_username_taken(self):
        u = SYS.register_user()
        r = SYS.request("POST", "/auth/register",
                        {"username": u["username"],
                         "email": ts.unique("m") + "@example.com",
                         "password": "another-password"})
        ts.check_error(self, r, 409)

    def test_email_taken(self):
        u = SYS.register_user()
        r = SYS.request("POST", "/auth/register",
                        {"username": ts.unique("other"), "email": u["email"],
                         "password": "another-password"})
        ts.check_error(self, r, 409)
        self.assertEqual(ts.psql("SELECT count(*) FROM users WHERE email='%s'"
                                 % u["email"]), ["1"])


class Login(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.user = SYS.register_user()

    def test_ok(self):
        u = self.user
        before = int(time.time())
        r, tok = SYS.login(u["username"], u["password"])
        after = int(time.time())
        self.assertEqual(r.status, 200, r)
        ts.check_json_type(self, r)
        # v1.1 added refresh_token and expires_in (docs/sessions.md).
        self.assertEqual(set(r.json), {"message", "token", "user",
                                       "refresh_token", "expires_in"}, r)
        self.assertTrue(r.json["message"])
        self.assertEqual(r.json["user"], {"id": u["id"],
                                          "username": u["username"],
                                          "email": u["email"]})
        hdr, claims, _ = ts.jwt_decode(tok)
        self.assertEqual(hdr.get("alg"), "HS256", hdr)
        self.assertTrue(ts.jwt_verify_hs256(tok, SYS.jwt_secret),
                        "token signature does not verify with JWT_SECRET")
        for k in ("user_id", "username", "email", "role", "iat", "exp"):
            self.assertIn(k, claims)
        self.assertEqual(claims["user_id"], u["id"])
        self.assertEqual(claims["username"], u["username"])
        self.assertEqual(claims["email"], u["email"])
        self.assertEqual(claims["role"], "user")
        self.assertTrue(before - 2 <= claims["iat"] <= after + 2, claims)
        self.assertEqual(claims["exp"] - claims["iat"], 3600)

    def test_missing_fields(self):
        for body, fields in (({"username": "x"}, ["password"]),
                             ({"password": "x"}, ["username"]),
                             ({}, ["username", "password"]),
                             ({"username": "", "password": "x"}, ["username"])):
            with self.subTest(body=body):
                r = SYS.request("POST", "/auth/login", body)
                ts.check_error(self, r, 400, fields=fields)

    def test_bad_credentials_same_answer(self):
        r1, _ = SYS.login(self.user["username"], "wrong-" + self.user["password"])
        r2, _ = SYS.login(ts.unique("nobody"), "whatever-password")
        r3, _ = SYS.login(self.user["username"].upper(), self.user["password"])
        for r in (r1, r2, r3):
            ts.check_error(self, r, 401, message=ts.MSG_BAD_LOGIN)
        self.assertEqual(r1.json, r2.json)

    def test_legacy_bcrypt_row(self):
        name = ts.unique("legacy")
        email = name + "@example.com"
        ts.psql("INSERT INTO users (username, email, password_hash) VALUES "
                "('%s', '%s', '%s')" % (name, email, LEGACY_HASH))
        r, _ = SYS.login(name, "not-" + LEGACY_PASSWORD)
        ts.check_error(self, r, 401, message=ts.MSG_BAD_LOGIN)
        r, tok = SYS.login(name, LEGACY_PASSWORD)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["user"]["username"], name)
        # upgraded to Argon2id on success, and the new hash still works
        phash = ts.psql("SELECT password_hash FROM users WHERE username='%s'"
                        % name)[0]
        self.assertTrue(phash.startswith("$argon2id$"), phash[:10])
        r, tok2 = SYS.login(name, LEGACY_PASSWORD)
        self.assertEqual(r.status, 200, r)
        r = SYS.request("POST", "/auth/validate", token=tok2)
        self.assertEqual(r.status, 200, r)


class Validate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.user = SYS.new_user()

    def test_ok(self):
        u = self.user
        r = SYS.request("POST", "/auth/validate", token=u["token"])
        self.assertEqual(r.status, 200, r)
        ts.check_json_type(self, r)
        self.assertEqual(r.json, {"valid": True,
                                  "user": {"user_id": u["id"],
                                           "username": u["username"],
                                           "email": u["email"]}})

    def test_forged_with_known_secret_is_accepted(self):
        tok = SYS.forge(self.user)
        r = SYS.request("POST", "/auth/validate", token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["user"]["user_id"], self.user["id"])

    def test_no_token(self):
        r = SYS.request("POST", "/auth/validate")
        ts.check_error(self, r, 401, message=ts.MSG_NO_TOKEN)

    def test_invalid_and_expired(self):
        for label, tok, msg in SYS.bad_tokens(self.user, self.user["token"]):
            with self.subTest(kind=label):
                r = SYS.request("POST", "/auth/validate", token=tok)
                ts.check_error(self, r, 401, message=msg)

    def test_not_bearer(self):
        r = SYS.request("POST", "/auth/validate",
                        headers={"Authorization": "Basic dXNlcjpwYXNz"})
        ts.check_error(self, r, 401, messages=(ts.MSG_NO_TOKEN,
                                               ts.MSG_INVALID))


if __name__ == "__main__":
    ts.run_tests()
