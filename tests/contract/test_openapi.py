"""The published OpenAPI document (docs/openapi.json) as a contract: it
passes redocly's linter, describes exactly edge-api's route table, its
examples match its schemas, edge-api serves it byte for byte at
GET /openapi.json, and the response validator the e2e harness runs
rejects undocumented statuses and fields.

Needs the linter installed by scripts/deps.d/openapi.sh (npm ci in
tools/openapi) and Debian's python3-jsonschema.
"""

import http.client
import json
import os
import re
import secrets
import signal
import socket
import string
import subprocess
import sys
import time
import unittest
from email.message import Message

SRC = os.environ.get("TA_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))
import taskapi_system as ts  # noqa: E402

DOC_PATH = os.path.join(SRC, "docs", "openapi.json")
TOOLS = os.path.join(SRC, "tools", "openapi")
REDOCLY = os.path.join(TOOLS, "node_modules", ".bin", "redocly")
ROUTES_C = os.path.join(SRC, "edge-api", "routes.c")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch",
           "trace")


def load_doc():
    with open(DOC_PATH, encoding="utf-8") as f:
        return json.load(f)


def route_table():
    """(METHOD, pattern) of every row of edge-api's route table."""
    with open(ROUTES_C, encoding="utf-8") as f:
        src = f.read()
    m = re.search(r"route_table\[\]\s*=\s*\{(.*?)\n\};", src, re.S)
    if not m:
        raise AssertionError("route_table not found in edge-api/routes.c")
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    rows = re.findall(r'\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"', body)
    if not rows:
        raise AssertionError("no rows parsed from route_table")
    return rows


def operations(doc):
    return {(m.upper(), p) for p, item in doc["paths"].items()
            for m in item if m in METHODS}


def fake_response(status, body, headers=None):
    msg = Message()
    hdrs = {"Content-Type": "application/json; charset=utf-8",
            "X-Request-Id": "abc123", "Cache-Control": "no-store",
            "Content-Security-Policy": "frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer"}
    hdrs.update(headers or {})
    for k, v in hdrs.items():
        if v is not None:
            msg[k] = v
    raw = json.dumps(body).encode() if body is not None else b""
    return ts.Response(status, msg, body, raw)


TASK = {"id": 1, "user_id": 2, "title": "t", "description": None,
        "status": "pending", "priority": "medium", "due_date": None,
        "created_at": "2025-03-02T10:15:04.221Z",
        "updated_at": "2025-03-02T10:15:04.221Z"}


class Lint(unittest.TestCase):
    def test_redocly_lint_clean(self):
        self.assertTrue(os.access(REDOCLY, os.X_OK),
                        "%s missing: run scripts/deps.d/openapi.sh" % REDOCLY)
        p = subprocess.run([REDOCLY, "lint", "--config",
                            os.path.join(TOOLS, "redocly.yaml")],
                           cwd=TOOLS, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=300,
                           env=dict(os.environ, REDOCLY_TELEMETRY="off",
                                    REDOCLY_SUPPRESS_UPDATE_NOTICE="true"))
        out = p.stdout.decode("utf-8", "replace")
        sys.stdout.write(out)
        self.assertEqual(p.returncode, 0, out)
        self.assertNotRegex(out, r"\d+ errors?", out)
        self.assertIn("valid", out)


