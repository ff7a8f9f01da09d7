#!/usr/bin/env python3
"""make status: the state of a deployment at a glance: each ECS service's
desired, running and pending tasks and its deployments (those still in
progress marked), the load balancer's targets and their health, and the
project's CloudWatch alarms with their states. Exit status 1 when a
service runs fewer tasks than desired, a deployment is failing, a target
is unhealthy or an alarm is in ALARM; 0 when all is steady."""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import awscli_args                  # noqa: E402
from table import text_table        # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    awscli_args.add(ap)
    a = ap.parse_args(argv)
    dep = awscli_args.deployment(a, "status")
    bad = []
    print("status: %s in %s, cluster %s\n" % (a.stack, dep.region,
                                               dep.cluster()))
    services = dep.services()
    rows = []
    for name, s in sorted(services.items()):
        deps = s.get("deployments", [])
        moving = [d for d in deps if d.get("rolloutState") != "COMPLETED"
                  or d.get("status") != "PRIMARY"]
        rows.append((name, s.get("desiredCount"), s.get("runningCount"),
                     s.get("pendingCount"), len(deps),
                     ", ".join("%s %s %s" % (d.get("status"),
                                             d.get("rolloutState", "?"),
                                             d.get("taskDefinition", "")
                                             .rsplit("/", 1)[-1])
                               for d in moving) or "steady"))
        if (s.get("runningCount") or 0) < (s.get("desiredCount") or 0):
            bad.append("%s runs %s of %s tasks" % (
                name, s.get("runningCount"), s.get("desiredCount")))
        bad += ["%s deployment FAILED" % name for d in deps
                if d.get("rolloutState") == "FAILED"]
    print(text_table(("service", "desired", "running", "pending",
                      "deployments", "in progress"), rows)
          if rows else "no services in cluster %s" % dep.cluster())
    if not rows:
        bad.append("no services")

    trows = []
    for tg, (healthy, targets) in sorted(dep.healthy_targets().items()):
        for t in targets:
            h = t["TargetHealth"]
            trows.append((tg, "%s:%s" % (t["Target"]["Id"],
                                         t["Target"].get("Port", "")),
                          h["State"], h.get("Reason", "")))
            if h["State"] not in ("healthy", "initial", "draining"):
                bad.append("target %s %s" % (t["Target"]["Id"], h["State"]))
        if not targets:
            trows.append((tg, "-", "no targets", ""))
    print()
    print(text_table(("target group", "target", "state", "reason"), trows)
          if trows else "no target groups")

    arows = []
    for al in sorted(dep.alarms(), key=lambda x: x["AlarmName"]):
        arows.append((al["AlarmName"], al["StateValue"],
                      al.get("StateReason", "")[:80]))
        if al["StateValue"] == "ALARM":
            bad.append("alarm %s" % al["AlarmName"])
    print()
    print(text_table(("alarm", "state", "reason"), arows)
          if arows else "no alarms named %s-*" % a.stack)
    print()
    if bad:
        print("status: NOT STEADY: " + "; ".join(bad))
        return 1
    print("status: steady")
    return 0


if __name__ == "__main__":
    sys.exit(awscli_args.run(main, "status"))
