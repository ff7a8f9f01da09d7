"""e2e.pages: GET /tasks pages, filters, search and sort (API v1.1): every
parameter, each sort against a Python sort of the same rows, cursors bound
to their list, the byte budget, and walks under concurrent writers."""

import base64
import os
import sys
import threading
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taskapi_system as ts  # noqa: E402
import pages_model as pm  # noqa: E402

SYS = None
ALICE = BOB = None
ALL_SORTS = pm.ALL_SORTS


def setUpModule():
    global SYS, ALICE, BOB
    SYS = ts.System().start()
    ALICE = SYS.new_user()
    BOB = SYS.new_user()
    seed(ALICE)


def tearDownModule():
    if SYS:
        SYS.stop_checked()


def get(user, params, raw=None):
    return SYS.request("GET", raw if raw is not None else pm.path(params),
                       token=user["token"])


def seed(user):
    """30 tasks of every kind, written by SQL so that some share
    created_at, updated_at, due dates and titles (ties go by id)."""
    values = []
    for i in range(30):
        title = ["Alpha", "beta", "Gamma 50% off", "under_score", "back\\slash",
                 "Zed", "alpha", "\u00e9clair", "\U0001F600 smile"][i % 9]
        desc = "NULL" if i % 4 == 0 else "'note %d about REPORTS'" % i
        due = "NULL" if i % 3 == 0 else \
            "'2030-01-%02d 12:00:00'::timestamp" % (1 + i % 5)
        created = "'2026-01-01 00:00:00'::timestamp + %d * interval " \
                  "'1 minute'" % (i // 3)
        updated = "'2026-02-01 00:00:00'::timestamp + %d * interval " \
                  "'1 second'" % (i % 7)
        values.append("(%d, %s, %s, '%s', '%s', %s, %s, %s)" % (
            user["id"], "'" + title.replace("'", "''") + "'", desc,
            ["pending", "in_progress", "completed"][i % 3],
            ["low", "medium", "high", "medium"][i % 4], due, created,
            updated))
    ts.psql("INSERT INTO tasks (user_id, title, description, status, "
            "priority, due_date, created_at, updated_at) VALUES "
            + ", ".join(values))


class Defaults(unittest.TestCase):
    def test_no_parameters_is_the_old_answer(self):
        r = get(ALICE, {})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json),
                         {"tasks", "count", "truncated", "next_cursor"})
        self.assertIsNone(r.json["next_cursor"])
        self.assertIs(r.json["truncated"], False)
        self.assertEqual(r.json["count"], 30)
        for t in r.json["tasks"]:
            ts.check_task(self, t, ALICE["id"])
        want = pm.select(pm.rows(ALICE["id"]), {})
        self.assertEqual([t["id"] for t in r.json["tasks"]], want)

    def test_empty_list(self):
        r = get(BOB, {})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"tasks": [], "count": 0,
                                  "truncated": False, "next_cursor": None})

    def test_limit_pages(self):
        r = get(ALICE, {"limit": 7})
        self.assertEqual(r.json["count"], 7, r)
        self.assertIsInstance(r.json["next_cursor"], str)
        r = get(ALICE, {"limit": 30})
        self.assertEqual(r.json["count"], 30, r)
        self.assertIsNone(r.json["next_cursor"], r)
        r = get(ALICE, {"limit": 1000})
        self.assertEqual(r.json["count"], 30, r)
        ids, pages = pm.walk(SYS, ALICE["token"], {"limit": 1})
        self.assertEqual(pages, 30)
        self.assertEqual(ids, pm.select(pm.rows(ALICE["id"]), {}))


class Sorts(unittest.TestCase):
    def test_each_sort_matches_python(self):
        rows = pm.rows(ALICE["id"])
        for sort in ALL_SORTS:
            for limit in (4, 1000):
                p = {"sort": sort, "limit": limit}
                ids, _ = pm.walk(SYS, ALICE["token"], p)
                self.assertEqual(ids, pm.select(rows, p), p)

    def test_default_is_minus_created_at(self):
        a, _ = pm.walk(SYS, ALICE["token"], {"limit": 5})
        b, _ = pm.walk(SYS, ALICE["token"], {"limit": 5,
                                             "sort": "-created_at"})
        self.assertEqual(a, b)