class Document(unittest.TestCase):
    def setUp(self):
        self.doc = load_doc()

    def test_is_openapi_31_with_bearer_scheme(self):
        self.assertRegex(self.doc["openapi"], r"^3\.1\.\d+$")
        scheme = self.doc["components"]["securitySchemes"]["bearerAuth"]
        self.assertEqual((scheme["type"], scheme["scheme"]),
                         ("http", "bearer"))

    def test_every_route_is_documented(self):
        ops = operations(self.doc)
        missing = [r for r in route_table() if r not in ops]
        self.assertEqual(missing, [], "routes of edge-api/routes.c missing "
                         "from docs/openapi.json")

    def test_every_operation_is_a_route(self):
        # OPTIONS is answered by the edge on every known path (CORS).
        table = set(route_table())
        # HEAD is served wherever GET is (RFC 9110 §9.3.2).
        table |= {("HEAD", p) for m, p in route_table() if m == "GET"}
        extra = sorted(op for op in operations(self.doc)
                       if op[0] != "OPTIONS" and op not in table)
        self.assertEqual(extra, [], "documented but not in the route table")
        paths = {p for _, p in table}
        self.assertEqual(set(self.doc["paths"]), paths)
        for p, item in self.doc["paths"].items():
            self.assertIn("options", item, p)

    def test_protected_routes_need_bearer(self):
        for method, path in ts.PROTECTED:
            tpl = path.replace("{id}", "{id}")
            op = self.doc["paths"][tpl][method.lower()]
            self.assertEqual(op.get("security"), [{"bearerAuth": []}],
                             (method, path))
            self.assertIn("401", op["responses"], (method, path))

    def test_response_objects_are_closed(self):
        # additionalProperties: false on every object schema of a response
        # body, so an undocumented field fails the e2e validation.
        v = ts.OpenApiValidator(DOC_PATH)
        seen = set()

        def walk(schema, where):
            schema = v.resolve(schema) if isinstance(schema, dict) else schema
            if not isinstance(schema, dict) or id(schema) in seen:
                return
            seen.add(id(schema))
            if schema.get("type") == "object" and "properties" in schema \
                    and where != "meta":
                self.assertIs(schema.get("additionalProperties"), False,
                              "open object schema: %r" % schema)
            for key in ("allOf", "anyOf", "oneOf"):
                for s in schema.get(key, []):
                    walk(s, where)
            for s in (schema.get("properties") or {}).values():
                walk(s, where)
            if isinstance(schema.get("items"), dict):
                walk(schema["items"], where)

        for p, item in self.doc["paths"].items():
            for m, op in item.items():
                if m not in METHODS:
                    continue
                for code, resp in op["responses"].items():
                    resp = v.resolve(resp)
                    for media in (resp.get("content") or {}).values():
                        walk(media["schema"],
                             "meta" if p == "/openapi.json" else p)

    def test_every_component_is_referenced(self):
        text = json.dumps(self.doc)
        unused = []
        for kind, items in self.doc["components"].items():
            if kind == "securitySchemes":
                continue
            for name in items:
                if '"#/components/%s/%s"' % (kind, name) not in text:
                    unused.append("%s/%s" % (kind, name))
        self.assertEqual(unused, [])

    def test_examples_match_their_schemas(self):
        v = ts.OpenApiValidator(DOC_PATH)
        n = 0

        def check_media(ptr, media):
            nonlocal n
            for name, ex in (media.get("examples") or {}).items():
                val = v._validator(ptr + "/schema")
                errs = [e.message for e in val.iter_errors(ex["value"])]
                self.assertEqual(errs, [], "%s example %s" % (ptr, name))
                n += 1

        esc = v._escape
        for p, item in self.doc["paths"].items():
            for m, op in item.items():
                if m not in METHODS:
                    continue
                base = "/paths/%s/%s" % (esc(p), m)
                rb = op.get("requestBody")
                if rb:
                    for mt, media in rb["content"].items():
                        check_media("%s/requestBody/content/%s"
                                    % (base, esc(mt)), media)
                for code, resp in op["responses"].items():
                    if "$ref" in resp:
                        continue
                    for mt, media in (resp.get("content") or {}).items():
                        check_media("%s/responses/%s/content/%s"
                                    % (base, code, esc(mt)), media)
        for name, resp in self.doc["components"]["responses"].items():
            for mt, media in resp["content"].items():
                check_media("/components/responses/%s/content/%s"
                            % (name, esc(mt)), media)
        self.assertGreater(n, 20)


