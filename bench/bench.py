"""taskapi benchmark: wrk against the three real processes on loopback,
pgbench against the same PostgreSQL cluster, in the same run.

Starts edge-api, auth-svc and task-svc (the e2e harness) on free ports
against the database named by DB_*, then, for each scenario of issue 13:

  health     GET /health            (the edge alone: HTTP only)
  get        GET /tasks/{id}        (edge -> nng -> task-svc -> PostgreSQL)
  list       GET /tasks             (the user's 20 tasks)
  create     POST /tasks            (an INSERT with a WAL flush each)
  update     PUT /tasks/{id}        (CONNECTIONS rows in turn)
  get+logins GET /tasks/{id} while POST /auth/login runs beside it at c=8

prints req/s, p50, p99, CPU microseconds per request of each process
(utime+stime deltas from /proc/<pid>/stat: that process only), log bytes
per request of each process (its stdout file), context switches per
request of each process (every thread's voluntary + involuntary switches
from /proc/<pid>/task/*/status: the hand-offs between threads), RSS
after the load, and
the database's ceiling: bench/ceiling.py records the exact statements a
request of the scenario sends (PostgreSQL's own statement log) and runs
them through pgbench -M prepared with as many clients as wrk has
connections. Ratios in one run are the figures to compare; the machine's
absolute speed varies with whatever else runs on it.

Then GET /tasks?limit=100 page 1 and page 100 of a user with 100,000
tasks (bench/pages_bench.py), and the cost of caller authentication
(docs/caller-auth.md): bench/mac_bench.c (compiled here against build/'s
ta_rpc and ta_core) times ta_rpc_auth_verify, and GET /tasks/{id} runs on
two fresh systems, RPC_AUTH=required and RPC_AUTH=off. Bounded: each wrk
and pgbench run lasts BENCH_SECONDS (default 10) on 127.0.0.1 only. Not a
test: nothing is asserted.

BENCH_ONLY=scenarios runs the scenario table only, BENCH_ONLY=pages the
page rows only; BENCH_BEFORE_BIN_DIR=<another build's bin/> runs the
scenario table on that build and on this one in turn, twice (before,
after, before, after), so a change is compared within one run; BENCH_EXPLAIN=1 also prints EXPLAIN ANALYZE of every list
statement on the 100,000-task user (docs/pagination.md).

Usage: scripts/bench.sh (starts its own PostgreSQL, fsync on), or with
DB_*, TA_BIN_DIR and TA_BENCH_PG_LOG (the cluster's log file) set:
python3 bench/bench.py
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
os.environ.setdefault("TA_OPENAPI_VALIDATE", "0")

import taskapi_system  # noqa: E402
import ceiling  # noqa: E402
import pages_bench  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
LOGIN_CONNECTIONS = int(os.environ.get("BENCH_LOGIN_CONNECTIONS", "8"))
POST_BODY = {"title": "bench", "description": "a benchmark task",
             "priority": "high"}
PUT_BODY = {"title": "bench update", "status": "in_progress"}

POST_LUA = """
wrk.method = "POST"
wrk.body = '{"title":"bench","description":"a benchmark task","priority":"high"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""

# One row per connection's worth of requests: CONNECTIONS tasks from
# first_id on, in turn (pgbench's ceiling updates the same rows).
PUT_LUA = """
local body = '{"title":"bench update","status":"in_progress"}'
local headers = {["Content-Type"] = "application/json",
                 ["Authorization"] = "Bearer %s"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("PUT", "/tasks/" .. (%d + i %% %d), headers, body)
end
"""

# Round-robin over LOGIN_CONNECTIONS users (each its own bcrypt/Argon2 work).
LOGIN_LUA = """
local bodies = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"},
                    bodies[(i %% #bodies) + 1])
end
"""


