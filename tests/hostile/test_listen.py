"""hostile.listen: HTTP_LISTEN_ADDRESS and the dual-stack listener. By
default (::) the edge answers over IPv4 and IPv6 on one AF_INET6 socket;
0.0.0.0 is IPv4 only, ::1 IPv6 loopback only; a value that is not a
literal address stops the edge at start (exit 2, naming the variable);
without IPv6 (a shim plays that kernel) the default falls back to
0.0.0.0 and says so once. IPv4 clients of the dual-stack socket arrive as
::ffff:a.b.c.d and must be seen as a.b.c.d everywhere: a TRUSTED_PROXIES
IPv4 peer is exempt from HTTP_PER_IP_LIMIT, another address is capped
(429 with RateLimit headers), and the logs and the login limiter name
127.0.0.x, never ::ffff:."""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile as h  # noqa: E402

ts = h.ts
HEALTH = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def listening(port, table):
    """Whether /proc/net/<table> (tcp or tcp6) has a listener on port."""
    with open("/proc/net/" + table) as f:
        next(f)
        for line in f:
            cols = line.split()
            if cols[1].endswith(":%04X" % port) and cols[3] == "0A":
                return True
    return False


def health(host, port, timeout=5.0):
    """The status of GET /health over host (an IPv4 or IPv6 literal);
    raises ConnectionRefusedError when nothing listens there."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(HEALTH)
        raw, _ = h.read_all(s, timeout)
    finally:
        s.close()
    return [r.status for r in h.parse_responses(raw)]


class Edge:
    """edge-api alone (GET /health needs no worker) with env_over."""

    def __init__(self, env_over):
        self.port = ts.free_ports(1)[0]
        dead = "tcp://127.0.0.1:%d" % ts.free_ports(1)[0]
        env = dict(os.environ, LOG_LEVEL="info", PORT=str(self.port),
                   JWT_SECRET=secrets.token_urlsafe(36),
                   RPC_AUTH_KEY=secrets.token_urlsafe(36),
                   AUTH_RPC_URL=dead, TASK_RPC_URL=dead)
        env.pop("HTTP_LISTEN_ADDRESS", None)
        env.update(env_over)
        self.log = tempfile.NamedTemporaryFile(prefix="taskapi-listen-",
                                               suffix=".log")
        self.final = None    # the log once stopped
        self.p = subprocess.Popen(
            [os.path.join(os.environ["TA_BIN_DIR"], "edge-api")], env=env,
            stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT)

    def text(self):
        if self.final is not None:
            return self.final
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def events(self, name):
        out = []
        for line in self.text().split("\n"):
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("event") == name:
                out.append(rec)
        return out

    def wait_started(self, tc):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                tc.fail("edge-api exited %s\n%s" % (self.p.returncode,
                                                    self.text()))
            if self.events("started"):
                return
            time.sleep(0.05)
        tc.fail("edge-api did not start\n" + self.text())

    def wait_exit(self, timeout=10):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        code = self.wait_exit()
        self.final = self.text()
        self.log.close()
        return code


class ListenAddress(unittest.TestCase):
    def serve(self, env, v4, v6, tables):
        """Starts the edge with env; GET /health over 127.0.0.1 answers
        200 iff v4, over ::1 iff v6 (else the connect is refused); the
        listener is in /proc/net/<table> for each of tables only."""
        e = Edge(env)
        try:
            e.wait_started(self)
            for host, ok in (("127.0.0.1", v4), ("::1", v6)):
                with self.subTest(host=host):
                    if ok:
                        self.assertEqual(health(host, e.port), [200])
                    else:
                        with self.assertRaises(ConnectionRefusedError):
                            health(host, e.port)
            for table in ("tcp", "tcp6"):
                self.assertEqual(listening(e.port, table), table in tables,
                                 table)
            self.assertNotIn("::ffff:", e.text())
        finally:
            self.assertEqual(e.stop(), 0, e.text())
        return e

    def test_default_is_dual_stack(self):
        # One AF_INET6 socket (nothing in /proc/net/tcp) answers both.
        e = self.serve({}, True, True, ("tcp6",))
        self.assertEqual(e.events("http_listen_ipv4_only"), [])

    def test_explicit_dual_stack(self):
        self.serve({"HTTP_LISTEN_ADDRESS": "::"}, True, True, ("tcp6",))

    def test_ipv4_only(self):
        self.serve({"HTTP_LISTEN_ADDRESS": "0.0.0.0"}, True, False,
                   ("tcp",))

    def test_ipv6_loopback_only(self):
        self.serve({"HTTP_LISTEN_ADDRESS": "::1"}, False, True, ("tcp6",))

    def test_ipv4_loopback_only(self):
        e = Edge({"HTTP_LISTEN_ADDRESS": "127.0.0.1"})
        try:
            e.wait_started(self)
            self.assertEqual(health("127.0.0.1", e.port), [200])
            for host in ("127.0.0.2", "::1"):
                with self.assertRaises(ConnectionRefusedError):
                    health(host, e.port)
        finally:
            self.assertEqual(e.stop(), 0, e.text())

    def test_bad_value_stops_the_edge(self):
        for bad in ("localhost", "1.2.3", "::g", "[::1]", "::1%lo",
                    "0.0.0.0:80", "*"):
            with self.subTest(value=bad):
                e = Edge({"HTTP_LISTEN_ADDRESS": bad})
                code = e.wait_exit()
                out = e.text()
                e.stop()
                self.assertEqual(code, 2, out)
                rec = [json.loads(line) for line in out.split("\n")
                       if '"config_invalid"' in line]
                self.assertEqual(len(rec), 1, out)
                self.assertIn("HTTP_LISTEN_ADDRESS", rec[0]["msg"])
                self.assertEqual(e.events("started"), [])

    def test_no_ipv6_falls_back_to_ipv4(self):
        shim = os.environ.get("TA_NO_IPV6_SHIM")
        self.assertTrue(shim and os.path.exists(shim),
                        "TA_NO_IPV6_SHIM (ctest sets it) names no file")
        asan = os.environ.get("ASAN_OPTIONS", "")
        asan = (asan + ":" if asan else "") + "verify_asan_link_order=0"
        for mode in ("socket", "bind"):
            with self.subTest(mode=mode):
                env = {"LD_PRELOAD": shim, "TA_SHIM_NO_IPV6": mode,
                       "ASAN_OPTIONS": asan}
                e = self.serve(env, True, False, ("tcp",))
                recs = e.events("http_listen_ipv4_only")
                self.assertEqual(len(recs), 1, e.text())
                self.assertEqual(recs[0]["level"], "info")
        # An explicit IPv6 address has no fallback: the edge stops.
        e = Edge({"LD_PRELOAD": shim, "TA_SHIM_NO_IPV6": "socket",
                  "ASAN_OPTIONS": asan, "HTTP_LISTEN_ADDRESS": "::1"})
        code = e.wait_exit()
        out = e.text()
        e.stop()
        self.assertNotIn(code, (0, None), out)
        self.assertEqual(len(e.events("http_listen_failed")), 1, out)


def held(port, src, n):
    """n connections from src, and the answers of those refused at once
    (the edge answers a refused connection without being asked)."""
    socks = [h.connect(port, src, 5) for _ in range(n)]
    time.sleep(0.5)
    kept, refused = [], []
    for s in socks:
        s.setblocking(False)
        try:
            data = s.recv(4096)
        except BlockingIOError:
            s.setblocking(True)
            kept.append(s)
            continue
        refused.append(h.parse_responses(data)[0])
        s.close()
    return kept, refused


class DualStackPeers(unittest.TestCase):
    def served_as(self, system, s, extra=b""):
        """GET /health on the open connection s (extra: more header
        lines): the client_addr of its access line."""
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + extra +
                  b"Connection: close\r\n\r\n")
        raw, _ = h.read_all(s, 10)
        r = h.parse_responses(raw)[0]
        self.assertEqual(r.status, 200, r)
        rid = r.headers["x-request-id"]
        rec = system.wait_log("edge-api", lambda x: x.get("event") ==
                              "http_request" and x.get("request_id") == rid)
        self.assertIsNotNone(rec, rid)
        return rec.get("client_addr")

    def test_ipv4_peers_are_seen_as_ipv4(self):
        env = {"HTTP_PER_IP_LIMIT": "5", "TRUSTED_PROXIES": "127.0.0.2/32",
               "LOGIN_RATE_LIMIT": "2"}
        with ts.System(env_edge=env) as system:
            # The default listener is the dual-stack one: every IPv4
            # client below arrives v4-mapped.
            self.assertTrue(listening(system.port, "tcp6"))
            self.assertFalse(listening(system.port, "tcp"))

            # The login limiter counts 127.0.0.4 as 127.0.0.4.
            login = json.dumps({"username": "nobody_" + ts.unique(),
                                "password": "not-the-password-1"}).encode()
            req = (b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
                   b"application/json\r\nContent-Length: %d\r\nConnection: "
                   b"close\r\n\r\n%s" % (len(login), login))
            statuses = [h.exchange(system.port, req, src="127.0.0.4")[0][0]
                        .status for _ in range(3)]
            self.assertEqual(statuses[2], 429, statuses)
            rec = system.wait_log("edge-api", lambda x: x.get("event") ==
                                  "rate_limited")
            self.assertIsNotNone(rec)
            self.assertEqual(rec["client_addr"], "127.0.0.4")

            proxy, refused = held(system.port, "127.0.0.2", 8)
            socks, capped = held(system.port, "127.0.0.3", 8)
            try:
                # The trusted proxy is exempt, 127.0.0.3 is capped at 5.
                self.assertEqual(refused, [])
                self.assertEqual(len(proxy), 8)
                self.assertEqual(len(socks), 5)
                self.assertEqual(len(capped), 3, capped)
                for r in capped:
                    h.check_per_address_429(self, r, 5)
                # A held connection is served; its access line names it.
                self.assertEqual(self.served_as(system, socks[0]),
                                 "127.0.0.3")
                # The trusted proxy's X-Forwarded-For is believed.
                self.assertEqual(self.served_as(
                    system, proxy[0], b"X-Forwarded-For: 198.51.100.7\r\n"),
                    "198.51.100.7")
            finally:
                for s in proxy + socks:
                    h.abort(s)
            self.assertNotIn("::ffff:", system.log_text("edge-api"))


if __name__ == "__main__":
    ts.run_tests()
