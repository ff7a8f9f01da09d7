#!/usr/bin/env python3
"""integration.migrate: taskapi-migrate against real PostgreSQL databases.

Creates throwaway databases in the cluster named by DB_* (unique names),
loads the old Node services' schema and rows, and checks that the tool
migrates them keeping every row, is a no-op the second time, serialises
concurrent runs, applies new files in their own transaction, refuses a
changed migration, and gives up on an unreachable database. Standard library
and the psql client only. The databases are dropped at the end, pass or
fail.
"""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

FAILURES = []


def need(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"FAIL: {name} is not set (run through ctest with DB_* set)")
    return value


BIN = os.path.join(need("TA_BIN_DIR"), "taskapi-migrate")
MIGRATIONS = os.path.join(need("TA_SOURCE_DIR"), "db", "migrations")
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "old_schema.sql")
DB = {k: need(k) for k in ("DB_HOST", "DB_PORT", "DB_USER", "DB_NAME")}
UNIQUE = f"{os.getpid()}_{int(time.time())}"


def check(cond, what, detail=""):
    if cond:
        print(f"ok - {what}")
    else:
        print(f"FAIL - {what}" + (f"\n    {detail}" if detail else ""))
        FAILURES.append(what)
    return cond


def psql_env():
    env = dict(os.environ)
    if os.environ.get("DB_PASSWORD"):
        env["PGPASSWORD"] = os.environ["DB_PASSWORD"]
    return env


def psql(db, sql=None, path=None):
    """Runs sql (or the file at path) in db; returns unaligned output."""
    cmd = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
           "-h", DB["DB_HOST"], "-p", DB["DB_PORT"], "-U", DB["DB_USER"],
           "-d", db]
    cmd += ["-f", path] if path else ["-c", sql]
    res = subprocess.run(cmd, env=psql_env(), capture_output=True, text=True,
                         timeout=60)
    if res.returncode != 0:
        raise RuntimeError(f"psql failed: {res.stderr.strip()}")
    return res.stdout.strip()


def migrate_env(db, **extra):
    env = dict(os.environ)
    env.update({"DB_NAME": db, "LOG_LEVEL": "info"})
    env.pop("MIGRATIONS_DIR", None)     # the compiled-in default
    env.update({k: str(v) for k, v in extra.items()})
    return env


def events(stdout):
    """The JSON log lines of a run; a line that is not JSON fails."""
    out = []
    for line in stdout.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            check(False, f"log line is JSON: {line!r}")
    return out


def migrate(db, *args, **extra):
    res = subprocess.run([BIN, *args], env=migrate_env(db, **extra),
                         capture_output=True, text=True, timeout=120)
    return res.returncode, events(res.stdout), res.stdout + res.stderr


def named(evs, event):
    return [e for e in evs if e.get("event") == event]


