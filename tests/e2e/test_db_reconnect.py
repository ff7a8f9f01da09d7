"""e2e.db_reconnect: PostgreSQL drops every connection of a worker (as on a
database restart or failover: pg_terminate_backend on exactly that worker's
backends). The next requests must be served: the worker reconnects and
prepares its statements again, and no client sees a 500."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taskapi_system as ts  # noqa: E402

SYS = None
USER = None


def setUpModule():
    global SYS, USER
    # two connections per worker, so a few requests reach all of them
    SYS = ts.System(env={"DB_POOL_SIZE": "2"}).start()
    USER = SYS.new_user()


def tearDownModule():
    if SYS:
        SYS.stop_checked()


class Reconnect(unittest.TestCase):
    def exercise(self, calls, rounds=12):
        statuses = []
        for i in range(rounds):
            for method, path, body, token, ok in calls:
                r = SYS.request(method, path, body, token=token, timeout=20)
                statuses.append(r.status)
                self.assertEqual(r.status, ok, "round %d %s %s: %r\n%s"
                                 % (i, method, path, r, SYS.log_tails(15)))
        return statuses

    def test_task_svc(self):
        t = SYS.request("POST", "/tasks", {"title": "before"},
                        token=USER["token"]).json["task"]
        for attempt in range(2):
            n = SYS.kill_db_connections("task-svc")
            self.assertGreaterEqual(n, 1, "no backend of task-svc found")
            time.sleep(0.2)
            self.exercise([
                ("GET", "/tasks/%d" % t["id"], None, USER["token"], 200),
                ("GET", "/tasks", None, USER["token"], 200),
                ("PUT", "/tasks/%d" % t["id"], {"status": "completed"},
                 USER["token"], 200),
                ("POST", "/tasks", {"title": "after %d" % attempt},
                 USER["token"], 201),
                ("GET", "/tasks/health", None, None, 200)], rounds=4)

    def test_auth_svc(self):
        for attempt in range(2):
            n = SYS.kill_db_connections("auth-svc")
            self.assertGreaterEqual(n, 1, "no backend of auth-svc found")
            time.sleep(0.2)
            self.exercise([
                ("POST", "/auth/login", {"username": USER["username"],
                                         "password": USER["password"]},
                 None, 200),
                ("GET", "/auth/health", None, None, 200),
                ("POST", "/auth/validate", None, USER["token"], 200)],
                rounds=4)
        u = SYS.register_user()
        self.assertTrue(u["id"])


if __name__ == "__main__":
    ts.run_tests()
