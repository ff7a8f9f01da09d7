"""identity.tokens: the token rules of RFC 8725 (docs/tokens.md) against the
running system. Every claim rule is tried with a token signed here, at
/auth/validate (auth-svc) and on GET /tasks (checked by the edge itself):
iss, aud and typ required and matched, exp with at most 30 s of leeway, iat
and nbf not in the future, no crit header, user_id an integer in
1..2^31-1. /auth/validate also refuses a deleted or renamed user. Rotation:
JWT_SECRET_PREVIOUS keeps the old key's tokens valid, and only while set.
A weak JWT_SECRET or JWT_SECRET_PREVIOUS stops edge-api and auth-svc at
start with a message naming the variable, never the value."""

import os
import secrets
import string
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "e2e"))
import taskapi_system as ts  # noqa: E402

SYS = None
USER = None
HS = {"alg": "HS256", "typ": "JWT"}


def setUpModule():
    global SYS, USER
    SYS = ts.System().start()
    USER = SYS.new_user()


def tearDownModule():
    if SYS:
        SYS.stop_checked()


def random_secret():
    return "".join(secrets.choice(string.ascii_letters + string.digits)
                   for _ in range(48))


def token(claims, header=None, secret=None, system=None):
    system = system or SYS
    return ts.jwt_encode(claims, system.jwt_secret if secret is None
                         else secret, header=header or HS)


def claims(user=None, drop=(), **over):
    c = SYS.claims_for(user or USER)
    for k in drop:
        c.pop(k)
    c.update(over)
    return c


class Both(unittest.TestCase):
    """Each token at /auth/validate and at GET /tasks."""

    def accepted(self, tok, system=None, label=""):
        system = system or SYS
        r = system.request("POST", "/auth/validate", token=tok)
        self.assertEqual(r.status, 200, "%s validate: %r" % (label, r))
        self.assertIs(r.json["valid"], True, r)
        r = system.request("GET", "/tasks", token=tok)
        self.assertEqual(r.status, 200, "%s GET /tasks: %r" % (label, r))

    def refused(self, tok, message=ts.MSG_INVALID, system=None):
        system = system or SYS
        for method, path in (("POST", "/auth/validate"), ("GET", "/tasks")):
            with self.subTest(route=method + " " + path):
                r = system.request(method, path, token=tok)
                ts.check_error(self, r, 401, message=message)


