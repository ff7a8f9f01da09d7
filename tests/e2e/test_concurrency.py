"""e2e.concurrency: parallel clients against one system. 50 simultaneous
creates by one user all land exactly once; 20 simultaneous registrations of
one username give exactly one 201 and nineteen 409."""

import os
import sys
import threading
import unittest
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taskapi_system as ts  # noqa: E402

SYS = None


def setUpModule():
    global SYS
    # Twenty registrations queue on HASH_CONCURRENCY Argon2id hashes; under
    # ASan on a busy machine the last ones passed the default 5 s RPC
    # deadline (504). What is tested is the race, not the latency.
    SYS = ts.System(env_edge={"RPC_TIMEOUT_MS": "30000"}).start()


def tearDownModule():
    if SYS:
        SYS.stop_checked()


def parallel(n, fn):
    """Runs fn(i) for i in range(n) on n threads released at once."""
    gate = threading.Barrier(n)

    def run(i):
        gate.wait()
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as ex:
        return list(ex.map(run, range(n)))


class Concurrency(unittest.TestCase):
    def test_parallel_creates(self):
        u = SYS.new_user()
        results = parallel(50, lambda i: SYS.request(
            "POST", "/tasks", {"title": "parallel %d" % i}, token=u["token"],
            timeout=60))
        for r in results:
            self.assertEqual(r.status, 201, r)
            ts.check_task(self, r.json["task"], u["id"])
        ids = [r.json["task"]["id"] for r in results]
        self.assertEqual(len(set(ids)), 50)
        titles = sorted(r.json["task"]["title"] for r in results)
        self.assertEqual(titles, sorted("parallel %d" % i for i in range(50)))
        r = SYS.request("GET", "/tasks", token=u["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["count"], 50)
        self.assertEqual(sorted(t["id"] for t in r.json["tasks"]), sorted(ids))
        self.assertEqual(ts.psql("SELECT count(*) FROM tasks WHERE user_id = %d"
                                 % u["id"]), ["50"])

    def test_parallel_reads_and_writes(self):
        u = SYS.new_user()
        t = SYS.request("POST", "/tasks", {"title": "shared"},
                        token=u["token"]).json["task"]

        def work(i):
            if i % 3 == 0:
                return SYS.request("PUT", "/tasks/%d" % t["id"],
                                   {"priority": ts.PRIORITIES[(i // 3) % 3]},
                                   token=u["token"], timeout=60)
            if i % 3 == 1:
                return SYS.request("GET", "/tasks/%d" % t["id"],
                                   token=u["token"], timeout=60)
            return SYS.request("GET", "/tasks", token=u["token"], timeout=60)

        for r in parallel(30, work):
            self.assertEqual(r.status, 200, r)
        self.assertEqual(SYS.request("GET", "/health").status, 200)

    def test_parallel_same_username(self):
        name = ts.unique("race")
        results = parallel(20, lambda i: SYS.request(
            "POST", "/auth/register",
            {"username": name, "email": "%s-%d@example.com" % (name, i),
             "password": "race-password-%d" % i}, timeout=60))
        codes = sorted(r.status for r in results)
        self.assertEqual(codes, [201] + [409] * 19, results)
        for r in results:
            if r.status == 409:
                ts.check_error(self, r, 409)
        self.assertEqual(ts.psql("SELECT count(*) FROM users WHERE username = "
                                 "'%s'" % name), ["1"])
        winner = [i for i, r in enumerate(results) if r.status == 201][0]
        r, tok = SYS.login(name, "race-password-%d" % winner)
        self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    ts.run_tests()
