"""rehearsal.first_deploy: on an empty database the deploy converges in
ecs/deploy.sh's order (stacks, migrations, services, healthy targets) and
the API answers through the ALB stand-in; the old order (one application
stack holding the database, created and waited for before the
migrations, workers' container health check being the readiness probe)
fails: workers unhealthy, circuit breaker, stack rolled back with the
database deleted, migrations never run."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfn  # noqa: E402
import client  # noqa: E402
from scenario import ScenarioCase  # noqa: E402


class FirstDeploy(ScenarioCase):

    def test_deploy_order_converges(self):
        r = self.rehearsal("first_deploy")
        steps = r.deploy()
        t_done = r.now()
        r.log("deployed in %.1f s" % t_done)
        want = [s for s in steps if s.split(" ")[-1] in ("data", "app")
                or s in ("migrate",)]
        self.assertLess(want.index("stack data"), want.index("migrate"))
        self.assertLess(want.index("migrate"), want.index("stack app"))
        # The database: TLS only, the template's user with a password.
        rows = client.psql(r, "SELECT ssl FROM pg_stat_ssl WHERE pid = "
                           "pg_backend_pid()")
        self.assertEqual(rows, [["t"]])
        with self.assertRaises(RuntimeError) as ctx:
            client.psql(r, "SELECT 1", sslmode="disable")
        self.assertIn("no pg_hba.conf entry", str(ctx.exception))
        self.assertEqual(int(client.psql(r, "SELECT count(*) FROM "
                                         "schema_migrations")[0][0]) > 0,
                         True)
        # Services at the scalable targets' minimum, all healthy.
        for name, s in r.cluster.services.items():
            lo, _ = r.capacity[name]
            self.assertEqual(s.desired, lo, name)
            self.assertEqual(len([t for t in s.active()
                                  if s.is_healthy(t)]), lo, name)
        for t in r.tasks("edge-api"):
            self.assertEqual(r.alb.state(t.ip), "UP")
        api = client.Api(r)
        for path in ("/health", "/auth/health", "/tasks/health"):
            s, h, _, raw = api.request("GET", path)
            self.assertEqual(s, 200, "%s: %r %r" % (path, h, raw[:300]))
        uid, token = api.new_user()
        s, _, b, _ = api.request("POST", "/tasks", {"title": "first"},
                                 {"Idempotency-Key": "first-1"}, token=token)
        self.assertEqual(s, 201, b)
        tid = b["task"]["id"]
        s, _, b, _ = api.request("GET", "/tasks/%d" % tid, token=token)
        self.assertEqual((s, b["task"]["title"], b["task"]["user_id"]),
                         (200, "first", uid))
        r.log("register/login/create/get through the ALB: OK")

    def test_old_order_fails(self):
        r = self.rehearsal("first_deploy_old_order")
        ready = {}
        for n in r.model.service_taskdefs():
            td = r.model.taskdef(n)
            if td["health"]:
                cmd = list(td["health"]["command"])
                cmd[-1] = "--ready-check"
                ready[n] = cmd
        self.assertTrue(ready, "no worker health check to replace")
        # The probe exists in the binaries: a usage error would make this
        # scenario fail for the wrong reason.
        for cmd in ready.values():
            binary = os.path.join(os.environ["TA_BIN_DIR"],
                                  os.path.basename(cmd[1]))
            p = subprocess.run([binary, cmd[2]], capture_output=True,
                               text=True, env={"RPC_LISTEN":
                                               "tcp://127.0.0.1:9"})
            self.assertNotIn("usage", p.stderr, binary)
        plan = ["stack app", "migrate", "rollout", "health"]
        with self.assertRaises(cfn.StackFailed) as ctx:
            r.deploy(plan=plan, merged_stacks=["data", "app"],
                     health_override=ready)
        r.log("old order failed as expected: %s" % ctx.exception)
        self.assertIn("circuit breaker", str(ctx.exception))
        text = "\n".join(m for _, m in r.events)
        self.assertIn("container health UNHEALTHY", text)
        self.assertIn("circuit breaker tripped", text)
        self.assertIn("ROLLBACK_COMPLETE", text)
        self.assertIn("rds: database instance deleted", text)
        self.assertNotIn("migrate: run-task", text)
        self.assertFalse(r.rds.exists())


if __name__ == "__main__":
    unittest.main(verbosity=2)