class Claims(Both):
    def test_control_forged_token_is_accepted(self):
        # Every refusal below differs from this token in one thing only.
        self.accepted(token(claims()))

    def test_issuer(self):
        self.refused(token(claims(iss="someone-else")))
        self.refused(token(claims(iss="TASKAPI")))
        self.refused(token(claims(iss=["taskapi"])))
        self.refused(token(claims(drop=("iss",))))

    def test_audience(self):
        self.refused(token(claims(aud="another-api")))
        self.refused(token(claims(aud=["another-api"])))
        self.refused(token(claims(aud=[])))
        self.refused(token(claims(aud=7)))
        self.refused(token(claims(drop=("aud",))))
        # RFC 7519: an array naming us among others is ours.
        self.accepted(token(claims(aud=["another-api", "taskapi"])))

    def test_missing_iss_and_aud_as_old_tokens_had_them(self):
        # The claim set tokens had before iss and aud were added.
        self.refused(token(claims(drop=("iss", "aud"))))

    def test_typ(self):
        self.refused(token(claims(), header={"alg": "HS256"}))
        self.refused(token(claims(), header={"alg": "HS256",
                                             "typ": "at+jwt"}))
        self.refused(token(claims(), header={"alg": "HS256",
                                             "typ": "secevent+jwt"}))

    def test_crit(self):
        self.refused(token(claims(), header=dict(HS, crit=["exp"], exp=1)))
        self.refused(token(claims(), header=dict(HS, crit=["b64"],
                                                 b64=False)))
        self.refused(token(claims(), header=dict(HS, crit=[])))

    def test_exp_leeway(self):
        now = int(time.time())
        # 20 s past exp: inside the 30 s of clock skew allowed.
        self.accepted(token(claims(iat=now - 100, exp=now - 20)))
        # 31 s and more past exp: expired.
        for late in (31, 40, 3600):
            with self.subTest(late=late):
                self.refused(token(claims(iat=now - 7200, exp=now - late)),
                             message=ts.MSG_EXPIRED)

    def test_exp_and_iat_required_integers(self):
        now = int(time.time())
        self.refused(token(claims(drop=("exp",))))
        self.refused(token(claims(drop=("iat",))))
        self.refused(token(claims(exp=str(now + 600))))
        self.refused(token(claims(exp=now + 600.5)))
        self.refused(token(claims(iat=float(now))))

    def test_iat_in_the_future(self):
        now = int(time.time())
        self.accepted(token(claims(iat=now + 10, exp=now + 600)))
        for ahead in (45, 3600):
            with self.subTest(ahead=ahead):
                self.refused(token(claims(iat=now + ahead,
                                          exp=now + ahead + 600)))

    def test_nbf(self):
        now = int(time.time())
        self.accepted(token(claims(nbf=now - 60)))
        self.accepted(token(claims(nbf=now + 10)))
        for ahead in (45, 3600):
            with self.subTest(ahead=ahead):
                self.refused(token(claims(nbf=now + ahead)))
        self.refused(token(claims(nbf=str(now))))
        self.refused(token(claims(nbf=None)))

    def test_user_id_range(self):
        for bad in (0, -1, 2 ** 31, 2 ** 53 + 1, 1.5, float(USER["id"]),
                    "2", str(USER["id"]), None, True, [USER["id"]]):
            with self.subTest(user_id=bad):
                self.refused(token(claims(user_id=bad)))
        self.refused(token(claims(drop=("user_id",))))

    def test_largest_id_passes_the_edge(self):
        # 2^31-1 can exist, so the edge lets it through; auth-svc finds
        # no such user. Before, 2^31 was valid:true at /auth/validate
        # and 401 at the edge; now both ends agree on every id.
        tok = token(claims(user_id=2 ** 31 - 1))
        r = SYS.request("GET", "/tasks", token=tok)
        self.assertEqual(r.status, 200, r)
        ts.check_error(self, SYS.request("POST", "/auth/validate", token=tok),
                       401, message=ts.MSG_INVALID)

    def test_username_required(self):
        self.refused(token(claims(drop=("username",))))
        self.refused(token(claims(username=5)))


class Users(Both):
    def test_deleted_user(self):
        u = SYS.new_user()
        tok = u["token"]
        self.accepted(tok)
        ts.psql("DELETE FROM users WHERE id = %d" % u["id"])
        ts.check_error(self, SYS.request("POST", "/auth/validate", token=tok),
                       401, message=ts.MSG_INVALID)
        # A forged token naming the gone user is refused the same way.
        ts.check_error(self, SYS.request("POST", "/auth/validate",
                                         token=SYS.forge(u)),
                       401, message=ts.MSG_INVALID)

    def test_renamed_user(self):
        u = SYS.new_user()
        tok = u["token"]
        self.accepted(tok)
        new = ts.unique("ren")
        ts.psql("UPDATE users SET username = '%s' WHERE id = %d"
                % (new, u["id"]))
        ts.check_error(self, SYS.request("POST", "/auth/validate", token=tok),
                       401, message=ts.MSG_INVALID)
        u2 = dict(u, username=new)
        r = SYS.request("POST", "/auth/validate", token=SYS.forge(u2))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["user"]["username"], new)
        self.assertEqual(r.json["user"]["user_id"], u["id"])

    def test_validate_answers_from_the_row(self):
        r = SYS.request("POST", "/auth/validate", token=USER["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["user"], {"user_id": USER["id"],
                                          "username": USER["username"],
                                          "email": USER["email"]})


