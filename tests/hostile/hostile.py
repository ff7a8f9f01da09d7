"""Shared helpers of the hostile-client tests (label hostile): raw sockets
against the three real processes that tests/e2e/taskapi_system.py starts,
from extra loopback addresses (127.0.0.2 and up), and a strict parser of
what comes back. Python standard library only.
"""

import json
import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import taskapi_system as ts  # noqa: E402,F401

log = ts.log


def connect(port, src=None, timeout=10.0):
    """A TCP connection to the edge, from loopback address src if given."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    # Thousands of client sockets leave TIME_WAIT entries on ephemeral
    # ports; with SO_REUSEADDR on them, a later listener (another test's
    # edge on 0.0.0.0:<free port>) may still bind that port.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if src:
        s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def abort(s):
    """Closes s with a reset: no TIME_WAIT left behind."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     b"\x01\x00\x00\x00\x00\x00\x00\x00")
    except OSError:
        pass
    s.close()


def read_all(s, timeout=10.0):
    """Everything s receives until the server closes: (bytes, closed).
    closed is False when timeout passed first."""
    out = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return out, False
        s.settimeout(left)
        try:
            b = s.recv(65536)
        except socket.timeout:
            return out, False
        except ConnectionResetError:
            return out, True
        if not b:
            return out, True
        out += b


def exchange(port, data, src=None, timeout=10.0, shut_wr=False):
    """Sends data on a new connection (half-closing after it if shut_wr)
    and reads until the server closes: (responses, closed, raw)."""
    s = connect(port, src, timeout)
    try:
        try:
            s.sendall(data)
            if shut_wr:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        raw, closed = read_all(s, timeout)
    finally:
        s.close()
    return parse_responses(raw), closed, raw


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers   # lower-case name -> value (last wins)
        self.body = body

    @property
    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None

    def __repr__(self):
        return "<%d %r %r>" % (self.status, self.headers, self.body[:300])


def parse_responses(raw, head_only=False):
    """Every complete HTTP/1.1 response in raw (Content-Length framed, as
    the edge sends them; 1xx interim answers skipped)."""
    out = []
    while raw:
        end = raw.find(b"\r\n\r\n")
        if end < 0:
            break
        lines = raw[:end].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise AssertionError("not an HTTP response: %r" % raw[:200])
        status = int(parts[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = 0 if (head_only or status < 200 or status == 204) else \
            int(headers.get("content-length", "0"))
        body = raw[end + 4:end + 4 + n]
        if len(body) < n:
            break
        raw = raw[end + 4 + n:]
        if status >= 200:
            out.append(Resp(status, headers, body))
    return out


def check_error(tc, r, status):
    """r is the project's JSON error with X-Request-Id and the security
    headers."""
    tc.assertEqual(r.status, status, r)
    tc.assertTrue(r.headers.get("content-type", "").startswith(
        "application/json"), r)
    b = r.json
    tc.assertIsInstance(b, dict, r)
    tc.assertTrue({"error", "message"} <= set(b) <= {"error", "message",
                                                     "details"}, r)
    tc.assertIn(b["error"], ts.reason_phrases(status), r)
    tc.assertTrue(r.headers.get("x-request-id"), r)
    tc.assertEqual(r.headers.get("x-content-type-options"), "nosniff", r)
    tc.assertEqual(r.headers.get("cache-control"), "no-store", r)


def check_per_address_429(tc, r, cap):
    """r is the front's 429 to a client address holding cap connections:
    the JSON error, Retry-After and the RateLimit fields of policy "conn"
    (a concurrency limit: a quota, no window), and Connection: close."""
    check_error(tc, r, 429)
    tc.assertEqual(r.headers.get("retry-after"), "1", r)
    tc.assertEqual(r.headers.get("ratelimit-policy"), '"conn";q=%d' % cap, r)
    tc.assertEqual(r.headers.get("ratelimit"), '"conn";r=0;t=1', r)
    tc.assertEqual(r.headers.get("connection"), "close", r)


def served_ids(system):
    """request_id of every http_request line of the edge's log."""
    return {rec.get("request_id") for rec in system.log_records("edge-api")
            if rec.get("event") == "http_request"}


def served_request(system, rid):
    """The http_request log line of request rid with a status other than
    0 (an answer was queued), or None."""
    for rec in system.log_records("edge-api"):
        if rec.get("event") == "http_request" and \
                rec.get("request_id") == rid and rec.get("status"):
            return rec
    return None


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def percentile(values, p):
    v = sorted(values)
    if not v:
        return 0.0
    k = min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))
    return v[k]
