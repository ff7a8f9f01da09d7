"""The load generator of make loadtest: tests/fault/faultlib.py's Load
(threads, one record per request, summary), driven here by an open-loop
schedule instead of as-fast-as-possible: a dispatcher hands out tickets
at the rate a profile gives for each moment, and each ticket is one
request of a configurable mix of reads, creates, updates and logins.
Tickets the threads cannot take in time are counted as "unsent" (the
generator, not the API, was the limit)."""

import os
import queue
import random
import sys
import threading
import time
import uuid

from httpclient import Client

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_HERE, os.pardir, os.pardir, "tests",
                                "fault"))
from faultlib import Load  # noqa: E402

OPS = ("read", "create", "update", "login")
USER_PREFIX = "taskapi_load_"


def parse_mix(text):
    """"read=60,create=20,update=15,login=5" -> {op: share}, shares sum
    to 1; raises ValueError naming the bad part."""
    mix = {}
    for part in text.split(","):
        if not part.strip():
            continue
        k, _, v = part.partition("=")
        k = k.strip()
        if k not in OPS:
            raise ValueError("MIX: unknown operation %r (use %s)"
                             % (k, ", ".join(OPS)))
        try:
            mix[k] = float(v)
        except ValueError:
            raise ValueError("MIX: %r is not a number" % v) from None
        if mix[k] < 0:
            raise ValueError("MIX: %s is negative" % k)
    total = sum(mix.values())
    if total <= 0:
        raise ValueError("MIX: no operation has a share")
    return {k: v / total for k, v in mix.items()}


def ramp_profile(peak, seconds):
    """The rate at second t: 10 % of peak rising to peak over the first
    40 % of the run, peak until 70 %, then 10 % (the cool-down in which
    auto scaling scales in)."""
    low = max(peak * 0.1, 0.5)

    def rate(t):
        f = t / seconds if seconds else 1.0
        if f < 0.4:
            return low + (peak - low) * f / 0.4
        if f < 0.7:
            return peak
        return low
    return rate


class _PerThread:
    """request() through one Client per thread (Load calls it from its
    threads as stack.request)."""

    def __init__(self, base_url, timeout, verify_tls):
        self.args = (base_url, timeout, verify_tls)
        self.local = threading.local()

    def request(self, method, path, body=None, headers=None, token=None,
                timeout=30):
        c = getattr(self.local, "client", None)
        if c is None:
            c = Client(self.args[0], self.args[1], self.args[2])
            self.local.client = c
        return c.request(method, path, body=body, headers=headers,
                         token=token)


class MixLoad(Load):
    def __init__(self, base_url, users, mix, rate, seconds, nthreads=16,
                 timeout=30.0, verify_tls=True):
        super().__init__(_PerThread(base_url, timeout, verify_tls),
                         [(u["id"], u["token"]) for u in users],
                         nthreads=nthreads, seconds=seconds,
                         max_requests=10 ** 9, prefix="load")
        self.creds = users
        self.mix = mix
        self.rate = rate
        self.tickets = queue.Queue()
        self.unsent = 0

    def _pick(self, rng):
        x = rng.random()
        for op, share in self.mix.items():
            if x < share:
                return op
            x -= share
        return op

    def _one(self, rng, i, created):
        u = self.creds[i % len(self.creds)]
        op = self._pick(rng)
        body, headers = None, None
        if op in ("read", "update") and not created:
            op = "create"
        if op == "create":
            method, path = "POST", "/tasks"
            body = {"title": "load %s" % uuid.uuid4().hex[:12]}
        elif op == "read":
            if rng.random() < 0.5:
                method, path = "GET", "/tasks/%d" % rng.choice(created)
            else:
                method, path = "GET", "/tasks"
        elif op == "update":
            method, path = "PUT", "/tasks/%d" % rng.choice(created)
            body = {"status": rng.choice(("pending", "in_progress",
                                          "completed"))}
        else:
            method, path = "POST", "/auth/login"
            body = {"username": u["username"], "password": u["password"]}
        rec = {"op": op, "status": None, "error": None, "id": None}
        t0 = time.monotonic()
        try:
            s, _, b, _ = self.stack.request(
                method, path, body, headers,
                token=None if op == "login" else u["token"])
            rec["status"] = s
            if op == "create" and s == 201:
                created.append(b["task"]["id"])
                del created[:-200]      # reads and updates of recent ones
            if op == "login" and s == 200:
                u["token"] = b["token"]
        except Exception as e:      # noqa: BLE001 - every failure counts
            rec["error"] = repr(e)
        rec["t0"], rec["t"] = t0, time.monotonic()
        with self.lock:
            self.results.append(rec)

    def _run(self, i):
        rng = random.Random(i)
        created = []
        while True:
            t = self.tickets.get()
            if t is None:
                return
            self._one(rng, i, created)

    def _dispatch(self):
        start = self.t_start
        sent = 0.0
        end = start + self.seconds
        while not self.stop_event.is_set():
            now = time.monotonic()
            if now >= end:
                break
            sent += self.rate(now - start) * 0.01
            while sent >= 1.0:
                sent -= 1.0
                if self.tickets.qsize() > 2 * self.nthreads:
                    self.unsent += 1
                else:
                    self.tickets.put(1)
            time.sleep(0.01)
        for _ in range(self.nthreads):
            self.tickets.put(None)

    def start(self):
        super().start()
        self.dispatcher = threading.Thread(target=self._dispatch,
                                           daemon=True)
        self.dispatcher.start()
        return self


def make_users(base_url, n, timeout=30.0, verify_tls=True):
    """n fresh users, registered and logged in: dicts with id, username,
    password, token. Named USER_PREFIX<random>; no route deletes them."""
    c = Client(base_url, timeout, verify_tls)
    out = []
    try:
        for _ in range(n):
            name = USER_PREFIX + uuid.uuid4().hex[:12]
            pw = "Load-" + uuid.uuid4().hex
            r = c.request("POST", "/auth/register", body={
                "username": name, "email": name + "@example.com",
                "password": pw})
            if r.status != 201:
                raise RuntimeError("register: %s" % r.short())
            uid = r.json["user"]["id"]
            r = c.request("POST", "/auth/login",
                          body={"username": name, "password": pw})
            if r.status != 200:
                raise RuntimeError("login: %s" % r.short())
            out.append({"id": uid, "username": name, "password": pw,
                        "token": r.json["token"]})
    finally:
        c.close()
    return out
