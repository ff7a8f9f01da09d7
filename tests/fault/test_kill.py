"""Kill test: three task-svc instances behind one edge under a steady load
of keyed creates and reads; one instance is SIGKILLed mid-run. Expected:
no read fails, no create is duplicated (rows per idempotency key, the key
being the task's title), every create the client saw succeed is in the
database, and every failure the client saw is a 503 with the JSON error
body. A create that failed is repeated with its key afterwards: it then
succeeds, still with one row."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib  # noqa: E402

RUN_S = 9.0
KILL_AT_S = 3.0


class KillTest(unittest.TestCase):

    def test_sigkill_one_of_three(self):
        with faultlib.Stack(n_auth=1, n_task=3,
                            env_task={"LOG_LEVEL": "debug"}) as st:
            users = [st.new_user() for _ in range(4)]
            load = faultlib.Load(st, users, nthreads=4, seconds=RUN_S,
                                 max_requests=3000, prefix="kill").start()
            time.sleep(KILL_AT_S)
            sent_before = load.count()
            t_kill = time.monotonic()
            st.sigkill("task-1")
            results = load.wait()
            summary = load.summary()

            reads = [r for r in results if r["op"] != "create"]
            creates = [r for r in results if r["op"] == "create"]
            failed_reads = [r for r in reads
                            if r["error"] or r["status"] != 200]
            failed_creates = [r for r in creates
                              if r["error"] or r["status"] != 201]
            bad_failures = [r for r in failed_reads + failed_creates
                            if r["error"] or r["status"] != 503
                            or not faultlib.is_json_error(r["status"],
                                                          r["body"])]

            # Rows per key, over every key the client sent.
            uids = ",".join(str(u) for u, _ in users)
            rows = faultlib.psql(
                "SELECT title, count(*), min(id) FROM tasks "
                "WHERE user_id IN (%s) AND title LIKE 'kill-%%' "
                "GROUP BY title" % uids)
            per_key = {t: (int(n), int(i)) for t, n, i in rows}
            dups = {k: v for k, v in per_key.items() if v[0] > 1}
            missing = [r for r in creates if r["status"] == 201
                       and per_key.get(r["key"], (0, None))[1] != r["id"]]

            # A failed create, repeated with its key, succeeds once.
            replayed = 0
            for r in failed_creates:
                tok = dict(users)[r["user"]]
                s, _, b, _ = st.request(
                    "POST", "/tasks", {"title": r["key"]},
                    {"Idempotency-Key": r["key"]}, token=tok)
                self.assertEqual(s, 201, b)
                replayed += 1
            after = faultlib.psql(
                "SELECT title, count(*) FROM tasks WHERE user_id IN (%s) "
                "AND title LIKE 'kill-%%' GROUP BY title HAVING count(*) > 1"
                % uids)

            summary.update({
                "instances": 3, "killed": "task-1",
                "sent_before_kill": sent_before,
                "reads": len(reads), "creates": len(creates),
                "failed_reads": len(failed_reads),
                "failed_creates": len(failed_creates),
                "duplicated_keys": len(dups),
                "acknowledged_missing": len(missing),
                "failed_creates_replayed_ok": replayed,
                "recovery_s": round(load.recovery(t_kill), 3),
            })
            faultlib.report("kill", summary)

            self.assertGreater(sent_before, 20, "load did not run")
            self.assertGreater(len(results) - sent_before, 20,
                               "no load after the kill")
            self.assertEqual(bad_failures, [], "failures not 503+JSON")
            self.assertEqual(failed_reads, [], "idempotent reads failed")
            self.assertEqual(dups, {}, "duplicated creates")
            self.assertEqual(missing, [], "acknowledged creates missing")
            self.assertEqual(after, [], "duplicates after replays")
            # The survivors kept serving and the killed one took part.
            served = {n: sum(1 for e in st.log_events(n)
                             if e.get("event") == "rpc_call")
                      for n in ("task-0", "task-1", "task-2")}
            faultlib.log("rpc calls per instance: %r" % served)
            for n, c in served.items():
                self.assertGreater(c, 0, n)


if __name__ == "__main__":
    unittest.main(verbosity=2)
