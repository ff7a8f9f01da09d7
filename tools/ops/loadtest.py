#!/usr/bin/env python3
"""make loadtest: ramps load on a running taskapi and prints, per interval,
the target rate, requests answered per second, p50 and p99 latency and the
errors; writes the table (loadtest.md, loadtest.csv) and a plot
(loadtest.svg) to --out. With --stack and AWS credentials it also samples
ECS task counts, CPU and healthy targets every --sample seconds and
prints and plots that timeline.

  loadtest.py --base-url URL [--duration 10m] [--rate 50]
      [--mix read=60,create=20,update=15,login=5] [--stack PROJECT]

Exit status 1 when more than --max-error-pct of the requests failed
(transport errors and 4xx/5xx answers), 2 on bad usage.
"""

import argparse
import csv
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import loadgen                      # noqa: E402
from duration import seconds        # noqa: E402
from table import markdown_table, text_table   # noqa: E402


def percentile(sorted_vals, p):
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1,
                   int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def interval_row(load, t_lo, t_hi, start):
    with load.lock:
        recs = [r for r in load.results if t_lo <= r["t"] - start < t_hi]
    lat = sorted((r["t"] - r["t0"]) * 1000.0 for r in recs)
    errs = sum(1 for r in recs if r["error"] or r["status"] >= 400)
    span = t_hi - t_lo
    mid = (t_lo + t_hi) / 2
    p50, p99 = percentile(lat, 50), percentile(lat, 99)
    return {"t_end": round(t_hi, 1), "target": round(load.rate(mid), 1),
            "requests": len(recs), "rps": round(len(recs) / span, 1),
            "errors": errs, "errors_per_s": round(errs / span, 2),
            "p50": None if p50 is None else round(p50, 1),
            "p99": None if p99 is None else round(p99, 1)}


COLS = ("t_end", "target", "rps", "p50", "p99", "errors", "requests")
HEAD = ("t (s)", "target/s", "req/s", "p50 ms", "p99 ms", "errors",
        "requests")


def _cells(row):
    return ["-" if row[c] is None else row[c] for c in COLS]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--duration", default="10m")
    ap.add_argument("--rate", type=float, default=50.0,
                    help="peak requests per second (default 50)")
    ap.add_argument("--mix", default="read=60,create=20,update=15,login=5")
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--users", type=int, default=8)
    ap.add_argument("--interval", default=None,
                    help="seconds per printed row (default 10, or a tenth "
                    "of a run shorter than 100 s)")
    ap.add_argument("--stack", default=os.environ.get("STACK") or None)
    ap.add_argument("--region", default=None)
    ap.add_argument("--endpoint-url", default=None)
    ap.add_argument("--sample", default="30s",
                    help="AWS sampling period (default 30s)")
    ap.add_argument("--out", default="build/loadtest")
    ap.add_argument("--max-error-pct", type=float, default=5.0)
    ap.add_argument("--insecure", action="store_true")
    a = ap.parse_args(argv)
    try:
        dur = seconds(a.duration)
        iv = seconds(a.interval) if a.interval else (
            10.0 if dur >= 100 else max(1.0, dur / 10))
        sample_s = seconds(a.sample)
        mix = loadgen.parse_mix(a.mix)
        if a.rate <= 0 or a.threads < 1 or a.users < 1:
            raise ValueError("--rate, --threads and --users must be > 0")
    except ValueError as e:
        print("loadtest: error: %s" % e, file=sys.stderr)
        return 2
    os.makedirs(a.out, exist_ok=True)

    sampler = None
    if a.stack:
        sampler = make_sampler(a, sample_s)
    print("loadtest: %s for %.0f s, peak %.0f req/s, mix %s, %d threads"
          % (a.base_url, dur, a.rate, ",".join("%s=%.0f%%" % (k, v * 100)
                                              for k, v in mix.items()),
             a.threads))
    users = loadgen.make_users(a.base_url, a.users,
                               verify_tls=not a.insecure)
    load = loadgen.MixLoad(a.base_url, users, mix,
                           loadgen.ramp_profile(a.rate, dur), dur,
                           nthreads=a.threads, verify_tls=not a.insecure)
    load.start()
    start = load.t_start
    if sampler:
        sampler.start(start)
    print("  ".join("%8s" % h for h in HEAD))
    rows = []
    t_lo = 0.0
    while t_lo < dur - 1e-6:
        t_hi = min(t_lo + iv, dur)
        time.sleep(max(0.0, start + t_hi + 0.05 - time.monotonic()))
        rows.append(interval_row(load, t_lo, t_hi, start))
        print("  ".join("%8s" % c for c in _cells(rows[-1])))
        sys.stdout.flush()
        t_lo = t_hi
    load.wait()
    # Requests that ended after the last boundary belong to the last row.
    last = interval_row(load, rows[-1]["t_end"] - iv if rows else 0,
                        10 ** 9, start)
    if rows and last["requests"] > rows[-1]["requests"]:
        rows[-1].update({k: last[k] for k in ("requests", "errors", "p50",
                                              "p99")})
    if sampler:
        sampler.stop(start)
    return report(a, load, rows, sampler, users)


