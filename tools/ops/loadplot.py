"""The plot of make loadtest, drawn by gnuplot (Debian gnuplot-nox,
installed by scripts/deps.d/ops.sh) as SVG: requests per second against
the target rate and the errors, p50 and p99 latency, and, when AWS was
sampled, running tasks per service and the healthy targets."""

import os
import shutil
import subprocess

SERVICES = ("edge-api", "auth-svc", "task-svc")


def _dat(path, header, rows):
    with open(path, "w") as f:
        f.write("# " + "\t".join(header) + "\n")
        for r in rows:
            f.write("\t".join("NaN" if v is None else str(v) for v in r)
                    + "\n")


def plot(out_dir, intervals, samples, title):
    """Writes loadtest.svg in out_dir; returns its path. intervals: dicts
    with t_end, target, rps, errors_per_s, p50, p99; samples: Sampler rows
    (may be empty). Raises RuntimeError when gnuplot is missing or fails."""
    gp = shutil.which("gnuplot")
    if gp is None:
        raise RuntimeError("gnuplot not found (Debian: gnuplot-nox; "
                           "scripts/deps.sh installs it)")
    load = os.path.join(out_dir, "intervals.dat")
    _dat(load, ("t", "target", "rps", "errors", "p50", "p99"),
         [(i["t_end"], i["target"], i["rps"], i["errors_per_s"], i["p50"],
           i["p99"]) for i in intervals])
    panels = 3 if samples else 2
    svg = os.path.join(out_dir, "loadtest.svg")
    lines = [
        "set terminal svg size 900,%d dynamic font 'sans,11'"
        % (260 * panels),
        "set output '%s'" % svg.replace("'", "''"),
        "set datafile separator tab",
        "set datafile missing 'NaN'",
        "set multiplot layout %d,1 title '%s'" % (
            panels, title.replace("'", "")),
        # Same margins in every panel, so their time axes line up.
        "set lmargin at screen 0.09", "set rmargin at screen 0.63",
        "set grid", "set key outside right top", "set xrange [0:*]",
        "set ylabel 'requests/s'",
        "plot '%s' using 1:2 with lines dt 2 lw 2 title 'target', "
        "'' using 1:3 with linespoints lw 2 title 'answered', "
        "'' using 1:4 with linespoints title 'errors'" % load,
        # Log scale: p50 of a few ms and p99 of hundreds in one panel.
        "set ylabel 'latency (ms)'", "set logscale y",
        "set xlabel 'seconds'" if panels == 2 else "unset xlabel",
        "plot '%s' using 1:5 with linespoints lw 2 title 'p50', "
        "'' using 1:6 with linespoints lw 2 title 'p99'" % load,
    ]
    if samples:
        aws = os.path.join(out_dir, "aws.dat")
        cpu = [s + ".cpu" for s in SERVICES]
        cols = ["t"] + [s + ".running" for s in SERVICES] + [
            "edge-api.desired", "healthy_targets"] + cpu
        _dat(aws, cols, [[row.get(c) for c in cols] for row in samples])
        series = ("'%s' using 1:2 with steps lw 2 title 'edge-api running', "
                  "'' using 1:3 with steps lw 2 title 'auth-svc running', "
                  "'' using 1:4 with steps lw 2 title 'task-svc running', "
                  "'' using 1:5 with steps dt 2 title 'edge-api desired', "
                  "'' using 1:6 with points pt 7 title 'healthy targets'"
                  % aws)
        # CPU on the right axis, only when CloudWatch had data (gnuplot
        # stops on a series without a single point).
        for i, c in enumerate(cpu):
            if any(row.get(c) is not None for row in samples):
                series += (", '' using 1:%d axes x1y2 with lines dt 3 "
                           "title '%s CPU %% (right)'" % (7 + i, c.split(".")[0]))
        lines += [
            "unset logscale y", "set ylabel 'tasks'", "set xlabel 'seconds'",
            "set yrange [0:*]", "set y2range [0:100]", "set y2tics",
            "plot " + series,
        ]
    lines.append("unset multiplot")
    script = os.path.join(out_dir, "loadtest.gp")
    with open(script, "w") as f:
        f.write("\n".join(lines) + "\n")
    r = subprocess.run([gp, script], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0 or not os.path.exists(svg):
        raise RuntimeError("gnuplot failed: %s" % r.stderr.strip()[-500:])
    return svg
