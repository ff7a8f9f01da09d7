"""Regenerates the wire fixtures from their expected decoded forms.

Run by hand, deliberately, after editing or adding a fixtures/<Message>
[.<variant>].json (see docs/contracts.md):

    python3 tests/contract/make_fixtures.py

For each .json it writes <name>.bin (the message as python3-protobuf
serializes it: canonical, fields in number order) and <name>.unknown.bin
(the same message plus protolib.UNKNOWN_FIELDS at the top level and in
every nested message, as a newer peer would write it). Then add the
hand-built twin to wire_fixtures.c; the tests compare both.
"""

import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protolib  # noqa: E402

protolib.require_protobuf()


def main():
    proto_root = os.path.join(protolib.HERE, "..", "..", "proto")
    with tempfile.TemporaryDirectory() as tmp:
        classes = protolib.compile_python(proto_root, tmp)
        names = sorted(f[:-5] for f in os.listdir(protolib.FIXTURES)
                       if f.endswith(".json"))
        for name in names:
            tree = json.loads(protolib.read(
                os.path.join(protolib.FIXTURES, name + ".json"), "r"))
            msg = protolib.from_tree(classes[name.split(".")[0]], tree)
            assert protolib.to_tree(msg) == tree, name
            with open(os.path.join(protolib.FIXTURES, name + ".bin"),
                      "wb") as f:
                f.write(msg.SerializeToString(deterministic=True))
            protolib.add_unknown_fields(msg)
            with open(os.path.join(protolib.FIXTURES, name + ".unknown.bin"),
                      "wb") as f:
                f.write(msg.SerializeToString(deterministic=True))
        print("%d fixtures written" % len(names))


if __name__ == "__main__":
    main()
