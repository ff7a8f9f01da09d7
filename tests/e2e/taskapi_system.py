"""End-to-end harness: starts the three real taskapi processes (auth-svc,
task-svc, edge-api) on free loopback ports against the PostgreSQL named by
the DB_* environment, and gives tests an HTTP client, token forging with the
known secret, direct SQL, and checkers for the public JSON shapes.

Python standard library, plus jsonschema (Debian's python3-jsonschema) for
the OpenAPI check: every response the harness receives is validated against
docs/openapi.json for its path template, method and status, and a mismatch
raises AssertionError in the test that made the request
(TA_OPENAPI_VALIDATE=0 turns the check off). A missing TA_BIN_DIR or DB_*
setting raises (the test fails loudly); nothing is ever skipped.
"""

import atexit
import base64
import calendar
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import secrets
import select
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
from http import HTTPStatus

REQUIRED_ENV = ("TA_BIN_DIR", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER")
BINARIES = ("auth-svc", "task-svc", "edge-api")

TASK_KEYS = {"id", "user_id", "title", "description", "status", "priority",
             "due_date", "created_at", "updated_at"}
STATUSES = ("pending", "in_progress", "completed")
PRIORITIES = ("low", "medium", "high")
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

MSG_NO_TOKEN = "No authentication token provided"
MSG_INVALID = "Invalid token"
MSG_EXPIRED = "Token has expired"
MSG_BAD_LOGIN = "Invalid username or password"

# Every route and method that needs a bearer token; "{id}" is a task id.
PROTECTED = (
    ("POST", "/auth/validate"),
    ("POST", "/tasks"),
    ("GET", "/tasks"),
    ("GET", "/tasks/{id}"),
    ("PUT", "/tasks/{id}"),
    ("DELETE", "/tasks/{id}"),
)

# Reason phrases an "error" field may carry. 413 was renamed twice by the
# RFCs; every spelling in use is accepted.
_REASON_ALTERNATIVES = {
    413: {"Payload Too Large", "Request Entity Too Large",
          "Content Too Large"},
    414: {"URI Too Long", "Request-URI Too Long"},
    422: {"Unprocessable Entity", "Unprocessable Content"},
}


def reason_phrases(code):
    if code in _REASON_ALTERNATIVES:
        return _REASON_ALTERNATIVES[code]
    return {HTTPStatus(code).phrase}


def require_env():
    """The environment the suite needs; raises naming what is missing."""
    missing = [k for k in REQUIRED_ENV if not os.environ.get(k)]
    if missing:
        raise RuntimeError("e2e: missing environment: " + ", ".join(missing)
                           + " (TA_BIN_DIR = directory of the binaries, "
                           "DB_* = a migrated database)")
    bindir = os.environ["TA_BIN_DIR"]
    for b in BINARIES:
        p = os.path.join(bindir, b)
        if not os.access(p, os.X_OK):
            raise RuntimeError("e2e: binary not found or not executable: "
                               + p)
    return bindir


def free_ports(n):
    """n distinct TCP ports on 127.0.0.1 that were free a moment ago."""
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


# ---------------------------------------------------------------- tokens

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(s):
    s = s + "=" * (-len(s) % 4)
    return base64.urlsafe_b64decode(s.encode("ascii"))


def jwt_encode(claims, secret, alg="HS256", header=None):
    """A JWS compact token; alg "none" gets an empty signature."""
    hdr = {"alg": alg, "typ": "JWT"} if header is None else header
    h = b64url(json.dumps(hdr, separators=(",", ":")).encode())
    p = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = (h + "." + p).encode("ascii")
    if alg == "none":
        sig = ""
    else:
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
                  "HS512": hashlib.sha512}[alg]
        key = secret.encode() if isinstance(secret, str) else secret
        sig = b64url(hmac.new(key, signing_input, digest).digest())
    return h + "." + p + "." + sig


def jwt_decode(token):
    """(header, claims, signature bytes) without verifying."""
    h, p, s = token.split(".")
    return (json.loads(b64url_decode(h)), json.loads(b64url_decode(p)),
            b64url_decode(s))


def jwt_verify_hs256(token, secret):
    h, p, s = token.split(".")
    want = hmac.new(secret.encode(), (h + "." + p).encode("ascii"),
                    hashlib.sha256).digest()
    return hmac.compare_digest(want, b64url_decode(s))


# ---------------------------------------------------------------- names

