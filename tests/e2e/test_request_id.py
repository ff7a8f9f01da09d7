"""e2e.request_id: X-Request-Id is echoed (or generated when absent) and the
same id is in the log lines of the edge and of the worker that served the
request; logs stay one JSON object per line whatever the client sends."""

import json
import os
import sys
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taskapi_system as ts  # noqa: E402

SYS = None
USER = None


def setUpModule():
    global SYS, USER
    # The workers' per-call line (rpc_call) is written at debug only for
    # a fast call that succeeded (README "Logs"); this module follows the
    # id through it, so the workers log at debug here.
    SYS = ts.System(env_auth={"LOG_LEVEL": "debug"},
                    env_task={"LOG_LEVEL": "debug"}).start()
    USER = SYS.new_user()


def tearDownModule():
    if SYS:
        SYS.stop_checked()


def rid():
    return "e2e-" + uuid.uuid4().hex


def has_rid(value):
    return lambda rec: rec.get("request_id") == value


class Echo(unittest.TestCase):
    def test_sent_value_echoed_and_logged(self):
        cases = [
            ("POST", "/auth/login", {"username": USER["username"],
                                     "password": USER["password"]},
             None, 200, "auth-svc"),
            ("POST", "/auth/validate", None, USER["token"], 200, "auth-svc"),
            ("POST", "/tasks", {"title": "rid"}, USER["token"], 201,
             "task-svc"),
            ("GET", "/tasks", None, USER["token"], 200, "task-svc"),
            ("GET", "/tasks/health", None, None, 200, "task-svc"),
            ("POST", "/tasks", {"title": ""}, USER["token"], 400,
             "task-svc"),
        ]
        for method, path, body, tok, status, worker in cases:
            with self.subTest(route=method + " " + path, status=status):
                value = rid()
                r = SYS.request(method, path, body, token=tok,
                                headers={"X-Request-Id": value})
                self.assertEqual(r.status, status, r)
                self.assertEqual(r.headers.get("X-Request-Id"), value, r)
                for name in ("edge-api", worker):
                    self.assertIsNotNone(
                        SYS.wait_log(name, has_rid(value)),
                        "request id %s not in %s's log\n%s"
                        % (value, name, SYS.log_tails(10)))

    def test_edge_only_answers_carry_it(self):
        for method, path, status in (("GET", "/nope", 404),
                                     ("DELETE", "/tasks", 405),
                                     ("GET", "/tasks", 401)):
            with self.subTest(route=method + " " + path):
                value = rid()
                r = SYS.request(method, path, headers={"X-Request-Id": value})
                self.assertEqual(r.status, status, r)
                self.assertEqual(r.headers.get("X-Request-Id"), value, r)
                self.assertIsNotNone(SYS.wait_log("edge-api", has_rid(value)))

    def test_access_line(self):
        value = rid()
        r = SYS.request("POST", "/tasks", {"title": "access"},
                        token=USER["token"], headers={"X-Request-Id": value})
        self.assertEqual(r.status, 201, r)
        rec = SYS.wait_log("edge-api", lambda x: x.get("request_id") == value
                           and "status" in x)
        self.assertIsNotNone(rec, "no access line for %s" % value)
        self.assertEqual(rec.get("method"), "POST", rec)
        self.assertEqual(rec.get("status"), 201, rec)
        self.assertIn("latency_ms", rec)
        self.assertEqual(rec.get("user_id"), USER["id"], rec)
        for k in ("time", "level", "service", "event", "msg"):
            self.assertIn(k, rec)
        self.assertEqual(list(rec)[:5], ["time", "level", "service",
                                         "event", "msg"], rec)


class Generated(unittest.TestCase):
    def test_generated_when_absent(self):
        seen = set()
        for _ in range(5):
            r = SYS.request("POST", "/tasks", {"title": "gen"},
                            token=USER["token"])
            self.assertEqual(r.status, 201, r)
            value = r.headers.get("X-Request-Id")
            self.assertTrue(value, r)
            self.assertNotIn(value, seen)
            seen.add(value)
            self.assertIsNotNone(SYS.wait_log("edge-api", has_rid(value)))
            self.assertIsNotNone(SYS.wait_log("task-svc", has_rid(value)))

    def test_hostile_values_keep_logs_json(self):
        for value in ('a"b\\c', "x" * 4096, "\u00e9t\u00e9".encode().decode(
                "latin-1"), "{\"level\":\"error\"}", "a b\tc"):
            with self.subTest(value=value[:20]):
                r = SYS.request("GET", "/tasks", token=USER["token"],
                                headers={"X-Request-Id": value})
                self.assertEqual(r.status, 200, r)
                self.assertTrue(r.headers.get("X-Request-Id"), r)
        for name in ts.BINARIES:
            for i, line in enumerate(SYS.log_text(name).rstrip("\n").split("\n")):
                with self.subTest(log=name, line=i):
                    try:
                        obj = json.loads(line)
                    except ValueError:
                        self.fail("%s log line %d is not JSON: %r"
                                  % (name, i + 1, line[:300]))
                    self.assertIsInstance(obj, dict)


if __name__ == "__main__":
    ts.run_tests()
