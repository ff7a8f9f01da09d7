"""e2e.console_assets: the edge serves the browser console's embedded files
(console/) at / and /console/<name>: media types, a strong ETag and 304 on
If-None-Match, Cache-Control: no-cache, the console's strict
Content-Security-Policy, GET and HEAD only, unknown files 404 JSON, and the
API routes and /openapi.json as before. Raw http.client: these answers are
not part of the API's OpenAPI document."""

import http.client
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taskapi_system as ts  # noqa: E402

SRC = os.environ.get("TA_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONSOLE = os.path.join(SRC, "console")
SYS = None
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; "
       "img-src 'self'; connect-src 'self'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
TYPES = {".html": "text/html; charset=utf-8",
         ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


def setUpModule():
    global SYS
    SYS = ts.System().start()


def tearDownModule():
    SYS.stop_checked()
    SYS.cleanup()


def fetch(method, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", SYS.port, timeout=10)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        return r.status, r.headers, r.read()
    finally:
        c.close()


def files():
    """(path served at, file bytes, expected type) of every console file."""
    out = []
    for name in sorted(os.listdir(CONSOLE)):
        with open(os.path.join(CONSOLE, name), "rb") as f:
            data = f.read()
        path = "/" if name == "index.html" else "/console/" + name
        out.append((path, data, TYPES[os.path.splitext(name)[1]]))
    return out


class Assets(unittest.TestCase):
    def test_every_file_served_as_committed(self):
        self.assertGreaterEqual(len(files()), 5)
        for path, data, ctype in files():
            status, h, body = fetch("GET", path)
            self.assertEqual(status, 200, path)
            self.assertEqual(body, data, path)
            self.assertEqual(h["Content-Type"], ctype, path)
            self.assertRegex(h["ETag"], r'^"[0-9a-f]{32}"$', path)
            self.assertEqual(h["Cache-Control"], "no-cache", path)
            self.assertEqual(h["Content-Security-Policy"], CSP, path)
            self.assertEqual(h["X-Content-Type-Options"], "nosniff", path)
            self.assertEqual(h["X-Frame-Options"], "DENY", path)
            self.assertTrue(h["X-Request-Id"], path)

    def test_etag_revalidation(self):
        for path, _, _ in files():
            _, h, _ = fetch("GET", path)
            tag = h["ETag"]
            status, h2, body = fetch("GET", path, {"If-None-Match": tag})
            self.assertEqual((status, body), (304, b""), path)
            self.assertEqual(h2["ETag"], tag, path)
            self.assertEqual(h2["Cache-Control"], "no-cache", path)
            status, _, _ = fetch("GET", path,
                                 {"If-None-Match": '"other", W/' + tag})
            self.assertEqual(status, 304, "weak comparison: " + path)
            status, _, body = fetch("GET", path, {"If-None-Match": '"x"'})
            self.assertEqual(status, 200, path)
        tags = {fetch("GET", p)[1]["ETag"] for p, _, _ in files()}
        self.assertEqual(len(tags), len(files()), "one tag per file")

    def test_head_and_query(self):
        status, h, body = fetch("HEAD", "/console/app.js")
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(h["Content-Type"], TYPES[".js"])
        self.assertGreater(int(h["Content-Length"]), 100)
        status, _, body = fetch("GET", "/?from=bookmark")
        self.assertEqual(status, 200)
        self.assertIn(b"<!doctype html>", body)

    def test_only_get_and_head(self):
        for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
            for path in ("/", "/console/app.js"):
                status, h, body = fetch(method, path,
                                        {"Content-Length": "0"})
                self.assertEqual(status, 405, (method, path))
                self.assertEqual(h["Allow"], "GET, HEAD", (method, path))
                self.assertEqual(json.loads(body)["error"],
                                 "Method Not Allowed")

    def test_unknown_paths_404_json(self):
        for path in ("/console/", "/console", "/console/nope.js",
                     "/index.html", "/console/app.js/x", "/console/APP.JS",
                     "/console/%61pp.js", "/console/../console/app.js",
                     "/console//app.js"):
            status, h, body = fetch("GET", path)
            self.assertEqual(status, 404, path)
            self.assertTrue(h["Content-Type"].startswith("application/json"))
            self.assertEqual(json.loads(body)["error"], "Not Found", path)
            self.assertEqual(h["Cache-Control"], "no-store", path)

    def test_api_unchanged(self):
        status, h, body = fetch("GET", "/openapi.json")
        self.assertEqual(status, 200)
        self.assertTrue(h["Content-Type"].startswith("application/json"))
        self.assertEqual(h["Content-Security-Policy"],
                         "frame-ancestors 'none'")
        with open(os.path.join(SRC, "docs", "openapi.json"), "rb") as f:
            self.assertEqual(json.loads(body), json.loads(f.read()))
        status, h, _ = fetch("GET", "/health")
        self.assertEqual(status, 200)
        self.assertEqual(h["Cache-Control"], "no-store")
        status, _, _ = fetch("GET", "/tasks")
        self.assertEqual(status, 401)


if __name__ == "__main__":
    ts.run_tests()
