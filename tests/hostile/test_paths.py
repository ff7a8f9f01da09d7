"""hostile.paths: routing on the raw path (an escaped "/" or "?" never
splits a segment, "." and ".." are never structure), HEAD wherever GET is
served, the absolute form of a request target, and CORS with "*" (never
with credentials) plus the security headers on every answer."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile as h  # noqa: E402

ts = h.ts
SYS = None
USER = None

SECURITY = {"cache-control": "no-store",
            "content-security-policy": "frame-ancestors 'none'",
            "x-content-type-options": "nosniff",
            "x-frame-options": "DENY",
            "referrer-policy": "no-referrer"}


def setUpModule():
    global SYS, USER
    SYS = ts.System(env_edge={"CORS_ALLOWED_ORIGINS": "*"}).start()
    USER = SYS.new_user()


def tearDownModule():
    if SYS:
        SYS.stop_checked()


def raw_request(line, headers=(), body=b""):
    data = (line + "\r\nHost: x\r\n" + "".join(k + ": " + v + "\r\n"
                                                for k, v in headers)
            + "Connection: close\r\n\r\n").encode() + body
    resps, closed, raw = h.exchange(SYS.port, data)
    return resps


class RawPath(unittest.TestCase):
    def task(self):
        r = SYS.request("POST", "/tasks", {"title": "victim"},
                        token=USER["token"])
        return r.json["task"]["id"]

    def test_escaped_slash_does_not_route(self):
        tid = self.task()
        auth = [("Authorization", "Bearer " + USER["token"])]
        for path in ("/tasks%2F{id}", "/tasks%2f{id}", "%2Ftasks%2F{id}",
                     "/tasks/{id}%3F/../../x", "/tasks/../tasks/{id}",
                     "/tasks/./{id}", "/tasks/%2E%2E/tasks/{id}"):
            p = path.format(id=tid)
            with self.subTest(path=p):
                r = raw_request("DELETE " + p + " HTTP/1.1", auth)[0]
                self.assertIn(r.status, (400, 404), r)
                h.check_error(self, r, r.status)
        r = SYS.request("GET", "/tasks/%d" % tid, token=USER["token"])
        self.assertEqual(r.status, 200, "the task was deleted: %r" % (r,))
        # an escaped unreserved character is the character itself
        r = SYS.request("GET", "/t%%61sks/%%3%d" % tid if tid < 10 else
                        "/t%%61sks/%d" % tid, token=USER["token"])
        self.assertEqual(r.status, 200, r)

    def test_encoded_query_mark_is_data(self):
        tid = self.task()
        r = SYS.request("GET", "/tasks/%d%%3F" % tid, token=USER["token"])
        self.assertEqual(r.status, 400, r)   # "1?" is no task id


class Head(unittest.TestCase):
    def test_head_wherever_get(self):
        tid = SYS.request("POST", "/tasks", {"title": "h"},
                          token=USER["token"]).json["task"]["id"]
        auth = [("Authorization", "Bearer " + USER["token"])]
        for path in ("/health", "/tasks", "/tasks/%d" % tid, "/openapi.json",
                     "/tasks/health", "/auth/health"):
            with self.subTest(path=path):
                g = raw_request("GET " + path + " HTTP/1.1", auth)[0]
                data = ("HEAD %s HTTP/1.1\r\nHost: x\r\nAuthorization: "
                        "Bearer %s\r\nConnection: close\r\n\r\n"
                        % (path, USER["token"])).encode()
                _, closed, raw = h.exchange(SYS.port, data)
                hd = h.parse_responses(raw, head_only=True)
                self.assertEqual(len(hd), 1, raw)
                self.assertEqual(hd[0].status, g.status)
                self.assertEqual(raw[raw.find(b"\r\n\r\n") + 4:], b"",
                                 "HEAD has a body")
                self.assertEqual(hd[0].headers.get("content-length"),
                                 g.headers.get("content-length"))
                self.assertEqual(hd[0].headers.get("content-type"),
                                 g.headers.get("content-type"))
        _, _, raw = h.exchange(SYS.port, b"HEAD /auth/login HTTP/1.1\r\n"
                               b"Host: x\r\nConnection: close\r\n\r\n")
        r = h.parse_responses(raw, head_only=True)[0]
        self.assertEqual(r.status, 405)
        self.assertEqual(r.headers.get("allow"), "POST, OPTIONS")
        r = SYS.request("DELETE", "/health")
        self.assertIn("HEAD", r.headers.get("Allow"))

    def test_absolute_form(self):
        for target in ("http://example.test/health",
                       "http://example.test:8080/health?x=1",
                       "HTTPS://example.test/health"):
            with self.subTest(target=target):
                r = raw_request("GET " + target + " HTTP/1.1")[0]
                self.assertEqual(r.status, 200, r)
        r = raw_request("GET ftp://example.test/health HTTP/1.1")[0]
        h.check_error(self, r, 400)


class CorsAndHeaders(unittest.TestCase):
    def test_star_never_with_credentials(self):
        for method, path in (("GET", "/health"), ("OPTIONS", "/tasks"),
                             ("GET", "/tasks")):
            with self.subTest(method=method, path=path):
                r = SYS.request(method, path, headers={
                    "Origin": "http://evil.example",
                    "Access-Control-Request-Method": "POST"})
                self.assertEqual(
                    r.headers.get("Access-Control-Allow-Origin"), "*", r)
                self.assertIsNone(
                    r.headers.get("Access-Control-Allow-Credentials"), r)

    def test_preflight_lists(self):
        r = SYS.request("OPTIONS", "/tasks", headers={
            "Origin": "http://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Idempotency-Key"})
        allow = {x.strip().lower() for x in
                 r.headers.get("Access-Control-Allow-Headers").split(",")}
        self.assertTrue({"authorization", "content-type", "idempotency-key",
                         "if-match", "if-none-match"} <= allow, r)
        self.assertIn("HEAD", r.headers.get("Access-Control-Allow-Methods"))
        r = SYS.request("GET", "/health",
                        headers={"Origin": "http://app.example"})
        expose = {x.strip().lower() for x in
                  r.headers.get("Access-Control-Expose-Headers").split(",")}
        self.assertEqual(expose, {"x-request-id", "idempotency-key",
                                  "retry-after", "etag", "ratelimit",
                                  "ratelimit-policy"})

    def test_security_headers_everywhere(self):
        answers = [SYS.request("GET", "/health"),
                   SYS.request("GET", "/nope"),
                   SYS.request("GET", "/tasks"),
                   SYS.request("OPTIONS", "/tasks")]
        for r in answers:
            for k, v in SECURITY.items():
                self.assertEqual(r.headers.get(k), v, r)
            self.assertIsNone(r.headers.get("Strict-Transport-Security"))
        front = raw_request("GET /health HTTP/1.1", [("Host", "y")])[0]
        for k, v in SECURITY.items():
            self.assertEqual(front.headers.get(k), v, front)


if __name__ == "__main__":
    ts.run_tests()
