"""GET /tasks pages on a 100,000-task user, for bench/bench.py.

seed() writes the user's rows by SQL (one INSERT ... SELECT, seconds);
rows() gives the bench rows "GET /tasks?limit=100 page 1" and "page 100"
(the page-100 cursor is fetched by walking 99 pages before timing);
explain() prints EXPLAIN ANALYZE of every list statement exactly as
task-svc prepares it (bench/list_sql_dump.c prints them from
task-svc/list_sql.h), first page and page 100, with the generic plan that
a prepared statement settles on (docs/pagination.md).
"""

import os
import subprocess
import tempfile
import urllib.parse

import taskapi_system

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
TASKS = int(os.environ.get("BENCH_PAGE_TASKS", "100000"))
PAGE = 100
BUDGET = 1048576 - 2048  # PAGE_MAX_BYTES default minus TASK_PAGE_OVERHEAD


def seed(system):
    """A user with TASKS tasks of every status, priority and due date."""
    user = system.new_user()
    taskapi_system.psql(
        "INSERT INTO tasks (user_id, title, description, status, priority, "
        "due_date, created_at, updated_at) SELECT %d, 'task ' || "
        "md5(i::text), CASE WHEN i %% 3 = 0 THEN NULL ELSE 'description "
        "of task ' || i END, (ARRAY['pending','in_progress','completed'])"
        "[1 + i %% 3], (ARRAY['low','medium','high'])[1 + (i / 3) %% 3], "
        "CASE WHEN i %% 4 = 0 THEN NULL ELSE timestamp '2026-01-01' + "
        "(i %% 5000) * interval '1 hour' END, timestamp '2025-01-01' + i "
        "* interval '1 second', timestamp '2025-06-01' + ((i * 7919) %% "
        "%d) * interval '1 second' FROM generate_series(1, %d) i"
        % (user["id"], TASKS, TASKS))
    taskapi_system.psql("ANALYZE tasks")
    return user


def cursor_of_page(system, token, page, params=None):
    """The cursor that GET /tasks?limit=100 (with params) starts page
    `page` from: walks the pages before it."""
    p = dict(params or {}, limit=PAGE)
    cursor = None
    for _ in range(page - 1):
        q = dict(p, cursor=cursor) if cursor else p
        r = system.request("GET", "/tasks?" + urllib.parse.urlencode(q),
                           token=token)
        if r.status != 200 or not r.json["next_cursor"]:
            raise RuntimeError("walk to page %d failed: %r" % (page, r))
        cursor = r.json["next_cursor"]
    return cursor


def rows(system, user, wrk):
    base = "http://127.0.0.1:%d/tasks?limit=%d" % (system.port, PAGE)
    cursor = cursor_of_page(system, user["token"], 100)
    return [("GET /tasks?limit=100 p1", wrk(base, user["token"])),
            ("GET /tasks?limit=100 p100",
             wrk(base + "&cursor=" + cursor, user["token"]))]


def statements():
    """(name, sql) of every list statement, from list_sql_dump.c."""
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "list_sql_dump")
        subprocess.run(["cc", "-std=c11", "-I", os.path.join(ROOT, "common"),
                        "-I", os.path.join(ROOT, "task-svc"),
                        "-I", os.path.join(ROOT, "build", "proto", "gen"),
                        "-I", "/usr/include/postgresql",
                        os.path.join(HERE, "list_sql_dump.c"), "-o", exe],
                       check=True)
        out = subprocess.run([exe], capture_output=True, text=True,
                             check=True).stdout
    return [tuple(line.split("\t", 1)) for line in out.splitlines()]


def explain(user_id):
    """EXPLAIN ANALYZE of each statement: first page, then page 100."""
    psql = taskapi_system.psql
    psql("SET plan_cache_mode = force_generic_plan")
    for name, sql in statements():
        # The inner select reads "..., updated_at, <key> AS k FROM tasks".
        key = sql.split(" AS k FROM tasks", 1)[0].rsplit(
            "updated_at, ", 1)[1]
        desc = "DESC" in sql.split(" AS k FROM tasks", 1)[1].split(
            "LIMIT", 1)[0]
        args = [str(user_id), "NULL", "NULL", "NULL", "NULL", "NULL",
                str(PAGE + 1), "256", str(BUDGET)]
        if name.endswith("_next"):
            k, i = psql("SELECT (%s)::text, id FROM tasks WHERE user_id = %d "
                        "ORDER BY %s %s, id %s OFFSET %d LIMIT 1"
                        % (key, user_id, key, "DESC" if desc else "ASC",
                           "DESC" if desc else "ASC", 99 * PAGE - 1))[0] \
                .split("|")
            args += ["'%s'" % k.replace("'", "''"), i]
        psql("DEALLOCATE ALL")
        psql("PREPARE p AS " + sql)
        plan = psql("EXPLAIN (ANALYZE, COSTS OFF, BUFFERS) EXECUTE p(%s)"
                    % ", ".join(args))
        print("-- %s%s" % (name, " (page 100)" if name.endswith("_next")
                            else " (page 1)"))
        print("\n".join(plan))
    psql("DEALLOCATE ALL")
    psql("RESET plan_cache_mode")
