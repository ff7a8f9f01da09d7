"""A request the edge refuses inside its handler is answered at once on a
keep-alive connection, with nothing else going on. With task-svc gone,
GET /tasks/{id} fails UNAVAILABLE inside the handler (the circuit is
open): the edge suspends the connection for the call, finds nothing to
send it to and resumes it at once. libmicrohttpd runs on the edge's front
threads; when such a resume did not wake its front thread, each answer
waited for the front's next 200 ms tick (no other traffic to wake it),
which the busier fault.discovery did not show. Each of 10 requests on one
connection must come back 503 well within 100 ms, and so must GET /health
between them."""

import http.client
import json
import os
import statistics
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib  # noqa: E402


class FailFast(unittest.TestCase):

    def test_refusal_in_the_handler_on_keep_alive(self):
        with faultlib.Stack(n_auth=1, n_task=1) as st:
            _uid, tok = st.new_user()
            s, _, b, _ = st.request("POST", "/tasks", {"title": "x"},
                                    token=tok)
            self.assertEqual(s, 201, b)
            path = "/tasks/%d" % b["task"]["id"]
            st.sigkill("task-0")
            # Past the RPC client's start grace (1 s) and the pipe's
            # drop: the circuit is open.
            time.sleep(2.0)
            c = http.client.HTTPConnection("127.0.0.1", st.port,
                                           timeout=10)
            lat = {"refused": [], "health": []}
            try:
                for _ in range(10):
                    for kind, p, want in (("refused", path, 503),
                                          ("health", "/health", 200)):
                        t0 = time.monotonic()
                        c.request("GET", p, headers={
                            "Authorization": "Bearer " + tok})
                        r = c.getresponse()
                        raw = r.read()
                        lat[kind].append(time.monotonic() - t0)
                        self.assertEqual(r.status, want, raw)
                        if kind == "refused":
                            self.assertEqual(
                                json.loads(raw)["error"],
                                "Service Unavailable")
                            self.assertEqual(r.getheader("Retry-After"),
                                             "1")
            finally:
                c.close()
            faultlib.log("fail fast on one keep-alive connection: 503 "
                         "median %.1f ms, max %.1f ms; /health median "
                         "%.1f ms"
                         % (statistics.median(lat["refused"]) * 1000,
                            max(lat["refused"]) * 1000,
                            statistics.median(lat["health"]) * 1000))
            self.assertLess(statistics.median(lat["refused"]), 0.1,
                            lat["refused"])
            self.assertLess(statistics.median(lat["health"]), 0.1,
                            lat["health"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
