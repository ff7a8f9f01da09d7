"""verify's black-box checks of the public API: every route of the seed
contract that the served /openapi.json documents answers its expected
statuses; every answer is validated against that document; ownership
(403), the 401 family, and oversized and malformed requests (4xx).

Each check is recorded as (name, PASS|FAIL|SKIP, detail) through the
Recorder; a check whose precondition failed is a SKIP naming it. The
users made here are named with PREFIX (no route deletes a user); the
tasks are deleted at the end."""

import http.client
import secrets
import select
import socket
import time
import uuid

import jwtforge
from httpclient import Client
from openapi_doc import OpenApiDoc

PREFIX = "taskapi_verify_"
MSG_NO_TOKEN = "No authentication token provided"
MSG_INVALID = "Invalid token"
MSG_EXPIRED = "Token has expired"
MSG_BAD_LOGIN = "Invalid username or password"
TRANSPORT = (OSError, http.client.HTTPException)


class ApiChecks:
    def __init__(self, base_url, record, jwt_secret=None, timeout=30.0,
                 oversize=2 * 1024 * 1024, verify_tls=True):
        self.base_url = base_url
        self.client = Client(base_url, timeout=timeout,
                             verify_tls=verify_tls)
        self.record = record
        self.jwt_secret = jwt_secret
        self.oversize = oversize
        self.verify_tls = verify_tls
        self.doc = None
        self.users = []         # usernames created (cannot be deleted)
        self.tasks = {}         # task id -> token of its owner
        self.exercised = set()  # (METHOD, template) the checks called

    # -- one request, checked

    def call(self, name, method, path, expect, op=None, check=None, **kw):
        """Sends the request, records name as PASS when the status is in
        expect, the answer fits the document and check(r) (a list of
        problems) is empty; returns the Response or None. op is the
        (METHOD, template) the document must describe, else SKIP."""
        op = op or (method, path)
        if self.doc is not None and not self.doc.has(*op):
            self.record(name, "SKIP", "%s %s is not in /openapi.json" % op)
            return None
        self.exercised.add((op[0].upper(), op[1]))
        try:
            r = self.client.request(method, path, **kw)
        except TRANSPORT as e:
            self.record(name, "FAIL", "no answer: %r" % e)
            return None
        probs = []
        if r.status not in expect:
            probs.append("status %d, expected %s: %s"
                         % (r.status, "/".join(map(str, expect)),
                            r.short(200)))
        if self.doc is not None:
            probs += ["openapi: " + p
                      for p in self.doc.problems(method, path, r)][:3]
        if not probs and check is not None:
            try:
                probs += check(r)
            except (KeyError, TypeError, IndexError, AttributeError) as e:
                probs.append("unexpected body (%r): %s" % (e, r.short(200)))
        self.record(name, "FAIL" if probs else "PASS",
                    "; ".join(probs) if probs else "%d" % r.status)
        return r

    def not_exercised(self):
        """Operations the served document has and no check called (new
        routes, HEAD and OPTIONS): verify names them, it does not fail."""
        if self.doc is None:
            return []
        return sorted(self.doc.operations() - self.exercised,
                      key=lambda o: (o[1], o[0]))

    def skip(self, name, why):
        self.record(name, "SKIP", why)

    # -- the checks, in order

    def run(self):
        self.openapi()
        for p in ("/health", "/auth/health", "/tasks/health"):
            self.call("GET %s 200" % p, "GET", p, (200,))
        a = self.user("A")
        b = self.user("B")
        self.auth_failures(a)
        tid = self.tasks_crud(a, b)
        self.tokens(a, tid)
        self.bad_requests(a)
        self.delete(a, tid)
        self.cleanup()

    def openapi(self):
        name = "GET /openapi.json served, an OpenAPI document"
        try:
            r = self.client.request("GET", "/openapi.json")
        except TRANSPORT as e:
            self.record(name, "FAIL", "no answer: %r" % e)
            return
        self.exercised.add(("GET", "/openapi.json"))
        try:
            if r.status != 200:
                raise ValueError("status %d" % r.status)
            self.doc = OpenApiDoc(r.json)
        except ValueError as e:
            self.record(name, "FAIL", "%s; answers are not validated" % e)
            return
        self.record(name, "PASS", "%d operations; every answer below is "
                    "validated against it" % len(self.doc.operations()))

    def user(self, label):
        name = PREFIX + uuid.uuid4().hex[:12]
        pw = "Verify-" + secrets.token_urlsafe(18)
        u = {"username": name, "email": name + "@example.com",
             "password": pw}
        r = self.call("POST /auth/register 201 (user %s)" % label, "POST",
                      "/auth/register", (201,), body=u,
                      check=lambda r: [] if r.json["user"]["username"] == name
                      else ["user.username differs"])
        if r is None or r.status != 201:
            return None
        self.users.append(name)
        u["id"] = r.json["user"]["id"]
        r = self.call("POST /auth/login 200 (user %s)" % label, "POST",
                      "/auth/login", (200,),
                      body={"username": name, "password": pw},
                      check=lambda r: [] if r.json["token"].count(".") == 2
                      else ["token is not a JWT"])
        if r is None or r.status != 200:
            return None
        u["token"] = r.json["token"]
        return u

    def auth_failures(self, a):
        self.call("POST /auth/register 400 (password missing)", "POST",
                  "/auth/register", (400,), op=("POST", "/auth/register"),
                  body={"username": PREFIX + "x", "email": "x@example.com"},
                  check=lambda r: [] if any(d.get("field") == "password"
                                            for d in r.json["details"])
                  else ["details do not name password"])
        self.call("POST /auth/login 400 (password missing)", "POST",
                  "/auth/login", (400,), body={"username": "someone"})
        if a is None:
            self.skip("POST /auth/register 409 (username taken)",
                      "needs user A")
            self.skip("POST /auth/login 401 (wrong password)", "needs user A")
            return
        self.call("POST /auth/register 409 (username taken)", "POST",
                  "/auth/register", (409,),
                  body={"username": a["username"],
                        "email": "other-" + a["email"],
                        "password": a["password"]})
        self.call("POST /auth/login 401 (wrong password)", "POST",
                  "/auth/login", (401,),
                  body={"username": a["username"], "password": "wrong-pw-1"},
                  check=_message(MSG_BAD_LOGIN))
        self.call("POST /auth/validate 200", "POST", "/auth/validate",
                  (200,), token=a["token"],
                  check=lambda r: [] if r.json["valid"] is True and
                  r.json["user"]["user_id"] == a["id"] else ["not valid"])

    def tasks_crud(self, a, b):
        """Create, list, read, update, delete; 403 for user B; 404."""
        if a is None:
            self.skip("task routes", "needs user A (register/login failed)")
            return None
        tok = a["token"]
        r = self.call("POST /tasks 201", "POST", "/tasks", (201,), token=tok,
                      body={"title": "verify task", "priority": "high"},
                      check=lambda r: _task_is(r.json["task"], a["id"],
                                               priority="high"))
        self.call("POST /tasks 400 (title missing)", "POST", "/tasks", (400,),
                  token=tok, body={"description": "no title"},
                  check=lambda r: [] if any(d.get("field") == "title"
                                            for d in r.json["details"])
                  else ["details do not name title"])
        if r is None or r.status != 201:
            self.skip("GET/PUT/DELETE /tasks/{id}", "POST /tasks failed")
            return None
        tid = r.json["task"]["id"]
        self.tasks[tid] = tok
        path = "/tasks/%d" % tid
        one = ("GET", "/tasks/{id}")
        self.call("GET /tasks 200 (lists the new task)", "GET", "/tasks",
                  (200,), token=tok,
                  check=lambda r: [] if tid in [t["id"] for t in
                                                r.json["tasks"]]
                  and r.json["count"] >= 1 else ["task %d not listed" % tid])
        self.call("GET /tasks/{id} 200", "GET", path, (200,), op=one,
                  token=tok, check=lambda r: _task_is(r.json["task"], a["id"]))
        self.call("GET /tasks/{id} 404 (no such task)", "GET",
                  "/tasks/2147483647", (404,), op=one, token=tok)
        put = ("PUT", "/tasks/{id}")
        self.call("PUT /tasks/{id} 200 (omitted fields kept)", "PUT", path,
                  (200,), op=put, token=tok, body={"status": "completed"},
                  check=lambda r: _task_is(r.json["task"], a["id"],
                                           status="completed",
                                           priority="high",
                                           title="verify task"))
        self.call("PUT /tasks/{id} 400 (bad status)", "PUT", path, (400,),
                  op=put, token=tok, body={"status": "sleeping"})
        if b is not None:
            bt = b["token"]
            self.call("GET /tasks/{id} 403 (another user's task)", "GET",
                      path, (403,), op=one, token=bt)
            self.call("PUT /tasks/{id} 403 (another user's task)", "PUT",
                      path, (403,), op=put, token=bt, body={"title": "x"})
            self.call("DELETE /tasks/{id} 403 (another user's task)",
                      "DELETE", path, (403,), op=("DELETE", "/tasks/{id}"),
                      token=bt)
            self.call("GET /tasks 200 (user B does not see A's task)", "GET",
                      "/tasks", (200,), token=bt,
                      check=lambda r: [] if tid not in [
                          t["id"] for t in r.json["tasks"]]
                      else ["user B lists A's task %d" % tid])
        else:
            self.skip("403 for another user's task", "needs user B")
        return tid

    def tokens(self, a, tid):
        path = "/tasks/%d" % tid if tid else "/tasks"
        op = ("GET", "/tasks/{id}") if tid else ("GET", "/tasks")
        self.call("401 without a token", "GET", path, (401,), op=op,
                  check=_message(MSG_NO_TOKEN))
        self.call("401 with a malformed token", "GET", path, (401,), op=op,
                  token="not.a-token", check=_message(MSG_INVALID))
        self.call("POST /auth/validate 401 (no token)", "POST",
                  "/auth/validate", (401,), check=_message(MSG_NO_TOKEN))
        now = int(time.time())
        claims = jwtforge.claims_of(a["token"]) if a else {}
        claims = claims or {"user_id": 1, "username": "nobody",
                            "email": "nobody@example.com", "role": "user"}
        wrong = secrets.token_urlsafe(40)
        self.call("401 with a token signed by a wrong key", "GET", path,
                  (401,), op=op, token=jwtforge.encode(
                      dict(claims, iat=now, exp=now + 600), wrong),
                  check=_message(MSG_INVALID))
        old = dict(claims, iat=now - 7200, exp=now - 3600)
        if self.jwt_secret:
            self.call("401 with an expired token (signed with JWT_SECRET)",
                      "GET", path, (401,), op=op,
                      token=jwtforge.encode(old, self.jwt_secret),
                      check=_message(MSG_EXPIRED))
        else:
            # Without the key an expired token cannot be made valid
            # otherwise: verify.py says what this check therefore shows.
            self.call("401 with an expired token (wrong key: JWT_SECRET "
                      "not given)", "GET", path, (401,), op=op,
                      token=jwtforge.encode(old, wrong))

    def delete(self, a, tid):
        if tid is None:
            self.skip("DELETE /tasks/{id} 200", "no task was created")
            return
        op = ("DELETE", "/tasks/{id}")
        path = "/tasks/%d" % tid
        r = self.call("DELETE /tasks/{id} 200", "DELETE", path, (200,),
                      op=op, token=a["token"],
                      check=lambda r: [] if r.json.get("message")
                      else ["no message"])
        if r is not None and r.status == 200:
            del self.tasks[tid]
        self.call("GET /tasks/{id} 404 (after DELETE)", "GET", path, (404,),
                  op=("GET", "/tasks/{id}"), token=a["token"])
        self.call("DELETE /tasks/{id} 404 (deleted already)", "DELETE", path,
                  (404,), op=op, token=a["token"])

    def bad_requests(self, a):
        if a is None:
            self.skip("POST /tasks 400/415 (malformed bodies)",
                      "needs user A")
            self.oversized(None)
            return
        tok = a["token"]
        self.call("POST /tasks 400 (malformed JSON)", "POST", "/tasks",
                  (400,), token=tok, raw_body=b'{"title": "x",')
        self.call("POST /tasks 400 (title not a string)", "POST", "/tasks",
                  (400,), token=tok, body={"title": 12})
        self.call("POST /tasks 415 (not JSON)", "POST", "/tasks", (415,),
                  token=tok, raw_body=b"title=x",
                  headers={"Content-Type": "text/plain"})
        self.call("GET unknown route 404", "GET", "/verify-no-such-route",
                  (404,), op=("GET", "/health"))
        self.call("DELETE /auth/login 405", "DELETE", "/auth/login", (405,),
                  op=("POST", "/auth/login"))
        self.oversized(tok)

    def oversized(self, tok):
        name = "POST /tasks 4xx (body of %d bytes)" % self.oversize
        try:
            status, raw = send_streamed(self.client, "POST", "/tasks",
                                        self.oversize, tok, self.verify_tls)
        except TRANSPORT as e:
            self.record(name, "FAIL", "no answer: %r" % e)
            return
        ok = 400 <= status < 500
        self.record(name, "PASS" if ok else "FAIL",
                    "%d" % status if ok else "status %d: %r" % (status,
                                                                raw[:200]))

    def cleanup(self):
        for tid, tok in list(self.tasks.items()):
            try:
                r = self.client.request("DELETE", "/tasks/%d" % tid,
                                        token=tok)
                if r.status in (200, 404):
                    del self.tasks[tid]
            except TRANSPORT:
                pass
        self.client.close()


