"""make verify's tool against the three real processes: it passes on a
healthy system (with and without JWT_SECRET), and fails naming the check
when an answer is wrong (a stand-in proxy drops a field of every task) and
when task-svc is stopped."""

import http.client
import http.server
import json
import threading
import unittest

from opsrun import e2e_harness, run_tool

ts = e2e_harness()
state = {}


def setUpModule():
    state["sys"] = ts.System().start()
    state["url"] = "http://127.0.0.1:%d" % state["sys"].port


def tearDownModule():
    s = state.get("sys")
    if s:
        s.stop()
        s.cleanup()


class DroppingProxy(http.server.ThreadingHTTPServer):
    """Forwards every request to the edge and removes `priority` from each
    task object in the answer (a wrong answer with a right status); may
    also change a login's status or edit the served /openapi.json."""
    daemon_threads = True


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        c = http.client.HTTPConnection("127.0.0.1", self.server.edge_port,
                                       timeout=30)
        hdrs = {k: v for k, v in self.headers.items()
                if k.lower() not in ("host", "connection")}
        c.request(self.command, self.path, body=body, headers=hdrs)
        r = c.getresponse()
        raw = r.read()
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and self.path == "/openapi.json":
            if self.server.doc_edit:
                self.server.doc_edit(doc)
                raw = json.dumps(doc).encode()
        elif isinstance(doc, dict) and self.server.drop_priority:
            for t in [doc.get("task")] + list(doc.get("tasks") or []):
                if isinstance(t, dict):
                    t.pop("priority", None)
            raw = json.dumps(doc).encode()
        status = r.status
        if self.server.login_status and self.path == "/auth/login" and \
                status == 200:
            status = self.server.login_status
        self.send_response(status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "connection",
                                 "transfer-encoding", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)
        c.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

    def log_message(self, *a):
        pass


class Verify(unittest.TestCase):
    def test_1_passes_on_a_healthy_system(self):
        rc, out = run_tool("verify", "--base-url", state["url"],
                           "--jwt-secret", state["sys"].jwt_secret)
        self.assertEqual(rc, 0, out)
        self.assertIn(" 0 failed, 0 skipped", out)
        self.assertIn("PASS    401 with an expired token (signed with "
                      "JWT_SECRET)", out)
        for check in ("GET /tasks/{id} 403 (another user's task)",
                      "POST /tasks 4xx (body of 2097152 bytes)",
                      "GET /openapi.json served", "DELETE /tasks/{id} 200"):
            self.assertRegex(out, r"PASS +%s" % _re(check))
        self.assertIn("No route deletes a user", out)
        # The tasks it made are gone; the users stay, with the prefix.
        rows = ts.psql("SELECT count(*) FROM tasks t JOIN users u ON "
                       "u.id = t.user_id WHERE u.username LIKE "
                       "'taskapi\\_verify\\_%'")
        self.assertEqual(rows, ["0"])
        self.assertGreaterEqual(int(ts.psql(
            "SELECT count(*) FROM users WHERE username LIKE "
            "'taskapi\\_verify\\_%'")[0]), 2)

    def test_2_without_the_secret_says_which_check(self):
        rc, out = run_tool("verify", "--base-url", state["url"],
                           env=_env_without_secret())
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"PASS +401 with an expired token \(wrong key: "
                         r"JWT_SECRET not given\)")
        self.assertIn("JWT_SECRET not given: the expired token was signed "
                      "with a wrong key", out)

    def _via_proxy(self, login_status=None, drop_priority=True,
                   doc_edit=None):
        proxy = DroppingProxy(("127.0.0.1", 0), _Handler)
        proxy.edge_port = state["sys"].port
        proxy.login_status = login_status
        proxy.drop_priority = drop_priority
        proxy.doc_edit = doc_edit
        t = threading.Thread(target=proxy.serve_forever, daemon=True)
        t.start()
        try:
            return run_tool("verify", "--base-url", "http://127.0.0.1:%d"
                            % proxy.server_address[1])
        finally:
            proxy.shutdown()
            proxy.server_close()

    def test_3_wrong_answer_fails_naming_the_check(self):
        rc, out = self._via_proxy()
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"FAIL POST /tasks 201: openapi: body task: "
                         r"'priority' is a required property")
        self.assertIn("verify: FAILED: ", out)
        self.assertRegex(out, r"PASS +GET /health 200")

    def test_3b_a_token_in_a_wrong_answer_is_not_printed(self):
        # Login answers 202 with its token: the failure shows the body,
        # with the token replaced.
        rc, out = self._via_proxy(login_status=202)
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"FAIL POST /auth/login 200 \(user A\): status "
                         r"202, expected 200: .*\"token\": \"<token>")
        self.assertNotIn("eyJ", out)

    def test_3c_follows_the_served_document(self):
        # A document without PUT /tasks/{id} and with a new PATCH: the PUT
        # checks are skipped, the PATCH is named, nothing fails.
        def edit(doc):
            item = doc["paths"]["/tasks/{id}"]
            item["patch"] = item.pop("put")
        rc, out = self._via_proxy(drop_priority=False, doc_edit=edit)
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"SKIP +PUT /tasks/\{id\} 200 \(omitted fields "
                         r"kept\) +PUT /tasks/\{id\} is not in /openapi.json")
        self.assertIn("documented operations this run did not call: "
                      "PATCH /tasks/{id}", out)
        self.assertRegex(out, r"PASS +GET /tasks/\{id\} 200")

    def test_4_task_svc_stopped_fails_naming_the_checks(self):
        state["sys"].stop_process("task-svc")
        rc, out = run_tool("verify", "--base-url", state["url"])
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"FAIL GET /tasks/health 200: status 503")
        self.assertRegex(out, r"FAIL POST /tasks 201: status 503")
        self.assertRegex(out, r"PASS +GET /auth/health 200")


def _re(s):
    import re
    return re.escape(s)


def _env_without_secret():
    import os
    return {k: v for k, v in os.environ.items() if k != "JWT_SECRET"}


if __name__ == "__main__":
    unittest.main(verbosity=2)
