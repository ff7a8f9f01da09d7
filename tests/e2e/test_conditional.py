"""e2e.conditional: API v1.1's PATCH /tasks/{id}, the ETag of every answer
that carries one task, If-Match on PUT, PATCH and DELETE (412), and
If-None-Match on GET and HEAD (304), checked against the HTTP answers and
the stored rows."""

import os
import re
import sys
import threading
import unittest
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taskapi_system as ts  # noqa: E402

SYS = None
ALICE = BOB = None
MERGE = {"Content-Type": "application/merge-patch+json"}
ETAG_RE = re.compile(r'^"([0-9]+)-([0-9]+)"$')
FAILED = "The task has changed: If-Match does not match its current ETag"


def setUpModule():
    global SYS, ALICE, BOB
    SYS = ts.System().start()
    ALICE = SYS.new_user()
    BOB = SYS.new_user()


def tearDownModule():
    if SYS:
        SYS.stop_checked()


def req(method, path, body=None, user=None, headers=None):
    return SYS.request(method, path, body, headers=headers,
                       token=(user or ALICE)["token"])


def new_task(tc, user=None, **fields):
    body = {"title": "conditional", "description": "d"}
    body.update(fields)
    r = req("POST", "/tasks", body, user)
    tc.assertEqual(r.status, 201, r)
    return r.json["task"], r.headers["ETag"]


def version(task_id):
    return int(ts.psql("SELECT version FROM tasks WHERE id = %d"
                       % task_id)[0])


def check_etag(tc, r, task_id, ver=None):
    """r carries a strong ETag of task_id (and of version ver)."""
    tag = r.headers.get("ETag")
    tc.assertIsNotNone(tag, r)
    m = ETAG_RE.match(tag)
    tc.assertIsNotNone(m, "ETag %r" % tag)
    tc.assertEqual(int(m.group(1)), task_id, tag)
    if ver is not None:
        tc.assertEqual(int(m.group(2)), ver, tag)
    return tag


class ETags(unittest.TestCase):
    def test_every_task_answer_has_one(self):
        r = req("POST", "/tasks", {"title": "tagged"})
        self.assertEqual(r.status, 201, r)
        t = r.json["task"]
        tag = check_etag(self, r, t["id"], 1)
        # Header only: the bodies keep their keys, the task its nine.
        self.assertEqual(set(r.json), {"message", "task"})
        ts.check_task(self, t, ALICE["id"])
        path = "/tasks/%d" % t["id"]
        r = req("GET", path)
        self.assertEqual((r.status, r.headers["ETag"]), (200, tag), r)
        self.assertEqual(set(r.json), {"task"})
        r = req("HEAD", path)
        self.assertEqual((r.status, r.headers["ETag"]), (200, tag), r)
        r = req("PUT", path, {"title": "retitled"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), {"message", "task"})
        check_etag(self, r, t["id"], 2)
        r = req("PATCH", path, {"priority": "high"}, headers=MERGE)
        self.assertEqual(r.status, 200, r)
        check_etag(self, r, t["id"], 3)
        self.assertEqual(version(t["id"]), 3)
        # No task, no tag: the list and the delete carry none.
        self.assertNotIn("ETag", req("GET", "/tasks").headers)
        r = req("DELETE", path)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("ETag", r.headers)

    def test_noop_update_keeps_the_version(self):
        t, tag = new_task(self)
        for method in ("PUT", "PATCH"):
            r = req(method, "/tasks/%d" % t["id"], {})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.headers["ETag"], tag, r)
        self.assertEqual(version(t["id"]), 1)