class Filters(unittest.TestCase):
    CASES = [
        {"status": "pending"},
        {"status": "in_progress,completed"},
        {"status": "completed,completed"},
        {"priority": "high"},
        {"priority": "low,medium"},
        {"due_before": "2030-01-03T12:00:00Z"},
        {"due_after": "2030-01-03T12:00:00Z"},
        {"due_after": "2030-01-01", "due_before": "2030-01-04T00:00:00.5Z"},
        {"q": "alpha"},
        {"q": "REPORT"},
        {"q": "50%"},
        {"q": "%"},
        {"q": "_"},
        {"q": "\\"},
        {"q": "r_s"},
        {"q": "\u00e9clair"},
        {"q": "\U0001F600"},
        {"q": "note 1"},
        {"q": "nothing like it"},
        {"status": "pending", "priority": "medium,high", "q": "a",
         "sort": "-due_date"},
    ]

    def test_filters_match_python(self):
        rows = pm.rows(ALICE["id"])
        for case in self.CASES:
            for limit in (3, 1000):
                p = dict(case, limit=limit)
                ids, _ = pm.walk(SYS, ALICE["token"], p)
                self.assertEqual(ids, pm.select(rows, p), p)

    def test_wildcards_are_literal(self):
        # "%" and "_" match themselves only: not every task.
        for q, title in (("50%", "Gamma 50% off"), ("_", "under_score"),
                         ("\\", "back\\slash")):
            r = get(ALICE, {"q": q})
            self.assertEqual(r.status, 200, r)
            self.assertTrue(r.json["tasks"], r)
            self.assertEqual({t["title"] for t in r.json["tasks"]}, {title})

    def test_q_of_200_characters(self):
        r = get(ALICE, {"q": "\u00e9" * 200})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["count"], 0)


class BadParameters(unittest.TestCase):
    def bad(self, params=None, field=None, raw=None, user=None):
        r = get(user or ALICE, params, raw=raw)
        ts.check_error(self, r, 400, fields=[field])
        return r

    def test_each_malformed_value(self):
        cases = [({"limit": 0}, "limit"), ({"limit": 1001}, "limit"),
                 ({"limit": -1}, "limit"), ({"limit": "abc"}, "limit"),
                 ({"limit": "1.5"}, "limit"), ({"limit": ""}, "limit"),
                 ({"limit": "99999999999999"}, "limit"),
                 ({"q": "x" * 201}, "q"), ({"q": "\u00e9" * 201}, "q"),
                 ({"due_before": "tomorrow"}, "due_before"),
                 ({"due_after": "2030-13-01T00:00:00Z"}, "due_after"),
                 ({"due_before": ""}, "due_before"),
                 ({"status": "done"}, "status"),
                 ({"status": "pending,"}, "status"),
                 ({"status": "PENDING"}, "status"),
                 ({"priority": "urgent"}, "priority"),
                 ({"sort": "id"}, "sort"), ({"sort": "--title"}, "sort"),
                 ({"sort": "title,-id"}, "sort"), ({"sort": "+title"}, "sort"),
                 ({"colour": "red"}, "colour"), ({"Limit": "5"}, "Limit"),
                 ({"user_id": "1"}, "user_id"),
                 ({"cursor": "!!!"}, "cursor")]
        for params, field in cases:
            with self.subTest(params=params):
                self.bad(params, field)

    def test_repeated_and_bare(self):
        self.bad(raw="/tasks?limit=5&limit=5", field="limit")
        self.bad(raw="/tasks?status=pending&status=completed",
                 field="status")
        self.bad(raw="/tasks?q", field="q")
        self.bad(raw="/tasks?q=a%00b", field="q")
        self.bad(raw="/tasks?q=%C3%28", field="q")
        self.bad(raw="/tasks?q=a%0Ab", field="q")

    def test_encoding(self):
        # Names and values are form-urlencoded: "%6C" is "l", "+" a space.
        r = get(ALICE, None, raw="/tasks?%6Cimit=%33")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["count"], 3)
        r = get(ALICE, None, raw="/tasks?q=50%25+off")
        self.assertEqual([t["title"] for t in r.json["tasks"]],
                         ["Gamma 50% off"] * len(r.json["tasks"]), r)
        self.assertTrue(r.json["tasks"], r)
        # An empty q or cursor is none; an empty list names nothing.
        for raw in ("/tasks?", "/tasks?q=", "/tasks?cursor="):
            r = get(ALICE, None, raw=raw)
            self.assertEqual(r.json["count"], 30, r)
        self.bad(raw="/tasks?status=", field="status")
        self.bad(raw="/tasks?&limit=1", field="query")
        self.bad(raw="/tasks?=1", field="query")
        self.bad(raw="/tasks?q=%zz", field="q")
        self.bad(raw="/tasks?q=%4", field="q")

    def test_service_keeps_serving(self):
        self.bad({"limit": "abc"}, "limit")
        r = get(ALICE, {"limit": 2})
        self.assertEqual(r.status, 200, r)


