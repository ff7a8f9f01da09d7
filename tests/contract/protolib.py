"""Shared helpers of the protobuf contract tests (tests/contract/).

The second protobuf implementation is Debian's python3-protobuf with classes
that `protoc --python_out` generates at test time into a temporary
directory. Messages are compared as "canonical trees": JSON-like values with
proto field names, unset fields left out, enums by name, bytes in base64,
well-known types as plain messages. contract_wire_fixtures --dump prints the
same tree from protobuf-c, so the two sides compare with ==.
"""

import base64
import importlib
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
PACKAGE = "taskapi.v1"
PROTO_FILES = ["envelope", "health", "auth", "task"]

# Debian installs python3-protobuf for its own interpreter only.
DEBIAN_PYTHON = "/usr/bin/python3"


def require_protobuf():
    """Imports google.protobuf, re-running this script under Debian's
    python3 when the current interpreter (e.g. one from a version manager) lacks it."""
    try:
        import google.protobuf  # noqa: F401
        return
    except ImportError:
        pass
    if (os.path.exists(DEBIAN_PYTHON)
            and os.path.realpath(sys.executable)
            != os.path.realpath(DEBIAN_PYTHON)
            and not os.environ.get("TA_PROTO_REEXEC")):
        os.environ["TA_PROTO_REEXEC"] = "1"
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON, "-u"] + sys.argv)
    sys.exit("python3-protobuf is missing: run scripts/deps.d/"
             "proto-contract.sh")


def env(name):
    v = os.environ.get(name)
    if not v:
        sys.exit("%s must be set (ctest sets it)" % name)
    return v


def source_dir():
    return env("TA_SOURCE_DIR")


def tool(name):
    """A tool from PATH; fails loudly when missing (nothing is skipped)."""
    p = shutil.which(name)
    if not p:
        sys.exit("%s not found: run scripts/deps.d/proto-contract.sh" % name)
    return p


def buf():
    p = os.path.join(source_dir(), "tools", "proto-contract", "node_modules",
                     ".bin", "buf")
    if not os.access(p, os.X_OK):
        sys.exit("buf not installed: run scripts/deps.d/proto-contract.sh")
    return p


def wire_tool():
    p = os.path.join(env("TA_BIN_DIR"), "contract_wire_fixtures")
    if not os.access(p, os.X_OK):
        sys.exit("%s missing: build the contract_wire_fixtures target" % p)
    return p


def compile_python(proto_root, out_dir):
    """protoc --python_out for the contract under proto_root; returns a
    {short message name: class} map of package taskapi.v1. Loads into this
    process's default pool: one contract (current or variant) per
    process."""
    files = ["taskapi/v1/%s.proto" % f for f in PROTO_FILES]
    os.makedirs(out_dir, exist_ok=True)
    subprocess.run([tool("protoc"), "-I", proto_root,
                    "--python_out=" + out_dir] + files, check=True)
    sys.path.insert(0, out_dir)
    classes = {}
    for f in PROTO_FILES:
        mod = importlib.import_module("taskapi.v1.%s_pb2" % f)
        for name in mod.DESCRIPTOR.message_types_by_name:
            classes[name] = getattr(mod, name)
    return classes


def to_tree(msg):
    out = {}
    for fd, val in msg.ListFields():
        if fd.label == fd.LABEL_REPEATED:
            out[fd.name] = [_value(fd, v) for v in val]
        else:
            out[fd.name] = _value(fd, val)
    return out


def _value(fd, v):
    if fd.type == fd.TYPE_MESSAGE:
        return to_tree(v)
    if fd.type == fd.TYPE_ENUM:
        ev = fd.enum_type.values_by_number.get(v)
        return ev.name if ev else v
    if fd.type == fd.TYPE_BYTES:
        return base64.b64encode(v).decode()
    return v


def from_tree(cls, tree):
    msg = cls()
    fill(msg, tree)
    return msg


def fill(msg, tree):
    """Sets msg's fields from a canonical tree; an unknown key raises."""
    desc = msg.DESCRIPTOR
    for key, val in tree.items():
        fd = desc.fields_by_name[key]
        if fd.label == fd.LABEL_REPEATED:
            field = getattr(msg, key)
            for v in val:
                if fd.type == fd.TYPE_MESSAGE:
                    fill(field.add(), v)
                else:
                    field.append(_scalar(fd, v))
        elif fd.type == fd.TYPE_MESSAGE:
            sub = getattr(msg, key)
            sub.SetInParent()
            fill(sub, val)
        else:
            setattr(msg, key, _scalar(fd, val))


def _scalar(fd, v):
    if fd.type == fd.TYPE_ENUM and isinstance(v, str):
        return fd.enum_type.values_by_name[v].number
    if fd.type == fd.TYPE_BYTES:
        return base64.b64decode(v)
    return v


def _varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _tag(num, wt):
    return _varint(num << 3 | wt)


# What a newer peer adds: one field of each wire type proto3 can write
# (varint, 64-bit, length-delimited, 32-bit), numbers 100 and up, plus the
# largest field number and a nested message. Six fields.
UNKNOWN_FIELDS = b"".join([
    _tag(100, 0) + _varint(300),
    _tag(101, 1) + (0x0123456789ABCDEF).to_bytes(8, "little"),
    _tag(102, 2) + _varint(len(b"from a newer peer")) + b"from a newer peer",
    _tag(103, 5) + (0xDEADBEEF).to_bytes(4, "little"),
    _tag(104, 2) + _varint(4) + _tag(1, 0) + _varint(1) + _tag(2, 0)
    + _varint(2),
    _tag((1 << 29) - 1, 0) + _varint(1),
])
UNKNOWN_TOP_LEVEL = 6


def add_unknown_fields(msg):
    """Adds UNKNOWN_FIELDS to msg and to every message nested in it."""
    for fd, val in msg.ListFields():
        if fd.type != fd.TYPE_MESSAGE:
            continue
        for sub in (val if fd.label == fd.LABEL_REPEATED else [val]):
            add_unknown_fields(sub)
    msg.MergeFromString(UNKNOWN_FIELDS)


def fixture_list():
    """[(fixture name, full message name)] as contract_wire_fixtures has
    them: the C side owns the list."""
    out = subprocess.run([wire_tool(), "--list"], check=True,
                         capture_output=True, text=True).stdout
    return [tuple(line.split()) for line in out.splitlines() if line]


def c_dump(message, data):
    """protobuf-c's canonical tree of data; None when it does not decode."""
    import json
    r = subprocess.run([wire_tool(), "--dump", message], input=data,
                       capture_output=True)
    if r.returncode == 1:
        return None
    if r.returncode != 0:
        raise RuntimeError(r.stderr.decode())
    return json.loads(r.stdout)


def c_emit(fixture):
    return subprocess.run([wire_tool(), "--emit", fixture], check=True,
                          capture_output=True).stdout


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()
