"""The AWS parts of the ops tools against moto on loopback (opsmoto.py
builds the deployment): make inventory, make status, make logs, verify's
AWS checks (passing, then failing by name once the configuration is
broken) and loadtest's AWS sampling, with the real processes serving the
HTTP side. What moto cannot emulate is listed in docs/deploy.md (ECS
tasks never run, target health is whatever registration gives, CloudWatch
has no metric data)."""

import csv
import os
import re
import shutil
import tempfile
import unittest

import opsmoto
from opsmoto import PROJECT
from opsrun import SRC, e2e_harness, run_tool

ts = e2e_harness()
state = {}


def setUpModule():
    m = opsmoto.Moto()
    state["moto"] = m
    state["ids"] = opsmoto.build_deployment(m, SRC)
    s = ts.System().start()
    state["sys"] = s
    state["url"] = "http://127.0.0.1:%d" % s.port


def tearDownModule():
    if state.get("sys"):
        state["sys"].stop()
        state["sys"].cleanup()
    if state.get("moto"):
        state["moto"].stop()
        shutil.rmtree(state["moto"].tmp, ignore_errors=True)


def tool(name, *args):
    return run_tool(name, "--stack", PROJECT, *args,
                    env=state["moto"].tool_env())


AWS_CHECKS = ("AWS: edge-api port 8080 not reachable from outside",
              "AWS: auth-svc port 7001 not reachable from outside",
              "AWS: task-svc port 7002 not reachable from outside",
              "AWS: edge-api secrets injected as secrets",
              "AWS: auth-svc secrets injected as secrets",
              "AWS: task-svc secrets injected as secrets",
              "AWS: RDS private, encrypted, forcing TLS",
              "AWS: port 80 redirects to 443 (certificate configured)")


