"""browser.console: the console at / in headless Chromium against the three
real processes (tests/e2e's harness starts them): console_flow.mjs runs the
whole flow with the mouse and again with the keyboard alone, scans every
screen with axe-core and writes screenshots at 360 and 1280 px into
TA_SHOT_DIR (set by tests/CMakeLists.txt to console-shots/ in the build
tree). Any console error, page error or failed request the flow did not
announce fails it. Needs Debian's chromium and tools/browser's node_modules
(scripts/deps.d/browser.sh)."""

import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))
import taskapi_system as ts  # noqa: E402

TOOLS = os.path.join(SRC, "tools", "browser")
CHROMIUM = os.environ.get("TA_CHROMIUM", "/usr/bin/chromium")
FLOW_TIMEOUT_S = 200


class Console(unittest.TestCase):
    def test_flows_axe_and_screenshots(self):
        self.assertTrue(os.access(CHROMIUM, os.X_OK),
                        "%s missing: run scripts/deps.d/browser.sh" % CHROMIUM)
        self.assertTrue(
            os.path.isdir(os.path.join(TOOLS, "node_modules", "playwright-core")),
            "playwright-core missing: run scripts/deps.d/browser.sh")
        shots = os.environ.get("TA_SHOT_DIR") or os.path.join(
            os.environ.get("TA_BUILD_DIR", "."), "console-shots")
        # Two failed logins lock a name for a minute: the flow sees the
        # 429 message however slow the machine.
        limits = {"LOGIN_FAILURE_LIMIT": "2", "LOGIN_LOCKOUT_BASE_S": "60"}
        with ts.System(env_auth=limits) as system:
            env = dict(os.environ,
                       TA_CONSOLE_URL="http://127.0.0.1:%d" % system.port,
                       TA_BROWSER_TOOLS=TOOLS, TA_SHOT_DIR=shots,
                       TA_CHROMIUM=CHROMIUM)
            p = subprocess.run(
                ["node", os.path.join(HERE, "console_flow.mjs")], env=env,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, timeout=FLOW_TIMEOUT_S)
            out = p.stdout.decode("utf-8", "replace")
            sys.stdout.write(out)
            if p.returncode != 0:
                sys.stdout.write(system.log_tails())
            self.assertEqual(p.returncode, 0, "console_flow.mjs failed")
            self.assertIn("console flow: all checks passed", out)


if __name__ == "__main__":
    ts.run_tests()
