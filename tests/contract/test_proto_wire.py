"""A second protobuf implementation agrees with protobuf-c on every wire
fixture.

python3-protobuf (classes from `protoc --python_out`, generated at test
time from proto/) and protobuf-c (contract_wire_fixtures --dump / --emit)
each decode every fixtures/*.bin; both must give the expected decoded form
(<name>.json), and re-encoding must give the fixture's bytes again. The
.unknown.bin twins (fields 100+ from a newer peer, at every level) decode
to the same known content on both sides.
"""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protolib  # noqa: E402

protolib.require_protobuf()

from google.protobuf import __version__ as PB_VERSION  # noqa: E402


class WireFixtures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.classes = protolib.compile_python(
            os.path.join(protolib.source_dir(), "proto"), cls.tmp.name)
        cls.fixtures = protolib.fixture_list()
        print("python3-protobuf %s; %d fixtures" % (PB_VERSION,
                                                    len(cls.fixtures)))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def load(self, name, suffix):
        return protolib.read(os.path.join(protolib.FIXTURES, name + suffix))

    def expected(self, name):
        return json.loads(protolib.read(
            os.path.join(protolib.FIXTURES, name + ".json"), "r"))

    def cls_of(self, full_name):
        return self.classes[full_name.rsplit(".", 1)[1]]

    def test_fixture_set_is_complete(self):
        on_disk = {f[:-5] for f in os.listdir(protolib.FIXTURES)
                   if f.endswith(".json")}
        self.assertEqual(on_disk, {n for n, _ in self.fixtures},
                         "fixtures/*.json and wire_fixtures.c disagree")
        # Every request and reply of every RPC, seen from Python's
        # descriptors this time.
        types = {m for _, m in self.fixtures}
        for f in protolib.PROTO_FILES:
            mod = sys.modules["taskapi.v1.%s_pb2" % f]
            for svc in mod.DESCRIPTOR.services_by_name.values():
                for m in svc.methods:
                    self.assertIn(m.input_type.full_name, types, m.full_name)
                    self.assertIn(m.output_type.full_name, types,
                                  m.full_name)

    def test_python_decodes_and_reencodes(self):
        for name, mtype in self.fixtures:
            with self.subTest(fixture=name):
                data = self.load(name, ".bin")
                msg = self.cls_of(mtype).FromString(data)
                self.assertEqual(protolib.to_tree(msg), self.expected(name))
                self.assertEqual(msg.SerializeToString(deterministic=True),
                                 data, "python re-encodes other bytes")
                built = protolib.from_tree(self.cls_of(mtype),
                                           self.expected(name))
                self.assertEqual(built.SerializeToString(deterministic=True),
                                 data, "the .json encodes to other bytes")

    def test_protobuf_c_decodes_like_python(self):
        for name, mtype in self.fixtures:
            with self.subTest(fixture=name):
                data = self.load(name, ".bin")
                self.assertEqual(protolib.c_dump(mtype, data),
                                 self.expected(name))

    def test_protobuf_c_encodes_like_python(self):
        for name, mtype in self.fixtures:
            with self.subTest(fixture=name):
                c_bytes = protolib.c_emit(name)
                self.assertEqual(c_bytes, self.load(name, ".bin"))
                msg = self.cls_of(mtype).FromString(c_bytes)
                self.assertEqual(protolib.to_tree(msg), self.expected(name))

    def test_unknown_fields_from_a_newer_peer(self):
        for name, mtype in self.fixtures:
            with self.subTest(fixture=name):
                data = self.load(name, ".unknown.bin")
                msg = self.cls_of(mtype).FromString(data)
                self.assertEqual(protolib.to_tree(msg), self.expected(name))
                # Python keeps them, at every level, and writes them back.
                self.assertEqual(msg.SerializeToString(deterministic=True),
                                 data)
                msg.DiscardUnknownFields()
                self.assertEqual(msg.SerializeToString(deterministic=True),
                                 self.load(name, ".bin"))
                self.assertEqual(protolib.c_dump(mtype, data),
                                 self.expected(name))

    def test_unknown_fields_fixture_is_what_python_writes(self):
        for name, mtype in self.fixtures:
            with self.subTest(fixture=name):
                msg = protolib.from_tree(self.cls_of(mtype),
                                         self.expected(name))
                protolib.add_unknown_fields(msg)
                self.assertEqual(msg.SerializeToString(deterministic=True),
                                 self.load(name, ".unknown.bin"))

    def test_corrupt_input_is_rejected_by_both(self):
        # A length prefix running past the end; a truncated varint.
        cases = [(b"\x0a\x05ab", "taskapi.v1.GetTaskReply"),
                 (b"\x08\xff\xff", "taskapi.v1.GetTaskRequest")]
        for bad, mtype in cases:
            with self.subTest(data=bad.hex()):
                with self.assertRaises(Exception):
                    self.cls_of(mtype).FromString(bad)
                self.assertIsNone(protolib.c_dump(mtype, bad))


if __name__ == "__main__":
    unittest.main(verbosity=2)
