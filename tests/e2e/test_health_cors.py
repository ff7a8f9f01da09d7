"""e2e.health_cors: the health routes, CORS for a configured origin, and what
the edge answers once task-svc is gone (a dedicated system whose task-svc
gets SIGTERM)."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taskapi_system as ts  # noqa: E402

SYS = None
ALLOWED = "http://app.example"
EVIL = "http://evil.example"


def setUpModule():
    global SYS
    SYS = ts.System(env_edge={"CORS_ALLOWED_ORIGINS": ALLOWED}).start()


def tearDownModule():
    if SYS:
        SYS.stop_checked()


def header_list(v):
    return {x.strip().lower() for x in (v or "").split(",") if x.strip()}


class Health(unittest.TestCase):
    def test_edge(self):
        r = SYS.request("GET", "/health")
        self.assertEqual(r.status, 200, r)
        ts.check_json_type(self, r)
        self.assertIsInstance(r.json, dict, r)

    def test_workers(self):
        for path, service in (("/auth/health", "auth-service"),
                              ("/tasks/health", "task-service")):
            with self.subTest(path=path):
                r = SYS.request("GET", path)
                self.assertEqual(r.status, 200, r)
                ts.check_json_type(self, r)
                self.assertEqual(r.json, {"status": "healthy",
                                          "service": service})

    def test_head_or_get_only(self):
        r = SYS.request("POST", "/tasks/health", {})
        ts.check_error(self, r, 405)


class Cors(unittest.TestCase):
    def preflight(self, origin, path="/tasks", method="POST"):
        return SYS.request("OPTIONS", path, headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "Content-Type, Authorization"})

    def test_preflight_allowed(self):
        for path, method in (("/tasks", "POST"), ("/tasks", "GET"),
                             ("/tasks/1", "PUT"), ("/tasks/1", "DELETE"),
                             ("/tasks/1", "PATCH"),
                             ("/auth/login", "POST")):
            with self.subTest(path=path, method=method):
                r = self.preflight(ALLOWED, path, method)
                self.assertEqual(r.status, 204, r)
                self.assertEqual(r.raw, b"")
                h = r.headers
                self.assertEqual(h.get("Access-Control-Allow-Origin"),
                                 ALLOWED, r)
                self.assertEqual(h.get("Access-Control-Allow-Credentials"),
                                 "true", r)
                self.assertTrue({"get", "post", "put", "patch", "delete",
                                 "options"}
                                <= header_list(
                                    h.get("Access-Control-Allow-Methods")), r)
                self.assertTrue({"content-type", "authorization",
                                 "if-match", "if-none-match"}
                                <= header_list(
                                    h.get("Access-Control-Allow-Headers")), r)

    def test_vary_origin(self):
        # The answer depends on Origin, so caches must key on it.
        r = self.preflight(ALLOWED)
        self.assertIn("origin", header_list(r.headers.get("Vary")), r)
        u = SYS.new_user()
        r = SYS.request("GET", "/tasks", token=u["token"],
                        headers={"Origin": ALLOWED})
        self.assertIn("origin", header_list(r.headers.get("Vary")), r)

    def test_preflight_other_origin(self):
        for origin in (EVIL, "http://app.example.evil", "null",
                       "https://app.example"):
            with self.subTest(origin=origin):
                r = self.preflight(origin)
                self.assertLess(r.status, 500, r)
                self.assertIsNone(
                    r.headers.get("Access-Control-Allow-Origin"), r)
                self.assertIsNone(
                    r.headers.get("Access-Control-Allow-Credentials"), r)

    def test_simple_request(self):
        u = SYS.new_user()
        r = SYS.request("GET", "/tasks", token=u["token"],
                        headers={"Origin": ALLOWED})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("Access-Control-Allow-Origin"),
                         ALLOWED, r)
        self.assertEqual(r.headers.get("Access-Control-Allow-Credentials"),
                         "true", r)
        # a page may read a task's ETag to send it back in If-Match
        self.assertIn("etag", header_list(
            r.headers.get("Access-Control-Expose-Headers")), r)
        # errors carry it as well, so a browser can read them
        r = SYS.request("GET", "/tasks", headers={"Origin": ALLOWED})
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.headers.get("Access-Control-Allow-Origin"),
                         ALLOWED, r)
        r = SYS.request("GET", "/tasks", token=u["token"],
                        headers={"Origin": EVIL})
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.headers.get("Access-Control-Allow-Origin"), r)
        r = SYS.request("GET", "/tasks", token=u["token"])
        self.assertIsNone(r.headers.get("Access-Control-Allow-Origin"), r)


class TaskServiceDown(unittest.TestCase):
    """A dedicated system: task-svc is stopped; the rest keeps answering."""

    def test_task_svc_stopped(self):
        with ts.System() as s:
            u = s.new_user()
            r = s.request("POST", "/tasks", {"title": "before"},
                          token=u["token"])
            self.assertEqual(r.status, 201, r)
            tid = r.json["task"]["id"]
            code = s.stop_process("task-svc")
            self.assertEqual(code, 0, "task-svc exit on SIGTERM\n"
                             + s.log_tails())
            t0 = time.monotonic()
            r = s.request("GET", "/tasks/health", timeout=20)
            ts.check_error(self, r, 503)
            self.assertLess(time.monotonic() - t0, 10.0,
                            "503 must come promptly, not after a hang")
            r = s.request("GET", "/health")
            self.assertEqual(r.status, 200, r)
            r = s.request("GET", "/auth/health")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json, {"status": "healthy",
                                      "service": "auth-service"})
            for method, path, body in (
                    ("POST", "/tasks", {"title": "during"}),
                    ("GET", "/tasks", None),
                    ("GET", "/tasks/%d" % tid, None),
                    ("PUT", "/tasks/%d" % tid, {"title": "x"}),
                    ("DELETE", "/tasks/%d" % tid, None)):
                with self.subTest(route=method + " " + path):
                    r = s.request(method, path, body, token=u["token"],
                                  timeout=20)
                    ts.check_error(self, r, 503)
            # auth keeps working without task-svc
            r, tok = s.login(u["username"], u["password"])
            self.assertEqual(r.status, 200, r)
            r = s.request("POST", "/auth/validate", token=tok)
            self.assertEqual(r.status, 200, r)
            # no bad token slips through because the backend is down
            ts.check_error(self, s.request("GET", "/tasks"), 401,
                           message=ts.MSG_NO_TOKEN)
            self.assertEqual(ts.task_row(tid)["title"], "before")
            self.assertEqual(ts.psql("SELECT count(*) FROM tasks WHERE "
                                     "user_id = %d" % u["id"]), ["1"])
            codes = s.stop()
            self.assertEqual(codes["edge-api"], 0, s.log_tails())
            self.assertEqual(codes["auth-svc"], 0, s.log_tails())


class AuthServiceDown(unittest.TestCase):
    """A dedicated system: auth-svc is stopped. The edge verifies tokens
    itself, so the task routes keep working."""

    def test_auth_svc_stopped(self):
        with ts.System() as s:
            u = s.new_user()
            code = s.stop_process("auth-svc")
            self.assertEqual(code, 0, "auth-svc exit on SIGTERM\n"
                             + s.log_tails())
            t0 = time.monotonic()
            ts.check_error(self, s.request("GET", "/auth/health", timeout=20),
                           503)
            self.assertLess(time.monotonic() - t0, 10.0)
            for path, body in (("/auth/login", {"username": u["username"],
                                                "password": u["password"]}),
                               ("/auth/register",
                                {"username": ts.unique("down"),
                                 "email": ts.unique("m") + "@example.com",
                                 "password": "pw-down-1234"})):
                with self.subTest(path=path):
                    r = s.request("POST", path, body, timeout=20)
                    ts.check_error(self, r, 503)
            self.assertEqual(s.request("GET", "/health").status, 200)
            self.assertEqual(s.request("GET", "/tasks/health").status, 200)
            r = s.request("POST", "/tasks", {"title": "still works"},
                          token=u["token"])
            self.assertEqual(r.status, 201, r)
            r = s.request("GET", "/tasks", token=u["token"])
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["count"], 1)
            ts.check_error(self, s.request("GET", "/tasks", token="x.y.z"),
                           401, message=ts.MSG_INVALID)
            codes = s.stop()
            self.assertEqual(codes["edge-api"], 0, s.log_tails())
            self.assertEqual(codes["task-svc"], 0, s.log_tails())


if __name__ == "__main__":
    ts.run_tests()
