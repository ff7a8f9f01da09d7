"""Shutdown test: SIGTERM each kind of process under load. A worker
finishes the calls it holds (a call held by a row lock completes after
SIGTERM), exits 0 within the stop timeout, and with a second instance
running no request fails; the edge turns /health to 503 at once, answers
every request that started before SIGTERM, and exits 0. --health-check of
both workers exits 0 against a running instance and 1 once it is gone."""

import os
import signal
import subprocess
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib  # noqa: E402

STOP_TIMEOUT_S = 10.0


def health_check(st, kind, name):
    r = st.run_binary(kind + "-svc", ["--health-check"],
                      {"RPC_LISTEN": st.urls[name]})
    return r.returncode


class ShutdownTest(unittest.TestCase):

    def test_worker_finishes_held_call(self):
        with faultlib.Stack(n_auth=1, n_task=1,
                            env_task={"DB_POOL_SIZE": "2"}) as st:
            self.assertEqual(health_check(st, "task", "task-0"), 0)
            self.assertEqual(health_check(st, "auth", "auth-0"), 0)
            uid, tok = st.new_user()
            s, _, b, _ = st.request("POST", "/tasks", {"title": "held"},
                                    token=tok)
            self.assertEqual(s, 201)
            tid = b["task"]["id"]
            # A session that holds the row: the PUT below waits for it.
            e = dict(os.environ)
            cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                   "-h", e["DB_HOST"], "-p", e["DB_PORT"], "-U", e["DB_USER"],
                   "-d", e["DB_NAME"]]
            locker = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                      stdout=subprocess.DEVNULL, text=True)
            try:
                locker.stdin.write("BEGIN; SELECT id FROM tasks WHERE id = "
                                   "%d FOR UPDATE;\n" % tid)
                locker.stdin.flush()
                time.sleep(0.5)
                put = {}

                def do_put():
                    put["r"] = st.request("PUT", "/tasks/%d" % tid,
                                          {"title": "after SIGTERM"},
                                          token=tok)
                th = threading.Thread(target=do_put)
                th.start()
                time.sleep(0.5)   # the worker now holds the PUT
                term = {}
                tt = threading.Thread(target=lambda: term.update(
                    r=st.sigterm("task-0", STOP_TIMEOUT_S)))
                t_term = time.monotonic()
                tt.start()
                time.sleep(1.0)
                self.assertIsNone(st.procs["task-0"].poll(),
                                  "exited while holding a call")
                locker.stdin.write("COMMIT;\n")
                locker.stdin.flush()
                th.join(15)
                tt.join(15)
            finally:
                locker.stdin.close()
                locker.wait(10)
            code, secs = term["r"]
            s, _, b, _ = put["r"]
            faultlib.report("shutdown_held_call", {
                "put_status": s, "exit_code": code,
                "stop_s": round(secs, 3),
                "held_s": round(time.monotonic() - t_term, 3)})
            self.assertEqual(s, 200, b)
            self.assertEqual(b["task"]["title"], "after SIGTERM")
            self.assertEqual(code, 0)
            self.assertLess(secs, STOP_TIMEOUT_S)
            rows = faultlib.psql("SELECT title FROM tasks WHERE id = %d"
                                 % tid)
            self.assertEqual(rows, [["after SIGTERM"]])
            events = [x.get("event") for x in st.log_events("task-0")]
            self.assertIn("stopped", events)
            # The container health check now fails.
            self.assertEqual(health_check(st, "task", "task-0"), 1)

    def test_worker_drains_after_sigterm(self):
        # DRAIN_DELAY_S: after SIGTERM the worker goes on serving (ECS has
        # removed its record; callers still hold the address until their
        # next lookup), then exits 0; a second signal cuts the wait short.
        drain = 3.0
        with faultlib.Stack(n_auth=1, n_task=1,
                            env_task={"DRAIN_DELAY_S": str(int(drain))}) as st:
            uid, tok = st.new_user()
            st.stopped.add("task-0")
            proc = st.procs["task-0"]
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            served = 0
            while time.monotonic() - t0 < drain - 1.0:
                s, _, b, _ = st.request("POST", "/tasks",
                                        {"title": "drain %d" % served},
                                        token=tok)
                self.assertEqual(s, 201, b)
                self.assertIsNone(proc.poll(), "exited while draining")
                served += 1
            self.assertEqual(health_check(st, "task", "task-0"), 0)
            code = proc.wait(drain + STOP_TIMEOUT_S)
            took = time.monotonic() - t0
            faultlib.report("shutdown_drain", {
                "drain_s": drain, "served_while_draining": served,
                "exit_s": round(took, 3), "exit_code": code})
            self.assertEqual(code, 0)
            self.assertGreaterEqual(took, drain - 0.2)
            self.assertLess(took, drain + 5.0)
            events = [x.get("event") for x in st.log_events("task-0")]
            self.assertIn("drained", events)
        with faultlib.Stack(n_auth=1, n_task=1,
                            env_task={"DRAIN_DELAY_S": "60"}) as st:
            st.stopped.add("task-0")
            proc = st.procs["task-0"]
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            self.assertIsNone(proc.poll())
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(10), 0)
            self.assertLess(time.monotonic() - t0, 10)
            events = [x.get("event") for x in st.log_events("task-0")]
            self.assertIn("drain_cut_short", events)

    def test_workers_sigterm_under_load(self):
        with faultlib.Stack(n_auth=2, n_task=2) as st:
            users = [st.new_user() for _ in range(4)]
            load = faultlib.Load(st, users, nthreads=4, seconds=8.0,
                                 prefix="term").start()
            regs = []

            def register_loop():
                end = time.monotonic() + 8.0
                while time.monotonic() < end:
                    name = "t" + uuid.uuid4().hex[:16]
                    key = "reg-" + name
                    try:
                        s, _, b, _ = st.request("POST", "/auth/register", {
                            "username": name, "email": name + "@x.test",
                            "password": "term-password-1"},
                            {"Idempotency-Key": key})
                    except OSError as e:
                        s, b = repr(e), None
                    regs.append((s, b))
            rt = threading.Thread(target=register_loop)
            rt.start()
            time.sleep(2.5)
            t_term = time.monotonic()
            task_code, task_s = st.sigterm("task-1", STOP_TIMEOUT_S)
            auth_code, auth_s = st.sigterm("auth-1", STOP_TIMEOUT_S)
            results = load.wait()
            rt.join(30)
            summary = load.summary()
            reg_fail = [r for r in regs if r[0] != 201]
            summary.update({
                "task_exit": task_code, "task_stop_s": round(task_s, 3),
                "auth_exit": auth_code, "auth_stop_s": round(auth_s, 3),
                "registers": len(regs), "registers_failed": len(reg_fail),
                "recovery_s": round(load.recovery(t_term), 3)})
            faultlib.report("shutdown_workers", summary)
            self.assertEqual(task_code, 0)
            self.assertEqual(auth_code, 0)
            self.assertLess(task_s, STOP_TIMEOUT_S)
            self.assertLess(auth_s, STOP_TIMEOUT_S)
            after = [r for r in results if r["t0"] > t_term]
            self.assertGreater(len(after), 20, "no load after SIGTERM")
            self.assertEqual(summary["failed"], {})
            self.assertEqual(reg_fail, [])
            for name in ("task-1", "auth-1"):
                events = [x.get("event") for x in st.log_events(name)]
                self.assertIn("stopped", events, name)

    def test_edge_sigterm_under_load(self):
        with faultlib.Stack(n_auth=1, n_task=1,
                            env_edge={"DRAIN_DELAY_S": "1"}) as st:
            users = [st.new_user() for _ in range(4)]
            load = faultlib.Load(st, users, nthreads=4, seconds=8.0,
                                 prefix="edge").start()
            time.sleep(2.0)
            t_term = time.monotonic()
            st.procs["edge"].send_signal(15)
            health = []
            while time.monotonic() - t_term < 0.8:
                try:
                    s = st.request("GET", "/health", timeout=2)[0]
                except OSError as e:
                    s = repr(e)
                health.append((round(time.monotonic() - t_term, 3), s))
                time.sleep(0.05)
            first_503 = min((t for t, s in health if s == 503),
                            default=None)
            try:
                code = st.procs["edge"].wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                code = "killed"
            st.stopped.add("edge")
            secs = time.monotonic() - t_term
            results = load.stop()
            before = [r for r in results if r["t0"] < t_term]
            lost = [r for r in before
                    if r["error"] or r["status"] not in (200, 201)]
            later = [r for r in results if r["t0"] >= t_term]
            bad_later = [r for r in later if not r["error"] and (
                r["status"] not in (200, 201, 503)
                or (r["status"] == 503 and not faultlib.is_json_error(
                    503, r["body"])))]
            summary = load.summary()
            summary.update({"exit_code": code, "stop_s": round(secs, 3),
                            "started_before_sigterm": len(before),
                            "lost_before_sigterm": len(lost),
                            "after_sigterm": len(later),
                            "health_503_after_s": first_503})
            faultlib.report("shutdown_edge", summary)
            self.assertEqual(code, 0)
            self.assertLess(secs, STOP_TIMEOUT_S)
            self.assertEqual(lost, [])
            self.assertEqual(bad_later, [])
            # At once: as soon as the signal is taken, well before drain
            # ends; and it stays 503.
            self.assertIsNotNone(first_503, health)
            self.assertLess(first_503, 0.3, health)
            self.assertTrue(all(s == 503 for t, s in health
                                if t >= first_503), health)


if __name__ == "__main__":
    unittest.main(verbosity=2)
