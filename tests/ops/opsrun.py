"""Runs the ops tools (tools/ops/*.py) as a user would, for the ops tests:
a subprocess with the given environment, its output printed (so a failing
test shows it) and returned."""

import os
import subprocess
import sys

SRC = os.environ.get("TA_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir,
                 os.pardir))
TOOLS = os.path.join(SRC, "tools", "ops")


def run_tool(tool, *args, env=None, timeout=120):
    """(exit status, stdout + stderr) of tools/ops/<tool>.py args."""
    r = subprocess.run([sys.executable, os.path.join(TOOLS, tool + ".py")]
                       + [str(a) for a in args], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout, cwd=SRC)
    out = r.stdout.decode("utf-8", "replace")
    print("---- %s %s -> %d\n%s" % (tool, " ".join(map(str, args)),
                                    r.returncode, out))
    return r.returncode, out


def e2e_harness():
    """tests/e2e/taskapi_system.py, the harness that starts the three real
    processes."""
    sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))
    import taskapi_system
    return taskapi_system
