"""identity.idempotency_fingerprint: an Idempotency-Key remembers a digest
of the request it was first used with. The same key with the same request
replays the first result; with another request it gets 422 and a body that
reveals nothing of the first request; for register, create and the keyed
delete. Keys stored without a digest (before migration 0006) keep
replaying. The register digest is keyed (the request holds the password)."""

import hashlib
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "e2e"))
import taskapi_system as ts  # noqa: E402

SYS = None


def setUpModule():
    global SYS
    SYS = ts.System().start()


def tearDownModule():
    if SYS is not None:
        SYS.stop_checked()


def keyed(method, path, body, key, token=None):
    return SYS.request(method, path, body, headers={"Idempotency-Key": key},
                       token=token)


def expect_422(test, r, *secrets_of_first):
    test.assertEqual(r.status, 422, r)
    test.assertEqual(r.json["error"], "Unprocessable Content", r)
    test.assertEqual(r.json["details"],
                     [{"field": "Idempotency-Key",
                       "message": "reuse the key only to retry the identical "
                                  "request"}], r)
    for s in secrets_of_first:
        test.assertNotIn(s.encode(), r.raw, "422 body reveals %r" % s)


def pb_string(field, s):
    """One protobuf length-delimited field (short strings only)."""
    data = s.encode()
    assert len(data) < 128
    return bytes([field << 3 | 2, len(data)]) + data


def register_fingerprint(secret, username, email, password):
    """The digest auth-svc stores: BLAKE2b-256 of the encoded
    RegisterRequest, keyed with a key derived from JWT_SECRET."""
    k0 = hashlib.blake2b(secret.encode(), digest_size=32).digest()
    key = hashlib.blake2b(b"taskapi idempotency fingerprint v1", key=k0,
                          digest_size=32).digest()
    payload = (pb_string(1, username) + pb_string(2, email) +
               pb_string(3, password))
    return (hashlib.blake2b(payload, key=key, digest_size=32).hexdigest(),
            hashlib.blake2b(payload, digest_size=32).hexdigest())


def stored_fingerprint(method, user_id, key):
    rows = SYS.psql("SELECT coalesce(encode(fingerprint, 'hex'), 'NULL') "
                    "FROM idempotency_keys WHERE method = '%s' AND "
                    "user_id = %d AND key = '%s'" % (method, user_id, key))
    return rows[0] if rows else None


class RegisterTest(unittest.TestCase):
    def test_same_key_other_payload_is_422(self):
        carol = ts.unique("carol")
        key = ts.unique("reg-key")
        first = {"username": carol, "email": carol + "@example.com",
                 "password": "first-" + ts.random_password()}
        r1 = keyed("POST", "/auth/register", first, key)
        self.assertEqual(r1.status, 201, r1)
        uid = r1.json["user"]["id"]

        # The same request again: the first result, no second user.
        r2 = keyed("POST", "/auth/register", first, key)
        self.assertEqual(r2.status, 201, r2)
        self.assertEqual(r2.json["user"]["id"], uid)

        # Another email and password under the same key (issue 10).
        other = dict(first, email=ts.unique("m") + "@example.com",
                     password="second-" + ts.random_password())
        r3 = keyed("POST", "/auth/register", other, key)
        expect_422(self, r3, carol, first["email"], first["password"],
                   other["password"])
        self.assertEqual(SYS.psql("SELECT count(*) FROM users WHERE "
                                  "email = '%s'" % other["email"]), ["0"])

        # Another username under the same key: 422 too (was 409).
        r4 = keyed("POST", "/auth/register",
                   dict(first, username=ts.unique("dave")), key)
        expect_422(self, r4, carol, first["email"])

        # The identical request still replays afterwards.
        r5 = keyed("POST", "/auth/register", first, key)
        self.assertEqual(r5.status, 201, r5)
        self.assertEqual(r5.json["user"]["id"], uid)
        r, tok = SYS.login(carol, first["password"])
        self.assertIsNotNone(tok, r)

        # Passwords never reach a log line.
        for name in ("auth-svc", "edge-api"):
            text = SYS.log_text(name)
            self.assertNotIn(first["password"], text)
            self.assertNotIn(other["password"], text)

    def test_fingerprint_is_keyed(self):
        name = ts.unique("fp")
        key = ts.unique("reg-fp")
        body = {"username": name, "email": name + "@example.com",
                "password": "pw-" + ts.random_password()}
        self.assertEqual(keyed("POST", "/auth/register", body,
                               key).status, 201)
        keyed_fp, plain_fp = register_fingerprint(
            SYS.jwt_secret, name, body["email"], body["password"])
        stored = stored_fingerprint("RegisterUser", 0, key)
        # Not the unkeyed digest a dump could test passwords against.
        self.assertNotEqual(stored, plain_fp)
        self.assertEqual(stored, keyed_fp)

    def test_key_without_fingerprint_still_replays(self):
        name = ts.unique("legacykey")
        key = ts.unique("reg-legacy")
        body = {"username": name, "email": name + "@example.com",
                "password": ts.random_password()}
        r1 = keyed("POST", "/auth/register", body, key)
        self.assertEqual(r1.status, 201, r1)
        SYS.psql("UPDATE idempotency_keys SET fingerprint = NULL WHERE "
                 "method = 'RegisterUser' AND key = '%s'" % key)
        # A row from before migration 0006: unknown digest, so accepted
        # as before (same username replays the first user).
        r2 = keyed("POST", "/auth/register",
                   dict(body, password=ts.random_password()), key)
        self.assertEqual(r2.status, 201, r2)
        self.assertEqual(r2.json["user"]["id"], r1.json["user"]["id"])


class TasksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.user = SYS.new_user()
        cls.other = SYS.new_user()

    def count(self, user):
        return int(SYS.psql("SELECT count(*) FROM tasks WHERE user_id = %d"
                            % user["id"])[0])

    def test_create_same_key_other_payload_is_422(self):
        tok = self.user["token"]
        key = ts.unique("create-key")
        first = {"title": "first secret title " + ts.unique("t"),
                 "description": "first description", "priority": "high"}
        r1 = keyed("POST", "/tasks", first, key, tok)
        self.assertEqual(r1.status, 201, r1)
        tid = r1.json["task"]["id"]
        n = self.count(self.user)

        r2 = keyed("POST", "/tasks", first, key, tok)
        self.assertEqual(r2.status, 201, r2)
        self.assertEqual(r2.json["task"]["id"], tid)

        for other in ({"title": "another title"},
                      dict(first, priority="low"),
                      dict(first, description="changed"),
                      {"title": first["title"]}):
            r = keyed("POST", "/tasks", other, key, tok)
            expect_422(self, r, first["title"], "first description")
        self.assertEqual(self.count(self.user), n)

        # Key order and spacing of the JSON do not matter: the digest is
        # over the request message, not the bytes of the body.
        raw = ('{ "priority":"high", "description":"first description",'
               '  "title": "%s" }' % first["title"]).encode()
        r3 = keyed("POST", "/tasks", raw, key, tok)
        self.assertEqual(r3.status, 201, r3)
        self.assertEqual(r3.json["task"]["id"], tid)

        # Keys belong to a user: another user's same key is a new task.
        r4 = keyed("POST", "/tasks", {"title": "another title"}, key,
                   self.other["token"])
        self.assertEqual(r4.status, 201, r4)
        self.assertNotEqual(r4.json["task"]["id"], tid)

        # Unkeyed digest for tasks: 32 bytes stored with the key.
        fp = stored_fingerprint("CreateTask", self.user["id"], key)
        self.assertRegex(fp, r"^[0-9a-f]{64}$")

    def test_create_key_without_fingerprint_still_replays(self):
        tok = self.user["token"]
        key = ts.unique("create-legacy")
        r1 = keyed("POST", "/tasks", {"title": "legacy key"}, key, tok)
        self.assertEqual(r1.status, 201, r1)
        SYS.psql("UPDATE idempotency_keys SET fingerprint = NULL WHERE "
                 "method = 'CreateTask' AND key = '%s'" % key)
        r2 = keyed("POST", "/tasks", {"title": "another body"}, key, tok)
        self.assertEqual(r2.status, 201, r2)
        self.assertEqual(r2.json["task"]["id"], r1.json["task"]["id"])
        self.assertEqual(r2.json["task"]["title"], "legacy key")

    def test_keyed_delete(self):
        tok = self.user["token"]
        a = SYS.request("POST", "/tasks", {"title": "delete me"}, token=tok)
        b = SYS.request("POST", "/tasks", {"title": "keep me"}, token=tok)
        self.assertEqual((a.status, b.status), (201, 201))
        aid, bid = a.json["task"]["id"], b.json["task"]["id"]
        key = ts.unique("delete-key")

        r1 = keyed("DELETE", "/tasks/%d" % aid, None, key, tok)
        self.assertEqual(r1.status, 200, r1)
        r2 = keyed("DELETE", "/tasks/%d" % aid, None, key, tok)
        self.assertEqual(r2.status, 200, r2)  # a retry: the first result

        # The same key for another task: refused, and b stays.
        r3 = keyed("DELETE", "/tasks/%d" % bid, None, key, tok)
        expect_422(self, r3, str(aid))
        self.assertEqual(SYS.request("GET", "/tasks/%d" % bid,
                                     token=tok).status, 200)
        # Without a key, or with a fresh one, b deletes as always.
        r4 = keyed("DELETE", "/tasks/%d" % bid, None, ts.unique("d2"), tok)
        self.assertEqual(r4.status, 200, r4)


if __name__ == "__main__":
    unittest.main(verbosity=2)
