"""taskapi benchmark: wrk against the three real processes on loopback.

Starts edge-api, auth-svc and task-svc (the e2e harness) on free ports
against the database named by DB_*, creates one user and one task, then
runs wrk on each endpoint in turn, in the same run:

  baseline   GET /health            (the edge alone: HTTP only)
  read       GET /tasks/{id}        (edge -> nng -> task-svc -> PostgreSQL)
  list       GET /tasks             (the user's 20 tasks)
  write      POST /tasks            (an INSERT with a WAL fsync each)
  pages      GET /tasks?limit=100   page 1 and page 100 of a user with
                                    100,000 tasks (bench/pages_bench.py)

and prints requests/s, latency and each figure as a ratio to the baseline
measured in the same run, because the machine's absolute speed varies
with whatever else runs on it.

Then the cost of caller authentication (docs/caller-auth.md), in the same
run: bench/mac_bench.c (compiled here against build/'s libta_common) times
ta_rpc_auth_verify on envelopes of typical and large size, and GET
/tasks/{id} runs again on two fresh systems, RPC_AUTH=required and
RPC_AUTH=off, reporting task-svc CPU microseconds (utime+stime from
/proc) per request for each. Bounded: each wrk run lasts BENCH_SECONDS
(default 10) on 127.0.0.1 only. Not a test: nothing is asserted.

BENCH_ONLY=pages runs the baseline and the page rows only (the ratios
need the baseline); BENCH_EXPLAIN=1 also prints EXPLAIN ANALYZE of every
list statement on that user (docs/pagination.md).

Usage: scripts/bench.sh (starts its own PostgreSQL), or with DB_* and
TA_BIN_DIR set: python3 bench/bench.py
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
os.environ.setdefault("TA_OPENAPI_VALIDATE", "0")

import taskapi_system  # noqa: E402
import pages_bench  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))

POST_LUA = """
wrk.method = "POST"
wrk.body = '{"title":"bench","description":"a benchmark task","priority":"high"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
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
                    os.path.join(build, "common", "libta_common.a"),
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


def main():
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is not installed (apt-get install wrk)")
    # The access and metrics lines go to log files; keep info level so the
    # figures include the logging a production deployment does.
    system = taskapi_system.System()
    system.start()
    tmp = tempfile.mkdtemp(prefix="taskapi-bench-")
    try:
        user = system.new_user()
        task_id = None
        for i in range(20):
            r = system.request("POST", "/tasks", {"title": "t%d" % i},
                               token=user["token"])
            task_id = r.json["task"]["id"]
        base = "http://127.0.0.1:%d" % system.port
        script = os.path.join(tmp, "post.lua")
        with open(script, "w") as f:
            f.write(POST_LUA % user["token"])
        only = os.environ.get("BENCH_ONLY", "")
        runs = [("baseline GET /health", wrk(base + "/health"))]
        if only != "pages":
            runs += [("read GET /tasks/{id}",
                      wrk("%s/tasks/%d" % (base, task_id), user["token"])),
                     ("list GET /tasks (20)",
                      wrk(base + "/tasks", user["token"])),
                     ("write POST /tasks", wrk(base + "/tasks",
                                               script=script))]
        big = pages_bench.seed(system)
        runs += pages_bench.rows(system, big, wrk)
        if os.environ.get("BENCH_EXPLAIN") == "1":
            pages_bench.explain(big["id"])
    finally:
        system.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    baseline = runs[0][1]["rps"]
    print("taskapi bench: wrk -t1 -c%d -d%ds per endpoint, loopback, "
          "load average %.1f" % (CONNECTIONS, SECONDS, os.getloadavg()[0]))
    print("%-24s %10s %9s %9s %8s %9s" % ("endpoint", "req/s", "p50",
                                          "p99", "non-2xx", "vs base"))
    for name, r in runs:
        print("%-24s %10.0f %9s %9s %8d %8.3fx" % (
            name, r["rps"], r["p50"], r["p99"], r["non2xx"],
            r["rps"] / baseline))
    print(json.dumps({name: r for name, r in runs}))
    if os.environ.get("BENCH_CALLER_AUTH", "1") != "0" and \
            os.environ.get("BENCH_ONLY", "") != "pages":
        caller_auth_cost()


if __name__ == "__main__":
    main()