class IfNoneMatch(unittest.TestCase):
    def test_match_is_304_without_body(self):
        t, tag = new_task(self)
        path = "/tasks/%d" % t["id"]
        for value in (tag, "W/" + tag, "*", '"0-0", ' + tag, " " + tag):
            for method in ("GET", "HEAD"):
                with self.subTest(value=value, method=method):
                    r = req(method, path,
                            headers={"If-None-Match": value})
                    self.assertEqual(r.status, 304, r)
                    self.assertEqual(r.raw, b"", r)
                    self.assertEqual(r.headers["ETag"], tag, r)

    def test_no_match_is_200(self):
        t, tag = new_task(self)
        path = "/tasks/%d" % t["id"]
        req("PATCH", path, {"status": "completed"})
        # The old tag, another task's, and a malformed value (ignored).
        for value in (tag, '"%d-1"' % (t["id"] + 1), "nonsense", ""):
            with self.subTest(value=value):
                r = req("GET", path, headers={"If-None-Match": value})
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json["task"]["status"], "completed")
                check_etag(self, r, t["id"], 2)

    def test_errors_stay_errors(self):
        t, tag = new_task(self)
        r = req("GET", "/tasks/%d" % t["id"], user=BOB,
                headers={"If-None-Match": "*"})
        ts.check_error(self, r, 403)
        r = req("GET", "/tasks/2147483647", headers={"If-None-Match": "*"})
        ts.check_error(self, r, 404)


class Patch(unittest.TestCase):
    def test_media_types(self):
        t, _ = new_task(self)
        path = "/tasks/%d" % t["id"]
        for ct in ("application/merge-patch+json", "application/json",
                   "Application/Merge-Patch+JSON; charset=utf-8"):
            with self.subTest(ct=ct):
                r = req("PATCH", path, {"title": ct},
                        headers={"Content-Type": ct})
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json["task"]["title"], ct)
        for ct in ("text/plain", "application/merge-patch+xml",
                   "application/merge-patch+json; charset=latin1"):
            with self.subTest(ct=ct):
                r = req("PATCH", path, {"title": "x"},
                        headers={"Content-Type": ct})
                ts.check_error(self, r, 415)
        # PUT and POST keep accepting JSON only.
        r = req("PUT", path, {"title": "x"}, headers=MERGE)
        ts.check_error(self, r, 415)
        r = req("POST", "/tasks", {"title": "x"}, headers=MERGE)
        ts.check_error(self, r, 415)

    def test_merge_semantics(self):
        t, _ = new_task(self, due_date="2030-01-02T03:04:05Z",
                        priority="low")
        path = "/tasks/%d" % t["id"]
        r = req("PATCH", path, {"description": None, "due_date": None,
                                "status": "in_progress"}, headers=MERGE)
        self.assertEqual(r.status, 200, r)
        got = ts.check_task(self, r.json["task"], ALICE["id"])
        self.assertIsNone(got["description"])
        self.assertIsNone(got["due_date"])
        self.assertEqual(got["status"], "in_progress")
        self.assertEqual(got["priority"], "low")
        self.assertEqual(got["title"], "conditional")
        row = ts.task_row(t["id"])
        self.assertIsNone(row["description"])
        self.assertIsNone(row["due_date"])

    def test_null_for_required_fields_is_400(self):
        t, tag = new_task(self)
        path = "/tasks/%d" % t["id"]
        for field in ("title", "status", "priority"):
            for method in ("PATCH", "PUT"):
                with self.subTest(field=field, method=method):
                    r = req(method, path, {field: None})
                    ts.check_error(self, r, 400, fields={field})
        self.assertEqual(version(t["id"]), 1)

    def test_same_validation_as_put(self):
        t, _ = new_task(self)
        path = "/tasks/%d" % t["id"]
        for body in ({"title": ""}, {"title": "x" * 201},
                     {"status": "done"}, {"priority": 3},
                     {"due_date": "tomorrow"}):
            with self.subTest(body=body):
                a = req("PATCH", path, body, headers=MERGE)
                b = req("PUT", path, body)
                self.assertEqual(a.status, 400, a)
                self.assertEqual((a.status, a.json), (b.status, b.json))

    def test_unknown_fields_as_put(self):
        t, _ = new_task(self)
        path = "/tasks/%d" % t["id"]
        for body in ({"title": "n", "colour": "red"},
                     {"title": "n", "if_match": '"1-999"'},
                     {"title": "n", "etag": '"1-999"'}):
            with self.subTest(body=body):
                a = req("PATCH", path, body, headers=MERGE)
                b = req("PUT", path, body)
                self.assertEqual(a.status, b.status, (a, b))
                self.assertEqual(a.status, 200, a)

    def test_empty_patch_reads(self):
        t, tag = new_task(self)
        r = req("PATCH", "/tasks/%d" % t["id"], {}, headers=MERGE)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["message"], "Task updated successfully")
        self.assertEqual(r.json["task"], t)
        self.assertEqual(r.headers["ETag"], tag)

    def test_ownership(self):
        t, tag = new_task(self)
        path = "/tasks/%d" % t["id"]
        ts.check_error(self, req("PATCH", path, {"title": "x"}, BOB), 403)
        ts.check_error(self, req("PATCH", "/tasks/2147483647",
                                 {"title": "x"}), 404)
        ts.check_error(self, SYS.request("PATCH", path, {"title": "x"}),
                       401)
        self.assertEqual(version(t["id"]), 1)