class Cursors(unittest.TestCase):
    def first_cursor(self, params, user=None):
        r = get(user or ALICE, dict(params, limit=2))
        self.assertEqual(r.status, 200, r)
        self.assertIsInstance(r.json["next_cursor"], str, r)
        return r.json["next_cursor"]

    def refused(self, params, user=None):
        r = get(user or ALICE, dict(params, limit=2))
        ts.check_error(self, r, 400, fields=["cursor"])

    def test_cursor_is_opaque_base64url(self):
        c = self.first_cursor({})
        self.assertRegex(c, r"^[A-Za-z0-9_-]+$")
        self.assertNotIn(ALICE["username"], c)

    def test_bound_to_filters_sort_and_q(self):
        c = self.first_cursor({"sort": "title"})
        self.refused({"sort": "-title", "cursor": c})
        self.refused({"sort": "priority", "cursor": c})
        self.refused({"cursor": c})
        self.refused({"sort": "title", "q": "a", "cursor": c})
        self.refused({"sort": "title", "status": "pending", "cursor": c})
        c = self.first_cursor({"status": "pending,completed", "q": "a"})
        # The same list in other words is the same list.
        r = get(ALICE, {"status": "completed,pending", "q": "a",
                        "cursor": c, "limit": 2})
        self.assertEqual(r.status, 200, r)
        self.refused({"status": "pending", "q": "a", "cursor": c})
        self.refused({"status": "pending,completed", "q": "A",
                      "cursor": c})
        c = self.first_cursor({"due_before": "2030-01-05T00:00:00Z"})
        self.refused({"due_before": "2030-01-05T00:00:01Z", "cursor": c})
        # The limit may change from page to page.
        r = get(ALICE, {"due_before": "2030-01-05T00:00:00Z", "cursor": c,
                        "limit": 5})
        self.assertEqual(r.status, 200, r)

    def test_other_users_cursor(self):
        c = self.first_cursor({})
        r = get(BOB, {"cursor": c})
        ts.check_error(self, r, 400, fields=["cursor"])

    def test_tampered_and_garbage(self):
        c = self.first_cursor({})
        raw = base64.urlsafe_b64decode(c + "=" * (-len(c) % 4))
        for i in (0, 5, 20, 27, len(raw) - 20, len(raw) - 1):
            b = bytearray(raw)
            b[i] ^= 0x01
            t = base64.urlsafe_b64encode(bytes(b)).decode().rstrip("=")
            self.refused({"cursor": t})
        for g in ("x", "AAAA", c + "A", c[:-1], c + "==", c + ".",
                  c + "+", "A" * 5000,
                  base64.urlsafe_b64encode(raw[:-16]).decode().rstrip("=")):
            with self.subTest(cursor=g[:40]):
                r = get(ALICE, {"cursor": g})
                ts.check_error(self, r, 400, fields=["cursor"])

    def test_cursor_survives_a_deleted_row(self):
        # Keyset: the row the cursor names may be gone.
        u = SYS.new_user()
        ids = []
        for i in range(5):
            r = SYS.request("POST", "/tasks", {"title": "t%d" % i},
                            token=u["token"])
            ids.append(r.json["task"]["id"])
        r = get(u, {"limit": 2})
        last = r.json["tasks"][-1]["id"]
        c = r.json["next_cursor"]
        SYS.request("DELETE", "/tasks/%d" % last, token=u["token"])
        r = get(u, {"limit": 10, "cursor": c})
        self.assertEqual([t["id"] for t in r.json["tasks"]],
                         sorted(ids, reverse=True)[2:])


