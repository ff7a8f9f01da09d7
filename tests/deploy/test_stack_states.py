"""ecs/lib.sh prepare_stack, which ecs/deploy.sh runs before every
`cloudformation deploy`: the stack states CloudFormation leaves behind that
neither moto nor cfn-lint can produce.

- ROLLBACK_COMPLETE (a first create that failed) cannot be updated
  ("... is in ROLLBACK_COMPLETE state and can not be updated"): it is
  deleted, and deploy then creates it anew;
- a stack in progress is waited for; one still busy at the timeout fails;
- DELETE_FAILED / UPDATE_ROLLBACK_FAILED need a person: refused, untouched;
- REVIEW_IN_PROGRESS (a change set never run) and no stack at all go on.

AWS is played by a small `aws` program first on PATH that answers
describe-stacks from a list of states and records every call, since these
states cannot be produced offline any other way."""
import json
import os
import stat
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfnlib  # noqa: E402

LIB = os.path.join(cfnlib.ECS_DIR, "lib.sh")

# The stand-in: state.json holds {"states": [...], "calls": [...]}; each
# describe-stacks answers the first state (popping it while more remain);
# "NONE" answers as a missing stack does. delete-stack + wait make it NONE.
FAKE_AWS = r'''#!/usr/bin/env python3
import json, os, sys
path = os.environ["FAKE_AWS_STATE"]
with open(path) as f:
    st = json.load(f)
args = [a for a in sys.argv[1:]]
st["calls"].append(" ".join(a for a in args if not a.startswith("--region")))
rc = 0
if "describe-stacks" in args:
    cur = st["states"][0]
    if len(st["states"]) > 1:
        st["states"].pop(0)
    if cur == "NONE":
        sys.stderr.write("An error occurred (ValidationError): Stack with id x does not exist\n")
        rc = 254
    else:
        print(cur)
elif "delete-stack" in args:
    st["states"] = ["DELETE_IN_PROGRESS"]
elif "stack-delete-complete" in args:
    st["states"] = ["NONE"]
elif "describe-stack-events" in args:
    print("2026-01-01T00:00:00Z\tAuthService\tAWS::ECS::Service\tCREATE_FAILED\tECS Deployment Circuit Breaker was triggered")
with open(path, "w") as f:
    json.dump(st, f)
sys.exit(rc)
'''


class StackStates(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="taskapi-states-")
        bindir = os.path.join(self.tmp.name, "bin")
        os.mkdir(bindir)
        aws = os.path.join(bindir, "aws")
        with open(aws, "w") as f:
            f.write(FAKE_AWS)
        os.chmod(aws, stat.S_IRWXU)
        self.state = os.path.join(self.tmp.name, "state.json")
        self.env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"],
                        FAKE_AWS_STATE=self.state, PREPARE_SLEEP_S="0")

    def tearDown(self):
        self.tmp.cleanup()

    def prepare(self, states, timeout=30):
        with open(self.state, "w") as f:
            json.dump({"states": states, "calls": []}, f)
        r = subprocess.run(
            ["bash", "-c", 'PROG=deploy; REGION=us-east-1; . "$0"; '
             'prepare_stack taskapi-app "$1"', LIB, str(timeout)],
            env=self.env, capture_output=True, text=True, timeout=60)
        with open(self.state) as f:
            calls = json.load(f)["calls"]
        return r.returncode, r.stderr, calls

    def test_failed_first_create_is_deleted(self):
        rc, err, calls = self.prepare(["ROLLBACK_COMPLETE"])
        self.assertEqual(rc, 0, err)
        self.assertIn("its first create failed", err)
        self.assertIn("Circuit Breaker", err)     # the evidence, printed
        self.assertTrue(any("delete-stack" in c for c in calls), calls)
        self.assertTrue(any("stack-delete-complete" in c for c in calls), calls)

    def test_in_progress_is_waited_for(self):
        rc, err, calls = self.prepare(["UPDATE_IN_PROGRESS"] * 3 +
                                      ["UPDATE_COMPLETE"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(err.count("is UPDATE_IN_PROGRESS: waiting"), 3)
        self.assertFalse(any("delete-stack" in c for c in calls))

    def test_in_progress_past_the_timeout_fails(self):
        rc, err, _ = self.prepare(["CREATE_IN_PROGRESS"], timeout=1)
        self.assertEqual(rc, 1)
        self.assertIn("still CREATE_IN_PROGRESS", err)

    def test_states_that_need_a_person(self):
        for state in ("DELETE_FAILED", "UPDATE_ROLLBACK_FAILED"):
            with self.subTest(state=state):
                rc, err, calls = self.prepare([state])
                self.assertEqual(rc, 1)
                self.assertIn("fix it by hand", err)
                self.assertFalse(any("delete-stack" in c for c in calls))

    def test_states_that_deploy_handles(self):
        for state in ("NONE", "REVIEW_IN_PROGRESS", "CREATE_COMPLETE",
                      "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"):
            with self.subTest(state=state):
                rc, err, calls = self.prepare([state])
                self.assertEqual(rc, 0, err)
                self.assertEqual(len(calls), 1, calls)


if __name__ == "__main__":
    unittest.main(verbosity=2)
