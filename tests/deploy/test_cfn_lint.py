"""cfn-lint (the AWS project, pip package cfn-lint) reports nothing on any
template in ecs/; and it does report a template broken on purpose."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfnlib  # noqa: E402


def cfn_lint(path):
    exe = shutil.which("cfn-lint")
    cmd = [exe] if exe else [sys.executable, "-m", "cfnlint"]
    return subprocess.run(cmd + ["--", path], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=600)


class CfnLint(unittest.TestCase):
    def test_templates_clean(self):
        found = sorted(f for f in os.listdir(cfnlib.ECS_DIR)
                       if f.endswith(".yaml"))
        self.assertEqual(found, sorted(cfnlib.TEMPLATES))
        for name in cfnlib.TEMPLATES:
            path = os.path.join(cfnlib.ECS_DIR, name)
            with self.subTest(template=name):
                p = cfn_lint(path)
                self.assertEqual(p.returncode, 0, p.stdout.decode())
                # Inline templates must stay under the deploy limit.
                self.assertLess(os.path.getsize(path), 51200)

    def test_broken_template_fails(self):
        # Broken on purpose: a log retention CloudWatch does not offer and
        # a Fargate memory size that does not fit 0.25 vCPU.
        with open(os.path.join(cfnlib.ECS_DIR, "data.yaml")) as f:
            text = f.read()
        text = text.replace("RetentionInDays: 30", "RetentionInDays: 31", 1)
        text = text.replace('Memory: "512"', 'Memory: "4096"', 1)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "data.yaml")
            with open(path, "w") as f:
                f.write(text)
            out = cfn_lint(path)
        self.assertNotEqual(out.returncode, 0)
        report = out.stdout.decode()
        self.assertIn("E3030", report)   # retention not an allowed value
        self.assertIn("E3047", report)   # cpu/memory pair not on Fargate


if __name__ == "__main__":
    unittest.main(verbosity=2)
