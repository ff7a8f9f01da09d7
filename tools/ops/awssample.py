"""What make loadtest samples from AWS while it runs (every SAMPLE_S,
30 s by default): per ECS service the desired and running task counts and
the average CPU (CloudWatch AWS/ECS CPUUtilization, the latest minute that
has data), and the load balancer's healthy target count. A failed call
leaves a hole in the sample, never stops the load."""

import datetime
import threading
import time

SERVICES = ("edge-api", "auth-svc", "task-svc")


class Sampler:
    def __init__(self, dep, every_s=30.0):
        self.dep = dep
        self.every = every_s
        self.samples = []       # dicts: t (s since start) and the values
        self.errors = []
        self.stop_event = threading.Event()
        self.thread = None

    def _cpu(self, service):
        now = datetime.datetime.now(datetime.timezone.utc)
        r = self.dep.client("cloudwatch").get_metric_statistics(
            Namespace="AWS/ECS", MetricName="CPUUtilization",
            Dimensions=[{"Name": "ClusterName", "Value": self.dep.cluster()},
                        {"Name": "ServiceName", "Value": service}],
            StartTime=now - datetime.timedelta(minutes=5), EndTime=now,
            Period=60, Statistics=["Average"])
        points = sorted(r.get("Datapoints", []), key=lambda p: p["Timestamp"])
        return round(points[-1]["Average"], 1) if points else None

    def sample(self, t):
        row = {"t": round(t, 1)}
        try:
            svcs = self.dep.services()
            for name in SERVICES:
                s = svcs.get(name) or {}
                row[name + ".desired"] = s.get("desiredCount")
                row[name + ".running"] = s.get("runningCount")
                row[name + ".cpu"] = self._cpu(name) if s else None
            healthy = self.dep.healthy_targets()
            row["healthy_targets"] = sum(h for h, _ in healthy.values()) \
                if healthy else None
        except Exception as e:      # noqa: BLE001 - a hole, not a stop
            self.errors.append("t=%.0f: %s" % (t, e))
        self.samples.append(row)
        return row

    def _loop(self, t_start):
        while True:
            self.sample(time.monotonic() - t_start)
            if self.stop_event.wait(self.every):
                return

    def start(self, t_start):
        self.thread = threading.Thread(target=self._loop, args=(t_start,),
                                       daemon=True)
        self.thread.start()

    def stop(self, t_start):
        self.stop_event.set()
        if self.thread:
            self.thread.join(60)
        self.sample(time.monotonic() - t_start)     # the final state
