"""Mixed versions: a newer contract (added fields 100+) against the current
C code, both directions.

The "next" contract is proto/ with fields added the way a later release
would add them (Task.note = 100, Task.labels = 101, CreateTaskRequest.note
= 100, RequestEnvelope.trace_id = 100, ReplyEnvelope.server_version = 100);
buf must call it non-breaking. Its classes come from `protoc
--python_out` (python3-protobuf) and play the newer peer:

- offline: every fixture, written by the next contract with the new fields
  set, decodes in protobuf-c (current contract) to the fixture's content;
  protobuf-c's packing of every fixture decodes with the next contract to
  the same content, the new fields at their defaults;
- real processes: a "new edge" sends next-contract envelopes and requests
  (new fields set) over nng to the current auth-svc and task-svc binaries
  (against the DB_* database) and reads their replies with the next
  contract: register, create, get, list and delete all work.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "e2e"))
import protolib  # noqa: E402
import rpc_auth  # noqa: E402

protolib.require_protobuf()

# (file, anchor, text inserted after the anchor)
NEXT = [
    ("task.proto", "  google.protobuf.Timestamp updated_at = 9;\n",
     "  string note = 100;\n  repeated int64 labels = 101;\n"),
    ("task.proto", "  google.protobuf.Timestamp due_date = 5;\n",
     "  string note = 100;\n"),
    ("envelope.proto", "  string idempotency_key = 6;\n",
     "  string trace_id = 100;\n"),
    ("envelope.proto", "  bytes payload = 4;\n",
     "  string server_version = 100;\n"),
]

NOTE = "written by a newer peer"


def new_fields(msg):
    """Sets every field the next contract added, wherever msg has one."""
    d = msg.DESCRIPTOR
    for fd in d.fields:
        if fd.number >= 100:
            if fd.label == fd.LABEL_REPEATED:
                getattr(msg, fd.name).extend([7, 1 << 40])
            else:
                setattr(msg, fd.name, NOTE)
    for fd, val in msg.ListFields():
        if fd.type == fd.TYPE_MESSAGE and fd.number < 100:
            for sub in (val if fd.label == fd.LABEL_REPEATED else [val]):
                new_fields(sub)


def count_new(msg):
    n = sum(1 for fd, _ in msg.ListFields() if fd.number >= 100)
    for fd, val in msg.ListFields():
        if fd.type == fd.TYPE_MESSAGE:
            for sub in (val if fd.label == fd.LABEL_REPEATED else [val]):
                n += count_new(sub)
    return n


_TMP = tempfile.TemporaryDirectory()
_NEXT = {}


def next_contract():
    """(proto root, {message name: class}) of the next contract; built
    once per process (its classes live in the default descriptor pool)."""
    if not _NEXT:
        root = os.path.join(_TMP.name, "proto")
        shutil.copytree(os.path.join(protolib.source_dir(), "proto"), root)
        for fname, anchor, text in NEXT:
            path = os.path.join(root, "taskapi", "v1", fname)
            src = protolib.read(path, "r")
            if src.count(anchor) != 1:
                raise AssertionError("%s: anchor %r not unique"
                                     % (fname, anchor))
            with open(path, "w") as f:
                f.write(src.replace(anchor, anchor + text))
        _NEXT["root"] = root
        _NEXT["classes"] = protolib.compile_python(
            root, os.path.join(_TMP.name, "py"))
    return _NEXT["root"], _NEXT["classes"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MixedVersions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root, cls.next = next_contract()
        cls.fixtures = protolib.fixture_list()

    def expected(self, name):
        return json.loads(protolib.read(
            os.path.join(protolib.FIXTURES, name + ".json"), "r"))

    def cls_of(self, full_name):
        return self.next[full_name.rsplit(".", 1)[1]]

    def test_next_contract_is_not_breaking(self):
        env = dict(os.environ, BUF_CACHE_DIR=os.path.join(_TMP.name,
                                                          "bufcache"))
        r = subprocess.run([protolib.buf(), "breaking", "--against",
                            os.path.join(protolib.source_dir(), "proto",
                                         "baseline", "taskapi-v1.binpb")],
                           cwd=self.root, env=env, capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_newer_peer_to_current_protobuf_c(self):
        carried = 0
        for name, mtype in self.fixtures:
            with self.subTest(fixture=name):
                msg = protolib.from_tree(self.cls_of(mtype),
                                         self.expected(name))
                new_fields(msg)
                carried += count_new(msg)
                got = protolib.c_dump(mtype, msg.SerializeToString())
                self.assertEqual(got, self.expected(name))
        # The new fields were really on the wire (Task, CreateTaskRequest,
        # both envelopes).
        self.assertGreater(carried, 10)

    def test_current_protobuf_c_to_newer_peer(self):
        for name, mtype in self.fixtures:
            with self.subTest(fixture=name):
                msg = self.cls_of(mtype).FromString(protolib.c_emit(name))
                self.assertEqual(protolib.to_tree(msg), self.expected(name))
                self.assertEqual(count_new(msg), 0)
                if mtype == "taskapi.v1.CreateTaskReply":
                    self.assertEqual(msg.task.note, "")
                    self.assertEqual(list(msg.task.labels), [])


class NewEdgeCurrentWorkers(unittest.TestCase):
    """A next-contract caller against the current worker binaries."""

    @classmethod
    def setUpClass(cls):
        for k in ("DB_HOST", "DB_NAME"):
            protolib.env(k)
        cls.tmp = tempfile.TemporaryDirectory()
        cls.next = next_contract()[1]
        cls.procs = {}
        cls.urls = {}
        cls.rpc_auth_key = uuid.uuid4().hex + uuid.uuid4().hex
        bindir = protolib.env("TA_BIN_DIR")
        for name in ("auth-svc", "task-svc"):
            url = "tcp://127.0.0.1:%d" % free_port()
            env = dict(os.environ, RPC_LISTEN=url, LOG_LEVEL="warn",
                       JWT_SECRET=uuid.uuid4().hex + uuid.uuid4().hex,
                       RPC_AUTH_KEY=cls.rpc_auth_key,
                       DB_POOL_SIZE="2")
            log = open(os.path.join(cls.tmp.name, name + ".log"), "wb")
            cls.procs[name] = (subprocess.Popen(
                [os.path.join(bindir, name)], env=env,
                stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT), log)
            cls.urls[name] = url

    @classmethod
    def tearDownClass(cls):
        for name, (p, log) in cls.procs.items():
            p.terminate()
            try:
                rc = p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = p.wait()
            log.close()
            if rc != 0:
                print("%s exited %s:\n%s" % (name, rc, protolib.read(
                    log.name, "r")[-3000:]))
        cls.tmp.cleanup()

    def call(self, worker, method, request, principal=None):
        C = self.next
        env = C["RequestEnvelope"](
            method=method, request_id="mixed-" + uuid.uuid4().hex[:8],
            payload=request.SerializeToString(), trace_id=NOTE)
        env.deadline.FromSeconds(int(time.time()) + 10)
        if principal is not None:
            env.principal.CopyFrom(principal)
        # A newer edge signs too: the MAC covers its new fields as well.
        r = subprocess.run([protolib.wire_tool(), "--call",
                            self.urls[worker]],
                           input=rpc_auth.sign(env.SerializeToString(),
                                               self.rpc_auth_key),
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return C["ReplyEnvelope"].FromString(r.stdout)

    def wait_ready(self, worker):
        C = self.next
        deadline = time.monotonic() + 15
        while True:
            p = self.procs[worker][0]
            self.assertIsNone(p.poll(), "%s exited" % worker)
            r = subprocess.run([protolib.wire_tool(), "--call",
                                self.urls[worker]],
                               input=C["RequestEnvelope"](
                                   method="/taskapi.v1.Health/Check"
            ).SerializeToString(), capture_output=True, timeout=30)
            if r.returncode == 0 and \
                    C["ReplyEnvelope"].FromString(r.stdout).code == 0:
                return
            self.assertLess(time.monotonic(), deadline, "%s not ready"
                            % worker)
            time.sleep(0.1)

    def test_new_edge_against_current_workers(self):
        C = self.next
        self.wait_ready("auth-svc")
        self.wait_ready("task-svc")
        uname = "mixed-" + uuid.uuid4().hex[:12]
        rep = self.call("auth-svc", "/taskapi.v1.AuthService/RegisterUser",
                        C["RegisterRequest"](username=uname,
                                             email=uname + "@example.test",
                                             password="mixed-pass-12345"))
        self.assertEqual(rep.code, 0, rep.message)
        self.assertEqual(rep.server_version, "")
        user = C["RegisterReply"].FromString(rep.payload).user
        who = C["Principal"](user_id=user.id, username=uname,
                             email=user.email, role="user")

        rq = C["CreateTaskRequest"](title="from the next edge", note=NOTE)
        rq.priority = C["CreateTaskRequest"].DESCRIPTOR.fields_by_name[
            "priority"].enum_type.values_by_name["TASK_PRIORITY_HIGH"].number
        self.assertIn(b"\xa2\x06", rq.SerializeToString())  # field 100
        rep = self.call("task-svc", "/taskapi.v1.TaskService/CreateTask",
                        rq, who)
        self.assertEqual(rep.code, 0, rep.message)
        task = C["CreateTaskReply"].FromString(rep.payload).task
        self.assertEqual(task.title, "from the next edge")
        self.assertEqual(task.user_id, user.id)
        self.assertEqual(task.priority, rq.priority)
        self.assertEqual(task.note, "")     # the old worker never sets it

        rep = self.call("task-svc", "/taskapi.v1.TaskService/GetTask",
                        C["GetTaskRequest"](id=task.id), who)
        self.assertEqual(rep.code, 0, rep.message)
        self.assertEqual(C["GetTaskReply"].FromString(rep.payload).task,
                         task)
        rep = self.call("task-svc", "/taskapi.v1.TaskService/ListTasks",
                        C["ListTasksRequest"](), who)
        self.assertEqual(rep.code, 0, rep.message)
        self.assertEqual(
            [t.id for t in C["ListTasksReply"].FromString(rep.payload).tasks],
            [task.id])
        # A validation failure still comes back as a defined status.
        rep = self.call("task-svc", "/taskapi.v1.TaskService/CreateTask",
                        C["CreateTaskRequest"](note=NOTE), who)
        self.assertEqual(rep.code, 3)
        self.assertEqual([d.field for d in rep.details], ["title"])
        rep = self.call("task-svc", "/taskapi.v1.TaskService/DeleteTask",
                        C["DeleteTaskRequest"](id=task.id), who)
        self.assertEqual(rep.code, 0, rep.message)


if __name__ == "__main__":
    unittest.main(verbosity=2)