def unique(prefix="u"):
    return prefix + "_" + uuid.uuid4().hex[:20]


def random_password(rng=None):
    rng = rng or random.Random()
    alphabet = string.ascii_letters + string.digits + "!#%&()*+,-./:;<=>?@[]^_{|}~"
    return "".join(rng.choice(alphabet) for _ in range(20))


# ---------------------------------------------------------------- HTTP

class Response(tuple):
    """(status, headers, json-or-None, raw bytes) with names."""
    __slots__ = ()

    def __new__(cls, status, headers, body, raw):
        return tuple.__new__(cls, (status, headers, body, raw))

    status = property(lambda self: self[0])
    headers = property(lambda self: self[1])
    json = property(lambda self: self[2])
    raw = property(lambda self: self[3])

    def __repr__(self):
        raw = self.raw
        if len(raw) > 600:
            raw = raw[:600] + b"..."
        return "<HTTP %d %r %s>" % (self.status, raw,
                                    dict(self.headers.items()))


def _parse(raw):
    try:
        return json.loads(raw.decode("utf-8")) if raw else None
    except (ValueError, UnicodeDecodeError):
        return None


_LIVE = []


@atexit.register
def _kill_leftovers():
    # A module whose setUpModule failed never runs tearDownModule.
    for system in list(_LIVE):
        sys.stdout.write(system.log_tails() + "\n")
        system.stop()
        system.cleanup()


