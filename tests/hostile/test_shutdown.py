"""hostile.shutdown: SIGTERM while an RPC is about to complete. rpc_done
used to count its connection out of `suspended` before resuming it, so
edge_http_close could stop the daemon (and free the connection) in
between: a use after free. The window is widened with an LD_PRELOAD shim
(resume_shim.c) that delays MHD_resume_connection and aborts when a resume
comes after MHD_stop_daemon. The edge must answer the held request (504:
its worker is stopped) and exit 0."""

import os
import signal
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile as h  # noqa: E402

ts = h.ts


class ShutdownRace(unittest.TestCase):
    def test_resume_before_counting_out(self):
        shim = os.environ.get("TA_RESUME_SHIM")
        self.assertTrue(shim and os.path.exists(shim),
                        "TA_RESUME_SHIM (ctest sets it) names no file")
        flag = tempfile.mktemp(prefix="taskapi-shim-")
        asan = os.environ.get("ASAN_OPTIONS", "")
        # The shim is not instrumented: ASan must not insist on coming
        # first in the library list.
        asan = (asan + ":" if asan else "") + "verify_asan_link_order=0"
        env = {"LD_PRELOAD": shim, "TA_SHIM_RESUME_DELAY_MS": "3000",
               "TA_SHIM_RESUME_DELAY_FLAG": flag, "RPC_TIMEOUT_MS": "1000",
               "ASAN_OPTIONS": asan}
        system = ts.System(env_edge=env).start()
        try:
            user = system.new_user()
            open(flag, "w").close()          # from now on resumes wait
            task = system.procs["task-svc"]
            task.send_signal(signal.SIGSTOP)  # the call will time out
            got = {}

            def call():
                try:
                    got["r"] = system.request("GET", "/tasks",
                                              token=user["token"],
                                              timeout=20)
                except OSError as e:
                    got["e"] = e

            th = threading.Thread(target=call)
            th.start()
            # SIGTERM inside the window: the call has timed out and its
            # resume is being held by the shim (a fixed sleep here lost
            # the race on a busy machine: the request was not in yet).
            deadline = time.monotonic() + 15
            while (not os.path.exists(flag + ".resuming") and
                   time.monotonic() < deadline):
                time.sleep(0.02)
            self.assertTrue(os.path.exists(flag + ".resuming"),
                            "no resume was held within 15 s")
            edge = system.procs["edge-api"]
            t0 = time.monotonic()
            edge.send_signal(signal.SIGTERM)
            try:
                code = edge.wait(20)
            finally:
                task.send_signal(signal.SIGCONT)
            took = time.monotonic() - t0
            th.join(20)
            log = system.log_text("edge-api")
            self.assertNotIn("after MHD_stop_daemon", log)
            self.assertEqual(code, 0, "edge-api exited %s after %.1f s\n%s"
                             % (code, took, system.log_tails()))
            self.assertIn("r", got, got)
            ts.check_error(self, got["r"], 504)
        finally:
            system.stop()
            system.cleanup()
            for f in (flag, flag + ".resuming"):
                if os.path.exists(f):
                    os.unlink(f)


if __name__ == "__main__":
    ts.run_tests()
