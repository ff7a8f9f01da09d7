"""Workers authenticate their caller (docs/caller-auth.md).

Against the three real processes (tests/e2e's harness) and a real
PostgreSQL, raw nng requests (contract_wire_fixtures --call) go straight to
each worker's port, for every method of AuthService and TaskService (walked
from the service descriptors, so a new method must be added here), each with
a forged principal (the victim's) and:

  (a) no caller_mac at all,
  (b) a caller_mac under a wrong key,
  (c) a genuine caller_mac of another envelope (the attacker's own principal)
      moved onto the forged one,
  (d) a genuinely signed envelope with the victim's principal appended after
      the MAC (protobuf merges a repeated message field),

and each is answered UNAUTHENTICATED with the fixed message, no payload, and
leaves every table untouched (a forged CreateTask creates nothing, a forged
DeleteTask deletes nothing). The same calls signed with the system's key
work. Health/Check stays open (container health checks); a worker refuses to
start without a key; a worker with RPC_AUTH_KEY_PREVIOUS accepts the old key;
an edge whose key the workers refuse answers 500 and logs an error; workers
in RPC_AUTH=transition serve an edge that does not sign yet.
"""

import hashlib
import os
import secrets
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "contract"))
os.environ.setdefault("TA_OPENAPI_VALIDATE", "0")

import protolib  # noqa: E402

protolib.require_protobuf()

import rpc_auth  # noqa: E402
import taskapi_system as ts  # noqa: E402

UNAUTHENTICATED = 16
MESSAGE = "caller not authenticated"
WRONG_KEY = "an-attacker-guess-of-the-internal-key-0123456789"

SYS = None
C = None
TMP = None


def setUpModule():
    global SYS, C, TMP
    TMP = tempfile.TemporaryDirectory()
    C = protolib.compile_python(
        os.path.join(protolib.source_dir(), "proto"), TMP.name)
    # Debug: the workers' rpc_call line of every call (info has only the
    # failed and slow ones), so the refused calls' lines can be checked.
    SYS = ts.System(env_auth={"LOG_LEVEL": "debug"},
                    env_task={"LOG_LEVEL": "debug"})
    SYS.start()


def tearDownModule():
    if SYS:
        SYS.stop_checked()
    if TMP:
        TMP.cleanup()


def service(name):
    from google.protobuf import descriptor_pool
    return descriptor_pool.Default().FindServiceByName(name)