def _message(want):
    return lambda r: [] if r.json.get("message") == want else [
        "message %r, expected %r" % (r.json.get("message"), want)]


TASK_KEYS = {"id", "user_id", "title", "description", "status", "priority",
             "due_date", "created_at", "updated_at"}


def _task_is(t, user_id, **want):
    probs = []
    missing = TASK_KEYS - set(t)
    if missing:
        probs.append("task lacks %s" % ", ".join(sorted(missing)))
    if t.get("user_id") != user_id:
        probs.append("task.user_id %r, expected %r" % (t.get("user_id"),
                                                         user_id))
    for k, v in want.items():
        if t.get(k) != v:
            probs.append("task.%s %r, expected %r" % (k, t.get(k), v))
    return probs


def send_streamed(client, method, path, size, token, verify_tls):
    """Sends a JSON body of size bytes in pieces and stops as soon as the
    server answers (it may reject the request early); (status, body)."""
    sock = socket.create_connection((client.host, client.port),
                                    timeout=client.timeout)
    if client.scheme == "https":
        sock = client.ctx.wrap_socket(sock, server_hostname=client.host)
    try:
        head = ["%s %s%s HTTP/1.1" % (method, client.prefix, path),
                "Host: %s" % client.host, "Content-Type: application/json",
                "Content-Length: %d" % size, "Connection: close"]
        if token:
            head.append("Authorization: Bearer " + token)
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        body = b'{"title":"' + b"a" * (size - 12) + b'"}'
        step = 64 * 1024
        for i in range(0, len(body), step):
            # On plain TCP, stop once the server answered (a TLS socket may
            # hold session tickets: send everything there).
            if client.scheme == "http" and select.select([sock], [], [],
                                                         0)[0]:
                break
            try:
                sock.sendall(body[i:i + step])
            except (BrokenPipeError, ConnectionResetError):
                break
        sock.settimeout(client.timeout)
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        return resp.status, resp.read()
    finally:
        sock.close()
