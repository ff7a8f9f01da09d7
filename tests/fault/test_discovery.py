"""Fault test: the edge finds task-svc instances by DNS, as on ECS with AWS
Cloud Map, follows the set as it scales 1 -> 3 -> 1 under a steady GET
load, spreads calls over the instances, answers 503 at once when no
instance is left and recovers by itself when one comes back; then the
edge's graceful stop on SIGTERM.

The Cloud Map stand-in is dnsmasq on a loopback port (dnsstub.py); each
task-svc instance listens on its own loopback address (127.0.0.2, .3, .4)
and the same port; the edge resolves tcp://task.taskapi.test:<port> by
asking that server (RPC_DNS_SERVER) every DISCOVERY_REFRESH_S=1 second.

Needs TA_BIN_DIR and DB_* (a migrated database). Prints the numbers: the
distribution per instance, the time to follow a change, the time to 503.
"""

import calendar
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
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsstub  # noqa: E402

NAME = "task.taskapi.test"
REFRESH_S = 1
INSTANCES = ("127.0.0.2", "127.0.0.3", "127.0.0.4")


def require_env():
    missing = [k for k in ("TA_BIN_DIR", "DB_HOST", "DB_PORT", "DB_NAME",
                           "DB_USER") if not os.environ.get(k)]
    if missing:
        raise RuntimeError("fault: missing environment: " + ", ".join(missing))
    return os.environ["TA_BIN_DIR"]


def free_port(hosts):
    """A TCP port free on every address of hosts a moment ago."""
    for _ in range(50):
        s = socket.socket()
        s.bind((hosts[0], 0))
        port = s.getsockname()[1]
        s.close()
        ok = True
        for h in hosts[1:]:
            t = socket.socket()
            try:
                t.bind((h, port))
            except OSError:
                ok = False
            finally:
                t.close()
        if ok:
            return port
    raise RuntimeError("no free port")


def log_lines(path):
    out = []
    try:
        with open(path, "rb") as f:
            for raw in f:
                try:
                    out.append(json.loads(raw))
                except ValueError:
                    pass
    except OSError:
        pass
    return out


def log_epoch(line):
    """The "time" field of a log line as epoch seconds."""
    t = line["time"]  # 2026-01-02T03:04:05.678Z
    base = time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")
    return calendar.timegm(base) + int(t[20:23]) / 1000.0


