"""Issue 9, before and after: the attacks on JSON input and on GET /tasks,
played against the three processes in TA_BIN_DIR with the database of DB_*
(a migrated one: scripts/pg.sh, or the cluster `make test` starts). Run it
once with the binaries of the commit before the issue-9 branch and once
with this tree's, and compare the lines:

    TA_BIN_DIR=build/bin python3 bench/issue9_figures.py

It is not a test (nothing is asserted) and not part of `make test`. The
40 unread connections of the old build cost about 2.3 GB of the edge's
memory while they are open; ISSUE9_CONNS=10 makes that smaller.
"""

import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
os.environ.setdefault("TA_OPENAPI_VALIDATE", "0")  # old builds differ
import taskapi_system as ts  # noqa: E402

CONNS = int(os.environ.get("ISSUE9_CONNS", "40"))


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def timed_get(s, token):
    t0 = time.monotonic()
    r = s.request("GET", "/tasks", token=token, timeout=120)
    return r, time.monotonic() - t0


def unread_rss(s, token):
    """CONNS connections send GET /tasks and never read: edge RSS."""
    pid = s.procs["edge-api"].pid
    before = rss_mb(pid)
    conns = []
    req = ("GET /tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
           "\r\n" % token).encode()
    for _ in range(CONNS):
        c = socket.create_connection(("127.0.0.1", s.port))
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.sendall(req)
        conns.append(c)
    # The edge renders one list per HTTP thread at a time: sample until
    # the RSS has not grown for 3 s (at most 60 s).
    peak, still, t_end = rss_mb(pid), 0.0, time.monotonic() + 60
    while still < 3 and time.monotonic() < t_end:
        time.sleep(0.5)
        now = rss_mb(pid)
        still = still + 0.5 if now <= peak else 0.0
        peak = max(peak, now)
    for c in conns:
        c.close()
    return before, peak


def line(what, value):
    print("ISSUE9 %-58s %s" % (what, value), flush=True)


def main():
    s = ts.System().start()
    try:
        u = s.new_user()
        tok = u["token"]

        # 1. Raw control bytes in a string, and the list they make.
        raw = (b'{"title":"ctl","description":"' + b"\x01" * 1040000
               + b'"}')
        r = s.request("POST", "/tasks", raw, token=tok)
        line("POST 1,040,000 raw 0x01 bytes -> status", r.status)
        if r.status == 201:
            for _ in range(7):
                s.request("POST", "/tasks", raw, token=tok)
            r, took = timed_get(s, tok)
            line("GET /tasks, 8 such tasks -> status, bytes, s",
                 "%d %d %.3f" % (r.status, len(r.raw), took))
            before, peak = unread_rss(s, tok)
            line("edge RSS MB, %d unread GET /tasks (idle -> open)" % CONNS,
                 "%.0f -> %.0f" % (before, peak))
            s.request("POST", "/tasks", raw, token=tok)
            r, took = timed_get(s, tok)
            line("GET /tasks, 9 such tasks -> status, Retry-After",
                 "%d %s" % (r.status, r.headers.get("Retry-After")))

        # 2. The largest list a user can store within the new limits.
        v = s.new_user()
        big = [{"title": "\"" * 200, "description": "\U0001F600" * 10000},
               {"title": "b" * 200, "description": "\x01" * 10000}]
        made = sum(s.request("POST", "/tasks", big[i % 2],
                             token=v["token"]).status == 201
                   for i in range(60))
        r, took = timed_get(s, v["token"])
        line("GET /tasks, 60 largest allowed tasks -> status, bytes, s",
             "%d %d %.3f (%d created, %s listed, truncated %s)"
             % (r.status, len(r.raw), took, made,
                r.json.get("count") if r.json else "-",
                r.json.get("truncated") if r.json else "-"))
        before, peak = unread_rss(s, v["token"])
        line("edge RSS MB, %d unread GET of that list (idle -> open)" % CONNS,
             "%.0f -> %.0f" % (before, peak))

        # 3. Numbers, duplicate keys, charset.
        for body in (b'{"title":"n","x":01}', b'{"title":"n","x":1.}',
                     b'{"title":"n","x":-.5}', b'{"title":"n","x":00}',
                     b'{"title":"x"} trailing'):
            r = s.request("POST", "/tasks", body, token=tok)
            line("POST %s -> status" % body.decode(), r.status)
        r = s.request("POST", "/tasks",
                      b'{"title":"d","status":"completed","status":"bogus"}',
                      token=tok)
        line("POST duplicate status (completed, bogus) -> status, stored",
             "%d %s" % (r.status, (r.json.get("task") or {}).get("status")
                        if r.json else "-"))
        r = s.request("POST", "/tasks", '{"title":"u16"}'.encode("utf-16"),
                      headers={"Content-Type":
                               "application/json; charset=utf-16"},
                      token=tok)
        line("POST charset=utf-16 (UTF-16 bytes) -> status", r.status)
        r = s.request("POST", "/tasks", b'{"title":"u8 as u16"}',
                      headers={"Content-Type":
                               "application/json; charset=utf-16"},
                      token=tok)
        line("POST charset=utf-16 (UTF-8 bytes) -> status", r.status)

        # 4. A row with a year beyond 9999 in the user's list.
        w = s.new_user()
        r = s.request("POST", "/tasks", {"title": "far"}, token=w["token"])
        ts.psql("UPDATE tasks SET due_date = '12000-01-01' WHERE id = %d"
                % r.json["task"]["id"])
        r = s.request("GET", "/tasks", token=w["token"])
        line("GET /tasks with a due_date in year 12000 -> status",
             "%d %s" % (r.status, r.json["tasks"][0]["due_date"]
                        if r.status == 200 else ""))

        # 5. A delete repeated with the same key (what a re-send is).
        r = s.request("POST", "/tasks", {"title": "del"}, token=w["token"])
        path = "/tasks/%d" % r.json["task"]["id"]
        key = {"Idempotency-Key": "issue9-%d" % r.json["task"]["id"]}
        a = s.request("DELETE", path, headers=key, token=w["token"])
        b = s.request("DELETE", path, headers=key, token=w["token"])
        line("DELETE twice with one Idempotency-Key -> statuses",
             "%d %d" % (a.status, b.status))
    finally:
        s.stop()


if __name__ == "__main__":
    main()
