"""hostile.limits: oversized and slow requests. 10 MB bodies (declared and
chunked) sent by a client that writes everything before reading: it reads
413 and nothing is created. Too long targets, too many query parameters
or header fields: 414 / 431 at once. Heads and bodies that trickle in
past HTTP_HEADER_TIMEOUT_S / HTTP_BODY_TIMEOUT_S: 408. Every answer in
the JSON error shape with X-Request-Id, and the connection closed."""

import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile as h  # noqa: E402

ts = h.ts
SYS = None
USER = None
TEN_MB = 10 * 1024 * 1024


def setUpModule():
    global SYS, USER
    SYS = ts.System(env_edge={"HTTP_HEADER_TIMEOUT_S": "2",
                              "HTTP_BODY_TIMEOUT_S": "3"}).start()
    USER = SYS.new_user()


def tearDownModule():
    if SYS:
        SYS.stop_checked()


def naive_upload(path, body_size, chunked, token=None):
    """Writes the whole head and body (ignoring a reset while writing),
    then reads: (responses, closed, seconds)."""
    s = h.connect(SYS.port, timeout=30)
    fill = b'{"title": "' + b"a" * (body_size - 13) + b'"}'
    head = ["POST %s HTTP/1.1" % path, "Host: x",
            "Content-Type: application/json"]
    if token:
        head.append("Authorization: Bearer " + token)
    head.append("Transfer-Encoding: chunked" if chunked
                else "Content-Length: %d" % len(fill))
    t0 = time.monotonic()
    got = {}

    def reader():
        got["raw"], got["closed"] = h.read_all(s, 30)

    th = threading.Thread(target=reader)
    th.start()
    try:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        step = 64 * 1024
        for i in range(0, len(fill), step):
            piece = fill[i:i + step]
            s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked
                      else piece)
        if chunked:
            s.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    th.join()
    s.close()
    return h.parse_responses(got["raw"]), got["closed"], \
        time.monotonic() - t0


class Oversized(unittest.TestCase):
    def test_10mb_declared_and_chunked(self):
        before = len(ts.task_rows(USER["id"]))
        for path in ("/tasks", "/auth/register"):
            for chunked in (False, True):
                with self.subTest(path=path, chunked=chunked):
                    resps, closed, took = naive_upload(
                        path, TEN_MB, chunked, USER["token"])
                    self.assertEqual(len(resps), 1, resps)
                    h.check_error(self, resps[0], 413)
                    self.assertEqual(resps[0].headers.get("connection"),
                                     "close")
                    self.assertTrue(closed)
                    self.assertLess(took, 20.0)
        self.assertEqual(len(ts.task_rows(USER["id"])), before)
        # the edge is fine afterwards
        self.assertEqual(SYS.request("GET", "/health").status, 200)


