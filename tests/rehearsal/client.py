"""A client of the API through the ALB stand-in: one request
(tests/fault/faultlib.py's request interface, so its Load generator runs
through the load balancer unchanged), users, a summary of failures, the
database read with psql over TLS."""
import http.client
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "fault"))
import faultlib  # noqa: E402

Load = faultlib.Load


class Api:
    def __init__(self, r):
        self.r = r
        self.host, self.port = r.alb.addr, r.alb.port
        self.trace = []     # (monotonic end, status, Retry-After or None)

    def request(self, method, path, body=None, headers=None, token=None,
                timeout=15, conn=None):
        """(status, headers, parsed JSON or None, raw). conn: a kept-alive
        http.client connection to reuse (else one per request)."""
        h = {} if conn else {"Connection": "close"}
        h.update(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if token:
            h["Authorization"] = "Bearer " + token
        c = conn or http.client.HTTPConnection(self.host, self.port,
                                               timeout=timeout)
        try:
            c.request(method, path, body=data, headers=h)
            resp = c.getresponse()
            raw = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
        finally:
            if not conn:
                c.close()
        self.trace.append((time.monotonic(), resp.status,
                           hdrs.get("retry-after")))
        try:
            parsed = json.loads(raw.decode()) if raw else None
        except ValueError:
            parsed = None
        return resp.status, hdrs, parsed, raw

    def new_user(self):
        return faultlib.new_user(self.request, "r")


def failures(load):
    return [x for x in load.results
            if x["error"] or x["status"] not in (200, 201)]


def describe(recs, limit=8):
    return "; ".join("%s %s %s" % (x["op"], x["status"], x["error"] or (
        x["body"] or {}).get("message", "")) for x in recs[:limit])


def psql(r, sql, sslmode="require"):
    """Rows of sql on the RDS stand-in, as the template's user over TLS."""
    e = dict(os.environ, PGPASSWORD=r.rds.password, PGSSLMODE=sslmode,
             PGCONNECT_TIMEOUT="5")
    out = subprocess.run(
        ["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-F", "\t",
         "-h", r.rds.host, "-p", str(r.rds.port), "-U", r.rds.username,
         "-d", r.rds.dbname, "-c", sql], env=e, capture_output=True,
        text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError("psql: " + out.stderr.strip())
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def check_writes(r, load, prefix):
    """(lost, duplicated): acknowledged creates missing from the database,
    and idempotency keys stored more than once."""
    rows = psql(r, "SELECT title, count(*) FROM tasks WHERE title LIKE "
                "'%s-%%' GROUP BY title" % prefix)
    stored = {t: int(c) for t, c in rows}
    acked = {x["key"] for x in load.results if x["op"] == "create"
             and x["status"] == 201}
    lost = sorted(k for k in acked if k not in stored)
    dup = sorted(k for k, c in stored.items() if c > 1)
    return lost, dup
