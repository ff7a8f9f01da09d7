"""The frame every scenario shares: a Rehearsal made in the test and
closed in tearDown (pass or fail), the timeline printed and saved either
way, the task logs printed on failure; load through the ALB stand-in at a
steady pace with its summary in the timeline."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client  # noqa: E402
from rehearsal import Rehearsal  # noqa: E402


class PacedLoad(client.Load):
    """faultlib's Load with a pause after every request, so the load is
    steady and leaves the two cores to the tasks and their checks."""

    def __init__(self, *a, pace_s=0.02, **kw):
        super().__init__(*a, **kw)
        self.pace = pace_s

    def _one(self, *a):
        ok = super()._one(*a)
        time.sleep(self.pace)
        return ok


class ScenarioCase(unittest.TestCase):
    scenario = None
    r = None

    def rehearsal(self, name=None, params=None):
        self.r = Rehearsal(name or self.scenario, params)
        return self.r

    def tearDown(self):
        r = self.r
        if not r:
            return
        res = self._outcome.result
        ok = self._outcome.success and not any(
            t is self for t, _ in res.failures + res.errors)
        # What failed and the timeline come first, the (long) task logs
        # last: a CI log that keeps only a part still shows why.
        for t, tb in res.failures + res.errors:
            if t is self:
                print("FAILED: " + tb.strip().splitlines()[-1])
        print(r.timeline())
        if not ok:
            print(r.task_problems())
            print(r.task_logs())
            print(r.timeline())
        r.save_timeline("PASS" if ok else "FAIL")
        r.close()

    def load(self, users=2, nthreads=4, prefix=None, create_share=0.3,
             pace_s=0.02, seconds=3600):
        api = client.Api(self.r)
        us = [api.new_user() for _ in range(users)]
        ld = PacedLoad(api, us, nthreads=nthreads, seconds=seconds,
                       max_requests=10 ** 6, create_share=create_share,
                       prefix=prefix or self.scenario.replace("_", "-"),
                       pace_s=pace_s)
        self.r.log("load: %d threads through the ALB (reads + keyed "
                   "creates)" % nthreads)
        return ld.start()

    def stop_load(self, ld):
        ld.stop()
        s = ld.summary()
        bad = client.failures(ld)
        when = ""
        if bad:
            off = self.r.t0
            when = " between %.2f and %.2f s" % (
                min(x["t"] for x in bad) - off, max(x["t"] for x in bad) - off)
        self.r.log("load: %d sent, %d succeeded, failed %s%s" % (
            s["sent"], s["succeeded"], s["failed"], when))
        per = {}
        for x in bad:
            k = int(x["t"] - self.r.t0)
            what = "error" if x["error"] else str(x["status"])
            per.setdefault(k, {}).setdefault(what, 0)
            per[k][what] += 1
        for k in sorted(per):
            self.r.log("load: failures in second %d: %s" % (k, per[k]))
        return s

    def assert_no_failures(self, ld):
        bad = client.failures(ld)
        self.assertEqual(len(bad), 0, "%d failed requests: %s" % (
            len(bad), client.describe(bad)))
