"""Database restart test: a private PostgreSQL cluster is stopped (fast
shutdown) and started again under a load of keyed creates and reads.
While it is down every failure is a quick 503 with the JSON error body (no
multi-second hang per call); the workers reconnect by themselves and serve
again within seconds of its return; every acknowledged create is in the
database afterwards, and a create that failed, repeated with its key,
succeeds with exactly one row. While it is down the workers' liveness probe
(--health-check, the ECS container health check) still passes, so ECS would
not replace them, and their readiness probe (--ready-check) fails; both
pass again after it returns."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib  # noqa: E402

RUN_S = 14.0
STOP_AT_S = 3.0
DOWN_S = 3.0
MAX_FAIL_LATENCY_S = 2.0
MAX_RECOVERY_S = 5.0


def probes(st):
    """Exit status of --health-check (live) and --ready-check (ready)
    of auth-0 and task-0."""
    out = {}
    for name in ("auth-0", "task-0"):
        binary = name.split("-")[0] + "-svc"
        out[name] = {
            key: st.run_binary(binary, [flag],
                               {"RPC_LISTEN": st.urls[name]}).returncode
            for key, flag in (("live", "--health-check"),
                              ("ready", "--ready-check"))}
    return out


class DbRestartTest(unittest.TestCase):

    def test_restart_under_load(self):
        pg = faultlib.PgCluster().start()
        try:
            self._run(pg)
        finally:
            pg.destroy()

    def _run(self, pg):
        with faultlib.Stack(n_auth=1, n_task=2, db=pg.env) as st:
            users = [st.new_user() for _ in range(4)]
            load = faultlib.Load(st, users, nthreads=4, seconds=RUN_S,
                                 prefix="dbr").start()
            time.sleep(STOP_AT_S)
            t_stop = time.monotonic()
            pg.stop()
            t_down = time.monotonic()
            probes_down = probes(st)
            time.sleep(max(0.0, DOWN_S - (time.monotonic() - t_down)))
            pg.start()
            t_up = time.monotonic()
            results = load.wait()
            summary = load.summary()
            probes_up = probes(st)

            failures = [r for r in results
                        if r["error"] or r["status"] not in (200, 201)]
            bad = [r for r in failures if r["error"] or r["status"] != 503
                   or not faultlib.is_json_error(503, r["body"])]
            slow = [r for r in failures
                    if r["t"] - r["t0"] > MAX_FAIL_LATENCY_S]
            during = [r for r in results if t_down <= r["t0"] < t_up]
            after_up = sorted((r for r in results if r["t0"] >= t_up
                               and not r["error"]
                               and r["status"] in (200, 201)),
                              key=lambda r: r["t"])
            recovery = (after_up[0]["t"] - t_up) if after_up else None
            late_fail = [r for r in failures
                         if r["t0"] > t_up + MAX_RECOVERY_S]

            uids = ",".join(str(u) for u, _ in users)
            env = pg.env
            rows = faultlib.psql(
                "SELECT title, count(*), min(id) FROM tasks "
                "WHERE user_id IN (%s) GROUP BY title" % uids, env)
            per_key = {t: (int(n), int(i)) for t, n, i in rows}
            acked = [r for r in results
                     if r["op"] == "create" and r["status"] == 201]
            missing = [r for r in acked
                       if per_key.get(r["key"], (0, None))[1] != r["id"]]
            dups = {k: v for k, v in per_key.items() if v[0] > 1}

            replayed = 0
            tokens = dict(users)
            for r in failures:
                if r["op"] != "create":
                    continue
                s, _, b, _ = st.request(
                    "POST", "/tasks", {"title": r["key"]},
                    {"Idempotency-Key": r["key"]}, token=tokens[r["user"]])
                self.assertEqual(s, 201, b)
                replayed += 1
            dups_after = faultlib.psql(
                "SELECT title FROM tasks WHERE user_id IN (%s) "
                "GROUP BY title HAVING count(*) > 1" % uids, env)

            summary.update({
                "stop_s": round(t_down - t_stop, 3),
                "down_s": round(t_up - t_down, 3),
                "sent_while_down": len(during),
                "failed_while_down": sum(1 for r in during if r in failures),
                "max_failure_latency_s": round(max(
                    (r["t"] - r["t0"] for r in failures), default=0.0), 3),
                "recovery_after_start_s": (round(recovery, 3)
                                           if recovery is not None
                                           else None),
                "acknowledged_creates": len(acked),
                "acknowledged_missing": len(missing),
                "failed_creates_replayed_ok": replayed,
                "duplicated_keys": len(dups) + len(dups_after),
                "probes_while_down": probes_down,
                "probes_after": probes_up,
            })
            faultlib.report("db_restart", summary)

            self.assertGreater(len(during), 10, "no load while down")
            self.assertGreater(summary["failed_while_down"], 0,
                               "the outage was not seen")
            self.assertEqual(bad, [], "failures not 503 + JSON")
            self.assertEqual(slow, [], "failures that hung")
            self.assertIsNotNone(recovery, "never served again")
            self.assertLess(recovery, MAX_RECOVERY_S)
            self.assertEqual(late_fail, [], "failures long after restart")
            self.assertEqual(missing, [], "acknowledged creates lost")
            self.assertEqual(dups, {})
            self.assertEqual(dups_after, [])
            for name in ("auth-0", "task-0"):
                self.assertEqual(probes_down[name], {"live": 0, "ready": 1},
                                 "probes while the database was down")
                self.assertEqual(probes_up[name], {"live": 0, "ready": 0},
                                 "probes after the database returned")
            for name in ("task-0", "task-1"):
                events = [x.get("event") for x in st.log_events(name)]
                self.assertIn("db_reconnected", events, name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
