"""Rolling deploy across a contract change, with real processes built from
both contracts.

The "next" release is this source tree with one field added the way a
later release would add it: `string labels = 10;` on Task and
`string labels = 6;` on CreateTaskRequest. Its task-svc also fills
Task.labels, so the field is really on the wire (an empty proto3 string is
never written). The test builds the next release's task-svc and edge-api
with cmake, then walks register, login, create, get, list, update and
delete over HTTP through two mixed deployments:

- current edge, next worker: the current edge-api and auth-svc
  (TA_BIN_DIR) with the next task-svc. The edge ignores the field it does
  not know: every task keeps exactly its nine contract keys, and every
  answer matches docs/openapi.json.
- next edge, current workers: the next edge-api with the current auth-svc
  and task-svc. The edge sends labels (the client set it) to a worker that
  ignores it, and renders the field the worker never sets as "": the nine
  contract keys plus labels.

A control deployment (next edge, next task-svc) shows labels arriving, so
the first deployment really had field 10 on the wire.

The copy and its build live under TA_BUILD_DIR/mixed-contract (src/ and
build/) rather than in a temporary directory: CMake ties a cache to its
source path, and a stable path keeps reruns incremental. Only files whose
content changed are rewritten. Needs TA_BIN_DIR, TA_SOURCE_DIR,
TA_BUILD_DIR and a migrated DB_* database; nothing is skipped.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import taskapi_system as ts  # noqa: E402

REQUIRED = ("TA_BIN_DIR", "TA_SOURCE_DIR", "TA_BUILD_DIR", "DB_HOST",
            "DB_PORT", "DB_NAME", "DB_USER")
_missing = [k for k in REQUIRED if not os.environ.get(k)]
if _missing:
    sys.exit("contract.proto_mixed_process: missing environment: "
             + ", ".join(_missing) + " (ctest sets TA_*; DB_* names a "
             "migrated database)")

# What the next release's build needs from the source tree; tests/ is left
# out (the copied top-level CMakeLists.txt drops it).
COPY_DIRS = ("proto", "common", "db", "auth-svc", "task-svc", "edge-api",
             "console")                # edge-api embeds console/ too
COPY_FILES = ("docs/openapi.json",)     # edge-api embeds it

NEXT_LABELS = "set-by-next-worker"

# (file, anchor, text inserted after the anchor): the contract change, and
# the next task-svc setting the new field on every task it returns.
NEXT = [
    ("proto/taskapi/v1/task.proto",
     "  google.protobuf.Timestamp updated_at = 9;\n",
     "  string labels = 10;\n"),
    ("proto/taskapi/v1/task.proto",
     "  google.protobuf.Timestamp due_date = 5;\n",
     "  string labels = 6;\n"),
    ("task-svc/task_rows.c",
     "\tt->title = PQgetvalue(res, r, TASK_COL_TITLE);\n",
     "\tt->labels = (char *)\"%s\";\n" % NEXT_LABELS),
]

NEXT_TASK_KEYS = ts.TASK_KEYS | {"labels"}


def build_root():
    return os.path.join(os.environ["TA_BUILD_DIR"], "mixed-contract")


def next_tree():
    """{relative path: bytes} of the next release's source tree."""
    src = os.environ["TA_SOURCE_DIR"]
    tree = {}
    for d in COPY_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(src, d)):
            dirnames[:] = [n for n in dirnames if n != "__pycache__"]
            for n in filenames:
                p = os.path.join(dirpath, n)
                tree[os.path.relpath(p, src)] = read_bytes(p)
    for f in COPY_FILES:
        tree[f] = read_bytes(os.path.join(src, f))

    top = read_bytes(os.path.join(src, "CMakeLists.txt")).decode()
    lines = top.splitlines(keepends=True)
    kept = [ln for ln in lines
            if not ln.strip().startswith("add_subdirectory(tests")]
    if len(lines) - len(kept) < 1:
        raise AssertionError("CMakeLists.txt: no add_subdirectory(tests...) "
                             "line to drop; update this test")
    tree["CMakeLists.txt"] = "".join(kept).encode()

    for rel, anchor, text in NEXT:
        body = tree[rel].decode()
        if body.count(anchor) != 1:
            raise AssertionError("%s: anchor %r not found exactly once; "
                                 "update this test" % (rel, anchor))
        tree[rel] = body.replace(anchor, anchor + text).encode()
    return tree


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def sync(tree, dest):
    """Makes dest hold exactly tree, rewriting only changed files (their
    mtimes drive the incremental build)."""
    for rel, data in tree.items():
        p = os.path.join(dest, rel)
        if os.path.isfile(p) and read_bytes(p) == data:
            continue
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    for dirpath, dirnames, filenames in os.walk(dest, topdown=False):
        for n in filenames:
            p = os.path.join(dirpath, n)
            if os.path.relpath(p, dest) not in tree:
                os.remove(p)
        if dirpath != dest and not os.listdir(dirpath):
            os.rmdir(dirpath)


