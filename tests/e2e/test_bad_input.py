"""e2e.bad_input: unknown routes, wrong methods, bodies over MAX_BODY_BYTES
(65536 here), malformed or mistyped JSON and odd ids. Each bad request gets
a 4xx error body, the system keeps answering, and the user's stored tasks
stay exactly as they were."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taskapi_system as ts  # noqa: E402

SYS = None
USER = None
TASK = None
LIMIT = 65536


def setUpModule():
    global SYS, USER, TASK
    SYS = ts.System(env_edge={"MAX_BODY_BYTES": str(LIMIT)}).start()
    USER = SYS.new_user()
    r = SYS.request("POST", "/tasks", {"title": "keep me", "description": "d",
                                       "due_date": "2030-01-01T00:00:00Z"},
                    token=USER["token"])
    if r.status != 201:
        raise AssertionError("create failed: %r" % (r,))
    TASK = r.json["task"]


def tearDownModule():
    if SYS:
        SYS.stop_checked()


class Base(unittest.TestCase):
    def setUp(self):
        self.snap_api = self.api_snapshot()
        self.snap_db = ts.task_rows(USER["id"])

    def tearDown(self):
        # the service still answers and nothing changed
        self.assertEqual(SYS.request("GET", "/health").status, 200)
        self.assertEqual(self.api_snapshot(), self.snap_api)
        self.assertEqual(ts.task_rows(USER["id"]), self.snap_db)

    def api_snapshot(self):
        r = SYS.request("GET", "/tasks", token=USER["token"])
        self.assertEqual(r.status, 200, r)
        return r.json

    def bad(self, method, path, raw, statuses=(400,), token=True,
            headers=None):
        r = SYS.request(method, path, raw, headers=headers,
                        token=USER["token"] if token else None)
        self.assertIn(r.status, statuses, r)
        ts.check_error(self, r, r.status)
        return r


class Routes(Base):
    def test_unknown_route(self):
        # "/" is the browser console (e2e.console_assets); its other
        # unknown files are 404 like any path.
        for method, path in (("GET", "/console/nope.js"), ("GET", "/nope"),
                             ("GET", "/auth"), ("POST", "/auth/nothing"),
                             ("GET", "/tasks/1/extra"), ("GET", "/tasksx"),
                             ("GET", "/auth/health/x"),
                             ("POST", "/api/tasks"), ("GET", "/%00"),
                             ("GET", "/" + "a" * 2000)):
            with self.subTest(route=method + " " + path[:30]):
                r = SYS.request(method, path, token=USER["token"])
                ts.check_error(self, r, 404)

    def test_wrong_method(self):
        for method, path, allowed in (
                ("POST", "/tasks/%d" % TASK["id"],
                 {"GET", "PUT", "PATCH", "DELETE"}),
                ("DELETE", "/tasks", {"GET", "POST"}),
                ("PUT", "/tasks", {"GET", "POST"}),
                ("PATCH", "/tasks", {"GET", "POST"}),
                ("GET", "/auth/login", {"POST"}),
                ("GET", "/auth/register", {"POST"}),
                ("DELETE", "/auth/validate", {"POST"}),
                ("POST", "/auth/health", {"GET"}),
                ("DELETE", "/health", {"GET"})):
            with self.subTest(route=method + " " + path):
                r = SYS.request(method, path, token=USER["token"])
                ts.check_error(self, r, 405)
                allow = {m.strip().upper() for m in
                         (r.headers.get("Allow") or "").split(",")}
                self.assertTrue(allowed <= allow,
                                "Allow header %r" % r.headers.get("Allow"))


class BodySize(Base):
    def test_over_limit(self):
        for path in ("/tasks", "/auth/register", "/auth/login",
                     "/tasks/%d" % TASK["id"]):
            method = "PUT" if path.startswith("/tasks/") else "POST"
            for chunked in (False, True):
                with self.subTest(path=path, chunked=chunked):
                    r = SYS.request_streamed(method, path, LIMIT + 1,
                                             chunked=chunked,
                                             token=USER["token"])
                    ts.check_error(self, r, 413)

    def test_at_limit_is_parsed(self):
        r = SYS.request_streamed("POST", "/tasks", LIMIT,
                                 token=USER["token"])
        ts.check_error(self, r, 400, fields=["title"])

    def test_10mb(self):
        r = SYS.request_streamed("POST", "/tasks", 10 * 1024 * 1024,
                                 token=USER["token"])
        ts.check_error(self, r, 413)


class Json(Base):
    MALFORMED = [b"{", b'{"title":', b'{"title": "x"', b"not json",
                 b"{'title': 'x'}", b'{"title": "x",}', b'{"title": "x"} x',
                 b'{"title": "x"}{}', b"[]", b'[{"title": "x"}]', b"5",
                 b'"title"', b"null", b"true", b"", b" ", b"\xff\xfe",
                 b'{"title": "\xff"}', b'{"title": "a\\u0000b"}',
                 b'{"title": NaN}', b'{"title": "x", "status": pending}']

    # RFC 8259 (issue 9): what cJSON alone let through.
    STRICT = [b'{"title": "a\x01b"}', b'{"title": "a\tb"}',
              b'{"title": "x", "description": "\x1f"}',
              b'{"title": "x", "n": 01}', b'{"title": "x", "n": 1.}',
              b'{"title": "x", "n": -.5}', b'{"title": "x", "n": 00}',
              b'{"title": "x"}\x01', b'{"title": "x"} // c']

    def test_strict_json(self):
        for raw in self.STRICT:
            for method, path in (("POST", "/tasks"),
                                 ("PUT", "/tasks/%d" % TASK["id"])):
                with self.subTest(method=method, body=raw):
                    r = self.bad(method, path, raw)
                    ts.check_error(self, r, 400, fields=["body"])

    def test_control_character_attack(self):
        # The body, scaled to this edge's MAX_BODY_BYTES: raw 0x01
        # bytes used to be stored and sent back as six bytes each.
        raw = b'{"title": "x", "description": "' + b"\x01" * 60000 + b'"}'
        r = self.bad("POST", "/tasks", raw)
        b = ts.check_error(self, r, 400, fields=["body"])
        self.assertIn("unescaped control character U+0001",
                      b["details"][0]["message"], r)
        self.assertLess(len(r.raw), 512, r)

    def test_duplicate_keys(self):
        for raw, field in (
                (b'{"title": "x", "status": "completed", "status": "bogus"}',
                 "status"),
                (b'{"title": "x", "title": "y"}', "title"),
                (b'{"title": "x", "status": null, "status": "pending"}',
                 "status"),
                (b'{"title": "x", "\\u0074itle": "y"}', "title"),
                (b'{"title": "x", "meta": {"a": 1, "a": 2}}', "meta.a")):
            for method, path in (("POST", "/tasks"),
                                 ("PUT", "/tasks/%d" % TASK["id"])):
                with self.subTest(method=method, body=raw):
                    r = self.bad(method, path, raw)
                    b = ts.check_error(self, r, 400, fields=[field],
                                       message="Duplicate key in request "
                                       "body")
                    self.assertIn("appears more than once",
                                  b["details"][0]["message"], r)

    def test_malformed_create(self):
        for raw in self.MALFORMED:
            with self.subTest(body=raw):
                self.bad("POST", "/tasks", raw)

    def test_malformed_update(self):
        # An empty body is {} (like the old service): an update naming no
        # field answers 200 with the task unchanged (e2e.tasks checks it).
        for raw in self.MALFORMED:
            if raw == b"":
                continue
            with self.subTest(body=raw):
                self.bad("PUT", "/tasks/%d" % TASK["id"], raw)

    def test_malformed_auth(self):
        common = [b"{", b"[]", b"null", b"", b'"x"', b'{"username": "a"} x']
        typed = {
            "/auth/register": [
                b'{"username": 5, "email": "a@b.c", "password": "pw"}',
                b'{"username": "a", "email": ["x"], "password": "pw"}',
                b'{"username": "a", "email": "a@b.c", "password": 1}'],
            "/auth/login": [
                b'{"username": 5, "password": "pw"}',
                b'{"username": "a", "password": {"p": 1}}',
                b'{"username": null, "password": true}'],
        }
        for path, bodies in typed.items():
            for raw in common + bodies:
                with self.subTest(path=path, body=raw):
                    self.bad("POST", path, raw, token=False)

    def test_wrong_types(self):
        for body, field in (({"title": 5}, "title"),
                            ({"title": True}, "title"),
                            ({"title": ["x"]}, "title"),
                            ({"title": {"a": 1}}, "title"),
                            ({"title": "x", "status": True}, "status"),
                            ({"title": "x", "status": 1}, "status"),
                            ({"title": "x", "priority": 2}, "priority"),
                            ({"title": "x", "priority": ["high"]}, "priority"),
                            ({"title": "x", "description": {}}, "description"),
                            ({"title": "x", "description": 12}, "description"),
                            ({"title": "x", "due_date": 1700000000},
                             "due_date"),
                            ({"title": "x", "due_date": {}}, "due_date")):
            for method, path in (("POST", "/tasks"),
                                 ("PUT", "/tasks/%d" % TASK["id"])):
                with self.subTest(method=method, body=body):
                    r = self.bad(method, path, body)
                    details = r.json.get("details")
                    if details is not None:
                        self.assertIn(field, {d.get("field")
                                              for d in details}, r)

    def test_case_sensitive_keys(self):
        # {"Title": ...} is not {"title": ...}
        r = self.bad("POST", "/tasks", {"Title": "x"})
        ts.check_error(self, r, 400, fields=["title"])

    def test_not_json_content_type(self):
        r = SYS.request("POST", "/tasks", b'{"title": "x"}',
                        headers={"Content-Type": "text/plain"},
                        token=USER["token"])
        # Either refused as media type, or as a body without JSON: never
        # stored.
        self.assertIn(r.status, (400, 415), r)
        ts.check_error(self, r, r.status)

    def test_body_without_content_type(self):
        """The old service never parsed a body without Content-Type: 415,
        nothing stored; a body-less request without one stays fine."""
        title = ts.unique("noct")
        r = SYS.request("POST", "/tasks", b'{"title": "%s"}' % title.encode(),
                        headers={"Content-Type": None}, token=USER["token"])
        ts.check_error(self, r, 415)
        self.assertFalse([t for t in ts.task_rows(USER["id"])
                          if t["title"] == title])
        r = SYS.request("GET", "/tasks", token=USER["token"])
        self.assertEqual(r.status, 200, r)
        r = SYS.request("POST", "/auth/validate", token=USER["token"])
        self.assertEqual(r.status, 200, r)


class Ids(Base):
    IDS = ["abc", "-1", "0", "99999999999999999999", "1.5", "1e3", "0x10",
           "%20", "1%00", "01x", "9223372036854775808",
           "-9223372036854775809"]

    def test_odd_ids(self):
        for tid in self.IDS:
            for method in ("GET", "PUT", "DELETE"):
                with self.subTest(method=method, id=tid):
                    body = {"title": "x"} if method == "PUT" else None
                    r = SYS.request(method, "/tasks/" + tid, body,
                                    token=USER["token"])
                    self.assertIn(r.status, (400, 404), r)
                    ts.check_error(self, r, r.status)

    def test_id_of_other_forms_of_own_task(self):
        # "/tasks/<id>" with leading zeros or a sign must not reach
        # another row than <id>, or be refused.
        for form in ("0%d" % TASK["id"], "+%d" % TASK["id"]):
            with self.subTest(form=form):
                r = SYS.request("GET", "/tasks/" + form, token=USER["token"])
                self.assertIn(r.status, (200, 400, 404), r)
                if r.status == 200:
                    self.assertEqual(r.json["task"]["id"], TASK["id"])


if __name__ == "__main__":
    ts.run_tests()
