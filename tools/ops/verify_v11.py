"""verify's checks of API v1.1, black-box like verify_api.py's: GET /tasks
pages (a limit=1 walk, filters, q, sort, 400 for a bad parameter or
cursor), PATCH merge patches with ETag / If-None-Match / If-Match, and
sessions (refresh, reuse of a spent refresh token, /auth/me, logout,
password change).

All of it runs as one throwaway user (C, named with verify_api.PREFIX)
with three tasks of its own, so a page holds exactly what it should. A
check whose feature the served /openapi.json lacks (an older deployment)
is a SKIP. Only one request of the run counts as a failed login: the
password change with a wrong current password, on user C."""

import http.client
import re
import secrets
import urllib.parse

MSG_BAD_REFRESH = "Invalid refresh token"
MSG_BAD_CURRENT = "Current password is incorrect"
ME_KEYS = {"id", "username", "email", "role", "created_at"}
PATCH_TYPE = "application/merge-patch+json"
TRANSPORT = (OSError, http.client.HTTPException)
ONE = ("GET", "/tasks/{id}")
LIST = ("GET", "/tasks")


class V11Checks:
    def __init__(self, api):
        self.api = api          # verify_api.ApiChecks: call, record, doc
        self.call = api.call
        self.skip = api.skip

    def run(self):
        c = self.api.user("C")
        if c is None:
            self.skip("API v1.1 checks", "needs user C (register/login "
                      "failed)")
            return
        ids = self.make_tasks(c)
        if ids is not None:
            self.pages(c, ids)
            self.conditional(c, ids[2])
        self.sessions(c)

    # -- what the served document has

    def _params(self, op):
        item = self.api.doc.doc["paths"].get(op[1], {})
        o = self.api.doc.resolve(item.get(op[0].lower()) or {})
        ps = list(item.get("parameters") or []) + list(o.get("parameters")
                                                        or [])
        return {self.api.doc.resolve(p).get("name") for p in ps}

    def _lacks(self, op, param):
        """Why a check needs SKIP (op lacks param), or None."""
        if self.api.doc is None:
            return None
        if not self.api.doc.has(*op):
            return "%s %s is not in /openapi.json" % op
        if param not in self._params(op):
            return "%s %s has no parameter %s in /openapi.json" % (
                op[0], op[1], param)
        return None

    # -- tasks: three of user C's own

    def make_tasks(self, c):
        specs = [{"title": "verify alpha", "priority": "low"},
                 {"title": "verify bravo", "priority": "high",
                  "status": "completed"},
                 {"title": "verify charlie", "priority": "medium",
                  "description": "holds the word NeedLe"}]
        ids = []
        for i, body in enumerate(specs):
            r = self.call("POST /tasks 201 (user C, task %d of 3)" % (i + 1),
                          "POST", "/tasks", (201,), token=c["token"],
                          body=body)
            if r is None or r.status != 201:
                self.skip("API v1.1 task checks", "POST /tasks failed")
                return None
            ids.append(r.json["task"]["id"])
            self.api.tasks[ids[-1]] = c["token"]
        return ids

    def list_check(self, c, name, query, want, param):
        """GET /tasks?query answers exactly the ids want, in order."""
        why = self._lacks(LIST, param)
        if why:
            self.skip(name, why)
            return
        self.call(name, "GET", "/tasks?" + query, (200,), op=LIST,
                  token=c["token"],
                  check=lambda r: [] if [t["id"] for t in r.json["tasks"]]
                  == want and r.json["count"] == len(want) else [
                      "ids %r, expected %r" % ([t["id"] for t in
                                                r.json["tasks"]], want)])

    def pages(self, c, ids):
        t1, t2, t3 = ids
        cursor = self.walk(c, [t3, t2, t1])
        self.list_check(c, "GET /tasks 200 (status=pending&priority=low,"
                        "high)", "status=pending&priority=low,high", [t1],
                        "status")
        self.list_check(c, "GET /tasks 200 (q=needle, in a description)",
                        "q=needle", [t3], "q")
        self.list_check(c, "GET /tasks 200 (sort=title)", "sort=title",
                        [t1, t2, t3], "sort")
        self.refused(c, "limit=0", "limit", "limit")
        self.refused(c, "colour=red", "colour", "limit")
        if cursor is None:
            self.skip("GET /tasks 400 (tampered cursor)",
                      self._lacks(LIST, "cursor") or
                      "the walk gave no next_cursor")
            return
        i = len(cursor) // 2
        bad = cursor[:i] + ("A" if cursor[i] != "A" else "B") + \
            cursor[i + 1:]
        self.refused(c, "cursor=" + urllib.parse.quote(bad), "cursor",
                     "cursor", "GET /tasks 400 (tampered cursor)")

    def walk(self, c, want):
        """limit=1 pages until next_cursor is null; returns the first
        next_cursor (for the tampering check)."""
        name = "GET /tasks 200 (limit=1 walk over 3 tasks, next_cursor)"
        why = self._lacks(LIST, "cursor")
        if why:
            self.skip(name, why)
            return None
        got, probs, first, cursor = [], [], None, None
        for _ in range(len(want) + 2):
            q = "limit=1" + ("&cursor=" + urllib.parse.quote(cursor)
                             if cursor else "")
            try:
                r = self.api.client.request("GET", "/tasks?" + q,
                                            token=c["token"])
            except TRANSPORT as e:
                probs.append("no answer: %r" % e)
                break
            self.api.exercised.add(LIST)
            if self.api.doc is not None:
                probs += ["openapi: " + p for p in
                          self.api.doc.problems("GET", "/tasks", r)][:3]
            if r.status != 200 or not isinstance(r.json, dict):
                probs.append("page %d: %s" % (len(got) + 1, r.short(200)))
                break
            page = [t.get("id") for t in r.json.get("tasks") or []]
            if r.json.get("count") != len(page) or len(page) > 1:
                probs.append("page %d: count %r, %d tasks" % (
                    len(got) + 1, r.json.get("count"), len(page)))
            got += page
            cursor = r.json.get("next_cursor")
            first = first or cursor
            if cursor is None or probs:
                break
        if cursor is not None and not probs:
            probs.append("next_cursor still set after %d pages" % len(got))
        if got != want and not probs:
            probs.append("walk gave ids %r, expected %r" % (got, want))
        self.api.record(name, "FAIL" if probs else "PASS",
                        "; ".join(probs) if probs else
                        "200, %d pages, next_cursor null on the last"
                        % len(got))
        return first

    def refused(self, c, query, field, param, name=None):
        name = name or "GET /tasks 400 (%s)" % query
        why = self._lacks(LIST, param)
        if why:
            self.skip(name, why)
            return
        self.call(name, "GET", "/tasks?" + query, (400,), op=LIST,
                  token=c["token"], check=_names(field))

    # -- PATCH, ETag, If-None-Match, If-Match (on task t)

    def conditional(self, c, t):
        path = "/tasks/%d" % t
        tok = c["token"]
        why = self._lacks(ONE, "If-None-Match")
        name = "GET /tasks/{id} 200 (ETag)"
        if why:
            self.skip(name, why)
            e1 = None
        else:
            tag = re.compile(r'^"%d-[0-9]+"$' % t)
            r = self.call(name, "GET", path, (200,), op=ONE, token=tok,
                          check=lambda r: [] if tag.match(
                              r.headers.get("etag") or "") else [
                              "ETag %r, expected \"%d-<version>\""
                              % (r.headers.get("etag"), t)])
            e1 = r.headers.get("etag") if r is not None else None
        if e1:
            self.call("GET /tasks/{id} 304 (If-None-Match)", "GET", path,
                      (304,), op=ONE, token=tok,
                      headers={"If-None-Match": e1},
                      check=lambda r: [] if r.headers.get("etag") == e1
                      and not r.raw else ["ETag %r or a body: %s" % (
                          r.headers.get("etag"), r.short(100))])
        else:
            self.skip("GET /tasks/{id} 304 (If-None-Match)", "no ETag")
        op = ("PATCH", "/tasks/{id}")
        r = self.call("PATCH /tasks/{id} 200 (merge patch, null clears "
                      "description)", "PATCH", path, (200,), op=op,
                      token=tok, body={"description": None,
                                       "priority": "high"},
                      headers={"Content-Type": PATCH_TYPE,
                               "If-Match": e1},
                      check=lambda r: _patched(r, e1))
        self.call("PATCH /tasks/{id} 400 (title null)", "PATCH", path,
                  (400,), op=op, token=tok, body={"title": None},
                  headers={"Content-Type": PATCH_TYPE},
                  check=_names("title"))
        if not e1 or r is None or r.status != 200:
            self.skip("412 for a stale If-Match", "no ETag or PATCH failed")
            return
        self.call("PATCH /tasks/{id} 412 (stale If-Match)", "PATCH", path,
                  (412,), op=op, token=tok, body={"title": "not applied"},
                  headers={"Content-Type": PATCH_TYPE, "If-Match": e1})
        self.call("DELETE /tasks/{id} 412 (stale If-Match)", "DELETE",
                  path, (412,), op=("DELETE", "/tasks/{id}"), token=tok,
                  headers={"If-Match": e1})
        self.call("GET /tasks/{id} 200 (unchanged by the 412s)", "GET",
                  path, (200,), op=ONE, token=tok,
                  check=lambda r: [] if r.json["task"]["title"] ==
                  "verify charlie" else ["title %r" % r.json["task"]["title"]])

    # -- sessions, on user C (its password changes last)

    def sessions(self, c):
        if self.api.doc is not None and not self.api.doc.has(
                "POST", "/auth/refresh"):
            for name in ("POST /auth/login 200 (refresh_token, "
                         "expires_in)", "POST /auth/refresh 200"):
                self.skip(name, "POST /auth/refresh is not in /openapi.json")
        else:
            self.refresh(c)
        self.call("GET /auth/me 200 (five fields)", "GET", "/auth/me",
                  (200,), token=c["token"],
                  check=lambda r: _me(r.json["user"], c))
        self.call("POST /auth/logout 204 (its session)", "POST",
                  "/auth/logout", (204,), token=c["token"],
                  body={"refresh_token": c.get("refresh_token") or ""})
        if c.get("refresh_token") and (self.api.doc is None or
                                       self.api.doc.has("POST",
                                                        "/auth/logout")):
            self.call("POST /auth/refresh 401 (after logout)", "POST",
                      "/auth/refresh", (401,),
                      body={"refresh_token": c["refresh_token"]},
                      check=_message(MSG_BAD_REFRESH))
        self.password(c)

    def refresh(self, c):
        r = self.call("POST /auth/login 200 (refresh_token, expires_in)",
                      "POST", "/auth/login", (200,),
                      body={"username": c["username"],
                            "password": c["password"]},
                      check=lambda r: _session(r.json))
        if r is None or r.status != 200 or _session(r.json):
            self.skip("POST /auth/refresh 200", "login failed")
            return
        spent = r.json["refresh_token"]
        r = self.call("POST /auth/refresh 200", "POST", "/auth/refresh",
                      (200,), body={"refresh_token": spent},
                      check=lambda r: _session(r.json) + (
                          [] if r.json["refresh_token"] != spent else
                          ["the same refresh_token came back"]))
        if r is None or r.status != 200:
            return
        self.call("POST /auth/refresh 401 (spent token reused)", "POST",
                  "/auth/refresh", (401,), body={"refresh_token": spent},
                  check=_message(MSG_BAD_REFRESH))

    def password(self, c):
        op = ("PUT", "/auth/password")
        new = "Verify-" + secrets.token_urlsafe(18)
        self.call("PUT /auth/password 401 (wrong current password)", "PUT",
                  "/auth/password", (401,), token=c["token"],
                  body={"current_password": "wrong-pw-1",
                        "new_password": new},
                  check=_message(MSG_BAD_CURRENT))
        r = self.call("PUT /auth/password 204", "PUT", "/auth/password",
                      (204,), op=op, token=c["token"],
                      body={"current_password": c["password"],
                            "new_password": new})
        if r is None or r.status != 204:
            return
        r = self.call("POST /auth/login 200 (the new password)", "POST",
                      "/auth/login", (200,),
                      body={"username": c["username"], "password": new})
        if r is not None and r.status == 200:
            # The old access token is refused now: clean up with the new.
            for tid, tok in self.api.tasks.items():
                if tok == c["token"]:
                    self.api.tasks[tid] = r.json["token"]


