"""hostile.smuggling: request smuggling and malformed heads (RFC 9112
§6.1, §6.3; RFC 9110 §5.5). Each primitive carries an embedded request
(a POST /tasks with its own X-Request-Id and title) that a lenient parser
would serve: the edge must answer 400 (501 for an unknown transfer coding)
in the JSON error shape, close the connection, and never serve the
embedded request (checked in the database and in the access log)."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile as h  # noqa: E402

ts = h.ts
SYS = None
USER = None


def setUpModule():
    global SYS, USER
    SYS = ts.System().start()
    USER = SYS.new_user()


def tearDownModule():
    if SYS:
        SYS.stop_checked()


def embedded(tag):
    """A complete POST /tasks whose title and request id are tag."""
    body = ('{"title": "%s"}' % tag).encode()
    return (b"POST /tasks HTTP/1.1\r\nHost: x\r\nContent-Type: "
            b"application/json\r\nAuthorization: Bearer "
            + USER["token"].encode() + b"\r\nX-Request-Id: " + tag.encode()
            + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def outer(lines, body=b""):
    """A request head from lines (str or bytes), CRLF-joined, plus body."""
    raw = [x.encode("latin-1") if isinstance(x, str) else x for x in lines]
    return b"\r\n".join(raw) + b"\r\n\r\n" + body


def cases():
    """(name, bytes, expected status, smuggled tag or None)."""
    tok = "Authorization: Bearer " + USER["token"]
    post = ["POST /tasks HTTP/1.1", "Host: x",
            "Content-Type: application/json", tok]
    out = []

    def add(name, status, build):
        tag = "smuggled-%s-%s" % (name, ts.unique("t")[-8:])
        out.append((name, build(embedded(tag)), status, tag))

    add("two_content_length", 400, lambda e: outer(
        post + ["Content-Length: 0", "Content-Length: %d" % len(e)], e))
    add("two_equal_content_length", 400, lambda e: outer(
        ["GET /health HTTP/1.1", "Host: x", "Content-Length: 0",
         "Content-Length: 0"], e))
    add("length_list", 400, lambda e: outer(
        post + ["Content-Length: 0, %d" % len(e)], e))
    add("length_and_chunked", 400, lambda e: outer(
        post + ["Content-Length: %d" % (len(e) + 5),
                "Transfer-Encoding: chunked"], b"0\r\n\r\n" + e))
    add("chunked_and_length", 400, lambda e: outer(
        post + ["Transfer-Encoding: chunked",
                "Content-Length: %d" % (len(e) + 5)], b"0\r\n\r\n" + e))
    add("two_transfer_encodings", 400, lambda e: outer(
        post + ["Transfer-Encoding: chunked",
                "Transfer-Encoding: identity"], b"0\r\n\r\n" + e))
    for coding in ("gzip", "identity", "chunked, identity", "chunked;q=1",
                   "xchunked"):
        add("coding_" + coding.replace(" ", "").replace(",", "_")
            .replace(";", "_").replace("=", ""), 501,
            lambda e, c=coding: outer(
                post + ["Transfer-Encoding: " + c], b"0\r\n\r\n" + e))
    add("obs_fold", 400, lambda e: outer(
        ["GET /health HTTP/1.1", "Host: x", "X-Folded: a", " b"], e))
    add("folded_content_length", 400, lambda e: outer(
        post + ["Content-Length:", " %d" % len(e)], e))
    add("space_before_colon", 400, lambda e: outer(
        post + ["Content-Length : %d" % len(e)], e))
    add("tab_before_colon", 400, lambda e: outer(
        post + ["Content-Length\t: %d" % len(e)], e))
    add("no_host", 400, lambda e: outer(["GET /health HTTP/1.1"], e))
    add("two_hosts", 400, lambda e: outer(
        ["GET /health HTTP/1.1", "Host: a", "Host: b"], e))
    add("nul_in_request_line", 400, lambda e: outer(
        [b"GET /health\0x HTTP/1.1", "Host: x"], e))
    add("nul_in_token", 400, lambda e: outer(
        ["GET /tasks HTTP/1.1", "Host: x",
         b"Authorization: Bearer " + USER["token"].encode() + b"\0tail"], e))
    add("cr_in_value", 400, lambda e: outer(
        ["GET /health HTTP/1.1", "Host: x", b"X-A: a\rb"], e))
    add("bare_lf", 400, lambda e: b"GET /health HTTP/1.1\nHost: x\n\n" + e)
    add("http_2_0", 505, lambda e: outer(
        ["GET /health HTTP/2.0", "Host: x"], e))
    add("space_in_target", 400, lambda e: outer(
        ["GET /health x HTTP/1.1", "Host: x"], e))
    add("bad_chunk_size", 400, lambda e: outer(
        post + ["Transfer-Encoding: chunked"], b"zz\r\n\r\n" + e))
    return out


class Smuggling(unittest.TestCase):
    def test_every_primitive_refused_and_closed(self):
        tags = []
        for name, data, status, tag in cases():
            with self.subTest(case=name):
                tags.append(tag)
                t0 = time.monotonic()
                resps, closed, raw = h.exchange(SYS.port, data, timeout=10)
                took = time.monotonic() - t0
                self.assertEqual(len(resps), 1, raw[:600])
                h.check_error(self, resps[0], status)
                self.assertEqual(resps[0].headers.get("connection"),
                                 "close", resps[0])
                self.assertTrue(closed, "connection left open: %r" % raw)
                self.assertLess(took, 5.0, "answered after %.1f s" % took)
        time.sleep(0.3)
        titles = {t["title"] for t in ts.task_rows(USER["id"])}
        for tag in tags:
            with self.subTest(embedded=tag):
                self.assertNotIn(tag, titles, "embedded request served")
                self.assertIsNone(h.served_request(SYS, tag),
                                  "embedded request in the access log")

    def test_refusal_in_access_log(self):
        rid = "refused-" + ts.unique("r")[-10:]
        resps, _, _ = h.exchange(SYS.port, outer(
            ["GET /health HTTP/1.1", "Host: x", "X-Request-Id: " + rid,
             "Content-Length: 1", "Content-Length: 2"]))
        self.assertEqual(resps[0].status, 400)
        self.assertEqual(resps[0].headers.get("x-request-id"), rid)
        rec = SYS.wait_log("edge-api", lambda r: r.get("event") ==
                           "http_request" and r.get("request_id") == rid)
        self.assertIsNotNone(rec)
        self.assertEqual(rec["status"], 400)

    def test_token_never_logged(self):
        h.exchange(SYS.port, outer(
            ["GET /tasks HTTP/1.1", "Host: x",
             b"Authorization: Bearer " + USER["token"].encode() + b"\0"]))
        self.assertNotIn(USER["token"], SYS.log_text("edge-api"))

    def test_valid_after_keepalive_then_smuggle(self):
        """A good request on the connection is answered; the bad one that
        follows on the same connection is refused and closes it."""
        s = h.connect(SYS.port)
        try:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.3)
            tag = "smuggled-ka-" + ts.unique("t")[-8:]
            e = embedded(tag)
            s.sendall(outer(["POST /tasks HTTP/1.1", "Host: x",
                             "Content-Length: 0",
                             "Content-Length: %d" % len(e)], e))
            raw, closed = h.read_all(s, 10)
        finally:
            s.close()
        resps = h.parse_responses(raw)
        self.assertEqual([r.status for r in resps], [200, 400], raw[:800])
        self.assertTrue(closed)
        time.sleep(0.3)
        self.assertIsNone(h.served_request(SYS, tag))


if __name__ == "__main__":
    ts.run_tests()
