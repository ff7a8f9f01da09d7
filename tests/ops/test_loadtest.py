"""make loadtest's tool for 10 s against the three real processes: it
prints a row per interval and writes its table (loadtest.md,
loadtest.csv) and plot (loadtest.svg) with numbers in them."""

import csv
import os
import shutil
import tempfile
import unittest

from opsrun import e2e_harness, run_tool

ts = e2e_harness()


class LoadTest(unittest.TestCase):
    def test_ten_seconds_table_and_plot(self):
        out_dir = tempfile.mkdtemp(prefix="taskapi-loadtest-")
        self.addCleanup(shutil.rmtree, out_dir, True)
        with ts.System(env={"ARGON2_MEMORY_KIB": "8192",
                            "ARGON2_OPS": "1"}) as s:
            rc, out = run_tool("loadtest", "--base-url",
                               "http://127.0.0.1:%d" % s.port,
                               "--duration", "10s", "--rate", "40",
                               "--threads", "8", "--users", "4",
                               "--mix", "read=50,create=25,update=20,login=5",
                               "--out", out_dir)
        self.assertEqual(rc, 0, out)
        with open(os.path.join(out_dir, "loadtest.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), 10, rows)
        for r in rows:
            self.assertGreater(float(r["rps"]), 0, r)
            self.assertGreater(float(r["p50"]), 0, r)
            self.assertGreaterEqual(float(r["p99"]), float(r["p50"]), r)
            self.assertEqual(int(r["errors"]), 0, r)
        # The ramp: the peak rows carry more load than the first one.
        self.assertGreater(max(float(r["rps"]) for r in rows),
                           2 * float(rows[0]["rps"]), rows)
        with open(os.path.join(out_dir, "loadtest.md")) as f:
            md = f.read()
        self.assertIn("| t (s) | target/s | req/s | p50 ms | p99 ms |", md)
        self.assertGreaterEqual(md.count("\n| "), 11, md)
        with open(os.path.join(out_dir, "loadtest.svg")) as f:
            svg = f.read()
        self.assertIn("<svg", svg)
        self.assertIn("p99", svg)
        self.assertIn("loadtest: plot ", out)
        self.assertRegex(out, r"loadtest: \d+ requests, 0 failed")


if __name__ == "__main__":
    unittest.main(verbosity=2)
