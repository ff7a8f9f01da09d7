#!/usr/bin/env python3
"""make logs: a service's CloudWatch Logs as the JSON lines it wrote, one
per line, oldest first (the log group is the awslogs group of the
service's task definition, else /ecs/<project>/<service> as the templates
name it).

  logs.py --service edge|auth|task [--since 10m] [--follow]

--follow keeps polling (every 2 s) until interrupted."""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import awscli_args                  # noqa: E402
from awsdeploy import SERVICES      # noqa: E402
from duration import seconds        # noqa: E402


def events(logs, group, start_ms, seen):
    """New events of group since start_ms (ids in seen are skipped)."""
    out = []
    kw = {"logGroupName": group, "startTime": start_ms, "interleaved": True}
    while True:
        r = logs.filter_log_events(**kw)
        for e in r.get("events", []):
            if e["eventId"] not in seen:
                seen.add(e["eventId"])
                out.append(e)
        tok = r.get("nextToken")
        if not tok or not r.get("events"):
            break
        kw["nextToken"] = tok
    out.sort(key=lambda e: (e["timestamp"], e["eventId"]))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    awscli_args.add(ap)
    ap.add_argument("--service", required=True, choices=sorted(SERVICES))
    ap.add_argument("--since", default="10m")
    ap.add_argument("--follow", action="store_true")
    ap.add_argument("--poll", type=float, default=2.0)
    a = ap.parse_args(argv)
    try:
        since = seconds(a.since)
    except ValueError as e:
        sys.exit("logs: error: %s" % e)
    dep = awscli_args.deployment(a, "logs")
    group = dep.log_group(a.service)
    logs = dep.client("logs")
    print("logs: %s since %s" % (group, a.since), file=sys.stderr)
    start = int((time.time() - since) * 1000)
    seen = set()
    try:
        while True:
            try:
                batch = events(logs, group, start, seen)
            except logs.exceptions.ResourceNotFoundException:
                sys.exit("logs: error: log group %s does not exist" % group)
            for e in batch:
                sys.stdout.write(e["message"].rstrip("\n") + "\n")
                start = max(start, e["timestamp"])
            sys.stdout.flush()
            if not a.follow:
                return 0
            time.sleep(a.poll)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(awscli_args.run(main, "logs"))