class Rotation(Both):
    def test_previous_secret(self):
        old_secret = SYS.jwt_secret
        old_token = USER["token"]   # issued by SYS under old_secret
        new_secret = random_secret()
        rotated = ts.System(env={"JWT_SECRET": new_secret,
                                 "JWT_SECRET_PREVIOUS": old_secret})
        rotated.jwt_secret = new_secret
        rotated.start()
        try:
            # Tokens of the old key keep working while it is PREVIOUS.
            self.accepted(old_token, system=rotated, label="old token")
            self.accepted(token(claims(), secret=old_secret),
                          system=rotated, label="forged with old")
            # New tokens are signed with the new key only.
            r, tok = rotated.login(USER["username"], USER["password"])
            self.assertEqual(r.status, 200, r)
            self.assertTrue(ts.jwt_verify_hs256(tok, new_secret))
            self.assertFalse(ts.jwt_verify_hs256(tok, old_secret))
            self.accepted(tok, system=rotated, label="new token")
            # The old key's expired tokens are still called expired.
            now = int(time.time())
            self.refused(token(claims(iat=now - 7200, exp=now - 3600),
                               secret=old_secret),
                         message=ts.MSG_EXPIRED, system=rotated)
            # A third key is nobody's.
            self.refused(token(claims(), secret=random_secret()),
                         system=rotated)
            for name in ("auth-svc", "edge-api"):
                log = rotated.log_text(name)
                self.assertNotIn(old_secret, log, name)
                self.assertNotIn(new_secret, log, name)
        finally:
            rotated.stop_checked()
        done = ts.System(env={"JWT_SECRET": new_secret})
        done.jwt_secret = new_secret
        done.start()
        try:
            # Rotation over: the old key's tokens are refused.
            self.refused(old_token, system=done)
            self.refused(token(claims(), secret=old_secret), system=done)
            self.accepted(token(claims(), secret=new_secret), system=done)
        finally:
            done.stop_checked()


WEAK = (
    ("short", "0123456789abcdefABCDEF012345678"),        # 31 bytes
    ("one character", "k" * 64),
    ("few characters", "abcabcabcabcabcabcabcabcabcabcabcabc"),
    ("placeholder", "your-secret-key-your-secret-key-0123456789"),
    ("placeholder", "changeme-" + "0123456789abcdef" * 2),
)


class WeakSecret(unittest.TestCase):
    def run_refused(self, binary, env_over):
        port = ts.free_ports(1)[0]
        env = dict(os.environ, LOG_LEVEL="info", PORT=str(port),
                   RPC_LISTEN="tcp://127.0.0.1:%d" % port,
                   AUTH_RPC_URL="tcp://127.0.0.1:%d" % port,
                   TASK_RPC_URL="tcp://127.0.0.1:%d" % port,
                   RPC_AUTH_KEY=random_secret())
        env.pop("JWT_SECRET_PREVIOUS", None)
        env.update(env_over)
        p = subprocess.Popen([os.path.join(os.environ["TA_BIN_DIR"], binary)],
                             env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            out, _ = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            self.fail("%s kept running with a weak secret" % binary)
        return p.returncode, out.decode("utf-8", "replace")

    def test_weak_secret_stops_the_process(self):
        good = random_secret()
        for binary in ("edge-api", "auth-svc"):
            for kind, weak in WEAK:
                for var in ("JWT_SECRET", "JWT_SECRET_PREVIOUS"):
                    env = {"JWT_SECRET": weak}
                    if var == "JWT_SECRET_PREVIOUS":
                        env = {"JWT_SECRET": good, var: weak}
                    with self.subTest(binary=binary, kind=kind, var=var):
                        code, out = self.run_refused(binary, env)
                        self.assertNotEqual(code, 0, out)
                        self.assertIn(var, out)
                        self.assertIn('"event":"config_invalid"', out)
                        self.assertNotIn(weak, out)
                        self.assertNotIn(good, out)


if __name__ == "__main__":
    ts.run_tests()