def wrk(url, token=None, script=None):
    cmd = ["wrk", "-t1", "-c%d" % CONNECTIONS, "-d%ds" % SECONDS,
           "--latency"]
    if token and not script:
        cmd += ["-H", "Authorization: Bearer " + token]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True,
                         check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    return {"requests": int(total.group(1)) if total else 0, "rps": rps, "p50": lat.get("50"), "p99": lat.get("99"),
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


def cpu_us(pid):
    """utime + stime of pid so far, in microseconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks * 1e6 / os.sysconf("SC_CLK_TCK")


def mac_micro(tmp):
    """ta_rpc_auth sign/verify timings from bench/mac_bench.c."""
    root = os.path.join(HERE, "..")
    build = os.path.join(root, "build")
    exe = os.path.join(tmp, "mac_bench")
    subprocess.run(["cc", "-O2", "-I", os.path.join(root, "common"),
                    "-I", os.path.join(build, "proto"),
                    os.path.join(HERE, "mac_bench.c"),
                    os.path.join(build, "common", "libta_rpc.a"),
                    os.path.join(build, "common", "libta_core.a"),
                    os.path.join(build, "proto", "libta_proto.a"),
                    "-lsodium", "-lprotobuf-c", "-lpthread", "-o", exe],
                   check=True)
    # ~150 bytes: a GetTask envelope (method, request id, deadline,
    # principal, payload); 1024: a CreateTask with a long description.
    out = subprocess.run([exe, "150", "1024"], capture_output=True,
                         text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def read_cpu(mode):
    """GET /tasks/{id} on a fresh system with RPC_AUTH=mode: wrk figures
    plus task-svc CPU microseconds per request."""
    system = taskapi_system.System(env={"RPC_AUTH": mode})
    system.start()
    try:
        user = system.new_user()
        r = system.request("POST", "/tasks", {"title": "auth cost"},
                           token=user["token"])
        url = "http://127.0.0.1:%d/tasks/%d" % (system.port,
                                                 r.json["task"]["id"])
        wrk(url, user["token"])          # warm up connections and caches
        pid = system.procs["task-svc"].pid
        before = cpu_us(pid)
        res = wrk(url, user["token"])
        res["task_svc_cpu_us_per_req"] = round(
            (cpu_us(pid) - before) / max(res["requests"], 1), 2)
        return res
    finally:
        system.stop()


def caller_auth_cost():
    tmp = tempfile.mkdtemp(prefix="taskapi-bench-mac-")
    try:
        micro = mac_micro(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ab = [(mode, read_cpu(mode)) for mode in ("required", "off", "required",
                                              "off")]
    print("caller authentication (RPC_AUTH_KEY): CPU per envelope "
          "(best of 7 rounds, thread CPU time)")
    for m in micro:
        print("  %5d bytes: sign %.2f us, verify %.2f us" % (
            m["envelope_bytes"], m["sign_us"], m["verify_us"]))
    print("%-24s %10s %9s %9s %8s %14s" % ("GET /tasks/{id}", "req/s",
                                           "p50", "p99", "non-2xx",
                                           "task-svc us/req"))
    for mode, r in ab:
        print("%-24s %10.0f %9s %9s %8d %14.2f" % (
            "RPC_AUTH=" + mode, r["rps"], r["p50"], r["p99"], r["non2xx"],
            r["task_svc_cpu_us_per_req"]))
    print(json.dumps({"mac_micro": micro,
                      "read_by_mode": [[m, r] for m, r in ab]}))


def ctx_switches(pid):
    """Context switches (voluntary + involuntary) of every thread of pid
    so far: each is a thread giving up or losing the CPU, so their count
    per request counts the hand-offs between threads."""
    n = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                n += sum(int(v) for v in re.findall(
                    r"^(?:non)?voluntary_ctxt_switches:\s+(\d+)",
                    f.read(), re.M))
        except FileNotFoundError:  # a thread that ended meanwhile
            pass
    return n


def procs_snapshot(system):
    """CPU microseconds, log bytes and context switches of each process
    so far."""
    return {n: (cpu_us(p.pid), os.path.getsize(system.logs[n]),
                ctx_switches(p.pid))
            for n, p in system.procs.items()}


def rss_kb(pid):
    """VmRSS, and its anonymous and file-backed parts (RssAnon: the
    process's own memory; RssFile: mapped library and binary pages, shared
    with every other process mapping them), in kB."""
    with open("/proc/%d/status" % pid) as f:
        t = f.read()
    return {k: int(re.search(r"%s:\s+(\d+)" % k, t).group(1))
            for k in ("VmRSS", "RssAnon", "RssFile")}


def wait_idle(system, quiet_us=2000, limit_s=15.0):
    """Waits until no process used more than quiet_us of CPU in 0.5 s:
    a worker may still be serving calls queued before wrk stopped (logins
    hash for ~40 ms each), and its memory then is not "after the load"."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = {n: cpu_us(p.pid) for n, p in system.procs.items()}
        time.sleep(0.5)
        if all(cpu_us(p.pid) - before[n] <= quiet_us
               for n, p in system.procs.items()):
            return


def measured(system, url, token=None, script=None):
    """wrk on url plus, per process, CPU us and log bytes per request
    (from /proc and the process's own log file, deltas over the run)."""
    before = procs_snapshot(system)
    r = wrk(url, token, script)
    after = procs_snapshot(system)
    n = max(r["requests"], 1)
    r["cpu_us"] = {k: round((after[k][0] - before[k][0]) / n, 1)
                   for k in after}
    r["log_b"] = {k: round((after[k][1] - before[k][1]) / n, 1)
                  for k in after}
    r["cs"] = {k: round((after[k][2] - before[k][2]) / n, 2)
               for k in after}
    return r


def login_lua(users):
    rows = ",".join('"{\\"username\\":\\"%s\\",\\"password\\":'
                    '\\"%s\\"}"' % (u["username"], u["password"])
                    for u in users)
    return LOGIN_LUA % rows


def with_logins(system, url, token, script):
    """wrk on url while logins run beside it at c=LOGIN_CONNECTIONS."""
    cmd = ["wrk", "-t1", "-c%d" % LOGIN_CONNECTIONS, "-d%ds" % SECONDS,
           "--latency", "-s", script,
           "http://127.0.0.1:%d/auth/login" % system.port]
    side = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        r = measured(system, url, token)
    finally:
        out = side.communicate()[0]
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    r["logins_rps"] = float(rps.group(1)) if rps else 0.0
    return r


SCENARIOS = ("get", "list", "create", "update")


def scenario_table(system, tmp):
    """The issue-13 table: every scenario through wrk, then its SQL
    through pgbench on the same cluster, in this run."""
    reader, writer = system.new_user(), system.new_user()
    task_id = None
    for i in range(20):
        r = system.request("POST", "/tasks", {"title": "t%d" % i},
                           token=reader["token"])
        task_id = r.json["task"]["id"]
    w = [system.request("POST", "/tasks", {"title": "to update"},
                        token=writer["token"]).json["task"]["id"]
         for _ in range(CONNECTIONS)]
    if w != list(range(w[0], w[0] + CONNECTIONS)):
        sys.exit("bench: the update rows are not consecutive ids")
    base = "http://127.0.0.1:%d" % system.port
    one = "%s/tasks/%d" % (base, task_id)
    scripts = {}
    for name, text in (("post", POST_LUA % writer["token"]),
                       ("put", PUT_LUA % (writer["token"], w[0],
                                          CONNECTIONS))):
        scripts[name] = os.path.join(tmp, name + ".lua")
        with open(scripts[name], "w") as f:
            f.write(text)
    calls = {
        "get": (one, reader["token"], None,
                lambda: system.request("GET", "/tasks/%d" % task_id,
                                       token=reader["token"])),
        "list": (base + "/tasks", reader["token"], None,
                 lambda: system.request("GET", "/tasks",
                                        token=reader["token"])),
        "create": (base + "/tasks", None, scripts["post"],
                   lambda: system.request("POST", "/tasks", POST_BODY,
                                          token=writer["token"])),
        "update": (base + "/tasks", None, scripts["put"],
                   lambda: system.request("PUT", "/tasks/%d" % w[0],
                                          PUT_BODY, token=writer["token"])),
    }
    sql = {}
    if ceiling.available():
        rows = {str(w[0]): "(%d + :client_id::int %% %d)" % (w[0],
                                                             CONNECTIONS)}
        sql = {k: ceiling.capture(calls[k][3],
                                  rows if k == "update" else None)
               for k in SCENARIOS}
    rows = {"health": measured(system, base + "/health")}
    for k in SCENARIOS:
        rows[k] = measured(system, *calls[k][:3])
    logins = [system.new_user() for _ in range(LOGIN_CONNECTIONS)]
    lua = os.path.join(tmp, "login.lua")
    with open(lua, "w") as f:
        f.write(login_lua(logins))
    rows["get+logins"] = with_logins(system, one, reader["token"], lua)
    wait_idle(system)
    rss = {n: rss_kb(p.pid) for n, p in system.procs.items()}
    for k in SCENARIOS:
        if k in sql:
            rows[k]["pgbench"] = ceiling.pgbench(
                sql[k], os.path.join(tmp, k + ".sql"), SECONDS, CONNECTIONS)
            rows[k]["sql"] = [s for s, _ in sql[k]]
    return rows, rss


def print_table(rows, rss):
    print("taskapi bench: wrk -t1 -c%d -d%ds per scenario, loopback; "
          "pgbench -M prepared -c%d -j1 -T%d with the same SQL on the same "
          "cluster (fsync on); load average %.1f"
          % (CONNECTIONS, SECONDS, CONNECTIONS, SECONDS,
             os.getloadavg()[0]))
    print("%-13s %8s %8s %8s %6s %8s %6s %6s %6s %6s %6s %6s %6s %6s %6s"
          % ("scenario", "req/s", "p50", "p99", "non2xx", "pgbench",
             "%ceil", "edgeus", "taskus", "authus", "sumus", "edgeB",
             "wrkB", "edgeCS", "taskCS"))
    for k, r in rows.items():
        pg = r.get("pgbench")
        c, b, cs = r["cpu_us"], r["log_b"], r["cs"]
        print("%-13s %8.0f %8s %8s %6d %8s %6s %6.1f %6.1f %6.1f %6.1f "
              "%6.0f %6.0f %6.2f %6.2f" % (
                  k, r["rps"], r["p50"], r["p99"], r["non2xx"],
                  "%.0f" % pg["tps"] if pg else "-",
                  "%.0f%%" % (100 * r["rps"] / pg["tps"]) if pg else "-",
                  c["edge-api"], c["task-svc"], c["auth-svc"],
                  c["edge-api"] + c["task-svc"] + c["auth-svc"],
                  b["edge-api"], b["task-svc"] + b["auth-svc"],
                  cs["edge-api"], cs["task-svc"]))
    if "get+logins" in rows:
        print("get-one p99 alone %s, beside logins at c=%d %s (%.0f "
              "logins/s)" % (rows["get"]["p99"], LOGIN_CONNECTIONS,
                             rows["get+logins"]["p99"],
                             rows["get+logins"]["logins_rps"]))
    print("RSS after the load (anonymous + file-backed): " + ", ".join(
        "%s %.1f MB (%.1f + %.1f)" % (n, kb["VmRSS"] / 1024.0,
                                      kb["RssAnon"] / 1024.0,
                                      kb["RssFile"] / 1024.0)
        for n, kb in rss.items()))
    print(json.dumps({"scenarios": rows, "rss_kb": rss}))


def scenarios_on(label, bindir):
    """The scenario table on a fresh system built from bindir."""
    os.environ["TA_BIN_DIR"] = bindir
    # Logins are measured for their CPU, not the per-address limit: lift it.
    system = taskapi_system.System(env={"LOGIN_RATE_LIMIT": "1000000"})
    system.start()
    tmp = tempfile.mkdtemp(prefix="taskapi-bench-")
    try:
        rows, rss = scenario_table(system, tmp)
    finally:
        system.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    if label:
        print("== %s (%s)" % (label, bindir))
    print_table(rows, rss)


def main():
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is not installed (apt-get install wrk)")
    # The access and metrics lines go to log files; info level, so the
    # figures include the logging a production deployment does.
    only = os.environ.get("BENCH_ONLY", "")
    after = os.environ["TA_BIN_DIR"]
    before = os.environ.get("BENCH_BEFORE_BIN_DIR", "")
    if only in ("", "scenarios"):
        # Before/after in one run: the two builds in turn, twice.
        for label, bindir in ([("before", before), ("after", after)] * 2
                              if before else [("", after)]):
            scenarios_on(label, bindir)
    os.environ["TA_BIN_DIR"] = after
    runs = []
    if only in ("", "pages"):
        system = taskapi_system.System()
        system.start()
        try:
            runs = [("baseline GET /health",
                     wrk("http://127.0.0.1:%d/health" % system.port))]
            big = pages_bench.seed(system)
            runs += pages_bench.rows(system, big, wrk)
            if os.environ.get("BENCH_EXPLAIN") == "1":
                pages_bench.explain(big["id"])
        finally:
            system.stop()
    if runs:
        baseline = runs[0][1]["rps"]
        print("%-26s %10s %9s %9s %8s %9s" % ("pages", "req/s", "p50",
                                              "p99", "non-2xx", "vs base"))
        for name, r in runs:
            print("%-26s %10.0f %9s %9s %8d %8.3fx" % (
                name, r["rps"], r["p50"], r["p99"], r["non2xx"],
                r["rps"] / baseline))
        print(json.dumps({name: r for name, r in runs}))
    if os.environ.get("BENCH_CALLER_AUTH", "1") != "0" and only == "":
        caller_auth_cost()


if __name__ == "__main__":
    main()
