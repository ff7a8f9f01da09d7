"""The database's ceiling for each bench scenario, for bench/bench.py.

capture() records the exact statements one request of a scenario sends to
PostgreSQL: it turns on log_min_duration_statement = 0 on the bench
cluster (the cluster's own log, TA_BENCH_PG_LOG), sends the request, and
reads back every "execute <name>: <sql>" line with its bound parameters
(and any plain "statement:" such as BEGIN/COMMIT), in order.
pgbench() then runs those statements as one pgbench transaction, -M
prepared, against the same cluster and database, with as many clients as
wrk has connections: tps is then the most requests per second the
database could serve for that scenario, and req/s / tps the share of it
that the whole HTTP -> edge -> nng -> worker path reaches.

Parameters become pgbench variables (-D), so pgbench prepares and binds
them as task-svc does; a NULL parameter is written as NULL in the SQL.
"""

import os
import re
import subprocess
import time

import taskapi_system

LOG = os.environ.get("TA_BENCH_PG_LOG", "")
_EXEC = re.compile(r"(?:LOG|ERROR):\s+duration: [\d.]+ ms\s+"
                   r"(?:execute [^:]+|statement): (.*)$")
_PARAMS = re.compile(r"DETAIL:\s+parameters: (.*)$")
_ONE_PARAM = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")


def available():
    return bool(LOG) and os.path.exists(LOG) and bool(
        subprocess.run(["which", "pgbench"], capture_output=True).stdout)


def _logging(on):
    taskapi_system.psql(
        "ALTER SYSTEM SET log_min_duration_statement = 0" if on else
        "ALTER SYSTEM RESET log_min_duration_statement")
    taskapi_system.psql("SELECT pg_reload_conf()")
    time.sleep(0.3)   # the reload reaches every backend asynchronously


def _parse(text):
    """[(sql, {n: literal})] of the execute/statement lines in text."""
    out = []
    for line in text.splitlines():
        m = _EXEC.search(line)
        if m:
            out.append((m.group(1), {}))
            continue
        m = _PARAMS.search(line)
        if m and out:
            out[-1][1].update({int(n): v for n, v in
                               _ONE_PARAM.findall(m.group(1))})
    return out


def _read_from(start):
    time.sleep(0.3)
    with open(LOG, "rb") as f:
        f.seek(start)
        text = f.read().decode("utf-8", "replace")
    # Only the statements of the request: health probes run SELECT 1.
    return [(sql, p) for sql, p in _parse(text)
            if not re.match(r"(?i)^\s*select 1\s*;?\s*$", sql)]


def capture(do_request, rows=None):
    """The statements one call of do_request() makes PostgreSQL run, with
    the parameters that changed between two calls (idempotency keys the
    edge draws per request) marked as per-transaction values. rows maps a
    parameter's literal (a task id) to a pgbench expression naming one
    row per client, as the wrk script spreads its requests."""
    _logging(True)
    try:
        start = os.path.getsize(LOG)
        do_request()
        first = _read_from(start)
        start = os.path.getsize(LOG)
        do_request()
        second = _read_from(start)
    finally:
        _logging(False)
    out = []
    for i, (sql, params) in enumerate(second):
        old = first[i][1] if i < len(first) and first[i][0] == sql else {}
        marked = {}
        for n, lit in params.items():
            if rows and lit.strip("'") in rows:
                marked[n] = ("expr", rows[lit.strip("'")])
            elif n in old and old[n] != lit:
                marked[n] = ("fresh", lit)
            else:
                marked[n] = ("lit", lit)
        out.append((sql, marked))
    return out


def script(stmts):
    """A pgbench script and its -D variables for stmts."""
    lines, defs = ["\\set seq random(1, 1000000000000)"], []
    for i, (sql, params) in enumerate(stmts):
        def sub(m, i=i, params=params):
            n = int(m.group(1))
            kind, lit = params.get(n, ("lit", "NULL"))
            if kind == "expr":
                return lit
            if lit == "NULL":
                return "NULL"
            name = "s%dp%d" % (i, n)
            defs.append("%s=%s" % (name, lit[1:-1].replace("''", "'")))
            if kind == "fresh":   # unique per transaction, like the edge's
                return "(:%s::text || :client_id::text || :seq::text)" % name
            return ":" + name
        lines.append(re.sub(r"\$(\d+)", sub, sql).rstrip(";") + ";")
    return "\n".join(lines) + "\n", defs


def pgbench(stmts, path, seconds, clients):
    """tps of stmts as one transaction, pgbench -M prepared."""
    text, defs = script(stmts)
    with open(path, "w") as f:
        f.write(text)
    cmd = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", "1",
           "-T", str(seconds), "-f", path,
           "-h", os.environ["DB_HOST"], "-p", os.environ["DB_PORT"],
           "-U", os.environ["DB_USER"], os.environ["DB_NAME"]]
    for d in defs:
        cmd += ["-D", d]
    r = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(r"tps = ([\d.]+) \(without initial", r.stdout)
    if r.returncode != 0 or not m:
        raise RuntimeError("pgbench failed: %s\n%s\nscript:\n%s"
                           % (r.stdout[-800:], r.stderr[-800:], text))
    failed = re.search(r"number of failed transactions: (\d+)", r.stdout)
    return {"tps": float(m.group(1)),
            "failed": int(failed.group(1)) if failed else 0,
            "statements": len(stmts)}
