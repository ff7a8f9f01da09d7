"""The edge's CloudWatch Embedded Metric Format lines, from a real run.

Runs the three real processes (the e2e harness), sends requests that end
200, 201, 401, 404 and 503 (task-svc stopped), and takes every stdout line
of edge-api that carries "_aws": one per route and interval (the interval
is set longer than the test, and stopping the edge writes the last one). Each must be one JSON object that validates
against the EMF JSON schema (tests/deploy/emf-schema.json, Draft 7, Debian's
python3-jsonschema), and what the schema cannot check: every dimension
reference names a top-level string member, every metric reference a number
(or an array of at most 100 numbers), no high-cardinality key is a
dimension, routes are patterns (no task ids), a 5xx counts as an error.

Then ecs/app.yaml (with data.yaml): every metric an alarm (or a dashboard query) names in a
non-AWS namespace must be one the code emits, in that namespace, with a
dimension set CloudWatch actually creates from these lines (a metric
exists only for the exact dimension sets of the directive; SCHEMA(...) in
Metrics Insights matches one set exactly).
"""

import json
import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
sys.path.insert(0, HERE)

import jsonschema  # noqa: E402

import cfnlib  # noqa: E402
import taskapi_system as ts  # noqa: E402

HIGH_CARDINALITY = {"request_id", "requestId", "user_id", "userId", "task_id",
                    "id", "time", "latency_ms"}
state = {}


