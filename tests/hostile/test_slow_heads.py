"""hostile.slow_heads: slowloris. 2,000 connections from eight attacker
addresses (127.0.0.10-17) trickle request heads at one byte per second and
reconnect when dropped, while 20 real clients from 127.0.0.2 loop on
GET /tasks/{id}: no real request fails and their p99 stays under 1 s;
the trickling heads are answered 408 once HTTP_HEADER_TIMEOUT_S (10 s)
has passed. Then the per-address cap: beyond HTTP_PER_IP_LIMIT a client
address gets 429 at once, other addresses and trusted proxies
(TRUSTED_PROXIES) are unaffected."""

import http.client
import os
import selectors
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile as h  # noqa: E402

ts = h.ts
ATTACKERS = ["127.0.0.%d" % i for i in range(10, 18)]
N_SLOW = 2000
N_REAL = 20
SECONDS = 25.0
HEAD = b"GET /health HTTP/1.1\r\nHost: x\r\n"   # never ends


class Trickler:
    """N_SLOW sockets sending HEAD one byte per second each."""

    def __init__(self, port):
        self.port = port
        self.sel = selectors.DefaultSelector()
        self.socks = {}          # socket -> bytes sent
        self.answers = {}        # status -> count
        self.connect_failures = 0
        self.stop = threading.Event()
        self.th = threading.Thread(target=self.run)

    def open_one(self, i):
        try:
            s = h.connect(self.port, ATTACKERS[i % len(ATTACKERS)], 5)
        except OSError:
            self.connect_failures += 1
            return
        s.setblocking(False)
        self.socks[s] = 0
        self.sel.register(s, selectors.EVENT_READ)

    def drop(self, s):
        self.sel.unregister(s)
        del self.socks[s]
        h.abort(s)

    def run(self):
        for i in range(N_SLOW):
            self.open_one(i)
        n = 0
        while not self.stop.is_set():
            t0 = time.monotonic()
            for s in list(self.socks):
                k = self.socks[s] % len(HEAD)
                try:
                    s.send(HEAD[k:k + 1])
                    self.socks[s] += 1
                except OSError:
                    self.drop(s)
            while time.monotonic() - t0 < 1.0 and not self.stop.is_set():
                for key, _ in self.sel.select(0.1):
                    s = key.fileobj
                    try:
                        data = s.recv(4096)
                    except OSError:
                        data = b""
                    if data.startswith(b"HTTP/1.1 "):
                        st = int(data[9:12])
                        self.answers[st] = self.answers.get(st, 0) + 1
                    self.drop(s)
            while len(self.socks) < N_SLOW and not self.stop.is_set():
                self.open_one(n)   # keep the pressure on
                n += 1
        for s in list(self.socks):
            self.drop(s)


def real_client(port, path, token, until, lat, fails):
    conn = None
    while time.monotonic() < until:
        t0 = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(
                    "127.0.0.1", port, timeout=5,
                    source_address=("127.0.0.2", 0))
            conn.request("GET", path, headers={"Authorization":
                                               "Bearer " + token})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                fails.append(r.status)
        except (OSError, http.client.HTTPException) as e:
            fails.append(repr(e))
            if conn:
                conn.close()
            conn = None
        lat.append(time.monotonic() - t0)
    if conn:
        conn.close()


class SlowHeads(unittest.TestCase):
    def test_slowloris_does_not_lock_out(self):
        with ts.System() as system:
            user = system.new_user()
            r = system.request("POST", "/tasks", {"title": "mine"},
                               token=user["token"])
            path = "/tasks/%d" % r.json["task"]["id"]
            tr = Trickler(system.port)
            tr.th.start()
            time.sleep(3.0)      # the attackers are connected
            held = len(tr.socks)
            lat, fails = [], []
            until = time.monotonic() + SECONDS
            clients = [threading.Thread(target=real_client, args=(
                system.port, path, user["token"], until, lat, fails))
                for _ in range(N_REAL)]
            for c in clients:
                c.start()
            for c in clients:
                c.join()
            tr.stop.set()
            tr.th.join()
            p99 = h.percentile(lat, 99)
            h.log("slow heads held: %d (connect failures %d); answers to "
                  "them: %r; real requests: %d, failed: %d, p50 %.1f ms, "
                  "p99 %.1f ms" % (held, tr.connect_failures, tr.answers,
                                   len(lat), len(fails),
                                   h.percentile(lat, 50) * 1000, p99 * 1000))
            self.assertGreaterEqual(held, N_SLOW * 0.95)
            self.assertEqual(fails, [])
            self.assertGreater(len(lat), 200)
            self.assertLess(p99, 1.0)
            self.assertGreater(tr.answers.get(408, 0), N_SLOW * 0.9,
                               tr.answers)
            for name, p in system.procs.items():
                self.assertIsNone(p.poll(), name)


class PerAddress(unittest.TestCase):
    def test_cap_and_trusted_proxy(self):
        env = {"HTTP_PER_IP_LIMIT": "50", "TRUSTED_PROXIES": "127.0.0.40/32"}
        with ts.System(env_edge=env) as system:
            def open_many(src, n):
                socks = [h.connect(system.port, src, 5) for _ in range(n)]
                time.sleep(0.5)
                refused = []
                for s in socks:
                    s.setblocking(False)
                    try:
                        data = s.recv(4096)
                    except BlockingIOError:
                        continue
                    refused.append(h.parse_responses(data)[0])
                return socks, refused

            socks, refused = open_many("127.0.0.30", 60)
            try:
                self.assertEqual(len(refused), 10, refused)
                for r in refused:
                    h.check_per_address_429(self, r, 50)
                rec = system.wait_log("edge-api", lambda x: x.get("event")
                                      == "http_connections_refused")
                self.assertIsNotNone(rec)
                self.assertEqual(rec["last_status"], 429)
                # another address is served meanwhile
                resps, _, _ = h.exchange(system.port, b"GET /health HTTP/1.1"
                                         b"\r\nHost: x\r\nConnection: close"
                                         b"\r\n\r\n", src="127.0.0.31")
                self.assertEqual(resps[0].status, 200)
                proxy, refused = open_many("127.0.0.40", 60)
                self.assertEqual(refused, [])
                for s in proxy:
                    s.close()
            finally:
                for s in socks:
                    s.close()
            time.sleep(0.5)
            # the count goes down as connections close
            resps, _, _ = h.exchange(system.port, b"GET /health HTTP/1.1\r\n"
                                     b"Host: x\r\nConnection: close\r\n\r\n",
                                     src="127.0.0.30")
            self.assertEqual(resps[0].status, 200)


if __name__ == "__main__":
    ts.run_tests()