class Budget(unittest.TestCase):
    """Issue 12: nine tasks with 1 MB descriptions made GET /tasks fail
    with 503; they page instead, and one task larger than the page budget
    comes alone rather than looping."""

    def test_nine_megabyte_tasks_page(self):
        u = SYS.new_user()
        ts.psql("INSERT INTO tasks (user_id, title, description) SELECT "
                "%d, 'big ' || i, repeat('x', 1000000) FROM "
                "generate_series(1, 9) i" % u["id"])
        sizes = []
        ids, pages = pm.walk(SYS, u["token"], {},
                             on_page=lambda r: sizes.append(len(r.raw)))
        self.assertEqual(sorted(ids), sorted(
            r["id"] for r in pm.rows(u["id"])))
        self.assertEqual(len(ids), 9)
        self.assertGreaterEqual(pages, 9)
        self.assertTrue(all(s <= 1048576 for s in sizes), sizes)

    def test_task_over_budget_comes_alone(self):
        u = SYS.new_user()
        # 300000 control characters render as 1.8 MB of \u0001 escapes.
        ts.psql("INSERT INTO tasks (user_id, title, description, "
                "created_at) VALUES (%d, 'small 1', 'a', now() - interval "
                "'3 s'), (%d, 'huge', repeat(chr(1), 300000), now() - "
                "interval '2 s'), (%d, 'small 2', 'b', now() - interval "
                "'1 s')" % (u["id"], u["id"], u["id"]))
        seen = []
        ids, pages = pm.walk(SYS, u["token"], {},
                             on_page=lambda r: seen.append(
                                 [t["title"] for t in r.json["tasks"]]))
        self.assertEqual(seen, [["small 2"], ["huge"], ["small 1"]])
        self.assertEqual(len(ids), 3)


class ConcurrentWalk(unittest.TestCase):
    """While writers create and delete tasks, a walk returns every task
    that existed throughout exactly once, and no task twice."""

    def test_walk_under_writers(self):
        u = SYS.new_user()
        ts.psql("INSERT INTO tasks (user_id, title, due_date, priority, "
                "created_at) SELECT %d, 'seed ' || (i %% 17), "
                "CASE WHEN i %% 4 = 0 THEN NULL ELSE now() + i * "
                "interval '1 hour' END, (ARRAY['low','medium','high'])"
                "[1 + i %% 3], now() - (i %% 50) * interval '1 s' FROM "
                "generate_series(1, 300) i" % u["id"])
        stable = {r["id"] for r in pm.rows(u["id"])}
        doomed = set(sorted(stable)[::5])   # deleted during the walks
        stable -= doomed
        stop = threading.Event()
        errors = []

        def writer(n):
            k = 0
            mine = []
            try:
                while not stop.is_set():
                    r = SYS.request("POST", "/tasks", {
                        "title": "new %d %d" % (n, k), "priority": "high",
                        "due_date": "2031-01-01T00:00:00Z"},
                        token=u["token"])
                    if r.status == 201:
                        mine.append(r.json["task"]["id"])
                    if doomed:
                        try:
                            d = doomed.pop()
                        except KeyError:
                            d = None
                        if d:
                            SYS.request("DELETE", "/tasks/%d" % d,
                                        token=u["token"])
                    if len(mine) > 3:
                        SYS.request("DELETE", "/tasks/%d" % mine.pop(0),
                                    token=u["token"])
                    k += 1
            except Exception as e:  # reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=writer, args=(n,))
                   for n in range(2)]
        for t in threads:
            t.start()
        try:
            for sort in ("-created_at", "title", "-due_date", "priority"):
                ids, _ = pm.walk(SYS, u["token"], {"sort": sort,
                                                   "limit": 9})
                self.assertEqual(len(ids), len(set(ids)), sort)
                self.assertEqual(stable - set(ids), set(), sort)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(errors, [])


if __name__ == "__main__":
    ts.run_tests()