def run(cmd):
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=780)
    if r.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s"
                             % (" ".join(cmd[:4]), r.returncode,
                                r.stdout[-4000:], r.stderr[-4000:]))


def build_next(target):
    """Builds one target of the next release; the directory of its
    binaries."""
    t0 = time.monotonic()
    src = os.path.join(build_root(), "src")
    bld = os.path.join(build_root(), "build")
    os.makedirs(src, exist_ok=True)
    sync(next_tree(), src)
    run(["cmake", "-S", src, "-B", bld, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"])
    run(["cmake", "--build", bld, "--target", target, "-j2"])
    ts.log("built next %s in %.1f s" % (target, time.monotonic() - t0))
    return os.path.join(bld, "bin")


def mixed_bindir(tmp, chosen):
    """A directory of symlinks, one per process, to the chosen binaries."""
    for name, d in chosen.items():
        p = os.path.join(d, name)
        if not os.access(p, os.X_OK):
            raise AssertionError("binary not found or not executable: " + p)
        os.symlink(p, os.path.join(tmp, name))
    return tmp


class Deployment:
    """One mixed deployment: System over a chosen set of binaries."""

    def __init__(self, chosen):
        self.tmp = tempfile.mkdtemp(prefix="taskapi-mixed-")
        self.system = None
        try:
            self.system = ts.System()
            self.system.bindir = mixed_bindir(self.tmp, chosen)
            self.system.start()     # stops what it started if it fails
        except BaseException:
            if self.system is not None:
                self.system.cleanup()
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise

    def close(self):
        try:
            self.system.stop_checked()     # raises unless every exit is 0
        finally:
            self.system.cleanup()
            shutil.rmtree(self.tmp, ignore_errors=True)


class Walk:
    """register -> login -> create -> get -> list -> update -> delete.
    Subclasses set cls.dep and say what a task looks like."""

    create_extra = {}

    def check_task(self, t, user_id):
        raise NotImplementedError

    def test_walk(self):
        sysm = self.dep.system
        u = sysm.register_user()
        r, tok = sysm.login(u["username"], u["password"])
        self.assertEqual(r.status, 200, r)
        self.assertIsInstance(tok, str)
        self.assertEqual(len(tok.split(".")), 3, r)

        body = {"title": "across the deploy", "description": "mixed",
                "priority": "high", "due_date": "2031-05-06T07:08:09Z"}
        body.update(self.create_extra)
        r = sysm.request("POST", "/tasks", body, token=tok)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(set(r.json), {"message", "task"}, r)
        self.assertTrue(r.json["message"])
        t = self.check_task(r.json["task"], u["id"])
        self.assertEqual(t["title"], "across the deploy")
        self.assertEqual(t["description"], "mixed")
        self.assertEqual(t["status"], "pending")
        self.assertEqual(t["priority"], "high")
        self.assertEqual(ts.parse_ts(t["due_date"]),
                         ts.parse_ts("2031-05-06T07:08:09Z"))
        path = "/tasks/%d" % t["id"]

        r = sysm.request("GET", path, token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"task": t})

        r = sysm.request("GET", "/tasks", token=tok)
        self.assertEqual(r.status, 200, r)
        # next_cursor: API v1.1 (null when a worker of either version
        # has no more).
        self.assertEqual(set(r.json) - {"next_cursor"},
                         {"tasks", "count", "truncated"}, r)
        self.assertIsNone(r.json.get("next_cursor"), r)
        self.assertIs(r.json["truncated"], False, r)
        self.assertEqual(r.json["count"], 1, r)
        self.assertEqual(r.json["tasks"], [t])

        r = sysm.request("PUT", path, {"status": "completed",
                                       "description": None}, token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), {"message", "task"}, r)
        v = self.check_task(r.json["task"], u["id"])
        self.assertEqual(v["status"], "completed")
        self.assertIsNone(v["description"])
        self.assertEqual((v["id"], v["title"], v["priority"], v["due_date"]),
                         (t["id"], t["title"], t["priority"], t["due_date"]))
        r = sysm.request("GET", path, token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"task": v})

        r = sysm.request("DELETE", path, token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), {"message"}, r)
        self.assertTrue(r.json["message"])
        ts.check_error(self, sysm.request("GET", path, token=tok), 404)
        r = sysm.request("GET", "/tasks", token=tok)
        self.assertEqual(r.status, 200, r)
        r.json.pop("next_cursor", None)
        self.assertEqual(r.json, {"tasks": [], "count": 0, "truncated": False})