class Proc:
    def __init__(self, name, argv, env, logdir):
        self.name = name
        self.log = os.path.join(logdir, name + ".log")
        self.f = open(self.log, "wb")
        self.p = subprocess.Popen(argv, env=env, stdout=self.f,
                                  stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)

    def lines(self, event=None):
        ls = log_lines(self.log)
        return [x for x in ls if event is None or x.get("event") == event]

    def wait_event(self, event, timeout=15, pred=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for x in self.lines(event):
                if pred is None or pred(x):
                    return x
            if self.p.poll() is not None:
                raise RuntimeError("%s exited %s" % (self.name,
                                                     self.p.returncode))
            time.sleep(0.02)
        raise AssertionError("%s: no %s within %ss" % (self.name, event,
                                                       timeout))

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.f.close()
        return self.p.returncode


class Http:
    def __init__(self, port):
        self.port = port
        self.c = None

    def close(self):
        if self.c is not None:
            self.c.close()
            self.c = None

    def req(self, method, path, body=None, headers=None, timeout=10):
        hdrs = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        for attempt in range(2):
            if self.c is None:
                self.c = http.client.HTTPConnection("127.0.0.1", self.port,
                                                    timeout=timeout)
            try:
                self.c.request(method, path, body=data, headers=hdrs)
                r = self.c.getresponse()
                raw = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.c.close()
                    self.c = None
                try:
                    js = json.loads(raw) if raw else None
                except ValueError:
                    js = None
                return r.status, r, js
            except (OSError, http.client.HTTPException):
                self.c.close()
                self.c = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")


class Load(threading.Thread):
    """GET /tasks/{id} in a loop; records (epoch, status, latency)."""

    def __init__(self, port, path, token):
        super().__init__(daemon=True)
        self.http = Http(port)
        self.path = path
        self.hdrs = {"Authorization": "Bearer " + token}
        self.results = []
        self.stop_flag = threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            t0 = time.monotonic()
            try:
                st, _, _ = self.http.req("GET", self.path, headers=self.hdrs)
            except OSError:
                st = -1
            self.results.append((time.time(), st, time.monotonic() - t0))
            time.sleep(0.002)

    def halt(self):
        self.stop_flag.set()
        self.join(15)
        self.http.close()


class DiscoveryTest(unittest.TestCase):
    def setUp(self):
        bindir = require_env()
        self.bindir = bindir
        self.tmp = tempfile.mkdtemp(prefix="taskapi-fault-")
        self.procs = []
        self.dns = None
        secret = "".join(secrets.choice(string.ascii_letters)
                         for _ in range(48))
        self.env = dict(os.environ, JWT_SECRET=secret, LOG_LEVEL="info",
                        RPC_AUTH_KEY=secrets.token_hex(32),
                        DB_POOL_SIZE="2")
        self.task_port = free_port(list(INSTANCES))
        self.auth_port, self.edge_port = free_port(["127.0.0.1"]), None
        self.auth = self.start("auth-svc", "auth-svc", RPC_LISTEN=(
            "tcp://127.0.0.1:%d" % self.auth_port))
        self.auth.wait_event("rpc_listening")
        self.tasks = {}

    def tearDown(self):
        for p in self.procs:
            p.stop(signal.SIGKILL)
        if self.dns:
            self.dns.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, name, binary, **env):
        e = dict(self.env)
        e.update(env)
        p = Proc(name, [os.path.join(self.bindir, binary)], e, self.tmp)
        self.procs.append(p)
        return p

    def start_task(self, ip, tag=""):
        # Debug: every call's rpc_call line, counted per instance.
        p = self.start("task-%s%s" % (ip, tag), "task-svc",
                       RPC_LISTEN="tcp://%s:%d" % (ip, self.task_port),
                       LOG_LEVEL="debug")
        p.wait_event("rpc_listening")
        self.tasks[ip] = p
        return p

    def start_edge(self, **env):
        self.edge_port = free_port(["127.0.0.1"])
        e = {"PORT": str(self.edge_port),
             "AUTH_RPC_URL": "tcp://127.0.0.1:%d" % self.auth_port,
             "TASK_RPC_URL": "tcp://%s:%d" % (NAME, self.task_port),
             "RPC_DNS_SERVER": "127.0.0.1:%d" % self.dns.port,
             "DISCOVERY_REFRESH_S": str(REFRESH_S),
             "RPC_TIMEOUT_MS": "3000"}
        e.update(env)
        edge = self.start("edge", "edge-api", **e)
        edge.wait_event("started")
        return edge

    def login(self, http_):
        name = "f_" + uuid.uuid4().hex[:16]
        pw = "pw-" + uuid.uuid4().hex
        st, r, js = http_.req("POST", "/auth/register", {
            "username": name, "email": name + "@example.com",
            "password": pw})
        self.assertEqual(st, 201, js)
        # Creating calls carry an idempotency key, generated here.
        key = r.getheader("Idempotency-Key")
        self.assertRegex(key or "", r"^[0-9a-f]{32}$")
        st, _, js = http_.req("POST", "/auth/login",
                              {"username": name, "password": pw})
        self.assertEqual(st, 200, js)
        return js["token"]

    def count_gets(self, since=0.0, until=None):
        out = {}
        for ip, p in self.tasks.items():
            n = 0
            for x in p.lines("rpc_call"):
                if not x.get("method", "").endswith("/GetTask"):
                    continue
                t = log_epoch(x)
                if t >= since and (until is None or t < until):
                    n += 1
            out[ip] = n
        return out

    def edge_changes(self, count):
        return [x for x in self.edge.lines("discovery_changed")
                if x.get("backend") == "task" and x.get("count") == count]

    def test_scale_and_circuit(self):
        self.start_task(INSTANCES[0])
        self.dns = dnsstub.DnsStandIn(NAME).start([INSTANCES[0]])
        self.edge = self.start_edge()
        h = Http(self.edge_port)
        deadline = time.monotonic() + 10
        while h.req("GET", "/tasks/health")[0] != 200:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        token = self.login(h)
        auth = {"Authorization": "Bearer " + token}
        st, r, js = h.req("POST", "/tasks", {"title": "probe"}, auth)
        self.assertEqual(st, 201, js)
        tid = js["task"]["id"]
        # A client's own key is used (and echoed); a malformed one is 400.
        st, r, js = h.req("POST", "/tasks", {"title": "keyed"},
                          dict(auth, **{"Idempotency-Key": "k-1.a:b_c"}))
        self.assertEqual((st, r.getheader("Idempotency-Key")),
                         (201, "k-1.a:b_c"))
        st, _, js = h.req("POST", "/tasks", {"title": "bad"},
                          dict(auth, **{"Idempotency-Key": "bad key!"}))
        self.assertEqual(st, 400)
        self.assertEqual(js["error"], "Bad Request")

        load = Load(self.edge_port, "/tasks/%d" % tid, token)
        load.start()
        try:
            time.sleep(1.5)
            # ---- scale out 1 -> 3
            for ip in INSTANCES[1:]:
                self.start_task(ip)
            t_pub = time.time()
            self.dns.set_addrs(list(INSTANCES))
            ch = self.edge.wait_event(
                "discovery_changed", 10,
                lambda x: x.get("backend") == "task" and x["count"] == 3
                and log_epoch(x) >= t_pub - 0.01)
            follow_out = log_epoch(ch) - t_pub
            ups = {}
            for ip in INSTANCES:
                x = self.edge.wait_event(
                    "rpc_instance_up", 10,
                    lambda x, ip=ip: x.get("backend") == "task"
                    and x["address"].startswith(ip + ":"))
                ups[ip] = log_epoch(x)
            serving_out = max(ups.values()) - t_pub
            t_three = max(ups.values())
            time.sleep(4)
            t_three_end = time.time()
            dist3 = self.count_gets(t_three + 0.2, t_three_end)

            # ---- scale in 3 -> 1: unpublish, then stop the two
            t_pub = time.time()
            self.dns.set_addrs([INSTANCES[0]])
            ch = self.edge.wait_event(
                "discovery_changed", 10,
                lambda x: x.get("backend") == "task" and x["count"] == 1
                and log_epoch(x) >= t_pub - 0.01)
            t_one = log_epoch(ch)
            follow_in = t_one - t_pub
            time.sleep(0.5)
            for ip in INSTANCES[1:]:
                self.assertEqual(self.tasks[ip].stop(signal.SIGTERM), 0)
            time.sleep(2)
            dist1 = self.count_gets(t_one + 0.3, time.time())
        finally:
            load.halt()
        scale_results = list(load.results)

        # ---- no instance left: 503 at once, then recovery
        load = Load(self.edge_port, "/tasks/%d" % tid, token)
        load.start()
        try:
            time.sleep(0.5)
            t_kill = time.time()
            self.tasks[INSTANCES[0]].p.kill()
            self.edge.wait_event(
                "rpc_instance_down", 5,
                lambda x: x.get("backend") == "task" and x["connected"] == 0)
            time.sleep(1.0)
            probe = Http(self.edge_port)
            lat = []
            for _ in range(20):
                t0 = time.monotonic()
                st, r, js = probe.req("GET", "/tasks/%d" % tid,
                                      headers=auth)
                lat.append(time.monotonic() - t0)
                self.assertEqual(st, 503, js)
                self.assertEqual(r.getheader("Retry-After"), "1")
                self.assertEqual(js["error"], "Service Unavailable")
            st, r, js = probe.req("GET", "/tasks/health")
            self.assertEqual(st, 503)
            probe.close()
            h.close()
            t_restart = time.time()
            self.tasks[INSTANCES[0]].stop()
            self.start_task(INSTANCES[0], "-again")
            deadline = time.monotonic() + 15
            t_back = None
            while time.monotonic() < deadline and t_back is None:
                for (t, s, _l) in list(load.results):
                    if t > t_restart and s == 200:
                        t_back = t
                        break
                time.sleep(0.05)
        finally:
            load.halt()
        outage = [x for x in load.results if t_kill < x[0]]
        first_503 = next((t for (t, s, _l) in outage if s == 503), None)

        # ---- report
        ok = sum(1 for x in scale_results if x[1] == 200)
        bad = [x for x in scale_results if x[1] != 200]
        print("discovery: scaling 1->3->1: %d GETs, %d ok, %d failed %s"
              % (len(scale_results), ok, len(bad),
                 sorted({x[1] for x in bad})))
        print("discovery: DNS change -> edge dialers: scale out %.3f s, "
              "scale in %.3f s; all 3 connected %.3f s after publishing"
              % (follow_out, follow_in, serving_out))
        print("discovery: distribution over 3 instances: %s" % dist3)
        print("discovery: after scaling back to 1: %s" % dist1)
        print("discovery: no instance: first 503 %.3f s after SIGKILL; "
              "503 latency max %.1f ms, median %.1f ms (20 requests)"
              % ((first_503 - t_kill) if first_503 else -1,
                 max(lat) * 1000, sorted(lat)[10] * 1000))
        print("discovery: outage load: %d requests, statuses %s; first "
              "200 %.3f s after the instance restarted"
              % (len(outage), sorted({x[1] for x in outage}),
                 (t_back - t_restart) if t_back else -1))
        sys.stdout.flush()

        self.assertEqual(bad, [], "GETs failed while scaling")
        self.assertLess(follow_out, REFRESH_S + 0.5)
        self.assertLess(follow_in, REFRESH_S + 0.5)
        total3 = sum(dist3.values())
        self.assertGreater(total3, 30)
        for ip in INSTANCES:
            self.assertGreater(dist3[ip], total3 * 0.2, dist3)
        self.assertGreater(dist1[INSTANCES[0]], 10)
        for ip in INSTANCES[1:]:
            self.assertEqual(dist1[ip], 0, dist1)
        self.assertLess(max(lat), 0.2)
        self.assertIsNotNone(first_503)
        self.assertLess(first_503 - t_kill, 0.5)
        self.assertTrue(set(s for (_t, s, _l) in outage) <= {200, 503})
        self.assertIsNotNone(t_back, "no recovery")
        self.assertLess(t_back - t_restart, 5)

    def test_edge_drain_on_sigterm(self):
        self.start_task(INSTANCES[0])
        self.dns = dnsstub.DnsStandIn(NAME).start([INSTANCES[0]])
        self.edge = self.start_edge(DRAIN_DELAY_S="2")
        h = Http(self.edge_port)
        token = self.login(h)
        auth = {"Authorization": "Bearer " + token}
        st, _, js = h.req("POST", "/tasks", {"title": "drain"}, auth)
        self.assertEqual(st, 201)
        tid = js["task"]["id"]
        self.assertEqual(h.req("GET", "/health")[0], 200)
        h.close()
        t0 = time.monotonic()
        self.edge.p.send_signal(signal.SIGTERM)
        self.edge.wait_event("stopping", 5)
        st, r, js = Http(self.edge_port).req("GET", "/health")
        self.assertEqual(st, 503)
        self.assertEqual(js["status"], "draining")
        self.assertEqual(js["error"], "Service Unavailable")
        self.assertEqual(r.getheader("Retry-After"), "1")
        # Still served while the load balancer deregisters the edge.
        n = 0
        while time.monotonic() - t0 < 1.5:
            st, _, _ = Http(self.edge_port).req("GET", "/tasks/%d" % tid,
                                                headers=auth)
            self.assertEqual(st, 200)
            n += 1
        rc = self.edge.p.wait(10)
        took = time.monotonic() - t0
        print("discovery: edge drain: %d requests served during the "
              "2 s drain delay; exit %d after %.2f s" % (n, rc, took))
        self.assertEqual(rc, 0)
        self.assertGreaterEqual(took, 2.0)
        self.assertLess(took, 5.0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