class HeadLimits(unittest.TestCase):
    def refused(self, data, status):
        t0 = time.monotonic()
        resps, closed, raw = h.exchange(SYS.port, data, timeout=10)
        self.assertEqual(len(resps), 1, raw[:300])
        h.check_error(self, resps[0], status)
        self.assertTrue(closed)
        self.assertLess(time.monotonic() - t0, 2.0)

    def test_many_query_parameters(self):
        q = "&".join("a%d=b" % i for i in range(500))
        self.refused(("GET /health?%s HTTP/1.1\r\nHost: x\r\n\r\n" % q)
                     .encode(), 414)
        q = "&".join("a%d=b" % i for i in range(100))
        r = SYS.request("GET", "/health?" + q)
        self.assertEqual(r.status, 200, r)

    def test_long_target(self):
        self.refused(("GET /health?%s HTTP/1.1\r\nHost: x\r\n\r\n"
                      % ("a" * 9000)).encode(), 414)
        # a request line that never ends
        self.refused(b"GET /" + b"a" * 20000, 414)

    def test_many_or_large_fields(self):
        fields = "".join("X-F%d: v\r\n" % i for i in range(101))
        self.refused(("GET /health HTTP/1.1\r\nHost: x\r\n%s\r\n"
                      % fields).encode(), 431)
        self.refused(("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n"
                      % ("b" * 20000)).encode(), 431)
        fields = "".join("X-F%d: v\r\n" % i for i in range(90))
        r = h.exchange(SYS.port, ("GET /health HTTP/1.1\r\nHost: x\r\n%s"
                                  "Connection: close\r\n\r\n"
                                  % fields).encode())[0]
        self.assertEqual(r[0].status, 200)

    def test_largest_accepted_head_is_served(self):
        """100 parameters and 100 fields in just under 16 KiB: within the
        front's limits, so libmicrohttpd's pool (64 KiB) must hold it."""
        q = "&".join("p%d=%s" % (i, "v" * 40) for i in range(100))
        fields = "".join("X-F%02d: %s\r\n" % (i, "w" * 112)
                         for i in range(97))
        data = ("GET /health?%s HTTP/1.1\r\nHost: x\r\n%sConnection: "
                "close\r\n\r\n" % (q, fields)).encode()
        self.assertGreater(len(data), 16000)
        resps, closed, raw = h.exchange(SYS.port, data)
        self.assertEqual([r.status for r in resps], [200], raw[:300])
        # libmicrohttpd's own words when its pool runs out
        self.assertNotIn("Not enough memory in pool", SYS.log_text("edge-api"))

    def test_http_version(self):
        self.refused(b"GET /health HTTP/2.0\r\nHost: x\r\n\r\n", 505)
        self.refused(b"GET /health HTTP/1.1x\r\nHost: x\r\n\r\n", 400)


class Deadlines(unittest.TestCase):
    def trickle(self, data, interval):
        """Sends data one byte per interval until the server answers."""
        s = h.connect(SYS.port, timeout=15)
        t0 = time.monotonic()
        try:
            for i in range(len(data)):
                try:
                    s.sendall(data[i:i + 1])
                except (BrokenPipeError, ConnectionResetError):
                    break
                r, _, _ = __import__("select").select([s], [], [], interval)
                if r:
                    break
            raw, closed = h.read_all(s, 10)
        finally:
            s.close()
        return h.parse_responses(raw), closed, time.monotonic() - t0

    def test_slow_head(self):
        data = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 200 + \
            b"\r\n\r\n"
        resps, closed, took = self.trickle(data, 0.1)
        self.assertEqual(len(resps), 1)
        h.check_error(self, resps[0], 408)
        self.assertTrue(closed)
        self.assertGreater(took, 1.5)
        self.assertLess(took, 4.0)   # HTTP_HEADER_TIMEOUT_S=2

    def test_slow_body(self):
        body = b'{"title": "' + b"s" * 200 + b'"}'
        s = h.connect(SYS.port, timeout=15)
        t0 = time.monotonic()
        try:
            s.sendall(b"POST /tasks HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      b"application/json\r\nAuthorization: Bearer "
                      + USER["token"].encode()
                      + b"\r\nContent-Length: %d\r\n\r\n" % len(body))
            for i in range(len(body)):
                try:
                    s.sendall(body[i:i + 1])
                except (BrokenPipeError, ConnectionResetError):
                    break
                time.sleep(0.1)
                s.setblocking(False)
                try:
                    if s.recv(1, socket.MSG_PEEK):
                        break
                except BlockingIOError:
                    pass
                finally:
                    s.setblocking(True)
            s.settimeout(10)
            raw, closed = h.read_all(s, 10)
        finally:
            s.close()
        took = time.monotonic() - t0
        resps = h.parse_responses(raw)
        self.assertEqual(len(resps), 1, raw)
        h.check_error(self, resps[0], 408)
        self.assertTrue(closed)
        self.assertLess(took, 6.0)   # HTTP_BODY_TIMEOUT_S=3

    def test_idle_keepalive_is_not_a_slow_head(self):
        """The head deadline runs from a head's first byte: a keep-alive
        connection may sit idle between requests longer than it."""
        s = h.connect(SYS.port, timeout=15)
        try:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(3.0)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
            raw, closed = h.read_all(s, 10)
        finally:
            s.close()
        self.assertEqual([r.status for r in h.parse_responses(raw)],
                         [200, 200])


if __name__ == "__main__":
    ts.run_tests()
