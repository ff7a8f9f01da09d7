"""The workers' two probes while every serving thread is busy. A task-svc
with one serving thread holds a PUT behind a row lock; meanwhile its
liveness probe (--health-check, the ECS container health check) must pass
at once, since the RPC server answers it from its receive callback, while
its readiness probe (--ready-check), which needs a thread and the
database, queues behind the held call and misses its 2 s deadline; once the
thread has been stuck in that one call for more than 10 s the liveness
probe fails too (a hung worker must be replaced). Before liveness was
answered that way, a worker busy for longer than the probe's
deadline (password hashing, a slow database) failed its container health
check and ECS replaced it."""

import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib  # noqa: E402


def probe(st, flag):
    t0 = time.monotonic()
    r = st.run_binary("task-svc", [flag], {"RPC_LISTEN": st.urls["task-0"]})
    return r.returncode, time.monotonic() - t0


class BusyWorkerProbes(unittest.TestCase):

    def test_liveness_while_every_thread_is_busy(self):
        with faultlib.Stack(n_auth=1, n_task=1,
                            env_task={"DB_POOL_SIZE": "1"}) as st:
            self.assertEqual(probe(st, "--health-check")[0], 0)
            self.assertEqual(probe(st, "--ready-check")[0], 0)
            uid, tok = st.new_user()
            s, _, b, _ = st.request("POST", "/tasks", {"title": "held"},
                                    token=tok)
            self.assertEqual(s, 201, b)
            tid = b["task"]["id"]
            e = dict(os.environ, **faultlib.db_env())
            locker = subprocess.Popen(
                ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                 "-h", e["DB_HOST"], "-p", e["DB_PORT"], "-U", e["DB_USER"],
                 "-d", e["DB_NAME"]], stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, text=True, env=e)
            put = {}
            try:
                locker.stdin.write("BEGIN; SELECT id FROM tasks WHERE id = "
                                   "%d FOR UPDATE;\n" % tid)
                locker.stdin.flush()
                time.sleep(0.5)
                th = threading.Thread(target=lambda: put.update(
                    r=st.request("PUT", "/tasks/%d" % tid,
                                 {"title": "after"}, token=tok)))
                th.start()
                time.sleep(0.5)   # the only thread now waits for the lock
                t_held = time.monotonic()
                live = probe(st, "--health-check")
                ready = probe(st, "--ready-check")
                # Stuck past the stall limit (10 s): no longer alive, so
                # the orchestrator would replace it.
                time.sleep(max(0.0, 11.0 - (time.monotonic() - t_held)))
                stalled = probe(st, "--health-check")
            finally:
                locker.stdin.write("COMMIT;\n")
                locker.stdin.flush()
                locker.stdin.close()
                locker.wait(10)
            th.join(15)
            faultlib.report("busy_probes", {
                "liveness_exit": live[0], "liveness_s": round(live[1], 3),
                "readiness_exit": ready[0], "readiness_s": round(ready[1], 3),
                "stalled_liveness_exit": stalled[0]})
            self.assertEqual(live[0], 0, "liveness failed on a busy worker")
            self.assertLess(live[1], 1.5)
            self.assertEqual(ready[0], 1, "readiness passed without a thread")
            self.assertEqual(stalled[0], 1, "liveness passed for a worker "
                             "stuck in one call for 11 s")
            # Held past the edge's 5 s deadline: the client got 504; the
            # worker still finished the update once the lock went.
            self.assertEqual(put["r"][0], 504, put["r"][2])


if __name__ == "__main__":
    unittest.main(verbosity=2)