class IfMatch(unittest.TestCase):
    def test_current_tag_applies(self):
        t, tag = new_task(self)
        path = "/tasks/%d" % t["id"]
        r = req("PUT", path, {"title": "one"}, headers={"If-Match": tag})
        self.assertEqual(r.status, 200, r)
        tag2 = check_etag(self, r, t["id"], 2)
        r = req("PATCH", path, {"title": "two"},
                headers={"If-Match": '"%d-1", %s' % (t["id"], tag2)})
        self.assertEqual(r.status, 200, r)
        r = req("PATCH", path, {"title": "three"}, headers={"If-Match": "*"})
        self.assertEqual(r.status, 200, r)
        check_etag(self, r, t["id"], 4)
        self.assertEqual(ts.task_row(t["id"])["title"], "three")

    def test_stale_tag_is_412_and_changes_nothing(self):
        t, tag = new_task(self)
        path = "/tasks/%d" % t["id"]
        r = req("PATCH", path, {"status": "completed"})
        self.assertEqual(r.status, 200, r)
        before = ts.task_row(t["id"])
        other, other_tag = new_task(self)
        for value in (tag, "W/" + r.headers["ETag"], other_tag,
                      '"opaque"', '"%d-02"' % t["id"]):
            for method, body in (("PUT", {"title": "lost"}),
                                 ("PATCH", {"title": "lost"}),
                                 ("PATCH", {}), ("DELETE", None)):
                with self.subTest(value=value, method=method, body=body):
                    r = req(method, path, body,
                            headers={"If-Match": value})
                    ts.check_error(self, r, 412, message=FAILED)
        self.assertEqual(ts.task_row(t["id"]), before)
        self.assertEqual(version(t["id"]), 2)

    def test_malformed_is_400_naming_the_header(self):
        t, tag = new_task(self)
        path = "/tasks/%d" % t["id"]
        for value in (tag[1:-1], "W/" + tag[1:-1], tag + " x", "*, " + tag,
                      '"a"' + ',"a"' * 32, ""):
            for method in ("PUT", "PATCH", "DELETE"):
                with self.subTest(value=value, method=method):
                    r = req(method, path,
                            None if method == "DELETE" else {"title": "m"},
                            headers={"If-Match": value})
                    ts.check_error(self, r, 400, fields={"If-Match"})
        self.assertEqual(version(t["id"]), 1)
        # GET ignores If-Match (RFC 9110 section 13.1.1: no change asked).
        r = req("GET", path, headers={"If-Match": "nonsense"})
        self.assertEqual(r.status, 200, r)

    def test_ownership_ranks_first(self):
        t, tag = new_task(self)
        path = "/tasks/%d" % t["id"]
        for value in (tag, '"0-0"', "*"):
            for method in ("PUT", "PATCH", "DELETE"):
                with self.subTest(value=value, method=method):
                    body = None if method == "DELETE" else {"title": "b"}
                    r = req(method, path, body, BOB,
                            headers={"If-Match": value})
                    ts.check_error(self, r, 403)
                    r = req(method, "/tasks/2147483647", body,
                            headers={"If-Match": value})
                    ts.check_error(self, r, 404)
        self.assertEqual(version(t["id"]), 1)

    def test_conditional_delete(self):
        t, tag = new_task(self)
        path = "/tasks/%d" % t["id"]
        req("PATCH", path, {"title": "moved on"})
        ts.check_error(self, req("DELETE", path, headers={"If-Match": tag}),
                       412)
        self.assertIsNotNone(ts.task_row(t["id"]))
        r = req("DELETE", path,
                headers={"If-Match": '"%d-2"' % t["id"]})
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(ts.task_row(t["id"]))
        ts.check_error(self, req("DELETE", path, headers={"If-Match": "*"}),
                       404)

    def test_replayed_conditional_update(self):
        """The edge re-sends a call whose instance died with the same
        idempotency key; a client repeating with its key gets the same
        path: the repeat of an update that succeeded is 200, not 412."""
        t, tag = new_task(self)
        path = "/tasks/%d" % t["id"]
        key = ts.unique("k")
        hdrs = {"If-Match": tag, "Idempotency-Key": key}
        first = req("PATCH", path, {"title": "once"}, headers=hdrs)
        self.assertEqual(first.status, 200, first)
        again = req("PATCH", path, {"title": "once"}, headers=hdrs)
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.json["task"], first.json["task"])
        self.assertEqual(again.headers["ETag"], first.headers["ETag"])
        self.assertEqual(version(t["id"]), 2)
        # The same key for another request: 422, nothing done.
        r = req("PATCH", path, {"title": "twice"}, headers=hdrs)
        ts.check_error(self, r, 422, fields={"Idempotency-Key"})
        self.assertEqual(ts.task_row(t["id"])["title"], "once")
        # Without the key the stale tag is what it is.
        r = req("PATCH", path, {"title": "once"},
                headers={"If-Match": tag})
        ts.check_error(self, r, 412)