class Validator(unittest.TestCase):
    """The harness's response validator rejects what the document lacks."""

    def setUp(self):
        self.v = ts.OpenApiValidator(DOC_PATH)

    def test_documented_responses_pass(self):
        self.v.check("GET", "/tasks/5", fake_response(
            200, {"task": TASK}, {"ETag": '"5-1"'}))
        self.v.check("GET", "/tasks/", fake_response(
            200, {"tasks": [TASK], "count": 1, "truncated": False,
                  "next_cursor": None}))
        self.v.check("GET", "/tasks?limit=1", fake_response(
            200, {"tasks": [TASK], "count": 1, "truncated": False,
                  "next_cursor": "AQ3x9kq_-w"}))
        self.v.check("GET", "/nope?x=1", fake_response(
            404, {"error": "Not Found", "message": "Route not found"}))
        self.v.check("PATCH", "/tasks", fake_response(
            405, {"error": "Method Not Allowed", "message": "x"},
            {"Allow": "GET, POST, OPTIONS"}))
        self.v.check("OPTIONS", "/tasks/5", fake_response(
            204, None, {"Content-Type": None}))

    def test_undocumented_field_fails(self):
        with self.assertRaisesRegex(AssertionError, "extra"):
            self.v.check("GET", "/tasks/5", fake_response(
                200, {"task": dict(TASK, extra=1)}))

    def test_missing_field_fails(self):
        t = dict(TASK)
        del t["due_date"]
        with self.assertRaisesRegex(AssertionError, "due_date"):
            self.v.check("GET", "/tasks/5", fake_response(200, {"task": t}))

    def test_wrong_type_or_enum_fails(self):
        for bad in ({"status": "done"}, {"id": "1"},
                    {"created_at": "2025-03-02 10:15:04"}):
            with self.assertRaises(AssertionError, msg=bad):
                self.v.check("GET", "/tasks/5", fake_response(
                    200, {"task": dict(TASK, **bad)}))

    def test_undocumented_status_fails(self):
        with self.assertRaisesRegex(AssertionError, "not documented"):
            self.v.check("GET", "/tasks", fake_response(
                404, {"error": "Not Found", "message": "x"}))
        with self.assertRaisesRegex(AssertionError, "not documented"):
            self.v.check("GET", "/health", fake_response(
                409, {"error": "Conflict", "message": "x"}))

    def test_error_shape_is_checked(self):
        with self.assertRaisesRegex(AssertionError, "details"):
            self.v.check("GET", "/tasks/5", fake_response(
                404, {"error": "Not Found", "message": "x",
                      "details": [{"field": "a", "message": "b"}]}))
        with self.assertRaises(AssertionError):
            self.v.check("GET", "/tasks/5", fake_response(
                404, {"error": "Gone", "message": "x"}))

    def test_missing_required_header_fails(self):
        with self.assertRaisesRegex(AssertionError, "Allow"):
            self.v.check("PATCH", "/tasks", fake_response(
                405, {"error": "Method Not Allowed", "message": "x"}))
        with self.assertRaisesRegex(AssertionError, "X-Request-Id"):
            self.v.check("GET", "/health", fake_response(
                200, {"status": "healthy", "service": "edge-api"},
                {"X-Request-Id": None}))
        # API v1.1: an answer carrying one task carries its ETag.
        with self.assertRaisesRegex(AssertionError, "ETag"):
            self.v.check("GET", "/tasks/5", fake_response(
                200, {"task": TASK}))
        with self.assertRaisesRegex(AssertionError, "ETag"):
            self.v.check("GET", "/tasks/5", fake_response(
                200, {"task": TASK}, {"ETag": "W/\"5-1\""}))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Served(unittest.TestCase):
    """edge-api serves the document it was built with."""

    def test_get_openapi_json(self):
        bindir = os.environ.get("TA_BIN_DIR")
        self.assertTrue(bindir, "TA_BIN_DIR not set")
        port = free_port()
        secret = "".join(secrets.choice(string.ascii_letters)
                         for _ in range(48))
        env = dict(os.environ, PORT=str(port), JWT_SECRET=secret,
                   RPC_AUTH_KEY=secrets.token_hex(32),
                   AUTH_RPC_URL="tcp://127.0.0.1:%d" % free_port(),
                   TASK_RPC_URL="tcp://127.0.0.1:%d" % free_port())
        proc = subprocess.Popen([os.path.join(bindir, "edge-api")], env=env,
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 15
            while True:
                self.assertIsNone(proc.poll(), "edge-api exited")
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port,
                                                      timeout=5)
                    conn.request("GET", "/openapi.json")
                    resp = conn.getresponse()
                    raw = resp.read()
                    conn.close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            self.assertEqual(resp.status, 200)
            self.assertTrue(resp.headers["Content-Type"].startswith(
                "application/json"))
            with open(DOC_PATH, "rb") as f:
                self.assertEqual(raw, f.read(),
                                 "served document differs from the file: "
                                 "rebuild edge-api")
            ts.OpenApiValidator(DOC_PATH).check(
                "GET", "/openapi.json",
                ts.Response(resp.status, resp.headers, json.loads(raw), raw))
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log_text = proc.stdout.read().decode("utf-8", "replace")
        proc.stdout.close()
        self.assertEqual(proc.returncode, 0, log_text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