class Aws(unittest.TestCase):
    def test_inventory_lists_every_stack_resource(self):
        rc, out = tool("inventory")
        self.assertEqual(rc, 0, out)
        ecr = state["moto"].client("ecr")
        for repo in ecr.describe_repositories()["repositories"]:
            name = repo["repositoryName"]
            logical = {"edge-api": "EdgeRepository",
                       "auth-svc": "AuthRepository",
                       "task-svc": "TaskRepository"}[name.split("/")[1]]
            self.assertIn("| %s-ecr | AWS::ECR::Repository | %s | %s |"
                          % (PROJECT, logical, name), out)
        self.assertIn("3 resources in 1 stacks.", out)
        rc, out = run_tool("inventory", "--stack", "nothing-here",
                           env=state["moto"].tool_env())
        self.assertEqual(rc, 1, out)
        self.assertIn("no stack nothing-here-ecr", out)

    def test_status_services_targets_alarms(self):
        rc, out = tool("status")
        # moto never starts a task: running stays 0 < desired 2.
        self.assertEqual(rc, 1, out)
        for svc in ("edge-api", "auth-svc", "task-svc"):
            self.assertRegex(out, r"%s +2 +0 +2 +1 +PRIMARY IN_PROGRESS"
                             % svc)
            self.assertIn("%s runs 0 of 2 tasks" % svc, out)
        self.assertRegex(out, r"%s-edge +10\.50\.0\.10:8080 +healthy"
                         % PROJECT)
        self.assertRegex(out, r"%s-5xx-rate +OK" % PROJECT)
        self.assertIn("status: NOT STEADY", out)

    def test_logs_prints_the_json_lines(self):
        rc, out = tool("logs", "--service", "edge", "--since", "10m")
        self.assertEqual(rc, 0, out)
        lines = [x for x in out.splitlines() if x.startswith("{")]
        self.assertEqual(lines, state["ids"]["log_lines"])
        rc, out = tool("logs", "--service", "edge", "--since", "1s")
        self.assertEqual([x for x in out.splitlines()
                          if x.startswith("{")], [])
        rc, out = tool("logs", "--service", "nginx")
        self.assertEqual(rc, 2, out)

    def test_verify_aws_checks_pass_then_fail_by_name(self):
        m = state["moto"]
        rc, out = tool("verify", "--base-url", state["url"])
        self.assertEqual(rc, 0, out)
        for c in AWS_CHECKS:
            self.assertRegex(out, r"PASS +%s" % re.escape(c))
        # Break one thing per check.
        ids = state["ids"]
        ec2, ecs, elb = m.client("ec2"), m.client("ecs"), m.client("elbv2")
        ec2.authorize_security_group_ingress(
            GroupId=ids["auth_sg"], IpPermissions=[{
                "IpProtocol": "tcp", "FromPort": 7001, "ToPort": 7001,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        opsmoto.set_force_ssl(m, "0")
        td = ecs.describe_task_definition(
            taskDefinition=ids["task-svc_td"])["taskDefinition"]
        c = td["containerDefinitions"][0]
        c["environment"].append({"name": "DB_PASSWORD", "value": "plain"})
        c["secrets"] = [s for s in c["secrets"]
                        if s["name"] != "DB_PASSWORD"]
        new = ecs.register_task_definition(
            family=td["family"], networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[c])["taskDefinition"]["taskDefinitionArn"]
        ecs.update_service(cluster=PROJECT + "-cluster", service="task-svc",
                           taskDefinition=new)
        elb.modify_listener(ListenerArn=ids["http_listener"],
                            DefaultActions=[{"Type": "forward",
                                             "TargetGroupArn": ids["tg"]}])
        try:
            rc, out = tool("verify", "--base-url", state["url"])
        finally:
            self._restore(td, c)
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"FAIL AWS: auth-svc port 7001 not reachable "
                         r"from outside: sg-\w+ admits 0\.0\.0\.0/0 on "
                         r"7001-7001")
        self.assertRegex(out, r"FAIL AWS: RDS private, encrypted, forcing "
                         r"TLS: %s-db: rds.force_ssl is '0'" % PROJECT)
        self.assertRegex(out, r"FAIL AWS: task-svc secrets injected as "
                         r"secrets: container task-svc has DB_PASSWORD in "
                         r"plain environment; DB_PASSWORD not in secrets")
        self.assertRegex(out, r"FAIL AWS: port 80 redirects to 443")
        self.assertRegex(out, r"PASS +AWS: edge-api port 8080")
        self.assertNotIn("plain\"", out)    # never a value, only names

    def _restore(self, td, c):
        m, ids = state["moto"], state["ids"]
        m.client("ec2").revoke_security_group_ingress(
            GroupId=ids["auth_sg"], IpPermissions=[{
                "IpProtocol": "tcp", "FromPort": 7001, "ToPort": 7001,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        opsmoto.set_force_ssl(m, "1")
        m.client("ecs").update_service(cluster=PROJECT + "-cluster",
                                       service="task-svc",
                                       taskDefinition=ids["task-svc_td"])
        m.client("elbv2").modify_listener(
            ListenerArn=ids["http_listener"], DefaultActions=[{
                "Type": "redirect", "RedirectConfig": {
                    "Protocol": "HTTPS", "Port": "443",
                    "StatusCode": "HTTP_301"}}])

    def test_loadtest_samples_aws(self):
        out_dir = tempfile.mkdtemp(prefix="taskapi-loadtest-aws-")
        self.addCleanup(shutil.rmtree, out_dir, True)
        rc, out = tool("loadtest", "--base-url", state["url"],
                       "--duration", "6s", "--rate", "20", "--threads", "4",
                       "--users", "2", "--sample", "2s", "--out", out_dir)
        self.assertEqual(rc, 0, out)
        self.assertIn("AWS timeline (every 2s):", out)
        with open(os.path.join(out_dir, "aws-samples.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertGreaterEqual(len(rows), 3, rows)
        for r in rows:
            self.assertEqual(r["edge-api.desired"], "2", r)
            self.assertEqual(r["task-svc.running"], "0", r)
            self.assertEqual(r["healthy_targets"], "2", r)
            self.assertEqual(r["edge-api.cpu"], "", r)  # no metric data
        with open(os.path.join(out_dir, "loadtest.svg")) as f:
            svg = f.read()
        self.assertIn("edge-api running", svg)


if __name__ == "__main__":
    unittest.main(verbosity=2)
