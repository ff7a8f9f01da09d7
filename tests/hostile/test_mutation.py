"""hostile.mutation: 10,000 requests made by a simple mutator from valid
ones (bytes flipped, inserted, deleted; lines duplicated; smuggling-prone
header lines added; method, target and version replaced; truncation), each
on its own connection, half-closed after sending. No answer may be a 5xx
other than 503 (and the edge's own framing refusals 501 "only chunked"
and 505 "only HTTP/1.x", which are answers to the request, not faults);
every connection ends; every process stays up; each process's RSS after
the run is within 10 % of its RSS after a warm-up of the same requests."""

import os
import random
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile as h  # noqa: E402

ts = h.ts
TOTAL = int(os.environ.get("TA_MUTATION_TOTAL", "10000"))
WARMUP = TOTAL // 5
THREADS = 8
SEED = int(os.environ.get("TA_MUTATION_SEED", "9"))

SPECIAL = [b"\0", b"\r", b"\n", b"\r\n", b" ", b"\t", b":", b",", b";",
           b"%", b"%00", b"%2F", b"/", b"?", b"#", b"\x7f", b"\xff", b"a",
           b"0", b"9" * 21, b"-1", b"{", b"}", b'"', b"\\"]
LINES = [b"Content-Length: 5", b"Content-Length: 0", b"Content-Length: -1",
         b"Content-Length: 99999999999999999999", b"Content-Length: 1, 2",
         b"Transfer-Encoding: chunked", b"Transfer-Encoding: gzip",
         b"Transfer-Encoding: chunked, identity", b" folded", b"\tfolded",
         b"Host: other", b"Host:", b"X-A: \0b", b"Expect: 100-continue",
         b"Connection: close", b"Connection: keep-alive",
         b"Content-Type: text/plain", b"Content-Type: application/json",
         b"Authorization: Bearer x.y.z", b"Authorization: Basic eA==",
         b"X-Request-Id: mut", b"Origin: http://o", b"Idempotency-Key: k",
         b"Idempotency-Key: " + b"k" * 200, b"X-Long: " + b"l" * 9000,
         b"Range: bytes=0-1", b"Upgrade: h2c"]
METHODS = [b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"PATCH",
           b"TRACE", b"CONNECT", b"get", b"G\0T", b"", b"X" * 40]
TARGETS = [b"*", b"/", b"http://x/health", b"https://x/tasks", b"//tasks",
           b"/tasks/%2F1", b"/tasks/..", b"/tasks/1%00", b"/tasks/" + b"9" * 30,
           b"/health?" + b"&".join(b"a=b" for _ in range(150)),
           b"/" + b"p" * 9000, b"/tasks/-1", b"/tasks/1?x=%zz", b"x"]
VERSIONS = [b"HTTP/1.0", b"HTTP/1.1", b"HTTP/2.0", b"HTTP/0.9", b"HTTP/1.2",
            b"HTTP/1.1 ", b"http/1.1", b"HTTP/1", b""]


def templates(token, tid):
    auth = b"Authorization: Bearer " + token.encode()
    body = b'{"title": "mutant", "priority": "high"}'
    hdr = b"Host: x\r\nContent-Type: application/json\r\n" + auth + b"\r\n"
    return [
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /tasks HTTP/1.1\r\n" + hdr + b"\r\n",
        b"GET /tasks/%d HTTP/1.1\r\n" % tid + hdr + b"\r\n",
        b"HEAD /tasks/%d HTTP/1.1\r\n" % tid + hdr + b"\r\n",
        b"POST /tasks HTTP/1.1\r\n" + hdr + b"Content-Length: %d\r\n\r\n"
        % len(body) + body,
        b"POST /tasks HTTP/1.1\r\n" + hdr + b"Transfer-Encoding: chunked\r\n"
        b"\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body),
        b"PUT /tasks/%d HTTP/1.1\r\n" % tid + hdr + b"Content-Length: %d\r\n"
        b"\r\n" % len(body) + body,
        b"DELETE /tasks/999999999 HTTP/1.1\r\n" + hdr + b"\r\n",
        b"POST /auth/validate HTTP/1.1\r\n" + hdr + b"\r\n",
        b"OPTIONS /tasks HTTP/1.1\r\nHost: x\r\nOrigin: http://o\r\n"
        b"Access-Control-Request-Method: POST\r\n\r\n",
        b"GET /tasks/health HTTP/1.1\r\nHost: x\r\n\r\n",
    ]