def make_sampler(a, sample_s):
    from awsdeploy import Deployment, have_boto3
    from awssample import Sampler
    if not have_boto3():
        print("loadtest: boto3 missing: no AWS sampling (scripts/deps.sh "
              "installs it)", file=sys.stderr)
        return None
    try:
        dep = Deployment(a.stack, a.region, a.endpoint_url)
    except RuntimeError as e:
        print("loadtest: %s: no AWS sampling" % e, file=sys.stderr)
        return None
    if not dep.has_credentials():
        print("loadtest: no AWS credentials: no AWS sampling",
              file=sys.stderr)
        return None
    return Sampler(dep, sample_s)


def report(a, load, rows, sampler, users):
    from loadplot import plot
    s = load.summary()
    total = s["sent"]
    failed = sum(s["failed"].values())
    pct = 100.0 * failed / total if total else 100.0
    with open(os.path.join(a.out, "loadtest.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else COLS)
        w.writeheader()
        w.writerows(rows)
    md = ["# loadtest %s" % a.base_url, "",
          "%.0f s, peak %.0f req/s, mix %s" % (rows[-1]["t_end"] if rows
                                               else 0, a.rate, a.mix), "",
          markdown_table(HEAD, [_cells(r) for r in rows])]
    samples = sampler.samples if sampler else []
    if samples:
        cols = sorted({k for r in samples for k in r} - {"t"})
        head = ["t (s)"] + cols
        body = [[r["t"]] + ["-" if r.get(c) is None else r[c] for c in cols]
                for r in samples]
        print("\nAWS timeline (every %s):" % a.sample)
        print(text_table(head, body))
        md += ["", "## AWS timeline", "", markdown_table(head, body)]
        with open(os.path.join(a.out, "aws-samples.csv"), "w",
                  newline="") as f:
            w = csv.writer(f)
            w.writerow(["t"] + cols)
            w.writerows([[r["t"]] + [r.get(c) for c in cols]
                         for r in samples])
        for e in sampler.errors[:5]:
            print("loadtest: AWS sample failed: %s" % e)
    with open(os.path.join(a.out, "loadtest.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    rc = 0
    try:
        svg = plot(a.out, rows, samples, "taskapi loadtest, peak %.0f req/s"
                   % a.rate)
        print("\nloadtest: plot %s" % svg)
    except RuntimeError as e:
        print("loadtest: error: %s" % e, file=sys.stderr)
        rc = 1
    print("loadtest: table %s" % os.path.join(a.out, "loadtest.md"))
    print("loadtest: %d requests, %d failed (%.2f %%%s), %d not sent "
          "(generator saturated)" % (total, failed, pct,
                                     ": %s" % s["failed"] if failed else "",
                                     load.unsent))
    print("loadtest: users %s... (%d, named %s<random>; no route deletes "
          "them or their tasks in bulk)" % (users[0]["username"], len(users),
                                           loadgen.USER_PREFIX))
    if pct > a.max_error_pct:
        print("loadtest: FAILED: %.2f %% errors > %.1f %%"
              % (pct, a.max_error_pct))
        rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
