"""rehearsal.rolling_update: every service rolled to a new image (the
same binaries under a new image tag and label: new task definitions, a
real new deployment of new tasks) the way deploy.sh upgrades (data stack,
migrations, app stack), under continuous load through the ALB (reads and
creates with Idempotency-Key): 0 failed requests, and every acknowledged
create stored exactly once."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client  # noqa: E402
from scenario import ScenarioCase  # noqa: E402


class RollingUpdate(ScenarioCase):
    scenario = "rolling_update"

    def test_update_under_load(self):
        r = self.rehearsal()
        r.deploy()
        before = {n: {t.id for t in s.active()}
                  for n, s in r.cluster.services.items()}
        ld = self.load(prefix="roll")
        time.sleep(5)
        version = "%s-r2" % r.model.version
        r.push_images(version, label="rehearsal=rolling-update")
        r.upgrade({"ImageTag": version})
        time.sleep(15)     # one more discovery refresh under load
        s = self.stop_load(ld)
        for name, svc in r.cluster.services.items():
            self.assertEqual(svc.primary["taskdef"]["tag"], version, name)
            self.assertTrue(svc.steady(), name)
            now = {t.id for t in svc.active()}
            self.assertFalse(now & before[name], "%s: old tasks left" % name)
        lost, dup = client.check_writes(r, ld, "roll")
        r.log("writes: %d acknowledged creates, lost %d, duplicated %d" % (
            sum(1 for x in ld.results if x["op"] == "create"
                and x["status"] == 201), len(lost), len(dup)))
        self.assertGreater(s["succeeded"], 500)
        self.assertEqual(lost, [])
        self.assertEqual(dup, [])
        self.assert_no_failures(ld)


if __name__ == "__main__":
    unittest.main(verbosity=2)
