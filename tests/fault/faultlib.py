"""Shared helpers of the fault tests: start any number of real auth-svc,
task-svc and edge-api processes on free loopback ports, talk HTTP to the
edge, run a bounded load generator, read the database with psql, and run a
private PostgreSQL cluster (scripts/pg.sh) that a test may stop and start.

Python standard library only. The DB_* environment names the database
(scripts/test.sh exports the throwaway cluster's); TA_BIN_DIR the binaries,
TA_SOURCE_DIR the checkout. A missing setting fails the test loudly;
nothing is skipped. Every process a test starts is stopped by its pid when
the test ends, pass or fail.
"""

import atexit
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import uuid

REQUIRED_ENV = ("TA_BIN_DIR", "TA_SOURCE_DIR", "DB_HOST", "DB_PORT",
                "DB_NAME", "DB_USER")


def log(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def require_env():
    missing = [k for k in REQUIRED_ENV if not os.environ.get(k)]
    if missing:
        raise RuntimeError("fault tests need %s in the environment"
                           % ", ".join(missing))
    return os.environ["TA_BIN_DIR"]


def free_ports(n):
    """n distinct TCP ports on 127.0.0.1 that were free a moment ago."""
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def db_env(overrides=None):
    env = {k: os.environ[k] for k in ("DB_HOST", "DB_PORT", "DB_NAME",
                                      "DB_USER")}
    if os.environ.get("DB_PASSWORD"):
        env["DB_PASSWORD"] = os.environ["DB_PASSWORD"]
    env.update(overrides or {})
    return env


def psql(sql, env=None):
    """Runs sql with psql against the DB_* of env; rows as lists of str."""
    e = dict(os.environ)
    e.update(env or {})
    cmd = ["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
           "-F", "\t", "-h", e["DB_HOST"], "-p", str(e["DB_PORT"]),
           "-U", e["DB_USER"], "-d", e["DB_NAME"], "-c", sql]
    if e.get("DB_PASSWORD"):
        e["PGPASSWORD"] = e["DB_PASSWORD"]
    out = subprocess.run(cmd, env=e, check=True, capture_output=True,
                         text=True, timeout=60).stdout
    return [line.split("\t") for line in out.splitlines() if line]


_LIVE = []


@atexit.register
def _kill_leftovers():
    for obj in list(_LIVE):
        obj.kill_all()


class Stack:
    """n_auth auth-svc, n_task task-svc and one edge-api on free ports.

    Processes are named "auth-0", "task-2", "edge". env applies to all,
    env_auth / env_task / env_edge to one kind. db overrides DB_*.
    """

    START_TIMEOUT = 20.0

    def __init__(self, n_auth=1, n_task=1, env=None, env_auth=None,
                 env_task=None, env_edge=None, db=None):
        self.bindir = require_env()
        self.secret = "".join(secrets.choice(string.ascii_letters)
                              for _ in range(48))
        self.rpc_auth_key = secrets.token_hex(32)
        self.n = {"auth": n_auth, "task": n_task}
        self.env = dict(env or {})
        self.env_kind = {"auth": dict(env_auth or {}),
                         "task": dict(env_task or {}),
                         "edge": dict(env_edge or {})}
        self.db = db_env(db)
        self.procs, self.logs, self.urls = {}, {}, {}
        self.tmpdir = tempfile.mkdtemp(prefix="taskapi-fault-")
        self.port = None
        self.stopped = set()

    def _env(self, kind, extra):
        env = dict(os.environ)
        env.update(self.db)
        env.update({"JWT_SECRET": self.secret, "LOG_LEVEL": "info",
                    "RPC_AUTH_KEY": self.rpc_auth_key,
                    "ARGON2_MEMORY_KIB": "8192", "ARGON2_OPS": "1"})
        env.update(self.env)
        env.update(self.env_kind[kind])
        env.update(extra)
        return env

    def _spawn(self, name, binary, env):
        path = os.path.join(self.tmpdir, name + ".log")
        self.logs[name] = path
        with open(path, "ab") as f:
            self.procs[name] = subprocess.Popen(
                [os.path.join(self.bindir, binary)], env=env,
                stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)

    def start(self):
        _LIVE.append(self)
        ports = free_ports(self.n["auth"] + self.n["task"] + 1)
        for kind in ("auth", "task"):
            for i in range(self.n[kind]):
                url = "tcp://127.0.0.1:%d" % ports.pop()
                self.urls["%s-%d" % (kind, i)] = url
                self._spawn("%s-%d" % (kind, i), kind + "-svc",
                            self._env(kind, {"RPC_LISTEN": url}))
        self.port = ports.pop()
        self._spawn("edge", "edge-api", self._env("edge", {
            "PORT": str(self.port),
            "AUTH_RPC_URL": ",".join(u for n, u in sorted(self.urls.items())
                                     if n.startswith("auth-")),
            "TASK_RPC_URL": ",".join(u for n, u in sorted(self.urls.items())
                                     if n.startswith("task-")),
        }))
        self.wait_healthy()
        return self

    def wait_healthy(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.START_TIMEOUT)
        last = None
        while time.monotonic() < deadline:
            for name, p in self.procs.items():
                if p.poll() is not None and name not in self.stopped:
                    raise RuntimeError("%s exited with %s\n%s" % (
                        name, p.returncode, self.log_tails()))
            try:
                last = [self.request("GET", p, timeout=2)[0]
                        for p in ("/health", "/auth/health",
                                  "/tasks/health")]
                if last == [200, 200, 200]:
                    return
            except OSError as e:
                last = repr(e)
            time.sleep(0.1)
        raise RuntimeError("not healthy: %r\n%s" % (last, self.log_tails()))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.kill_all()
        if exc[0] is not None:
            log(self.log_tails())
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        return False

    def kill_all(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
        if self in _LIVE:
            _LIVE.remove(self)

    # -- faults

    def sigkill(self, name):
        self.stopped.add(name)
        p = self.procs[name]
        p.kill()
        p.wait()

    def sigterm(self, name, timeout=30.0):
        """SIGTERM name; (exit code or "killed", seconds until it exited)."""
        self.stopped.add(name)
        p = self.procs[name]
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return "killed", time.monotonic() - t0
        return p.returncode, time.monotonic() - t0

    def run_binary(self, binary, args, extra=None, timeout=15):
        """Runs TA_BIN_DIR/binary args with the stack's environment."""
        kind = binary.split("-")[0]
        env = self._env(kind if kind in self.env_kind else "edge",
                        extra or {})
        return subprocess.run([os.path.join(self.bindir, binary)] + args,
                              env=env, capture_output=True, timeout=timeout)

    # -- logs

    def log_text(self, name):
        with open(self.logs[name], "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_events(self, name):
        out = []
        for line in self.log_text(name).splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def log_tails(self, lines=25):
        parts = []
        for name in sorted(self.logs):
            tail = self.log_text(name).splitlines()[-lines:]
            parts.append("---- %s ----\n%s" % (name, "\n".join(tail)))
        return "\n".join(parts)

    # -- HTTP

    def request(self, method, path, body=None, headers=None, token=None,
                timeout=15):
        """(status, headers dict lower-case, parsed JSON or None, raw)."""
        h = {"Connection": "close"}
        h.update(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if token:
            h["Authorization"] = "Bearer " + token
        c = http.client.HTTPConnection("127.0.0.1", self.port,
                                       timeout=timeout)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            raw = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
        finally:
            c.close()
        try:
            parsed = json.loads(raw.decode()) if raw else None
        except ValueError:
            parsed = None
        return r.status, hdrs, parsed, raw

    def new_user(self):
        """Registers and logs in a fresh user; (user id, token)."""
        return new_user(self.request, "f")


def new_user(request, prefix):
    """Registers and logs in a fresh user through request (the request
    method of a Stack or of any client with its interface); (user id,
    token)."""
    name = prefix + uuid.uuid4().hex[:16]
    pw = "user-password-" + uuid.uuid4().hex[:8]
    s, _, b, _ = request("POST", "/auth/register", {
        "username": name, "email": name + "@example.test", "password": pw})
    if s != 201:
        raise RuntimeError("register: %s %r" % (s, b))
    s, _, b, _ = request("POST", "/auth/login",
                         {"username": name, "password": pw})
    if s != 200:
        raise RuntimeError("login: %s %r" % (s, b))
    return b["user"]["id"], b["token"]


def is_json_error(status, body):
    """Whether body is the contract's error object for status."""
    return (isinstance(body, dict) and isinstance(body.get("error"), str)
            and isinstance(body.get("message"), str))


class Load:
    """A bounded load generator: nthreads threads, each sending at most
    max_requests requests of a mix of keyed creates and reads for one user
    each, for at most seconds, pausing briefly after a failure. Every result is recorded as a dict with op,
    status, body, key (creates), id, t (monotonic end time), error (a
    transport exception, which is itself a failure)."""

    def __init__(self, stack, users, nthreads=4, seconds=10.0,
                 max_requests=5000, create_share=0.5, prefix="load",
                 pause_after_failure_s=0.02):
        self.stack = stack
        self.users = users
        self.nthreads = nthreads
        self.seconds = seconds
        self.max_requests = max_requests
        self.create_share = create_share
        self.prefix = prefix
        self.pause = pause_after_failure_s
        self.results = []
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.threads = []

    def _one(self, rng, uid, token, created):
        if not created or rng.random() < self.create_share:
            key = "%s-%s" % (self.prefix, uuid.uuid4().hex)
            op, method, path = "create", "POST", "/tasks"
            body = {"title": key}
            headers = {"Idempotency-Key": key}
        else:
            key, body, headers = None, None, None
            if rng.random() < 0.5:
                op, method, path = "get", "GET", "/tasks/%d" % rng.choice(
                    created)
            else:
                op, method, path = "list", "GET", "/tasks"
        rec = {"op": op, "key": key, "user": uid, "status": None,
               "body": None, "error": None, "id": None}
        t0 = time.monotonic()
        try:
            s, _, b, _ = self.stack.request(method, path, body, headers,
                                            token=token, timeout=30)
            rec["status"], rec["body"] = s, b
            if op == "create" and s == 201:
                rec["id"] = b["task"]["id"]
                created.append(rec["id"])
        except (OSError, http.client.HTTPException) as e:
            rec["error"] = repr(e)
        rec["t0"], rec["t"] = t0, time.monotonic()
        with self.lock:
            self.results.append(rec)
        return not rec["error"] and rec["status"] in (200, 201)

    def _run(self, i):
        import random
        rng = random.Random(i)
        uid, token = self.users[i % len(self.users)]
        created = []
        end = time.monotonic() + self.seconds
        for _ in range(self.max_requests):
            if self.stop_event.is_set() or time.monotonic() >= end:
                break
            # A client backs off a little after a failure.
            if not self._one(rng, uid, token, created):
                time.sleep(self.pause)

    def start(self):
        self.t_start = time.monotonic()
        for i in range(self.nthreads):
            t = threading.Thread(target=self._run, args=(i,), daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def wait(self):
        for t in self.threads:
            t.join(self.seconds + 60)
        self.t_end = time.monotonic()
        return self.results

    def stop(self):
        self.stop_event.set()
        return self.wait()

    def count(self, pred=None):
        with self.lock:
            return sum(1 for r in self.results if pred is None or pred(r))

    def summary(self):
        """sent, succeeded, failed by status (transport errors as "error");
        the keys are strings, so that a report with both sorts."""
        by = {}
        ok = 0
        for r in self.results:
            if r["error"]:
                by["error"] = by.get("error", 0) + 1
            elif r["status"] in (200, 201):
                ok += 1
            else:
                k = str(r["status"])
                by[k] = by.get(k, 0) + 1
        return {"sent": len(self.results), "succeeded": ok, "failed": by}

    def recovery(self, t_fault):
        """Seconds from t_fault to the first success after the last failure
        (0.0 when nothing failed after t_fault)."""
        res = sorted(self.results, key=lambda r: r["t"])
        fails = [r["t"] for r in res if r["t"] >= t_fault and (
            r["error"] or r["status"] not in (200, 201))]
        if not fails:
            return 0.0
        after = [r["t"] for r in res if r["t"] > fails[-1]
                 and not r["error"] and r["status"] in (200, 201)]
        return (after[0] if after else fails[-1]) - t_fault


def report(name, counts):
    """Prints one FAULT-REPORT line (the closing note collects them)."""
    log("FAULT-REPORT %s %s" % (name, json.dumps(counts, sort_keys=True)))


class PgCluster:
    """A private PostgreSQL cluster in a temporary directory, through
    scripts/pg.sh (as root it runs as the postgres user), migrated with
    taskapi-migrate. start/stop may be called repeatedly."""

    def __init__(self, dbname="taskmanagement"):
        require_env()
        self.src = os.environ["TA_SOURCE_DIR"]
        self.pg_sh = os.path.join(self.src, "scripts", "pg.sh")
        self.dir = tempfile.mkdtemp(prefix="taskapi-fault-pg-")
        self.port = free_ports(1)[0]
        self.dbname = dbname
        self.env = {"DB_HOST": "127.0.0.1", "DB_PORT": str(self.port),
                    "DB_NAME": dbname, "DB_USER": "taskapi",
                    "DB_PASSWORD": ""}
        self.is_init = False

    def _sh(self, *args):
        subprocess.run(["bash", self.pg_sh] + list(args), check=True,
                       timeout=120, stdout=subprocess.DEVNULL)

    def start(self):
        if not self.is_init:
            _LIVE.append(self)
            self._sh("init", self.dir, str(self.port), "throwaway")
            self.is_init = True
            self._sh("start", self.dir)
            self._sh("createdb", self.dir, self.dbname)
            env = dict(os.environ)
            env.update(self.env)
            env["MIGRATIONS_DIR"] = os.path.join(self.src, "db",
                                                 "migrations")
            subprocess.run([os.path.join(os.environ["TA_BIN_DIR"],
                                         "taskapi-migrate")],
                           env=env, check=True, timeout=120,
                           stdout=subprocess.DEVNULL)
        else:
            self._sh("start", self.dir)
        return self

    def stop(self):
        self._sh("stop", self.dir)

    def kill_all(self):
        try:
            self.stop()
        except (subprocess.SubprocessError, OSError):
            pass
        if self in _LIVE:
            _LIVE.remove(self)

    def destroy(self):
        self.kill_all()
        shutil.rmtree(self.dir, ignore_errors=True)