def expected_migrations(directory=MIGRATIONS):
    rows = []
    for fname in sorted(os.listdir(directory)):
        if not fname.endswith(".sql"):
            continue
        version, name = fname[:-4].split("_", 1)
        with open(os.path.join(directory, fname), "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        rows.append(f"{int(version)}|{name}|{digest}")
    return rows


def recorded(db):
    return psql(db, "SELECT version, name, checksum FROM schema_migrations"
                    " ORDER BY version").splitlines()


OLD_USERS = ("SELECT json_agg(u ORDER BY id) FROM (SELECT id, username,"
             " email, password_hash, created_at, updated_at FROM users) u")
OLD_TASKS = ("SELECT json_agg(t ORDER BY id) FROM (SELECT id, user_id, title,"
             " description, status, priority, due_date, created_at,"
             " updated_at FROM tasks) t")
SEQUENCES = ("SELECT (SELECT last_value FROM users_id_seq) || ','"
             " || (SELECT last_value FROM tasks_id_seq)")


def test_old_database(db):
    psql(db, path=FIXTURE)
    users, tasks, seqs = psql(db, OLD_USERS), psql(db, OLD_TASKS), \
        psql(db, SEQUENCES)
    check(len(json.loads(users)) == 3 and len(json.loads(tasks)) == 5,
          "fixture loaded: 3 users, 5 tasks")

    secret = "pw-that-must-not-appear-" + UNIQUE
    rc, evs, text = migrate(db, DB_PASSWORD=secret)
    check(rc == 0, "first run exits 0", f"exit {rc}: {text[-2000:]}")
    check(secret not in text, "DB_PASSWORD is never printed")
    applied = named(evs, "migration_applied")
    check([e["version"] for e in applied] ==
          [int(r.split("|")[0]) for r in expected_migrations()],
          "every migration applied once, in numeric order")
    check(all(e["service"] == "taskapi-migrate" and e["level"] == "info"
              for e in applied), "migration_applied lines are info lines")

    check(psql(db, OLD_USERS) == users, "users rows intact (all values)")
    check(psql(db, OLD_TASKS) == tasks, "tasks rows intact (all values)")
    check(psql(db, SEQUENCES) == seqs, "id sequences unchanged")
    check(psql(db, "SELECT string_agg(DISTINCT role, ',') || ':' || count(*)"
                   " FROM users") == "user:3", "every old user has role 'user'")
    check(psql(db, "SELECT count(*) FROM users WHERE password_hash"
                   " LIKE '$2b$10$%'") == "3", "bcrypt hashes kept as they were")
    check(psql(db, "SELECT count(*) FROM pg_indexes WHERE indexname IN"
                   " ('idx_tasks_user_id', 'idx_tasks_status',"
                   " 'idx_tasks_due_date', 'idx_tasks_user_created')") == "4",
          "old indexes kept and the list index added")
    check(recorded(db) == expected_migrations(),
          "schema_migrations holds version, name and sha256 of each file")

    before = psql(db, "SELECT json_agg(m ORDER BY version)"
                      " FROM schema_migrations m")
    rc, evs, text = migrate(db)
    check(rc == 0, "second run exits 0", f"exit {rc}: {text[-2000:]}")
    check(named(evs, "migrations_up_to_date") and
          not named(evs, "migration_applied"), "second run is a no-op")
    check(psql(db, "SELECT json_agg(m ORDER BY version)"
                   " FROM schema_migrations m") == before,
          "second run leaves schema_migrations as it was")
    check(psql(db, OLD_TASKS) == tasks, "second run leaves the rows alone")

    rc, evs, text = migrate(db, "--status")
    states = [e["state"] for e in named(evs, "migration_status")]
    check(rc == 0 and states == ["applied"] * len(expected_migrations()),
          f"--status lists every migration as applied ({states})")

    psql(db, "UPDATE schema_migrations SET checksum = repeat('0', 64)"
             " WHERE version = 2")
    rc, evs, text = migrate(db)
    errors = [e for e in evs if e.get("level") == "error"]
    check(rc == 1, "a changed migration makes the run fail", f"exit {rc}")
    check(len(errors) == 1 and
          errors[0]["event"] == "migration_checksum_mismatch" and
          "0002_user_role" in errors[0]["msg"] and
          "forward-only" in errors[0]["msg"],
          "one clear error line names the changed migration", str(errors))
    rc, evs, text = migrate(db, "--status")
    check(rc == 0 and [e["state"] for e in named(evs, "migration_status")
                       if e["version"] == 2] == ["changed"],
          "--status shows the changed migration")


def test_concurrent(db):
    env = migrate_env(db)
    procs = [subprocess.Popen([BIN], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
             for _ in range(4)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    check([p.returncode for p in procs] == [0] * 4,
          "4 concurrent runs all exit 0", "\n".join(outs))
    applied = sum(len(named(events(o), "migration_applied")) for o in outs)
    check(applied == len(expected_migrations()),
          f"each migration applied by exactly one run ({applied})")
    check(psql(db, "SELECT count(*) = count(DISTINCT version)"
                   " FROM schema_migrations") == "t" and
          recorded(db) == expected_migrations(),
          "each migration recorded once")


def test_new_files(db, scratch):
    broken = os.path.join(scratch, "broken")
    shutil.copytree(MIGRATIONS, broken)
    with open(os.path.join(broken, "0900_broken.sql"), "w") as f:
        f.write("CREATE TABLE probe_broken (id integer);\nSELECT 1 / 0;\n")
    rc, evs, text = migrate(db, MIGRATIONS_DIR=broken)
    failed = named(evs, "migration_failed")
    check(rc == 1 and failed and failed[0]["version"] == 900 and
          failed[0]["sqlstate"] == "22012",
          "a failing migration exits 1 naming it", f"exit {rc}: {text}")
    check(psql(db, "SELECT to_regclass('probe_broken') IS NULL") == "t" and
          psql(db, "SELECT count(*) FROM schema_migrations"
                   " WHERE version = 900") == "0",
          "a failing migration is rolled back whole and not recorded")

    extra = os.path.join(scratch, "extra")
    shutil.copytree(MIGRATIONS, extra)
    with open(os.path.join(extra, "0900_probe.sql"), "w") as f:
        f.write("CREATE TABLE probe_extra (id integer);\n")
    rc, evs, text = migrate(db, MIGRATIONS_DIR=extra)
    check(rc == 0 and [e["version"] for e in
                       named(evs, "migration_applied")] == [900] and
          psql(db, "SELECT to_regclass('probe_extra') IS NOT NULL") == "t",
          "MIGRATIONS_DIR: a new file is applied, the old ones are not")
    check(recorded(db) == expected_migrations(extra),
          "the new migration is recorded")

    with open(os.path.join(extra, "9_Bad-Name.sql"), "w") as f:
        f.write("SELECT 1;\n")
    rc, evs, text = migrate(db, MIGRATIONS_DIR=extra)
    check(rc == 1 and named(evs, "migration_bad_name"),
          "a misnamed .sql file stops the run")


def test_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    rc, evs, text = migrate(DB["DB_NAME"], DB_HOST="127.0.0.1", DB_PORT=port,
                            DB_CONNECT_RETRY_S=2)
    took = time.monotonic() - start
    check(rc == 1 and named(evs, "db_connect_failed") and
          named(evs, "db_connect_retry"),
          "an unreachable database is retried, then exit 1")
    check(1.5 <= took < 20, f"retry lasts about DB_CONNECT_RETRY_S ({took:.1f}s)")

    rc, evs, text = migrate(DB["DB_NAME"], DB_SSLMODE="sometimes")
    check(rc == 2 and named(evs, "config_invalid"),
          "a bad setting exits 2 with config_invalid")


def main():
    check(os.access(BIN, os.X_OK), f"{BIN} is built")
    dbs = [f"ta_migrate_{UNIQUE}_old", f"ta_migrate_{UNIQUE}_race"]
    scratch = tempfile.mkdtemp(prefix="ta-migrate-")
    try:
        for db in dbs:
            psql(DB["DB_NAME"], f"CREATE DATABASE {db}")
        test_old_database(dbs[0])
        test_concurrent(dbs[1])
        test_new_files(dbs[1], scratch)
        test_unreachable()
    except Exception as exc:    # report, then clean up
        check(False, f"unexpected {type(exc).__name__}: {exc}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        for db in dbs:
            try:
                psql(DB["DB_NAME"], f"DROP DATABASE IF EXISTS {db}"
                                    " WITH (FORCE)")
            except Exception as exc:
                check(False, f"dropping {db}: {exc}")
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