class System:
    """The three processes of taskapi on free ports; a context manager.

    env applies to every process, env_auth / env_task / env_edge to one.
    """

    START_TIMEOUT = 15.0
    STOP_TIMEOUT = 10.0

    def __init__(self, jwt_expiration=3600, env=None, env_auth=None,
                 env_task=None, env_edge=None):
        self.bindir = require_env()
        self.jwt_secret = "".join(secrets.choice(string.ascii_letters
                                                 + string.digits)
                                  for _ in range(48))
        # The internal key the edge signs worker calls with (rpc_auth.py).
        self.rpc_auth_key = secrets.token_hex(32)
        self.jwt_expiration = jwt_expiration
        self.env = dict(env or {})
        # The iss and aud the processes expect (their defaults unless set).
        self.jwt_issuer = self.env.get("JWT_ISSUER", "taskapi")
        self.jwt_audience = self.env.get("JWT_AUDIENCE", "taskapi")
        self.env_per = {"auth-svc": dict(env_auth or {}),
                        "task-svc": dict(env_task or {}),
                        "edge-api": dict(env_edge or {})}
        self.procs = {}
        self.logs = {}
        self.not_json = []     # responses without a JSON content type
        self._lock = threading.Lock()
        self.tmpdir = None
        self.port = None
        self.auth_url = self.task_url = None

    # -- lifecycle

    def _base_env(self):
        env = dict(os.environ)
        env.update({"JWT_SECRET": self.jwt_secret,
                    "RPC_AUTH_KEY": self.rpc_auth_key,
                    "JWT_EXPIRATION": str(self.jwt_expiration),
                    "LOG_LEVEL": "info"})
        env.update(self.env)
        return env

    def start(self):
        self.tmpdir = tempfile.mkdtemp(prefix="taskapi-e2e-")
        _LIVE.append(self)
        p_auth, p_task, p_edge = free_ports(3)
        self.port = p_edge
        self.auth_url = "tcp://127.0.0.1:%d" % p_auth
        self.task_url = "tcp://127.0.0.1:%d" % p_task
        per = {
            "auth-svc": {"RPC_LISTEN": self.auth_url},
            "task-svc": {"RPC_LISTEN": self.task_url},
            "edge-api": {"PORT": str(p_edge), "AUTH_RPC_URL": self.auth_url,
                         "TASK_RPC_URL": self.task_url},
        }
        try:
            for name in BINARIES:
                env = self._base_env()
                env.update(per[name])
                env.update(self.env_per[name])
                path = os.path.join(self.tmpdir, name + ".log")
                self.logs[name] = path
                with open(path, "wb") as f:
                    self.procs[name] = subprocess.Popen(
                        [os.path.join(self.bindir, name)], env=env,
                        stdin=subprocess.DEVNULL, stdout=f,
                        stderr=subprocess.STDOUT)
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self):
        deadline = time.monotonic() + self.START_TIMEOUT
        last = {}
        while time.monotonic() < deadline:
            for name, p in self.procs.items():
                if p.poll() is not None:
                    raise RuntimeError("e2e: %s exited with %s during start\n%s"
                                       % (name, p.returncode,
                                          self.log_tails()))
            ok = True
            for path in ("/health", "/auth/health", "/tasks/health"):
                try:
                    r = self.request("GET", path, timeout=2)
                    last[path] = r.status
                    ok = ok and r.status == 200
                except OSError as e:
                    last[path] = repr(e)
                    ok = False
            if ok:
                return
            time.sleep(0.1)
        raise RuntimeError("e2e: system not healthy after %.0f s: %r\n%s"
                           % (self.START_TIMEOUT, last, self.log_tails()))

    def stop_process(self, name):
        """SIGTERM one process, SIGKILL after STOP_TIMEOUT; its exit code."""
        p = self.procs.get(name)
        if p is None:
            return None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(self.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                return "killed"
        return p.returncode

    def stop(self):
        """Stops edge first, then the workers; {name: exit code}."""
        codes = {}
        for name in ("edge-api", "task-svc", "auth-svc"):
            if name in self.procs:
                codes[name] = self.stop_process(name)
        self.exit_codes = codes
        if self in _LIVE:
            _LIVE.remove(self)
        return codes

    def cleanup(self):
        if self.tmpdir and os.environ.get("TA_E2E_KEEP_LOGS"):
            log("e2e: logs kept in " + self.tmpdir)
            self.tmpdir = None
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def stop_checked(self):
        """stop(), then raise if any process did not exit 0 on SIGTERM or
        any response of the module lacked a JSON content type."""
        codes = self.stop()
        bad = {k: v for k, v in codes.items() if v != 0}
        problems = []
        if bad:
            problems.append("processes did not exit cleanly on SIGTERM: %r\n%s"
                            % (bad, self.log_tails()))
        if self.not_json:
            problems.append("responses without a JSON Content-Type:\n  "
                            + "\n  ".join(self.not_json[:20]))
        self.cleanup()
        if problems:
            raise AssertionError("e2e: " + "\n".join(problems))
        return codes

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self.cleanup()
        return False

    # -- logs

    def log_text(self, name):
        with open(self.logs[name], "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_bytes(self, name):
        with open(self.logs[name], "rb") as f:
            return f.read()

    def log_tails(self, lines=30):
        out = []
        for name, path in self.logs.items():
            try:
                with open(path, "rb") as f:
                    tail = f.read().decode("utf-8", "replace").splitlines()
            except OSError:
                tail = ["<no log>"]
            out.append("---- %s (last %d lines) ----" % (name, lines))
            out.extend(tail[-lines:])
        return "\n".join(out)

    def log_records(self, name):
        """Parsed JSON lines of a process's log (non-JSON lines skipped)."""
        recs = []
        for line in self.log_text(name).split("\n"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                recs.append(obj)
        return recs

    def wait_log(self, name, pred, timeout=3.0):
        """The first log record of name for which pred is true, or None."""
        deadline = time.monotonic() + timeout
        while True:
            for rec in self.log_records(name):
                if pred(rec):
                    return rec
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    # -- HTTP

    def request(self, method, path, body=None, headers=None, token=None,
                timeout=30):
        hdrs = {}
        data = None
        if isinstance(body, (bytes, bytearray)):
            data = bytes(body)
            hdrs["Content-Type"] = "application/json"
        elif body is not None:
            data = json.dumps(body).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        if headers:
            hdrs.update(headers)
        hdrs = {k: v for k, v in hdrs.items() if v is not None}
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            raw = resp.read()
            return self._note(method, path,
                              Response(resp.status, resp.headers, _parse(raw),
                                       raw))
        finally:
            conn.close()

    def _note(self, method, path, r):
        """Every answer but 204 must be JSON: remember those that are not.
        Then check r against the OpenAPI document (raises AssertionError)."""
        ct = (r.headers.get("Content-Type") or "").lower()
        if r.status != 204 and not ct.startswith("application/json"):
            with self._lock:
                self.not_json.append("%s %s -> %d %r" % (method, path[:60],
                                                         r.status, ct))
        openapi_check(method, path, r)
        return r

    def request_streamed(self, method, path, size, chunked=False,
                         headers=None, token=None, timeout=30):
        """Sends a body of size bytes ('a' * size inside a JSON string) and
        stops sending as soon as the server answers (it may reject early).
        """
        body_head = b'{"title":"'
        body_tail = b'"}'
        fill = size - len(body_head) - len(body_tail)
        sock = socket.create_connection(("127.0.0.1", self.port),
                                        timeout=timeout)
        try:
            lines = ["%s %s HTTP/1.1" % (method, path),
                     "Host: 127.0.0.1:%d" % self.port,
                     "Content-Type: application/json",
                     "Connection: close"]
            if chunked:
                lines.append("Transfer-Encoding: chunked")
            else:
                lines.append("Content-Length: %d" % size)
            if token:
                lines.append("Authorization: Bearer " + token)
            for k, v in (headers or {}).items():
                lines.append("%s: %s" % (k, v))
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

            def answered(wait):
                r, _, _ = select.select([sock], [], [], wait)
                return bool(r)

            pieces = [body_head]
            step = 64 * 1024
            left = fill
            while left > 0:
                n = min(step, left)
                pieces.append(b"a" * n)
                left -= n
            pieces.append(body_tail)
            sent_all = True
            if answered(0.3):
                sent_all = False
            else:
                try:
                    for piece in pieces:
                        if answered(0):
                            sent_all = False
                            break
                        if chunked:
                            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                        else:
                            sock.sendall(piece)
                    if chunked and sent_all:
                        sock.sendall(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    sent_all = False
            resp = http.client.HTTPResponse(sock, method=method)
            resp.begin()
            raw = resp.read()
            return self._note(method, path,
                              Response(resp.status, resp.headers, _parse(raw),
                                       raw))
        finally:
            sock.close()

    # -- users and tokens

    def register_user(self, username=None, email=None, password=None):
        """Registers a fresh user; returns dict with id, username, email,
        password, created_at. Raises if the service does not answer 201."""
        username = username or unique("u")
        email = email or (unique("m") + "@example.com")
        password = password or random_password()
        r = self.request("POST", "/auth/register",
                         {"username": username, "email": email,
                          "password": password})
        if r.status != 201 or not isinstance(r.json, dict):
            raise AssertionError("register failed: %r" % (r,))
        u = r.json["user"]
        return {"id": u["id"], "username": username, "email": email,
                "password": password, "created_at": u.get("created_at")}

    def login(self, username, password):
        """(Response, token or None)."""
        r = self.request("POST", "/auth/login",
                         {"username": username, "password": password})
        tok = r.json.get("token") if (r.status == 200 and
                                      isinstance(r.json, dict)) else None
        return r, tok

    def new_user(self):
        """A registered, logged-in user: dict with token as well."""
        u = self.register_user()
        r, tok = self.login(u["username"], u["password"])
        if tok is None:
            raise AssertionError("login failed: %r" % (r,))
        u["token"] = tok
        return u

    def claims_for(self, user, now=None, lifetime=None, **extra):
        now = int(time.time()) if now is None else now
        c = {"iss": self.jwt_issuer, "aud": self.jwt_audience,
             "user_id": user["id"], "username": user["username"],
             "email": user["email"], "role": "user", "iat": now,
             "exp": now + (self.jwt_expiration if lifetime is None
                           else lifetime)}
        c.update(extra)
        return c

    def forge(self, user, secret=None, alg="HS256", **kw):
        """A token for user signed with the system's secret (or secret)."""
        return jwt_encode(self.claims_for(user, **kw),
                          self.jwt_secret if secret is None else secret, alg)

    def bad_tokens(self, user, valid_token, rng=None):
        """(label, token, expected 401 message) for every kind of bad
        token: expired, alg none, tampered, wrong secret, garbage, HS512."""
        rng = rng or random.Random()
        now = int(time.time())
        h, p, s = valid_token.split(".")
        claims = jwt_decode(valid_token)[1]
        claims_admin = dict(claims, role="admin", user_id=claims["user_id"] + 1)
        tampered_payload = b64url(json.dumps(claims_admin).encode())
        out = [
            ("expired", self.forge(user, now=now - 7200, lifetime=3600),
             MSG_EXPIRED),
            # Past exp by more than the 30 s of clock skew allowed.
            ("expired-35s", self.forge(user, now=now - 135, lifetime=100),
             MSG_EXPIRED),
            ("alg-none", jwt_encode(claims, None, alg="none"), MSG_INVALID),
            ("alg-none-with-sig",
             jwt_encode(claims, None, alg="none") + s, MSG_INVALID),
            ("hs512-same-secret", self.forge(user, alg="HS512"), MSG_INVALID),
            ("wrong-secret", self.forge(user, secret="x" * 48), MSG_INVALID),
            ("tampered-payload", h + "." + tampered_payload + "." + s,
             MSG_INVALID),
            ("tampered-sig", h + "." + p + "." + _flip_b64(s, rng),
             MSG_INVALID),
            ("no-sig", h + "." + p + ".", MSG_INVALID),
            ("two-parts", h + "." + p, MSG_INVALID),
            ("garbage", "".join(rng.choice(string.ascii_letters + "._-")
                                for _ in range(rng.randint(1, 80))),
             MSG_INVALID),
            ("no-user-id", jwt_encode({k: v for k, v in
                                       self.claims_for(user).items()
                                       if k != "user_id"},
                                      self.jwt_secret), MSG_INVALID),
        ]
        return out

    # -- database

    def psql(self, sql):
        return psql(sql)

    def db_client_ports(self, name):
        """Local TCP ports of process name's connections to DB_PORT (Linux
        /proc): identifies its PostgreSQL backends in pg_stat_activity."""
        pid = self.procs[name].pid
        inodes = set()
        fd_dir = "/proc/%d/fd" % pid
        for fd in os.listdir(fd_dir):
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        db_port = int(os.environ["DB_PORT"])
        ports = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    rows = f.read().split("\n")[1:]
            except OSError:
                continue
            for row in rows:
                cols = row.split()
                if len(cols) < 10 or cols[9] not in inodes:
                    continue
                local_port = int(cols[1].rsplit(":", 1)[1], 16)
                remote_port = int(cols[2].rsplit(":", 1)[1], 16)
                if remote_port == db_port:
                    ports.add(local_port)
        return sorted(ports)

    def kill_db_connections(self, name):
        """pg_terminate_backend on every DB connection of process name (and
        of nobody else); returns how many were terminated."""
        ports = self.db_client_ports(name)
        if not ports:
            return 0
        out = psql("SELECT count(pg_terminate_backend(pid)) FROM "
                   "pg_stat_activity WHERE datname = current_database() AND "
                   "client_port IN (%s)" % ",".join(str(p) for p in ports))
        return int(out[0])


def _flip_b64(s, rng):
    if not s:
        return "AAAA"
    i = rng.randrange(len(s))
    alphabet = string.ascii_letters + string.digits + "-_"
    c = rng.choice([a for a in alphabet if a != s[i]])
    # The last character of a 43-char signature carries 2 padding bits that
    # a lenient decoder ignores: change the middle instead.
    if i == len(s) - 1:
        i = len(s) // 2
        c = rng.choice([a for a in alphabet if a != s[i]])
    return s[:i] + c + s[i + 1:]


def _psql_cmd(extra):
    require_env()
    env = dict(os.environ)
    if os.environ.get("DB_PASSWORD"):
        env["PGPASSWORD"] = os.environ["DB_PASSWORD"]
    cmd = ["psql", "-X", "-At", "-h", os.environ["DB_HOST"],
           "-p", os.environ["DB_PORT"], "-U", os.environ["DB_USER"],
           "-d", os.environ["DB_NAME"]] + extra
    return cmd, env


class _PsqlSession:
    """One long-lived psql reading queries on stdin (a new psql per query
    costs about 40 ms). Each query is followed by an \\echo of a marker;
    errors come back on the merged output as "ERROR: ..." lines."""

    def __init__(self):
        cmd, env = _psql_cmd(["-q", "-v", "ON_ERROR_STOP=0"])
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.n = 0

    def query(self, sql):
        self.n += 1
        marker = "__e2e_end_%d_%s__" % (self.n, uuid.uuid4().hex)
        self.proc.stdin.write(("%s;\n\\echo %s\n" % (sql.rstrip().rstrip(";"),
                                                     marker)).encode("utf-8"))
        self.proc.stdin.flush()
        lines = []
        while True:
            raw = self.proc.stdout.readline()
            if not raw:
                raise RuntimeError("psql session ended: %r" % lines[-5:])
            line = raw.decode("utf-8")[:-1]
            if line == marker:
                break
            lines.append(line)
        errors = [x for x in lines if x.startswith(("ERROR:", "psql:"))]
        if errors:
            raise RuntimeError("psql failed: %s" % "\n".join(lines))
        return lines

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


_SESSION = None
_SESSION_LOCK = threading.Lock()


@atexit.register
def _close_session():
    if _SESSION is not None:
        _SESSION.close()


def psql(sql):
    """Runs sql against the DB_* database; returns the output lines (split
    on LF only: str.splitlines() would also split on U+2028, U+0085, ...).
    """
    global _SESSION
    with _SESSION_LOCK:
        if _SESSION is None or _SESSION.proc.poll() is not None:
            _SESSION = _PsqlSession()
        return _SESSION.query(sql)


def task_rows(user_id):
    """The user's task rows as dicts (DB view), ordered by id."""
    lines = psql("SELECT row_to_json(t) FROM (SELECT * FROM tasks WHERE "
                 "user_id = %d ORDER BY id) t" % int(user_id))
    return [json.loads(line) for line in lines]


def task_row(task_id):
    lines = psql("SELECT row_to_json(t) FROM tasks t WHERE id = %d"
                 % int(task_id))
    return json.loads(lines[0]) if lines else None


# ---------------------------------------------------------------- OpenAPI

OPENAPI_DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           os.pardir, os.pardir, "docs", "openapi.json")
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch",
                 "trace")


def _unreserved(seg):
    """seg with escapes of unreserved characters decoded (RFC 3986)."""
    def dec(m):
        c = chr(int(m.group(1), 16))
        return c if (c.isascii() and c.isalnum()) or c in "-._~" \
            else m.group(0)
    return re.sub(r"%([0-9A-Fa-f]{2})", dec, seg)


def _param_ok(seg):
    """Whether a raw segment decodes to a parameter the edge accepts."""
    if not seg or len(seg) > 255:
        return False
    try:
        raw = re.sub(r"%([0-9A-Fa-f]{2})",
                     lambda m: chr(int(m.group(1), 16)), seg)
    except ValueError:
        return False
    return "%" not in re.sub(r"%[0-9A-Fa-f]{2}", "", seg) and \
        not any(ord(c) < 0x20 or ord(c) == 0x7f for c in raw)


class OpenApiError(AssertionError):
    """A response the OpenAPI document does not describe."""


class OpenApiValidator:
    """Validates responses against an OpenAPI 3.1 document: the path
    template is matched like edge-api's router (query ignored, one trailing
    slash dropped, literal segments beat {param} ones); the method and
    status must be documented, the body must match the response's schema
    (JSON Schema 2020-12, jsonschema's validator, $ref resolved within the
    document) and the required headers must be present and match theirs.
    A path no template fits, or a documented path with an undocumented
    method, is checked against the document's x-taskapi-unmatched
    responses ("path" and "method")."""

    def __init__(self, path=OPENAPI_DOC):
        try:
            import jsonschema
        except ImportError as e:
            raise RuntimeError("e2e: the OpenAPI check needs jsonschema "
                               "(Debian: python3-jsonschema); "
                               "TA_OPENAPI_VALIDATE=0 disables it") from e
        self._js = jsonschema
        with open(path, encoding="utf-8") as f:
            self.doc = json.load(f)
        self.templates = []
        for tpl, item in self.doc["paths"].items():
            segs = tpl.strip("/").split("/")
            self.templates.append((tpl, segs, item))
        self._validators = {}
        self._lock = threading.Lock()
        self.checked = 0
        self.seen = set()   # (template or "unmatched", method, status)

    # -- document access

    def resolve(self, obj):
        """Follows local $refs ("#/a/b") until obj is not one."""
        while isinstance(obj, dict) and "$ref" in obj:
            ptr = obj["$ref"]
            if not ptr.startswith("#/"):
                raise OpenApiError("openapi: only local $refs: %r" % ptr)
            obj = self.doc
            for part in ptr[2:].split("/"):
                obj = obj[part.replace("~1", "/").replace("~0", "~")]
        return obj

    def _validator(self, pointer):
        """A 2020-12 validator for the schema at JSON pointer "pointer"
        of the document: the root schema is the document itself plus a $ref
        to it, so every "#/components/..." $ref resolves within it."""
        with self._lock:
            v = self._validators.get(pointer)
            if v is None:
                root = dict(self.doc)
                root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
                root["$ref"] = "#" + pointer
                cls = self._js.Draft202012Validator
                v = cls(root, format_checker=self._js.FormatChecker())
                self._validators[pointer] = v
            return v

    @staticmethod
    def _escape(key):
        return key.replace("~", "~0").replace("/", "~1")

    def match(self, path):
        """(template, path item) for a request path, or (None, None)."""
        p = path.split("?", 1)[0]
        if len(p) > 1 and p.endswith("/"):
            p = p[:-1]
        # The edge routes on the raw path: segments split on "/" as sent,
        # literals compared with escapes of unreserved characters decoded,
        # "." and ".." segments fit nothing (edge-api/routes.h).
        if not p.startswith("/"):
            return None, None
        segs = [_unreserved(s) for s in p[1:].split("/")]
        if any(s in (".", "..") for s in segs):
            return None, None
        best, best_score = None, -1
        for tpl, tsegs, item in self.templates:
            if len(tsegs) != len(segs):
                continue
            score = 0
            for t, s in zip(tsegs, segs):
                is_param = t.startswith("{") and t.endswith("}")
                if not is_param and t != s:
                    break
                if is_param and not _param_ok(s):
                    break
                score = score * 2 + (0 if is_param else 1)
            else:
                if score > best_score:
                    best, best_score = (tpl, item), score
        return best if best else (None, None)

    # -- the check

    def check(self, method, path, r):
        """Raises OpenApiError when r (a Response) is not documented."""
        tpl, item = self.match(path)
        m = method.lower()
        if tpl is None:
            where = "unmatched path"
            responses = self.doc["x-taskapi-unmatched"]["path"]
            ptr = "/x-taskapi-unmatched/path"
        elif m not in item or m not in _HTTP_METHODS:
            where = "undocumented method of %s" % tpl
            responses = self.doc["x-taskapi-unmatched"]["method"]
            ptr = "/x-taskapi-unmatched/method"
        else:
            where = "%s %s" % (method, tpl)
            responses = self.resolve(item[m])["responses"]
            ptr = "/paths/%s/%s/responses" % (self._escape(tpl), m)
        what = "%s %s -> %d" % (method, path[:80], r.status)
        code = str(r.status)
        if code not in responses:
            raise OpenApiError(
                "openapi: %s: status %d is not documented for %s "
                "(documented: %s)\n  %r"
                % (what, r.status, where, ", ".join(sorted(responses)), r))
        ref = responses[code]
        ptr += "/" + code
        while isinstance(ref, dict) and "$ref" in ref:
            ptr = ref["$ref"][1:]
            ref = self.resolve(ref)
        problems = self._check_headers(ref, r) + self._check_body(
            method, ref, ptr, r)
        with self._lock:
            self.checked += 1
            self.seen.add((tpl or "unmatched", m, r.status))
        if problems:
            raise OpenApiError("openapi: %s (%s):\n  %s\n  %r"
                               % (what, where, "\n  ".join(problems), r))

    def _check_headers(self, resp, r):
        problems = []
        for name, h in (resp.get("headers") or {}).items():
            h = self.resolve(h)
            value = r.headers.get(name)
            if value is None:
                if h.get("required"):
                    problems.append("required header %s missing" % name)
                continue
            schema = h.get("schema")
            if schema is not None:
                v = self._js.Draft202012Validator(schema)
                for e in v.iter_errors(value):
                    problems.append("header %s: %s" % (name, e.message))
        return problems

    def _check_body(self, method, resp, ptr, r):
        content = resp.get("content")
        if method.upper() == "HEAD":
            return []
        if not content:
            if r.raw:
                return ["a body where the document has none: %r"
                        % r.raw[:200]]
            return []
        ct = (r.headers.get("Content-Type") or "").split(";")[0].strip()
        if ct.lower() not in {k.lower() for k in content}:
            return ["Content-Type %r, documented: %s"
                    % (ct, ", ".join(content))]
        media_key = next(k for k in content if k.lower() == ct.lower())
        media = content[media_key]
        if "schema" not in media:
            return []
        try:
            body = json.loads(r.raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            return ["body is not JSON: %s" % e]
        v = self._validator("%s/content/%s/schema"
                            % (ptr, self._escape(media_key)))
        problems = []
        for e in sorted(v.iter_errors(body), key=lambda e: list(e.path)):
            loc = "/".join(str(x) for x in e.absolute_path) or "(body)"
            problems.append("body %s: %s" % (loc, e.message))
        return problems


_OPENAPI = None
_OPENAPI_LOCK = threading.Lock()


def openapi_validator():
    """The process-wide validator of docs/openapi.json, or None when
    TA_OPENAPI_VALIDATE=0."""
    global _OPENAPI
    if os.environ.get("TA_OPENAPI_VALIDATE", "1") == "0":
        return None
    with _OPENAPI_LOCK:
        if _OPENAPI is None:
            _OPENAPI = OpenApiValidator()
            atexit.register(_openapi_summary)
        return _OPENAPI


def _openapi_summary():
    v = _OPENAPI
    if v is not None and v.checked:
        ops = {(t, m) for t, m, _ in v.seen}
        sys.stdout.write("openapi: %d responses validated against %s "
                         "(%d operations, %d operation/status pairs seen)\n"
                         % (v.checked, os.path.basename(OPENAPI_DOC),
                            len(ops), len(v.seen)))


def openapi_check(method, path, r):
    """Raises OpenApiError when r is not what docs/openapi.json says
    method path answers; nothing when TA_OPENAPI_VALIDATE=0."""
    v = openapi_validator()
    if v is not None:
        v.check(method, path, r)


# ---------------------------------------------------------------- shapes

def check_json_type(tc, r):
    ct = r.headers.get("Content-Type", "")
    tc.assertTrue(ct.lower().startswith("application/json"),
                  "Content-Type %r: %r" % (ct, r))


def check_error(tc, r, status, message=None, fields=None, messages=None):
    """r is an error response with exactly the contract's body."""
    tc.assertEqual(r.status, status, r)
    check_json_type(tc, r)
    b = r.json
    tc.assertIsInstance(b, dict, r)
    allowed = {"error", "message", "details"}
    tc.assertTrue(set(b) <= allowed and {"error", "message"} <= set(b),
                  "error body keys %r: %r" % (sorted(b), r))
    tc.assertIn(b["error"], reason_phrases(status), r)
    tc.assertIsInstance(b["message"], str, r)
    tc.assertTrue(b["message"], r)
    if message is not None:
        tc.assertEqual(b["message"], message, r)
    if messages is not None:
        tc.assertIn(b["message"], messages, r)
    if fields is not None:
        tc.assertIn("details", b, r)
        tc.assertIsInstance(b["details"], list, r)
        got = set()
        for d in b["details"]:
            tc.assertIsInstance(d, dict, r)
            tc.assertEqual(set(d), {"field", "message"}, r)
            tc.assertIsInstance(d["field"], str, r)
            tc.assertIsInstance(d["message"], str, r)
            tc.assertTrue(d["message"], r)
            got.add(d["field"])
        tc.assertEqual(got, set(fields), r)
    elif status != 400:
        tc.assertNotIn("details", b, "details on a non-validation error: %r"
                       % (r,))
    return b


def check_timestamp(tc, v, what="timestamp"):
    tc.assertIsInstance(v, str, what)
    tc.assertRegex(v, RFC3339_UTC, what)


def check_task(tc, t, user_id=None):
    tc.assertIsInstance(t, dict)
    tc.assertEqual(set(t), TASK_KEYS, "task keys: %r" % (t,))
    tc.assertIsInstance(t["id"], int)
    tc.assertGreater(t["id"], 0)
    tc.assertIsInstance(t["user_id"], int)
    if user_id is not None:
        tc.assertEqual(t["user_id"], user_id, t)
    tc.assertIsInstance(t["title"], str)
    tc.assertTrue(t["description"] is None
                  or isinstance(t["description"], str), t)
    tc.assertIn(t["status"], STATUSES, t)
    tc.assertIn(t["priority"], PRIORITIES, t)
    if t["due_date"] is not None:
        check_timestamp(tc, t["due_date"], "due_date")
    check_timestamp(tc, t["created_at"], "created_at")
    check_timestamp(tc, t["updated_at"], "updated_at")
    return t


def parse_ts(s):
    """RFC 3339 -> unix milliseconds (int), any offset."""
    m = re.match(r"^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(\.\d+)?"
                 r"(Z|z|[+-]\d\d:\d\d)$", s)
    if not m:
        raise ValueError("not RFC 3339: %r" % s)
    y, mo, d, hh, mm, ss = (int(m.group(i)) for i in range(1, 7))
    frac = m.group(7) or ""
    ms = int((frac[1:] + "000")[:3]) if frac else 0
    secs = calendar.timegm((y, mo, d, hh, mm, ss, 0, 0, 0))
    off = m.group(8)
    if off not in ("Z", "z"):
        sign = 1 if off[0] == "+" else -1
        secs -= sign * (int(off[1:3]) * 3600 + int(off[4:6]) * 60)
    return secs * 1000 + ms


def run_tests():
    """unittest.main with verbose output; exits non-zero on failure."""
    unittest.main(verbosity=2)


def log(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()