def setUpModule():
    with open(os.path.join(HERE, "emf-schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    state["validator"] = jsonschema.Draft7Validator(schema)
    system = ts.System(env_edge={"METRICS_INTERVAL_S": "3600"}).start()
    try:
        # The harness's readiness probes (the three health routes) may log
        # metrics lines at any moment: the requests counted here are the
        # others, and lines of health routes are left out.
        name = ts.unique("emf")
        pw = ts.random_password()
        r = system.request("POST", "/auth/register", {
            "username": name, "email": name + "@example.com",
            "password": pw})
        assert r.status == 201, r
        r = system.request("POST", "/auth/login",
                           {"username": name, "password": pw})
        assert r.status == 200, r
        token = r.json["token"]
        r = system.request("POST", "/tasks", {"title": "emf"}, token=token)
        assert r.status == 201, r
        task_id = r.json["task"]["id"]
        assert system.request("GET", "/tasks/%s" % task_id,
                              token=token).status == 200
        assert system.request("GET", "/tasks/999999999",
                              token=token).status == 404
        assert system.request("GET", "/tasks").status == 401
        assert system.request("GET", "/no/such/route").status == 404
        system.stop_process("task-svc")
        r = system.request("GET", "/tasks", token=token)
        assert r.status >= 500, r
        state["task_id"] = str(task_id)
        state["sent"] = 8
        # register, login, create, get (x2), list (x2), unmatched
        state["routes"] = 6
    finally:
        system.stop()
    raw = system.log_text("edge-api")
    system.cleanup()
    health = ('"route":"GET /health"', '"route":"GET /auth/health"',
              '"route":"GET /tasks/health"')
    state["lines"] = [line for line in raw.split("\n")
                      if '"_aws"' in line
                      and not any(h in line for h in health)]


class EmfLines(unittest.TestCase):
    def test_every_request_is_counted_once(self):
        docs = [json.loads(line) for line in state["lines"]]
        self.assertEqual(sum(d["requests"] for d in docs), state["sent"],
                         "\n".join(state["lines"]))

    def test_one_line_per_route_and_interval(self):
        routes = [json.loads(line)["route"] for line in state["lines"]]
        self.assertEqual(len(routes), state["routes"], routes)
        self.assertEqual(len(set(routes)), len(routes), routes)

    def test_latencies_are_the_requests(self):
        for line in state["lines"]:
            doc = json.loads(line)
            self.assertEqual(len(doc["latency_ms"]), doc["requests"], line)

    def test_lines_validate_against_the_schema(self):
        for line in state["lines"]:
            self.assertEqual(line, line.strip())
            doc = json.loads(line)  # one object, nothing around it
            errors = sorted(state["validator"].iter_errors(doc), key=str)
            self.assertEqual(errors, [], line)

    def test_references_resolve(self):
        for line in state["lines"]:
            doc = json.loads(line)
            for d in doc["_aws"]["CloudWatchMetrics"]:
                for dimset in d["Dimensions"]:
                    for dim in dimset:
                        self.assertIsInstance(doc.get(dim), str,
                                              "dimension %s: %s" % (dim, line))
                        self.assertNotIn(dim, HIGH_CARDINALITY, line)
                for m in d["Metrics"]:
                    v = doc.get(m["Name"])
                    if isinstance(v, list):
                        self.assertLessEqual(len(v), 100)
                        self.assertTrue(all(isinstance(x, (int, float))
                                            for x in v), line)
                    else:
                        self.assertIsInstance(v, (int, float), line)
                        self.assertNotIsInstance(v, bool, line)

    def test_values(self):
        docs = [json.loads(line) for line in state["lines"]]
        routes = {d.get("route") for d in docs}
        for r in routes:
            self.assertNotIn(state["task_id"], r or "")
        self.assertIn("unmatched", routes)
        # The one 503, on GET /tasks beside that route's 401.
        self.assertEqual(sum(d["errors"] for d in docs), 1, docs)
        by_route = {d["route"]: d for d in docs}
        self.assertEqual(by_route["GET /tasks"]["requests"], 2, docs)
        self.assertEqual(by_route["GET /tasks"]["errors"], 1, docs)
        self.assertTrue(all(x >= 0 for d in docs for x in d["latency_ms"]))


def emitted():
    """{(namespace, metric): [dimension sets as frozensets]} of the lines."""
    out = {}
    for line in state["lines"]:
        for d in json.loads(line)["_aws"]["CloudWatchMetrics"]:
            sets = [frozenset(s) for s in d["Dimensions"]]
            for m in d["Metrics"]:
                out.setdefault((d["Namespace"], m["Name"]), set()).update(sets)
    return out


SCHEMA_QUERY = re.compile(
    r"SELECT\s+\w+\((\w+)\)\s+FROM\s+SCHEMA\(\s*\"?([^,\")]+)\"?\s*"
    r"((?:,\s*\"?\w+\"?\s*)*)\)", re.I)


def custom_metrics(tpl):
    """(where, namespace, metric, dimension names or None) for every metric
    the template's alarms and dashboards name outside AWS's namespaces."""
    found = []
    for name, res in tpl["Resources"].items():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::CloudWatch::Alarm":
            stats = [props] + [q["MetricStat"]["Metric"]
                               for q in props.get("Metrics", [])
                               if "MetricStat" in q]
            for m in stats:
                if "MetricName" in m:
                    dims = frozenset(d["Name"] for d in
                                     m.get("Dimensions", []))
                    found.append((name, m.get("Namespace"), m["MetricName"],
                                  dims))
        if res["Type"] in ("AWS::CloudWatch::Alarm",
                           "AWS::CloudWatch::Dashboard"):
            text = json.dumps(props).replace('\\"', '"')
            for metric, ns, dims in SCHEMA_QUERY.findall(text):
                dimset = frozenset(x.strip(' "') for x in dims.split(",")
                                   if x.strip(' "'))
                found.append((name, ns.strip(), metric, dimset))
    # AWS's own namespaces: AWS/<service>, and ECS/ContainerInsights.
    return [f for f in found if isinstance(f[1], str)
            and not f[1].startswith(("AWS/", "ECS/ContainerInsights"))]


class AlarmsUseEmittedMetrics(unittest.TestCase):
    def test_alarm_metrics_are_emitted(self):
        tpl = cfnlib.load_merged()
        used = custom_metrics(tpl)
        alarms = [u for u in used
                  if tpl["Resources"][u[0]]["Type"] ==
                  "AWS::CloudWatch::Alarm"]
        self.assertTrue(alarms, "no alarm uses the code's EMF metrics")
        have = emitted()
        problems = []
        for where, ns, metric, dims in used:
            if (ns, metric) not in have:
                problems.append("%s: %s/%s is not emitted (emitted: %s)"
                                % (where, ns, metric, sorted(have)))
            elif dims not in have[(ns, metric)]:
                problems.append(
                    "%s: %s/%s with dimensions %s: the code emits it only "
                    "with %s" % (where, ns, metric, sorted(dims),
                                 [sorted(s) for s in have[(ns, metric)]]))
        self.assertEqual(problems, [], "\n".join(problems))


if __name__ == "__main__":
    unittest.main(verbosity=2)
