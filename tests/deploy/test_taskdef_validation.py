"""Each task definition of ecs/data.yaml and ecs/app.yaml, rendered as ECS API JSON, passes
the AWS CLI's client-side validation of register-task-definition, offline:
dummy credentials and an endpoint on a closed port, so valid input fails
only when connecting. Exit codes alone do not tell the two apart: awscli v1
(1.45) exits 255 for both with --cli-input-json (252 is documented for
invalid input and is what CLI v2 gives), so the verdict is read from stderr:
"Parameter validation failed" versus "Could not connect to the endpoint"."""
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfnlib  # noqa: E402

INVALID, CONNECT_FAILED = 252, 255


def register(doc):
    exe = shutil.which("aws")
    if not exe:
        raise AssertionError("aws CLI missing: run scripts/deps.d/cfn.sh")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "HOME": os.environ.get("HOME", "/tmp"),
           "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "1",
           "AWS_RETRY_MODE": "standard", "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(doc, f)
        f.flush()
        p = subprocess.run(
            [exe, "ecs", "register-task-definition", "--cli-input-json",
             "file://" + f.name, "--endpoint-url", "http://127.0.0.1:9",
             "--cli-connect-timeout", "2", "--cli-read-timeout", "2"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            timeout=120)
    return p.returncode, p.stderr.decode()


class TaskDefValidation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tpl = cfnlib.load_merged()
        cls.names = sorted(cfnlib.of_type(cls.tpl, "AWS::ECS::TaskDefinition"))

    def test_all_four_valid(self):
        self.assertEqual(self.names, ["AuthTaskDefinition", "EdgeTaskDefinition",
                                      "MigrateTaskDefinition",
                                      "TaskTaskDefinition"])
        for name in self.names:
            with self.subTest(taskdef=name):
                rc, err = register(cfnlib.taskdef_api_json(self.tpl, name))
                self.assertEqual(rc, CONNECT_FAILED, err)
                self.assertNotIn("Parameter validation failed", err)
                self.assertIn("Could not connect to the endpoint", err)

    def test_broken_on_purpose_is_invalid(self):
        good = cfnlib.taskdef_api_json(self.tpl, "AuthTaskDefinition")
        mutations = {
            # a misspelt member, as hand-written JSON often has
            "unknown key": lambda d: d["containerDefinitions"][0].update(
                stopTimeoutSeconds=30),
            "wrong type": lambda d: d["containerDefinitions"][0].update(
                stopTimeout="30"),
            "missing required": lambda d: d.pop("containerDefinitions"),
            "secret without valueFrom": lambda d:
                d["containerDefinitions"][0]["secrets"][0].pop("valueFrom"),
        }
        for what, mutate in mutations.items():
            with self.subTest(mutation=what):
                doc = copy.deepcopy(good)
                mutate(doc)
                rc, err = register(doc)
                self.assertIn(rc, (INVALID, CONNECT_FAILED), err)
                self.assertIn("Parameter validation failed", err)
                self.assertNotIn("Could not connect", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
