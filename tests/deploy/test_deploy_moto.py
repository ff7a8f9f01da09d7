"""ecs/deploy.sh and ecs/teardown.sh end to end against moto (an AWS API
emulator) in server mode on 127.0.0.1, through the steps moto implements.

Every AWS call of the scripts goes to moto (--endpoint-url or
AWS_ENDPOINT_URL), with dummy credentials and no AWS configuration file, so
nothing can reach AWS. What moto 5.2.1 cannot emulate, and how this test
deals with it:
  - the network stack: moto's CloudFormation parser fails on
    !Select/!GetAZs (HTTP 500) -> the existing-VPC path (--vpc-id and
    subnets made with the EC2 API) is used;
  - the image push: moto has no registry (Docker v2) endpoint ->
    --skip-images; the images are put with ecr put-image (a manifest only)
    as a push would, and the script's "tag exists" check and "already in
    ECR, not pushed again" path run for real;
  - the data stack: moto's RDS model crashes on a DBInstance with its own
    parameter group (HTTP 500) -> the test asserts the script stops there
    with its failure report (failed stack events), exit status 1, before
    the application stack (the services come only after the database and
    the migrations); so the migrate task, the app stack, the rollout wait
    and /health cannot run against moto (tests/rehearsal/ plays them on
    this machine instead);
  - scaling services to 0 in teardown: no services exist without the app
    stack; the step is skipped by the script when the stack is absent;
  - EmptyOnDelete of the ECR repositories is ignored by moto: teardown
    empties them itself before deleting the stack (harmless on AWS).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import boto3

REGION = "us-east-1"
PROJECT = "tamoto"
VERSION = "0.1.0"
SERVICES = ("edge-api", "auth-svc", "task-svc")
state = {}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def setUpModule():
    src = os.environ.get("TA_SOURCE_DIR")
    if not src:
        raise RuntimeError("test_deploy_moto: TA_SOURCE_DIR missing")
    tmp = tempfile.mkdtemp(prefix="taskapi-moto-")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.path.join(tmp, "none"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp, "none"),
        "TMPDIR": tmp,
    })
    log = open(os.path.join(tmp, "moto.log"), "wb")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H",
                             "127.0.0.1", "-p", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    state.update(src=src, tmp=tmp, url=url, env=env, proc=proc, log=log)
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("moto server did not start")
            time.sleep(0.2)
    state["session"] = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing",
        region_name=REGION)


def tearDownModule():
    p = state.get("proc")
    if p and p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if state.get("log"):
        state["log"].close()
    shutil.rmtree(state.get("tmp", ""), ignore_errors=True)


def client(name):
    return state["session"].client(name, endpoint_url=state["url"])


def run(script, *args, endpoint_env=False):
    env = dict(state["env"])
    argv = [os.path.join(state["src"], "ecs", script), "--project", PROJECT,
            "--region", REGION] + list(args)
    if endpoint_env:
        env["AWS_ENDPOINT_URL"] = state["url"]
    else:
        argv += ["--endpoint-url", state["url"]]
    r = subprocess.run(argv, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=600)
    out = r.stdout.decode("utf-8", "replace")
    print("---- %s %s -> %d\n%s" % (script, " ".join(args), r.returncode,
                                    out))
    return r.returncode, out


class DeployAndTeardown(unittest.TestCase):
    def test_deploy_then_teardown(self):
        ec2 = client("ec2")
        ecr = client("ecr")
        cfn = client("cloudformation")
        logs = client("logs")

        # An existing VPC with two public and two private subnets.
        vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        subnets = []
        for i, az in enumerate(("a", "a", "b", "b")):
            subnets.append(ec2.create_subnet(
                VpcId=vpc, CidrBlock="10.40.%d.0/20" % (16 * i),
                AvailabilityZone=REGION + az)["Subnet"]["SubnetId"])
        net = ["--vpc-id", vpc,
               "--public-subnets", subnets[0] + "," + subnets[2],
               "--private-subnets", subnets[1] + "," + subnets[3]]

        # 1. First deploy: identity, the ECR stack; no image pushed
        # (--skip-images), so the tag check stops it before any other stack.
        rc, out = run("deploy.sh", "--skip-images", "--skip-lint", *net)
        self.assertEqual(rc, 1, out)
        self.assertIn("account 123456789012", out)
        self.assertIn("creating the ECS service-linked role", out)
        self.assertIn("%s/edge-api:%s is not in ECR" % (PROJECT, VERSION),
                      out)
        st = cfn.describe_stacks(StackName=PROJECT + "-ecr")["Stacks"][0]
        self.assertEqual(st["StackStatus"], "CREATE_COMPLETE")
        repos = {r["repositoryName"]: r for r in
                 ecr.describe_repositories()["repositories"]}
        for s in SERVICES:
            self.assertIn(PROJECT + "/" + s, repos)
        self.assertNotIn(PROJECT + "-app",
                         [s["StackName"] for s in cfn.list_stacks()
                          ["StackSummaries"]])

        # 2. The images, as a push leaves them (manifest only).
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType":
                       "application/vnd.oci.image.config.v1+json",
                       "digest": "sha256:" + "0" * 64, "size": 2},
            "layers": []})
        for s in SERVICES:
            ecr.put_image(repositoryName=PROJECT + "/" + s,
                          imageManifest=manifest, imageTag=VERSION)

        # 3. Second deploy (endpoint from AWS_ENDPOINT_URL this time): ECR
        # stack unchanged, tags found and not pushed again, cfn-lint clean,
        # then the app stack, which moto cannot create: the script must
        # stop there and print the failure report.
        rc, out = run("deploy.sh", "--skip-images", *net, endpoint_env=True)
        self.assertIn("stack %s-ecr: no changes" % PROJECT, out)
        for s in SERVICES:
            self.assertIn("%s/%s:%s already in ECR: not pushed again"
                          % (PROJECT, s, VERSION), out)
        self.assertIn("cfn-lint ecs/*.yaml", out)
        self.assertNotIn("cfn-lint reported problems", out)
        self.assertNotIn("deploying stack %s-network" % PROJECT, out)
        self.assertIn("deploying stack %s-data" % PROJECT, out)
        self.assertEqual(rc, 1, out)
        self.assertIn("FAILED: stack %s-data did not deploy" % PROJECT, out)
        self.assertIn("failed events of stack %s-data" % PROJECT, out)
        self.assertNotIn("deploying stack %s-app" % PROJECT, out)
        self.assertNotIn("running migrations", out)
        # The ECS service-linked role a new account may lack: made once.
        # (moto names it AWSServiceRoleForecs; AWS, AWSServiceRoleForECS:
        # the script looks for it by path.)
        iam = client("iam")
        slr = iam.list_roles(PathPrefix="/aws-service-role/ecs.amazonaws.com/")
        self.assertEqual(len(slr["Roles"]), 1)
        self.assertNotIn("creating the ECS service-linked role", out)

        # 4. Teardown: the log group Container Insights makes by itself
        # exists; the stacks and that group must go; nothing tagged stays.
        group = "/aws/ecs/containerinsights/%s-cluster/performance" % PROJECT
        logs.create_log_group(logGroupName=group)
        rc, out = run("teardown.sh")
        self.assertEqual(rc, 0, out)
        self.assertIn("deleting stack %s-ecr" % PROJECT, out)
        self.assertIn("deleting log group " + group, out)
        self.assertIn("nothing tagged project=%s is left" % PROJECT, out)
        names = [r["repositoryName"] for r in
                 ecr.describe_repositories()["repositories"]]
        self.assertFalse([n for n in names if n.startswith(PROJECT + "/")],
                         names)
        self.assertEqual(logs.describe_log_groups(
            logGroupNamePrefix=group)["logGroups"], [])
        live = [s["StackName"] for s in cfn.list_stacks()["StackSummaries"]
                if s["StackStatus"] != "DELETE_COMPLETE"]
        self.assertNotIn(PROJECT + "-ecr", live)

        # 5. A second teardown finds nothing and still succeeds.
        rc, out = run("teardown.sh")
        self.assertEqual(rc, 0, out)
        self.assertIn("stack %s-app: not there" % PROJECT, out)

        # 6. Something tagged with the project that survived is listed and
        # makes the exit status 3.
        ec2.create_tags(Resources=[vpc],
                        Tags=[{"Key": "project", "Value": PROJECT}])
        rc, out = run("teardown.sh")
        self.assertEqual(rc, 3, out)
        self.assertIn("still tagged project=%s" % PROJECT, out)
        self.assertIn(vpc, out)

    def test_leftovers_confirmed_by_their_own_service(self):
        # The tagging API keeps listing deleted resources for a while;
        # teardown asks each resource's own service (ecs/lib.sh
        # resource_exists). Live ones count, deleted ones do not.
        ec2 = client("ec2")
        logs = client("logs")
        sm = client("secretsmanager")
        vpc = ec2.create_vpc(CidrBlock="10.41.0.0/16")["Vpc"]["VpcId"]
        gone_vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
        sg = ec2.create_security_group(GroupName="gone", Description="x",
                                       VpcId=vpc)["GroupId"]
        ec2.delete_security_group(GroupId=sg)
        ec2.delete_vpc(VpcId=gone_vpc)
        logs.create_log_group(logGroupName="/ecs/%s/live" % PROJECT)
        logs.create_log_group(logGroupName="/ecs/%s/gone" % PROJECT)
        logs.delete_log_group(logGroupName="/ecs/%s/gone" % PROJECT)
        sec = sm.create_secret(Name=PROJECT + "/gone",
                               SecretString="x")["ARN"]
        sm.delete_secret(SecretId=sec, ForceDeleteWithoutRecovery=True)
        acct = "arn:aws:%s:" + REGION + ":123456789012:%s"
        cases = {
            acct % ("ec2", "vpc/" + vpc): 0,
            acct % ("ec2", "vpc/" + gone_vpc): 1,
            acct % ("ec2", "security-group/" + sg): 1,
            acct % ("logs", "log-group:/ecs/%s/live" % PROJECT): 0,
            acct % ("logs", "log-group:/ecs/%s/gone" % PROJECT): 1,
            sec: 1,
            acct % ("unknownsvc", "thing/x"): 0,
        }
        lib = os.path.join(state["src"], "ecs", "lib.sh")
        for arn, want in cases.items():
            with self.subTest(arn=arn):
                r = subprocess.run(
                    ["bash", "-c", 'PROG=t; . "$1"; REGION=$2; '
                     'ENDPOINT_URL=$3; resource_exists "$4"', "bash", lib,
                     REGION, state["url"], arn],
                    env=state["env"], capture_output=True, timeout=120)
                self.assertEqual(r.returncode, want, r.stderr)
        ec2.delete_vpc(VpcId=vpc)
        logs.delete_log_group(logGroupName="/ecs/%s/live" % PROJECT)

    def test_plan_puts_migrations_between_data_and_services(self):
        r = subprocess.run([os.path.join(state["src"], "ecs", "deploy.sh"),
                            "--plan"], capture_output=True, text=True,
                           timeout=30, env=state["env"])
        self.assertEqual(r.returncode, 0, r.stderr)
        plan = r.stdout.split("\n")
        self.assertLess(plan.index("stack data"), plan.index("migrate"))
        self.assertLess(plan.index("migrate"), plan.index("stack app"))
        self.assertLess(plan.index("stack app"), plan.index("rollout"))

    def test_bad_arguments(self):
        rc, out = run("deploy.sh", "--vpc-id", "vpc-1")
        self.assertEqual(rc, 1)
        self.assertIn("go together", out)
        rc, out = run("teardown.sh", "--bogus")
        self.assertEqual(rc, 1)
        self.assertIn("unknown argument", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
