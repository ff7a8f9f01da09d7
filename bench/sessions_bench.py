"""Costs of the session routes (docs/sessions.md), on one fresh system:
sequential POST /auth/refresh, GET /auth/me and GET /tasks (median and p99
latency, and auth-svc CPU microseconds per request from /proc), and the
auth-svc CPU of one ListRevocations answer with USERS users listed (rows
made by SQL). Not a test: nothing is asserted.

Usage (as bench/bench.py): with DB_* naming a migrated database and
TA_BIN_DIR set, python3 bench/sessions_bench.py
"""

import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
os.environ.setdefault("TA_OPENAPI_VALIDATE", "0")

import rpc_auth  # noqa: E402
import taskapi_system as ts  # noqa: E402
from bench import cpu_us  # noqa: E402

N = int(os.environ.get("BENCH_N", "300"))
USERS = int(os.environ.get("BENCH_USERS", "10000"))


def timed(system, n, fn):
    pid = system.procs["auth-svc"].pid
    lat = []
    c0 = cpu_us(pid)
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        lat.append((time.perf_counter() - t0) * 1e3)
    lat.sort()
    return {"n": n, "p50_ms": round(statistics.median(lat), 2),
            "p99_ms": round(lat[int(n * 0.99) - 1], 2),
            "auth_cpu_us": round((cpu_us(pid) - c0) / n, 1)}


def list_revocations(system):
    env = (b"\x0a" + bytes([len(b"/taskapi.v1.AuthService/ListRevocations")])
           + b"/taskapi.v1.AuthService/ListRevocations"
           + b"\x12\x05bench"
           + b"\x1a\x06\x08" + ts_varint(int(time.time()) + 20))
    env = rpc_auth.sign(env, system.rpc_auth_key)
    tool = os.path.join(os.environ["TA_BIN_DIR"], "contract_wire_fixtures")
    p = subprocess.run([tool, "--call", system.auth_url], input=env,
                       capture_output=True, timeout=30, check=True)
    return len(p.stdout)


def main():
    system = ts.System(env_edge={"REVOCATION_REFRESH_S": "60"}).start()
    try:
        user = system.new_user()
        r = system.request("POST", "/auth/login",
                           {"username": user["username"],
                            "password": user["password"]})
        state = {"rt": r.json["refresh_token"], "tok": r.json["token"]}

        def refresh(_):
            r = system.request("POST", "/auth/refresh",
                               {"refresh_token": state["rt"]})
            assert r.status == 200, r
            state["rt"] = r.json["refresh_token"]

        def me(_):
            assert system.request("GET", "/auth/me",
                                  token=state["tok"]).status == 200

        def tasks(_):
            assert system.request("GET", "/tasks",
                                  token=state["tok"]).status == 200

        out = {"refresh": timed(system, N, refresh),
               "me": timed(system, N, me),
               "tasks": timed(system, N, tasks)}
        ts.psql("INSERT INTO users (username, email, password_hash, "
                "token_generation, generation_changed_at) SELECT "
                "'bench-rev-' || g, 'bench-rev-' || g || '@example.com', "
                "'x', 1, now() FROM generate_series(1, %d) g" % USERS)
        size = list_revocations(system)
        out["list_revocations"] = dict(
            timed(system, 20, lambda _: list_revocations(system)),
            users=USERS, reply_bytes=size)
        print(json.dumps(out, indent=1))
    finally:
        ts.psql("DELETE FROM users WHERE username LIKE 'bench-rev-%'")
        system.stop()
        system.cleanup()


if __name__ == "__main__":
    main()