class CurrentEdgeNextWorker(Walk, unittest.TestCase):
    """The edge is rolled last: the current edge meets a next task-svc
    whose tasks carry field 10."""

    @classmethod
    def setUpClass(cls):
        cur = os.environ["TA_BIN_DIR"]
        nxt = build_next("task-svc")
        cls.dep = Deployment({"auth-svc": cur, "task-svc": nxt,
                              "edge-api": cur})

    @classmethod
    def tearDownClass(cls):
        cls.dep.close()

    def check_task(self, t, user_id):
        # Exactly the nine keys: labels (field 10) is not rendered.
        return ts.check_task(self, t, user_id)


class NextEdgeCurrentWorkers(Walk, unittest.TestCase):
    """The edge is rolled first: the next edge meets the current workers,
    which neither read nor write labels."""

    create_extra = {"labels": "sent-to-current-worker"}

    @classmethod
    def setUpClass(cls):
        # The next edge renders a field docs/openapi.json does not list.
        cls.saved_validate = os.environ.get("TA_OPENAPI_VALIDATE")
        os.environ["TA_OPENAPI_VALIDATE"] = "0"
        cur = os.environ["TA_BIN_DIR"]
        nxt = build_next("edge-api")
        cls.dep = Deployment({"auth-svc": cur, "task-svc": cur,
                              "edge-api": nxt})

    @classmethod
    def tearDownClass(cls):
        try:
            cls.dep.close()
        finally:
            if cls.saved_validate is None:
                os.environ.pop("TA_OPENAPI_VALIDATE", None)
            else:
                os.environ["TA_OPENAPI_VALIDATE"] = cls.saved_validate

    def check_task(self, t, user_id):
        self.assertIsInstance(t, dict)
        self.assertEqual(set(t), NEXT_TASK_KEYS, "task keys: %r" % (t,))
        # The current worker drops the labels it was sent and never sets
        # the field: the next edge renders its default.
        self.assertEqual(t["labels"], "", t)
        ts.check_task(self, {k: v for k, v in t.items() if k != "labels"},
                      user_id)
        return t


class NextEdgeNextWorker(unittest.TestCase):
    """Control: with both sides next, labels arrives, so the first
    deployment really had field 10 on the wire."""

    def test_labels_on_the_wire(self):
        nxt = build_next("edge-api")
        build_next("task-svc")
        saved = os.environ.get("TA_OPENAPI_VALIDATE")
        os.environ["TA_OPENAPI_VALIDATE"] = "0"
        dep = Deployment({"auth-svc": os.environ["TA_BIN_DIR"],
                          "task-svc": nxt, "edge-api": nxt})
        try:
            u = dep.system.new_user()
            r = dep.system.request("POST", "/tasks", {"title": "control"},
                                   token=u["token"])
            self.assertEqual(r.status, 201, r)
            self.assertEqual(set(r.json["task"]), NEXT_TASK_KEYS, r)
            self.assertEqual(r.json["task"]["labels"], NEXT_LABELS, r)
            r = dep.system.request("DELETE", "/tasks/%d"
                                   % r.json["task"]["id"], token=u["token"])
            self.assertEqual(r.status, 200, r)
        finally:
            try:
                dep.close()
            finally:
                if saved is None:
                    os.environ.pop("TA_OPENAPI_VALIDATE", None)
                else:
                    os.environ["TA_OPENAPI_VALIDATE"] = saved


if __name__ == "__main__":
    ts.run_tests()