def mutate(rng, req):
    b = bytearray(req)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(8)
        pos = rng.randrange(len(b) + 1) if b else 0
        if op == 0 and b:                        # overwrite a byte
            b[min(pos, len(b) - 1)] = rng.choice(
                [rng.randrange(256), ord(rng.choice(SPECIAL)[:1] or b"a")])
        elif op == 1:                            # insert something odd
            b[pos:pos] = rng.choice(SPECIAL)
        elif op == 2 and b:                      # delete a span
            b[pos:pos + rng.randint(1, 8)] = b""
        elif op == 3:                            # duplicate a line
            lines = bytes(b).split(b"\r\n")
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
            b = bytearray(b"\r\n".join(lines))
        elif op == 4:                            # add a header line
            i = bytes(b).find(b"\r\n")
            if i >= 0:
                b[i + 2:i + 2] = rng.choice(LINES) + b"\r\n"
        elif op == 5:                            # truncate
            b = b[:pos]
        elif op == 6:                            # replace the request line
            first, sep, rest = bytes(b).partition(b"\r\n")
            parts = first.split(b" ")
            k = rng.randrange(3)
            pool = (METHODS, TARGETS, VERSIONS)[k]
            if k < len(parts):
                parts[k] = rng.choice(pool)
            b = bytearray(b" ".join(parts) + sep + rest)
        else:                                    # bare LF line ends
            b = bytearray(bytes(b).replace(b"\r\n", b"\n", rng.randint(1, 3)))
    return bytes(b)


def is_sanitized(pid):
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


# 5xx answers that are answers, not faults: the edge's own framing refusals.
ALLOWED_5XX = {503: None,
               501: "Only the chunked transfer coding is supported",
               505: "Only HTTP/1.0 and HTTP/1.1 are supported"}


class Mutation(unittest.TestCase):
    def test_10000_mutants(self):
        system = ts.System().start()
        try:
            self.run_mutants(system)
        finally:
            # exit 0 on SIGTERM: under ASan that includes LeakSanitizer
            system.stop_checked()

    def run_mutants(self, system):
        user = system.new_user()
        tid = system.request("POST", "/tasks", {"title": "target"},
                             token=user["token"]).json["task"]["id"]
        tpls = templates(user["token"], tid)
        rng = random.Random(SEED)
        mutants = [mutate(rng, rng.choice(tpls)) for _ in range(TOTAL)]
        statuses, bad, hung = {}, [], []
        lock = threading.Lock()

        def run(batch):
            for m in batch:
                try:
                    resps, closed, raw = h.exchange(
                        system.port, m, src="127.0.0.3", timeout=5,
                        shut_wr=True)
                except OSError as e:
                    with lock:
                        bad.append((m, repr(e)))
                    continue
                try:
                    resps = h.parse_responses(raw, head_only=m.startswith(
                        b"HEAD"))
                except (AssertionError, ValueError) as e:
                    resps = []
                    with lock:
                        bad.append((m, "unparsable: %r" % raw[:200]))
                with lock:
                    if not closed:
                        hung.append(m)
                    for r in resps:
                        statuses[r.status] = statuses.get(r.status, 0) + 1
                        want = ALLOWED_5XX.get(r.status, "")
                        msg = (r.json or {}).get("message")
                        if r.status >= 500 and (
                                r.status not in ALLOWED_5XX or
                                # HEAD answers carry no body to check
                                (want and r.body and msg != want)):
                            bad.append((m, r))

        def phase(items):
            per = (len(items) + THREADS - 1) // THREADS
            ths = [threading.Thread(target=run,
                                    args=(items[i * per:(i + 1) * per],))
                   for i in range(THREADS)]
            for t in ths:
                t.start()
            for t in ths:
                t.join()

        t0 = time.monotonic()
        phase(mutants[:WARMUP])
        rss0 = {n: h.rss_kib(p.pid) for n, p in system.procs.items()}
        phase(mutants[WARMUP:])
        took = time.monotonic() - t0
        time.sleep(0.5)
        rss1 = {n: h.rss_kib(p.pid) for n, p in system.procs.items()}
        h.log("mutation: %d requests in %.1f s (seed %d); statuses %r; "
              "bad %d; hung %d; RSS KiB after %d: %r, after %d: %r"
              % (TOTAL, took, SEED, dict(sorted(statuses.items())),
                 len(bad), len(hung), WARMUP, rss0, TOTAL, rss1))
        for name, p in system.procs.items():
            self.assertIsNone(p.poll(), "%s died\n%s"
                              % (name, system.log_tails()))
        self.assertEqual(bad[:5], [])
        self.assertEqual(hung[:5], [])
        for name, p in system.procs.items():
            if is_sanitized(p.pid):
                # The sanitizer's allocator and shadow grow on their
                # own; LeakSanitizer at exit is the leak check there.
                continue
            self.assertLessEqual(rss1[name], rss0[name] * 1.10,
                                 "%s RSS %d -> %d KiB"
                                 % (name, rss0[name], rss1[name]))
        # still serving (a mutant may well have deleted the task)
        for path in ("/health", "/auth/health", "/tasks/health"):
            self.assertEqual(system.request("GET", path).status, 200)
        r = system.request("GET", "/tasks", token=user["token"])
        self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    ts.run_tests()
