"""rehearsal.broken_image: a stack update to an image whose task-svc
exits at start. The new task-svc tasks fail, the circuit breaker trips
and rolls the service back to the last COMPLETED deployment, the stack
update fails and rolls back; the old version keeps serving throughout:
0 failed requests through the ALB, and no broken task ever gets a Cloud
Map record."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfn  # noqa: E402
from scenario import ScenarioCase  # noqa: E402


class BrokenImage(ScenarioCase):
    scenario = "broken_image"

    def test_circuit_breaker_rolls_back(self):
        r = self.rehearsal()
        r.deploy()
        old = r.cluster.services["task-svc"].primary
        ld = self.load()
        version = "%s-broken" % r.model.version
        r.push_images(version, broken=("task-svc",))
        with self.assertRaises(cfn.StackFailed) as ctx:
            r.update_app({"ImageTag": version})
        r.log("update failed as expected: %s" % ctx.exception)
        # The old version keeps serving past a discovery refresh (10 s).
        time.sleep(15)
        s = self.stop_load(ld)
        svc = r.cluster.services["task-svc"]
        failed = [d for d in svc.deployments if d["rollout"] == "FAILED"]
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed[0]["taskdef"]["tag"], version)
        self.assertGreaterEqual(failed[0]["failed"], svc.threshold())
        self.assertEqual(svc.primary["rollout"], "COMPLETED")
        self.assertEqual(svc.primary["taskdef"]["tag"], old["taskdef"]["tag"])
        self.assertEqual(r.stacks["app"].status, "UPDATE_ROLLBACK_COMPLETE")
        broken = [t for t in svc.tasks if t.deployment is failed[0]]
        self.assertTrue(broken)
        self.assertTrue(all(t.exit_code not in (None, 0) for t in broken))
        text = "\n".join(m for _, m in r.events)
        for t in broken:
            self.assertNotIn("+= %s\n" % t.ip, text + "\n")
        for name, sv in r.cluster.services.items():
            self.assertEqual(sv.primary["taskdef"]["tag"],
                             old["taskdef"]["tag"], name)
            self.assertTrue(sv.steady(), name)
        self.assertGreater(s["succeeded"], 100)
        self.assert_no_failures(ld)


if __name__ == "__main__":
    unittest.main(verbosity=2)