def raw_call(url, data):
    r = subprocess.run([protolib.wire_tool(), "--call", url], input=data,
                       capture_output=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError("no reply from %s: %s" % (url, r.stderr))
    return C["ReplyEnvelope"].FromString(r.stdout)


def envelope(method, request, principal):
    env = C["RequestEnvelope"](method=method, request_id=ts.unique("fc"),
                               payload=request.SerializeToString())
    env.deadline.FromSeconds(int(time.time()) + 30)
    if principal is not None:
        env.principal.CopyFrom(principal)
    return env.SerializeToString()


def principal_of(user):
    return C["Principal"](user_id=user["id"], username=user["username"],
                          email=user["email"], role="user")


def db_snapshot(users, newcomer):
    """A digest of every row a forged call on behalf of users (ids and
    names) or registering newcomer could touch. Scoped: the other suites
    share the database and write to it meanwhile."""
    ids = ",".join(str(u["id"]) for u in users)
    names = [u["username"] for u in users] + [newcomer]
    keys = ",".join("'%s'" % hashlib.blake2b(n.encode(), digest_size=32)
                    .hexdigest() for n in names)
    quoted = ",".join("'%s'" % n for n in names)
    queries = {
        "tasks": "SELECT * FROM tasks WHERE user_id IN (%s)" % ids,
        "users": "SELECT * FROM users WHERE id IN (%s) OR username IN (%s)"
                 % (ids, quoted),
        "idempotency_keys": "SELECT * FROM idempotency_keys WHERE user_id "
                            "IN (%s)" % ids,
        "login_failures": "SELECT * FROM login_failures WHERE username_key "
                          "IN (%s)" % keys,
    }
    return {t: SYS.psql("SELECT count(*) || ':' || coalesce(md5(string_agg("
                        "x::text, ',' ORDER BY x::text)), '') FROM (%s) x"
                        % q)[0] for t, q in queries.items()}


class ForgedCaller(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.victim = SYS.new_user()
        cls.attacker = SYS.new_user()
        r = SYS.request("POST", "/tasks", {"title": "victim's secret"},
                        token=cls.victim["token"])
        assert r.status == 201, r
        cls.task_id = r.json["task"]["id"]
        cls.newcomer = ts.unique("fc")
        r = SYS.request("POST", "/auth/login",
                        {"username": cls.victim["username"],
                         "password": cls.victim["password"]})
        assert r.status == 200, r
        cls.victim_refresh = r.json["refresh_token"]

    def requests(self):
        """A valid request per method (name -> message), as the edge would
        send them for the victim."""
        v = self.victim
        upd = C["UpdateTaskRequest"](id=self.task_id, title="forged title")
        upd.update_mask.paths.append("title")
        return {
            "/taskapi.v1.TaskService/CreateTask":
                C["CreateTaskRequest"](title="forged task"),
            "/taskapi.v1.TaskService/ListTasks": C["ListTasksRequest"](),
            "/taskapi.v1.TaskService/GetTask":
                C["GetTaskRequest"](id=self.task_id),
            "/taskapi.v1.TaskService/UpdateTask": upd,
            "/taskapi.v1.TaskService/DeleteTask":
                C["DeleteTaskRequest"](id=self.task_id),
            "/taskapi.v1.AuthService/RegisterUser":
                C["RegisterRequest"](username=self.newcomer,
                                     email=self.newcomer + "@example.test",
                                     password="Forged-pass-12345"),
            "/taskapi.v1.AuthService/Login":
                C["LoginRequest"](username=v["username"],
                                  password=v["password"]),
            "/taskapi.v1.AuthService/ValidateToken":
                C["ValidateTokenRequest"](token=v["token"]),
            "/taskapi.v1.AuthService/RefreshSession":
                C["RefreshSessionRequest"](
                    refresh_token=self.victim_refresh),
            "/taskapi.v1.AuthService/Logout":
                C["LogoutRequest"](token=v["token"],
                                   refresh_token=self.victim_refresh),
            "/taskapi.v1.AuthService/GetMe":
                C["GetMeRequest"](token=v["token"]),
            "/taskapi.v1.AuthService/ChangePassword":
                C["ChangePasswordRequest"](
                    token=v["token"], current_password=v["password"],
                    new_password="Forged-pass-67890"),
            "/taskapi.v1.AuthService/ListRevocations":
                C["ListRevocationsRequest"](),
        }

    def methods(self):
        """(worker url, full method name, request) for every method of both
        services, in descriptor order."""
        reqs = self.requests()
        out = []
        for svc, url in (("taskapi.v1.AuthService", SYS.auth_url),
                         ("taskapi.v1.TaskService", SYS.task_url)):
            for m in service(svc).methods:
                name = "/%s/%s" % (svc, m.name)
                self.assertIn(name, reqs, "%s: declared but not covered by "
                              "this test" % name)
                self.assertEqual(reqs[name].DESCRIPTOR.full_name,
                                 m.input_type.full_name)
                out.append((url, name, reqs[name]))
        self.assertEqual(len(out), 13)
        return out

    def assert_refused(self, label, url, data):
        rep = raw_call(url, data)
        self.assertEqual((rep.code, rep.message, rep.payload),
                         (UNAUTHENTICATED, MESSAGE, b""), label)

    def test_1_forged_callers_refused_and_db_untouched(self):
        victim = principal_of(self.victim)
        attacker = principal_of(self.attacker)
        scope = ([self.victim, self.attacker], self.newcomer)
        before = db_snapshot(*scope)
        self.assertTrue(before["tasks"].startswith("1:"), before)
        n = 0
        for url, name, rq in self.methods():
            forged = envelope(name, rq, victim)
            # (a) no proof
            self.assert_refused("%s: no caller_mac" % name, url, forged)
            # (b) a proof under a wrong key
            self.assert_refused("%s: wrong key" % name, url,
                                rpc_auth.sign(forged, WRONG_KEY))
            # (c) a genuine proof of the attacker's own envelope, moved
            own = rpc_auth.sign(envelope(name, rq, attacker),
                                SYS.rpc_auth_key)
            self.assert_refused("%s: MAC of another envelope" % name, url,
                                forged + own[-34:])
            # (d) the victim's principal appended after a genuine MAC
            tail = C["RequestEnvelope"](principal=victim).SerializeToString()
            self.assertEqual(C["RequestEnvelope"].FromString(
                own + tail).principal.user_id, self.victim["id"])
            self.assert_refused("%s: field after the MAC" % name, url,
                                own + tail)
            n += 4
        self.assertEqual(n, 52)
        self.assertEqual(db_snapshot(*scope), before,
                         "a refused call changed the database")
        # Every refusal was logged, and no log holds the key.
        for worker in ("auth-svc", "task-svc"):
            recs = [r for r in SYS.log_records(worker)
                    if r.get("event") == "rpc_caller_unauthenticated"]
            self.assertEqual(len(recs), 32 if worker == "auth-svc" else 20)
            # The forged principal is named nowhere, access lines included.
            refused = [r for r in SYS.log_records(worker)
                       if r.get("event") == "rpc_call"
                       and r.get("code") == "UNAUTHENTICATED"]
            self.assertEqual(len(refused), len(recs))
            self.assertTrue(all("user_id" not in r for r in recs + refused))
        for name in ("auth-svc", "task-svc", "edge-api"):
            self.assertNotIn(SYS.rpc_auth_key, SYS.log_text(name))

    def test_2_signed_calls_work(self):
        victim = principal_of(self.victim)
        for url, name, rq in self.methods():
            rep = raw_call(url, rpc_auth.sign(envelope(name, rq, victim),
                                              SYS.rpc_auth_key))
            self.assertEqual(rep.code, 0, "%s: %s" % (name, rep.message))
            if name.endswith("/GetTask"):
                task = C["GetTaskReply"].FromString(rep.payload).task
                self.assertEqual(task.title, "victim's secret")
        # What the signed calls did is in the database.
        self.assertEqual(SYS.psql("SELECT count(*) FROM tasks WHERE id = %d"
                                  % self.task_id), ["0"])
        self.assertEqual(SYS.psql("SELECT count(*) FROM users WHERE "
                                  "username = '%s'" % self.newcomer), ["1"])
        # And the edge signs: the public API works end to end.
        r = SYS.request("GET", "/tasks", token=self.attacker["token"])
        self.assertEqual(r.status, 200, r)

    def test_3_health_stays_open(self):
        rq = C["HealthCheckRequest"]()
        for url in (SYS.auth_url, SYS.task_url):
            rep = raw_call(url, envelope("/taskapi.v1.Health/Check", rq,
                                         None))
            self.assertEqual(rep.code, 0, rep.message)
        for worker in ("auth-svc", "task-svc"):
            for mode in ("--health-check", "--ready-check"):
                # Any key will do: Health needs none, but the table does.
                env = dict(os.environ, RPC_LISTEN=getattr(
                    SYS, worker.split("-")[0] + "_url"),
                    JWT_SECRET=SYS.jwt_secret, RPC_AUTH_KEY="h" * 40)
                r = subprocess.run([os.path.join(SYS.bindir, worker), mode],
                                   env=env, capture_output=True, timeout=30)
                self.assertEqual(r.returncode, 0, (worker, mode, r.stderr))


class StartupRules(unittest.TestCase):
    def run_worker(self, **env):
        e = dict(os.environ, RPC_LISTEN="tcp://127.0.0.1:%d"
                 % ts.free_ports(1)[0], JWT_SECRET="j" * 40, **env)
        e = {k: v for k, v in e.items() if v is not None}
        return subprocess.run([os.path.join(SYS.bindir, "task-svc")],
                              env=e, capture_output=True, timeout=30)

    def test_refuses_to_start_without_a_good_key(self):
        short = "k" * 31
        for label, env in (("missing", {"RPC_AUTH_KEY": None}),
                           ("empty", {"RPC_AUTH_KEY": ""}),
                           ("short", {"RPC_AUTH_KEY": short}),
                           ("short previous",
                            {"RPC_AUTH_KEY": "k" * 32,
                             "RPC_AUTH_KEY_PREVIOUS": short}),
                           ("bad mode", {"RPC_AUTH": "maybe"})):
            r = self.run_worker(**env)
            out = (r.stdout + r.stderr).decode()
            self.assertEqual(r.returncode, 2, (label, out))
            self.assertIn("RPC_AUTH", out, label)
            self.assertNotIn(short, out, label)

    def test_edge_refuses_the_jwt_secret_as_key(self):
        same = secrets.token_hex(32)  # strong: only the sameness is wrong
        e = dict(os.environ, PORT=str(ts.free_ports(1)[0]),
                 JWT_SECRET=same, RPC_AUTH_KEY=same)
        r = subprocess.run([os.path.join(SYS.bindir, "edge-api")], env=e,
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("RPC_AUTH_KEY must differ from JWT_SECRET",
                      r.stdout.decode())


class Rotation(unittest.TestCase):
    """Workers with RPC_AUTH_KEY_PREVIOUS accept the old key while edges
    still sign with it; a key two rotations old is refused."""

    def test_previous_key_accepted(self):
        old, new = "old-" + "o" * 40, "new-" + "n" * 40
        s = ts.System(env={"RPC_AUTH_KEY": new},
                      env_auth={"RPC_AUTH_KEY_PREVIOUS": old},
                      env_task={"RPC_AUTH_KEY_PREVIOUS": old})
        s.start()
        try:
            u = s.new_user()       # the edge signs with the new key
            who = principal_of(u)
            rq = C["ListTasksRequest"]()
            data = envelope("/taskapi.v1.TaskService/ListTasks", rq, who)
            for key, code in ((old, 0), (new, 0),
                              ("older-" + "x" * 40, UNAUTHENTICATED)):
                rep = raw_call(s.task_url, rpc_auth.sign(data, key))
                self.assertEqual(rep.code, code, key[:5])
        finally:
            s.stop_checked()


class KeyMismatch(unittest.TestCase):
    """An edge whose key the workers refuse is a deployment fault: clients
    get 500, not a 401 that would send them to log in again, and the edge
    logs an error naming the setting."""

    def test_mismatch_is_500_and_logged(self):
        s = ts.System(env_edge={"RPC_AUTH_KEY": "edge-" + "e" * 40})
        s.start()
        try:
            u = ts.unique("km")
            r = s.request("POST", "/auth/register", {
                "username": u, "email": u + "@example.test",
                "password": "Mismatch-pass-123"})
            self.assertEqual(r.status, 500, r)
            self.assertEqual(r.json.get("error"), "Internal Server Error")
            self.assertNotIn("caller", r.json.get("message", ""))
            self.assertTrue(any(
                x.get("event") == "rpc_caller_rejected"
                and x.get("level") == "error"
                for x in s.log_records("edge-api")))
        finally:
            s.stop_checked()


class Transition(unittest.TestCase):
    """The rollout that introduces caller authentication: edges of the
    previous release do not sign (played here by RPC_AUTH=off on the edge)
    while the workers already run with RPC_AUTH=transition."""

    def test_old_edge_served_bad_mac_refused(self):
        s = ts.System(env_edge={"RPC_AUTH": "off"},
                      env_auth={"RPC_AUTH": "transition"},
                      env_task={"RPC_AUTH": "transition"})
        s.start()
        try:
            u = s.new_user()       # register and login: unsigned, served
            r = s.request("POST", "/tasks", {"title": "during rollout"},
                          token=u["token"])
            self.assertEqual(r.status, 201, r)
            data = envelope("/taskapi.v1.TaskService/ListTasks",
                            C["ListTasksRequest"](), principal_of(u))
            rep = raw_call(s.task_url, rpc_auth.sign(data, WRONG_KEY))
            self.assertEqual((rep.code, rep.message),
                             (UNAUTHENTICATED, MESSAGE))
            self.assertTrue(any(
                r.get("event") == "rpc_caller_unsigned"
                for r in s.log_records("task-svc")))
        finally:
            s.stop_checked()


if __name__ == "__main__":
    unittest.main(verbosity=2)