def _names(field):
    return lambda r: [] if any(d.get("field") == field
                               for d in r.json["details"]) else [
        "details do not name %s: %s" % (field, r.short(200))]


def _message(want):
    return lambda r: [] if r.json.get("message") == want else [
        "message %r, expected %r" % (r.json.get("message"), want)]


def _session(j):
    probs = []
    rt = j.get("refresh_token")
    if not (isinstance(rt, str) and re.match(r"^[A-Za-z0-9_-]{43}$", rt)):
        probs.append("refresh_token is not 43 base64url characters")
    if not (isinstance(j.get("expires_in"), int) and j["expires_in"] > 0):
        probs.append("expires_in %r" % (j.get("expires_in"),))
    if not (isinstance(j.get("token"), str) and j["token"].count(".") == 2):
        probs.append("token is not a JWT")
    return probs


def _patched(r, e1):
    t = r.json["task"]
    probs = ["task.%s %r, expected %r" % (k, t.get(k), v) for k, v in
             (("description", None), ("priority", "high"),
              ("title", "verify charlie"), ("status", "pending"))
             if t.get(k) != v]
    if e1 and r.headers.get("etag") in (None, e1):
        probs.append("ETag %r after the change" % r.headers.get("etag"))
    return probs


def _me(u, c):
    probs = []
    if set(u) != ME_KEYS:
        probs.append("user has %s, expected %s" % (sorted(u),
                                                   sorted(ME_KEYS)))
    if u.get("id") != c["id"] or u.get("username") != c["username"]:
        probs.append("user %r/%r, expected %r/%r" % (
            u.get("id"), u.get("username"), c["id"], c["username"]))
    return probs