class StatusMapping(unittest.TestCase):
    def test_deleted_user_is_still_400(self):
        """FAILED_PRECONDITION became 412 for If-Match; a task created with
        the token of a user deleted since (a foreign-key refusal) keeps its
        400 and its message."""
        u = SYS.new_user()
        ts.psql("DELETE FROM users WHERE id = %d" % u["id"])
        for key in (None, ts.unique("k")):
            with self.subTest(key=key):
                r = SYS.request("POST", "/tasks", {"title": "orphan"},
                                token=u["token"],
                                headers={"Idempotency-Key": key})
                ts.check_error(self, r, 400, message="The user of this "
                               "token no longer exists")


class Concurrency(unittest.TestCase):
    def test_one_writer_wins(self):
        n = 20
        t, tag = new_task(self)
        path = "/tasks/%d" % t["id"]
        gate = threading.Barrier(n)

        def one(i):
            gate.wait()
            return req("PATCH", path, {"title": "writer %d" % i},
                       headers={"If-Match": tag})

        with ThreadPoolExecutor(max_workers=n) as ex:
            answers = list(ex.map(one, range(n)))
        statuses = sorted(r.status for r in answers)
        self.assertEqual(statuses, [200] + [412] * (n - 1), answers)
        winner = next(r for r in answers if r.status == 200)
        self.assertEqual(version(t["id"]), 2)
        self.assertEqual(ts.task_row(t["id"])["title"],
                         winner.json["task"]["title"])
        check_etag(self, winner, t["id"], 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
