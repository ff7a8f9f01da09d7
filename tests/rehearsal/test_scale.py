"""rehearsal.scale: the workers scaled 2 -> 8 -> 2 (within the scalable
targets' capacity) under load through the ALB: every new task is in the
edges' rotation within TTL + DISCOVERY_REFRESH_S (+ slack) of its Cloud
Map record, every new task serves calls, and the scale-in fails no
request.

"In rotation": an edge task logs rpc_instance_up for the task's address
(its dialer connected: the next calls spread over it). "Serves calls": the
database sees a query from the task's address (the workers query only for
calls; the container health check is liveness and does not touch the
database). How soon a new auth-svc sees its first call also depends on how
often users log in, so the budget applies to rotation."""
import datetime
import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client  # noqa: E402
from scenario import ScenarioCase  # noqa: E402

SLACK_S = 5
WORKERS = ("auth-svc", "task-svc")


class Scale(ScenarioCase):
    scenario = "scale"

    def auth_load(self, stop):
        """Logins: the load's share of auth-svc calls."""
        api = client.Api(self.r)
        name = "scale" + str(os.getpid())
        api.request("POST", "/auth/register", {
            "username": name, "email": name + "@example.test",
            "password": "scale-password-1"})
        self.auth_fail = []
        while not stop.is_set():
            try:
                s = api.request("POST", "/auth/login", {
                    "username": name, "password": "scale-password-1"})[0]
            except OSError as e:
                s = repr(e)
            if s != 200:
                self.auth_fail.append((time.monotonic(), s))
            time.sleep(0.5)

    def last_query(self):
        """{client address: newest query_start (epoch s)} of the DB."""
        rows = client.psql(self.r, "SELECT host(client_addr), "
                           "extract(epoch FROM max(query_start)) FROM "
                           "pg_stat_activity WHERE client_addr IS NOT NULL "
                           "GROUP BY 1")
        return {a: float(t) for a, t in rows if t}

    def in_rotation(self):
        """{worker address: epoch s of the first rpc_instance_up an edge
        task logged for it}."""
        up = {}
        for t in self.r.tasks("edge-api"):
            try:
                with open(t.log_path, "rb") as f:
                    lines = f.read().decode("utf-8", "replace").splitlines()
            except OSError:
                continue
            for line in lines:
                if '"rpc_instance_up"' not in line:
                    continue
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                ip = ev.get("address", "").rsplit(":", 1)[0]
                ts = datetime.datetime.strptime(
                    ev["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                    tzinfo=datetime.timezone.utc).timestamp()
                up[ip] = min(ts, up.get(ip, ts))
        return up

    def test_scale_out_and_in(self):
        r = self.rehearsal()
        r.deploy()
        edge = r.cluster.services["edge-api"].primary["taskdef"]["env"]
        ttl = r.cloudmap.ttl
        budget = ttl + int(edge["DISCOVERY_REFRESH_S"]) + SLACK_S
        r.log("budget to traffic: TTL %d + DISCOVERY_REFRESH_S %s + %d s" % (
            ttl, edge["DISCOVERY_REFRESH_S"], SLACK_S))
        ld = self.load(prefix="scale")
        stop = threading.Event()
        th = threading.Thread(target=self.auth_load, args=(stop,))
        th.start()
        try:
            old = {w: {t.ip for t in r.tasks(w)} for w in WORKERS}
            registered = {}     # ip -> epoch seconds of its record
            orig = r.cloudmap.register

            def register(fqdn, ip):
                orig(fqdn, ip)
                registered[ip] = time.time()
            r.cloudmap.register = register
            for w in WORKERS:
                r.set_desired(w, 8)
            first, rotation = {}, {}
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                new = {t.ip: w for w in WORKERS for t in r.tasks(w)
                       if t.ip not in old[w]}
                q = self.last_query()
                up = self.in_rotation()
                for ip, w in new.items():
                    if ip not in registered:
                        continue
                    if ip not in rotation and up.get(ip, 0) >= \
                            registered[ip] - 1:
                        rotation[ip] = max(0.0, up[ip] - registered[ip])
                        r.log("scale: %s %s in the edges' rotation %.1f s "
                              "after its record" % (w, ip, rotation[ip]))
                    if ip not in first and q.get(ip, 0) > registered[ip]:
                        first[ip] = q[ip] - registered[ip]
                        r.log("scale: %s %s served its first call %.1f s "
                              "after its record" % (w, ip, first[ip]))
                if len(new) == 12 and len(first) == 12 and \
                        len(rotation) == 12:
                    break
                time.sleep(0.5)
            r.log("scale-out: %d new tasks; in rotation after at most "
                  "%.1f s, first call after at most %.1f s" % (
                      len(rotation), max(rotation.values() or [0]),
                      max(first.values() or [0])))
            self.assertEqual(len(rotation), 12, "new tasks never dialled")
            self.assertEqual(len(first), 12, "new tasks without traffic")
            self.assertLessEqual(max(rotation.values()), budget)
            t_in = time.monotonic()
            for w in WORKERS:
                r.set_desired(w, 2)
            while not all(r.cluster.services[w].steady() and len(
                    r.tasks(w)) == 2 for w in WORKERS):
                time.sleep(0.5)
            r.log("scale-in: back to 2 tasks each in %.1f s" % (
                time.monotonic() - t_in))
            time.sleep(budget)     # the edge forgets the stopped tasks
        finally:
            stop.set()
            th.join()
            self.stop_load(ld)
        self.assertEqual(self.auth_fail, [])
        lost, dup = client.check_writes(r, ld, "scale")
        self.assertEqual((lost, dup), ([], []))
        self.assert_no_failures(ld)


if __name__ == "__main__":
    unittest.main(verbosity=2)
