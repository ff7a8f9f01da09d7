"""The GET /tasks page model for e2e tests: a user's task rows read from
the database (microsecond timestamps, so ties sort as the server sorts
them), filtered and sorted in Python, and a walker that follows
next_cursor."""

import json
import urllib.parse

import taskapi_system as ts

SORTS = ["created_at", "updated_at", "due_date", "priority", "title"]
ALL_SORTS = [s for k in SORTS for s in (k, "-" + k)]
# Case folding of ASCII letters only: what every database ctype agrees on
# (the tests' q values are ASCII, or match their text exactly).
ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                           "abcdefghijklmnopqrstuvwxyz")
RANK = {"high": 3, "medium": 2, "low": 1}
EPOCH_US = "(extract(epoch FROM %s) * 1000000)::bigint"


def rows(user_id):
    """The user's tasks as dicts with due/created/updated in unix us."""
    lines = ts.psql(
        "SELECT row_to_json(t) FROM (SELECT id, title, description, "
        "status, priority, %s AS due, %s AS created, %s AS updated "
        "FROM tasks WHERE user_id = %d) t"
        % (EPOCH_US % "due_date", EPOCH_US % "created_at",
           EPOCH_US % "updated_at", int(user_id)))
    return [json.loads(line) for line in lines]


def us_of(rfc3339):
    """RFC 3339 (UTC "Z", up to 6 fraction digits) -> unix microseconds."""
    date, frac = rfc3339.rstrip("Z"), ""
    if "." in date:
        date, frac = date.split(".")
    if "T" not in date:
        date += "T00:00:00"
    ms = ts.parse_ts(date + "Z")  # whole seconds, in milliseconds
    return ms * 1000 + int((frac + "000000")[:6])


def select(all_rows, params):
    """The ids GET /tasks with params (a dict) returns, in order."""
    out = list(all_rows)
    if "status" in params:
        want = set(params["status"].split(","))
        out = [r for r in out if r["status"] in want]
    if "priority" in params:
        want = set(params["priority"].split(","))
        out = [r for r in out if r["priority"] in want]
    if "due_before" in params:
        b = us_of(params["due_before"])
        out = [r for r in out if r["due"] is not None and r["due"] < b]
    if "due_after" in params:
        a = us_of(params["due_after"])
        out = [r for r in out if r["due"] is not None and r["due"] > a]
    if params.get("q"):
        q = params["q"].translate(ASCII_FOLD)
        out = [r for r in out if q in r["title"].translate(ASCII_FOLD)
               or q in (r["description"] or "").translate(ASCII_FOLD)]
    sort = params.get("sort", "-created_at")
    desc = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "due_date":
        dated = [r for r in out if r["due"] is not None]
        undated = [r for r in out if r["due"] is None]
        dated.sort(key=lambda r: (r["due"], r["id"]), reverse=desc)
        undated.sort(key=lambda r: r["id"], reverse=desc)
        return [r["id"] for r in dated + undated]
    if key == "priority":
        k = lambda r: (RANK.get(r["priority"], 0), r["id"])  # noqa: E731
    elif key == "title":
        k = lambda r: (r["title"], r["id"])  # noqa: E731
    elif key == "updated_at":
        k = lambda r: (r["updated"], r["id"])  # noqa: E731
    else:
        k = lambda r: (r["created"], r["id"])  # noqa: E731
    out.sort(key=k, reverse=desc)
    return [r["id"] for r in out]


def path(params):
    return "/tasks" + ("?" + urllib.parse.urlencode(params) if params else "")


def walk(system, token, params, max_pages=10000, on_page=None):
    """Follows next_cursor from the first page; returns (ids, pages).
    Every page must be 200 with the v1.1 shape."""
    ids, pages, cursor = [], 0, None
    while True:
        p = dict(params)
        if cursor is not None:
            p["cursor"] = cursor
        r = system.request("GET", path(p), token=token)
        if r.status != 200:
            raise AssertionError("page %d of %r: %r" % (pages, params, r))
        b = r.json
        if set(b) != {"tasks", "count", "truncated", "next_cursor"} or \
                b["count"] != len(b["tasks"]) or b["truncated"] is not False:
            raise AssertionError("page shape: %r" % (r,))
        if "limit" in params and len(b["tasks"]) > int(params["limit"]):
            raise AssertionError("page over its limit: %r" % (r,))
        ids += [t["id"] for t in b["tasks"]]
        pages += 1
        if on_page:
            on_page(r)
        cursor = b["next_cursor"]
        if cursor is None:
            return ids, pages
        if not isinstance(cursor, str) or not cursor:
            raise AssertionError("next_cursor: %r" % (r,))
        if pages >= max_pages:
            raise AssertionError("more than %d pages" % max_pages)
