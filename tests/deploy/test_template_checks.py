"""The project checker: what cfn-lint does not check in ecs/data.yaml and
ecs/app.yaml, read together (cfnlib.load_merged: app.yaml's imports of the
data stack's exports followed to the exported resource).
Health-check ranges and exec form, the container health check being the
liveness probe (never the database), stopTimeout <= 120 and >= the drain
time, target type ip and /health, load balancer container name/port,
services depending on their listeners and the workers, non-root user,
read-only root, pinned images, every valueFrom key present in its secret's
JSON, each binary's configuration table (TA_PRINT_CONFIG=1 on the built
binaries in TA_BIN_DIR) against its task definition, and the runtime rules
of a real deployment: services and the database in separate stacks (the
migrations run between them), no DesiredCount next to auto scaling, at most
8 tasks per Cloud Map service, the database connection budget, the edge's
keep-alive above the load balancer's idle timeout, the load balancer's own
5xx in the error-rate alarm, the awslogs mode pinned, major engine upgrades
allowed. Each rule is also shown to fire on a copy broken on purpose."""
import copy
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfnlib  # noqa: E402

BIN_DIR = os.environ.get("TA_BIN_DIR", os.path.join(cfnlib.SOURCE_DIR, "build", "bin"))
ATTACHMENT_KEYS = {"host", "port", "engine"}   # SecretTargetAttachment adds
HC_RANGES = {"Interval": (5, 300), "Timeout": (2, 60), "Retries": (1, 10),
             "StartPeriod": (0, 300)}
_schemas = {}


def schema(binary):
    if binary not in _schemas:
        _schemas[binary] = cfnlib.binary_config(BIN_DIR, binary)
    return _schemas[binary]


def secret_keys(tpl, logical):
    """Keys of a secret's JSON, or None for a plain-string secret."""
    gen = tpl["Resources"][logical]["Properties"].get("GenerateSecretString", {})
    if "SecretStringTemplate" not in gen:
        return None
    keys = set(json.loads(gen["SecretStringTemplate"])) | {gen["GenerateStringKey"]}
    for a in cfnlib.of_type(tpl, "AWS::SecretsManager::SecretTargetAttachment").values():
        if cfnlib.references(a["Properties"]["SecretId"]) == {logical}:
            keys |= ATTACHMENT_KEYS
    return keys


def value_from(tpl, v):
    """(secret logical id, json key or None) of a ValueFrom."""
    if "Ref" in v:
        return v["Ref"], None
    sub = v["Fn::Sub"]
    text, names = (sub[0], sub[1]) if isinstance(sub, list) else (sub, {})
    m = re.fullmatch(r"\$\{(\w+)\}(?::([^:]*):([^:]*):([^:]*))?", text)
    sid = m.group(1)
    if sid in names:
        sid = next(iter(cfnlib.references(names[sid])))
    return sid, (m.group(2) or None)


def setting(c, name, sch):
    for e in c.get("Environment", []):
        if e["Name"] == name:
            return e["Value"]
    for s in sch["settings"]:
        if s["name"] == name:
            return s["default"]
    return None


def check(tpl):
    """Every problem found, as readable strings; [] when all is well."""
    P = []
    res = tpl["Resources"]
    r = cfnlib.Renderer(tpl)
    tds = cfnlib.of_type(tpl, "AWS::ECS::TaskDefinition")
    services = cfnlib.of_type(tpl, "AWS::ECS::Service")
    edge_rpc_s = 5
    edge_refresh_s = 10
    for tdn, td in tds.items():
        for c in td["Properties"]["ContainerDefinitions"]:
            if c["Name"] == "edge-api":
                edge_rpc_s = int(setting(c, "RPC_TIMEOUT_MS", schema("edge-api"))) / 1000
                edge_refresh_s = int(setting(c, "DISCOVERY_REFRESH_S", schema("edge-api")))
    for tdn, td in tds.items():
        for c in td["Properties"]["ContainerDefinitions"]:
            where = "%s/%s" % (tdn, c["Name"])
            user = str(c.get("User", "root")).split(":")[0]
            if user in ("", "0", "root"):
                P.append("%s: runs as root" % where)
            if c.get("ReadonlyRootFilesystem") is not True:
                P.append("%s: root filesystem not read-only" % where)
            image = r.render(c["Image"])
            if not image.endswith(":<IMAGE_TAG>"):
                P.append("%s: image not pinned to ImageTag: %s" % (where, image))
            hc = c.get("HealthCheck")
            if hc:
                cmd = hc["Command"]
                if cmd[0] != "CMD" or not cmd[1].startswith("/"):
                    P.append("%s: health check not exec form" % where)
                elif cmd[1:] != ["/usr/local/bin/" + c["Name"], "--health-check"]:
                    # --ready-check (the database) would make ECS replace
                    # every worker while the database is away, and fail a
                    # first deploy before the migrations ran.
                    P.append("%s: health check is not the binary's --health-check (liveness)" % where)
                for k, (lo, hi) in HC_RANGES.items():
                    if k in hc and not lo <= hc[k] <= hi:
                        P.append("%s: health check %s %s outside %d-%d" % (where, k, hc[k], lo, hi))
                if hc.get("Timeout", 5) >= hc.get("Interval", 30):
                    P.append("%s: health check timeout >= interval" % where)
            # configuration table of the binary vs the task definition
            binary = c["Name"]
            sch = schema(binary)
            known = {s["name"]: s for s in sch["settings"]}
            env = {e["Name"] for e in c.get("Environment", [])}
            sec = {s["Name"] for s in c.get("Secrets", [])}
            for n in sorted((env | sec) - set(known)):
                P.append("%s: sets %s, which %s does not read" % (where, n, binary))
            for n, s in known.items():
                if s["required"] and n not in env | sec:
                    P.append("%s: required %s not provided" % (where, n))
                if s["secret"] and n in env:
                    P.append("%s: secret %s given in plain Environment" % (where, n))
            if "DB_SSLMODE" in known and setting(c, "DB_SSLMODE", sch) not in ("require", "verify-full"):
                P.append("%s: DB_SSLMODE is not require/verify-full" % where)
            # RPC_AUTH=off is for a developer's benchmark: a worker would
            # serve any caller on its port (docs/caller-auth.md).
            if "RPC_AUTH" in known and setting(c, "RPC_AUTH", sch) == "off":
                P.append("%s: RPC_AUTH is off" % where)
            for s in c.get("Secrets", []):
                sid, key = value_from(tpl, s["ValueFrom"])
                keys = secret_keys(tpl, sid)
                if keys is None and key:
                    P.append("%s: %s reads key %s of plain secret %s" % (where, s["Name"], key, sid))
                elif keys is not None and key is None:
                    P.append("%s: %s takes JSON secret %s whole" % (where, s["Name"], sid))
                elif keys is not None and key not in keys:
                    P.append("%s: %s: key %s not in secret %s %s" % (where, s["Name"], key, sid, sorted(keys)))
            # stop timeout: Fargate max 120; covers the drain
            st = c.get("StopTimeout")
            if st is None or st > 120:
                P.append("%s: StopTimeout %s not set or > 120" % (where, st))
            else:
                if binary == "edge-api":
                    drain = edge_rpc_s + 1      # edge_http_close(rpc timeout + 1 s)
                else:
                    # DRAIN_DELAY_S of serving after SIGTERM, then the
                    # last call; the drain must outlast the record TTL and
                    # the edge's re-resolution (common/stop.h).
                    delay = int(setting(c, "DRAIN_DELAY_S", sch) or 0)
                    drain = delay + edge_rpc_s
                    for sn, s in services.items():
                        if cfnlib.references(s["Properties"]["TaskDefinition"]) == {tdn}:
                            for reg in s["Properties"].get("ServiceRegistries", []):
                                disc = res[next(iter(cfnlib.references(reg)))]
                                ttl = max(x["TTL"] for x in disc["Properties"]["DnsConfig"]["DnsRecords"])
                                if delay < ttl + edge_refresh_s:
                                    P.append("%s: DRAIN_DELAY_S %d < record TTL %d + edge DISCOVERY_REFRESH_S %d" % (where, delay, ttl, edge_refresh_s))
                if st < drain:
                    P.append("%s: StopTimeout %s < drain time %s s" % (where, st, drain))
    for sn, s in services.items():
        p = s["Properties"]
        td = res[next(iter(cfnlib.references(p["TaskDefinition"])))]
        cdefs = {c["Name"]: c for c in td["Properties"]["ContainerDefinitions"]}
        deps = cfnlib.dependencies(tpl, sn)
        dc = p.get("DeploymentConfiguration", {}).get("DeploymentCircuitBreaker", {})
        if not (dc.get("Enable") and dc.get("Rollback")):
            P.append("%s: no circuit breaker with rollback" % sn)
        if p["NetworkConfiguration"]["AwsvpcConfiguration"].get("AssignPublicIp") != "DISABLED":
            P.append("%s: tasks get public IPs" % sn)
        if p["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"] != {"Ref": "PrivateSubnetIds"}:
            P.append("%s: not in the private subnets" % sn)
        regs = p.get("ServiceRegistries", [])
        if regs and not all(c.get("HealthCheck") for c in cdefs.values()):
            P.append("%s: registered in Cloud Map without a container health check" % sn)
        for lb in p.get("LoadBalancers", []):
            tgn = next(iter(cfnlib.references(lb["TargetGroupArn"])))
            tg = res[tgn]["Properties"]
            c = cdefs.get(lb["ContainerName"])
            if c is None:
                P.append("%s: load balancer container %s not in task definition" % (sn, lb["ContainerName"]))
            elif lb["ContainerPort"] not in [m["ContainerPort"] for m in c.get("PortMappings", [])]:
                P.append("%s: load balancer port %s not mapped by %s" % (sn, lb["ContainerPort"], lb["ContainerName"]))
            if tg.get("Port") != lb["ContainerPort"]:
                P.append("%s: target group port %s != container port %s" % (sn, tg.get("Port"), lb["ContainerPort"]))
            if tg.get("TargetType") != "ip":
                P.append("%s: target group %s type is not ip" % (sn, tgn))
            if tg.get("HealthCheckPath") != "/health":
                P.append("%s: target group health check path is not /health" % sn)
            attrs = {a["Key"]: a["Value"] for a in tg.get("TargetGroupAttributes", [])}
            if int(attrs.get("deregistration_delay.timeout_seconds", 300)) > 30:
                P.append("%s: deregistration delay above 30 s" % sn)
            for ln, l in cfnlib.of_type(tpl, "AWS::ElasticLoadBalancingV2::Listener").items():
                if tgn in cfnlib.references(l["Properties"]) and ln not in deps:
                    P.append("%s: does not depend on listener %s" % (sn, ln))
        # worker names in *_RPC_URL resolve to a Cloud Map service whose
        # tasks listen on that port; the caller starts after that service.
        for c in cdefs.values():
            for e in c.get("Environment", []):
                if not e["Name"].endswith("_RPC_URL"):
                    continue
                url = r.render(e["Value"])
                m = re.fullmatch(r"tcp://([^.]+)\.(.+):(\d+)", url)
                ns = r.render(next(iter(cfnlib.of_type(tpl, "AWS::ServiceDiscovery::PrivateDnsNamespace").values()))["Properties"]["Name"])
                target = None
                for wn, w in services.items():
                    for reg in w["Properties"].get("ServiceRegistries", []):
                        disc = next(iter(cfnlib.references(reg)))
                        if m and r.getatt(disc, "Name") == m.group(1):
                            target = (wn, w)
                if not m or m.group(2) != ns or target is None:
                    P.append("%s: %s=%s names no Cloud Map service" % (sn, e["Name"], url))
                    continue
                wn, w = target
                wtd = res[next(iter(cfnlib.references(w["Properties"]["TaskDefinition"])))]
                ports = [pm["ContainerPort"] for wc in wtd["Properties"]["ContainerDefinitions"] for pm in wc.get("PortMappings", [])]
                if int(m.group(3)) not in ports:
                    P.append("%s: %s port %s is not a port of %s" % (sn, e["Name"], m.group(3), wn))
                if wn not in deps:
                    P.append("%s: does not depend on worker service %s" % (sn, wn))
    P += runtime_rules(tpl)
    for ln, lg in cfnlib.of_type(tpl, "AWS::Logs::LogGroup").items():
        if lg["Properties"].get("RetentionInDays") != 30:
            P.append("%s: retention is not 30 days" % ln)
    for name in tpl.get("Parameters", {}):
        if re.search(r"password|secret|token", name, re.I):
            P.append("parameter %s: secrets must be generated, not passed" % name)
    return P


def _env(c, name, sch=None):
    return setting(c, name, sch or {"settings": []})


def runtime_rules(tpl):
    """What only a running deployment shows (shared/NOTES-aws.md section 4)."""
    P = []
    res = tpl["Resources"]
    stack = tpl.get("Stack", {})
    r = cfnlib.Renderer(tpl)
    services = cfnlib.of_type(tpl, "AWS::ECS::Service")
    targets = cfnlib.of_type(tpl, "AWS::ApplicationAutoScaling::ScalableTarget")
    params = tpl.get("Parameters", {})

    def value(v):
        """A number: a literal, or a parameter's default."""
        if isinstance(v, dict) and "Ref" in v:
            return int(params[v["Ref"]]["Default"])
        return int(v)

    # The database outlives a failed services stack, and the migrations
    # run between the two: never in the same stack as a service.
    for dn in cfnlib.of_type(tpl, "AWS::RDS::DBInstance"):
        for sn in services:
            if stack.get(dn, "?") == stack.get(sn, "!"):
                P.append("%s and %s in one stack: migrations cannot run between them" % (dn, sn))
        db = res[dn]["Properties"]
        if db.get("AllowMajorVersionUpgrade") is not True:
            P.append("%s: AllowMajorVersionUpgrade not set (major upgrades fail)" % dn)
    max_tasks = {}
    for sn, s in services.items():
        p = s["Properties"]
        if "DesiredCount" in p:
            P.append("%s: DesiredCount set (every update resets auto scaling)" % sn)
        st = [t for t in targets.values()
              if sn in cfnlib.references(t["Properties"]["ResourceId"])]
        if len(st) != 1:
            P.append("%s: not exactly one scalable target" % sn)
            continue
        max_tasks[sn] = value(st[0]["Properties"]["MaxCapacity"])
        if p.get("ServiceRegistries") and max_tasks[sn] > 8:
            P.append("%s: MaxCapacity %d above the 8 records a Cloud Map answer holds" % (sn, max_tasks[sn]))
    # Database connections at the worst moment: every worker service at
    # its maximum, mid-rollout (MaximumPercent), plus the migrate task and
    # PostgreSQL's reserved superuser connections.
    max_conn = None
    for pg in cfnlib.of_type(tpl, "AWS::RDS::DBParameterGroup").values():
        if "max_connections" in pg["Properties"].get("Parameters", {}):
            max_conn = value(pg["Properties"]["Parameters"]["max_connections"])
    if max_conn is None:
        P.append("database max_connections not set explicitly")
    else:
        need = 1 + 3
        for sn, s in services.items():
            td = res[next(iter(cfnlib.references(s["Properties"]["TaskDefinition"])))]
            pct = s["Properties"].get("DeploymentConfiguration", {}).get("MaximumPercent", 200)
            for c in td["Properties"]["ContainerDefinitions"]:
                if "DB_POOL_SIZE" in [s["name"] for s in schema(c["Name"])["settings"]]:
                    pool = next((e["Value"] for e in c.get("Environment", [])
                                 if e["Name"] == "DB_POOL_SIZE"), None)
                    pool = value(pool) if pool is not None else int(
                        setting(c, "DB_POOL_SIZE", schema(c["Name"])))
                    need += pool * max_tasks.get(sn, 0) * pct // 100
        if need > max_conn:
            P.append("database connections: %d needed at full scale mid-rollout > max_connections %d" % (need, max_conn))
    # Keep-alive: the edge must not close an idle connection before the
    # load balancer does.
    idle = 60
    for lb in cfnlib.of_type(tpl, "AWS::ElasticLoadBalancingV2::LoadBalancer").values():
        for a in lb["Properties"].get("LoadBalancerAttributes", []):
            if a["Key"] == "idle_timeout.timeout_seconds":
                idle = int(a["Value"])
    for sn, s in services.items():
        if not s["Properties"].get("LoadBalancers"):
            continue
        td = res[next(iter(cfnlib.references(s["Properties"]["TaskDefinition"])))]
        for c in td["Properties"]["ContainerDefinitions"]:
            keep = int(setting(c, "HTTP_TIMEOUT_S", schema(c["Name"])))
            if keep <= idle:
                P.append("%s: HTTP_TIMEOUT_S %d <= load balancer idle timeout %d (502s)" % (sn, keep, idle))
            # All of its traffic comes from a few load balancer nodes: the
            # per-address connection cap would refuse it.
            if not setting(c, "TRUSTED_PROXIES", schema(c["Name"])):
                P.append("%s: behind a load balancer without TRUSTED_PROXIES (per-address cap)" % sn)
    # Logs: the mode pinned (the default changed to non-blocking, which
    # drops lines, EMF metrics included).
    for tdn, td in cfnlib.of_type(tpl, "AWS::ECS::TaskDefinition").items():
        for c in td["Properties"]["ContainerDefinitions"]:
            opts = c.get("LogConfiguration", {}).get("Options", {})
            if opts.get("mode") != "blocking":
                P.append("%s/%s: awslogs mode not pinned to blocking" % (tdn, c["Name"]))
    # The error-rate alarm counts the load balancer's own 5xx too.
    names = set()
    for a in cfnlib.of_type(tpl, "AWS::CloudWatch::Alarm").values():
        for m in a["Properties"].get("Metrics", []):
            names.add(m.get("MetricStat", {}).get("Metric", {}).get("MetricName"))
    for need_metric in ("HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"):
        if need_metric not in names:
            P.append("no alarm counts %s" % need_metric)
    return P


def container(tpl, td, i=0):
    return tpl["Resources"][td]["Properties"]["ContainerDefinitions"][i]


# (what is broken, how, a fragment of the problem it must cause)
MUTATIONS = [
    ("health interval", lambda t: container(t, "AuthTaskDefinition")["HealthCheck"].update(Interval=400), "Interval 400 outside"),
    ("health via shell", lambda t: container(t, "TaskTaskDefinition")["HealthCheck"].update(Command=["CMD-SHELL", "curl -f localhost"]), "not exec form"),
    ("stop timeout > 120", lambda t: container(t, "EdgeTaskDefinition").update(StopTimeout=150), "> 120"),
    ("stop timeout < drain", lambda t: container(t, "AuthTaskDefinition").update(StopTimeout=10), "< drain time"),
    ("worker exits at SIGTERM", lambda t: container(t, "TaskTaskDefinition").update(Environment=[e for e in container(t, "TaskTaskDefinition")["Environment"] if e["Name"] != "DRAIN_DELAY_S"]), "DRAIN_DELAY_S 0 < record TTL 10 + edge DISCOVERY_REFRESH_S 10"),
    ("target type instance", lambda t: t["Resources"]["EdgeTargetGroup"]["Properties"].update(TargetType="instance"), "type is not ip"),
    ("health path /", lambda t: t["Resources"]["EdgeTargetGroup"]["Properties"].update(HealthCheckPath="/"), "not /health"),
    ("LB container name", lambda t: t["Resources"]["EdgeService"]["Properties"]["LoadBalancers"][0].update(ContainerName="edge"), "not in task definition"),
    ("LB port", lambda t: t["Resources"]["EdgeService"]["Properties"]["LoadBalancers"][0].update(ContainerPort=80), "port 80 not mapped"),
    ("no listener dependency", lambda t: t["Resources"]["EdgeService"].update(DependsOn=["AuthService", "TaskService"]), "does not depend on listener HttpListener"),
    ("no worker dependency", lambda t: t["Resources"]["EdgeService"].update(DependsOn=["ListenersReady", "HttpListener", "AuthService"]), "does not depend on worker service TaskService"),
    ("root user", lambda t: container(t, "TaskTaskDefinition").pop("User"), "runs as root"),
    ("writable root", lambda t: container(t, "EdgeTaskDefinition").update(ReadonlyRootFilesystem=False), "not read-only"),
    ("unknown secret key", lambda t: container(t, "AuthTaskDefinition")["Secrets"][0].update(ValueFrom={"Fn::Sub": "${DbSecret}:hostname::"}), "key hostname not in secret"),
    ("no attachment: no host key", lambda t: t["Resources"].pop("DbSecretAttachment"), "key host not in secret"),
    ("required setting missing", lambda t: container(t, "EdgeTaskDefinition").pop("Secrets"), "required JWT_SECRET not provided"),
    ("worker without RPC_AUTH_KEY", lambda t: container(t, "TaskTaskDefinition").update(Secrets=[s for s in container(t, "TaskTaskDefinition")["Secrets"] if s["Name"] != "RPC_AUTH_KEY"]), "task-svc: required RPC_AUTH_KEY not provided"),
    ("edge without RPC_AUTH_KEY", lambda t: container(t, "EdgeTaskDefinition").update(Secrets=[s for s in container(t, "EdgeTaskDefinition")["Secrets"] if s["Name"] != "RPC_AUTH_KEY"]), "edge-api: required RPC_AUTH_KEY not provided"),
    ("RPC_AUTH_KEY in plain env", lambda t: container(t, "AuthTaskDefinition")["Environment"].append({"Name": "RPC_AUTH_KEY", "Value": "x" * 40}), "secret RPC_AUTH_KEY given in plain Environment"),
    ("caller authentication off", lambda t: container(t, "AuthTaskDefinition")["Environment"].append({"Name": "RPC_AUTH", "Value": "off"}), "RPC_AUTH is off"),
    ("unknown setting", lambda t: container(t, "TaskTaskDefinition")["Environment"].append({"Name": "DB_PASS", "Value": "x"}), "sets DB_PASS, which task-svc does not read"),
    ("secret in plain env", lambda t: container(t, "AuthTaskDefinition")["Environment"].append({"Name": "JWT_SECRET", "Value": "x" * 40}), "secret JWT_SECRET given in plain Environment"),
    ("TLS off", lambda t: container(t, "MigrateTaskDefinition")["Environment"].__setitem__(1, {"Name": "DB_SSLMODE", "Value": "prefer"}), "DB_SSLMODE is not require"),
    ("wrong worker port", lambda t: container(t, "EdgeTaskDefinition")["Environment"].__setitem__(1, {"Name": "AUTH_RPC_URL", "Value": {"Fn::Sub": "tcp://${AuthDiscovery.Name}.${Project}.local:7002"}}), "port 7002 is not a port of AuthService"),
    ("wrong worker name", lambda t: container(t, "EdgeTaskDefinition")["Environment"].__setitem__(2, {"Name": "TASK_RPC_URL", "Value": {"Fn::Sub": "tcp://tasks.${Project}.local:7002"}}), "names no Cloud Map service"),
    ("image latest", lambda t: container(t, "EdgeTaskDefinition").update(Image="repo/edge-api:latest"), "not pinned"),
    ("no circuit breaker", lambda t: t["Resources"]["TaskService"]["Properties"]["DeploymentConfiguration"].pop("DeploymentCircuitBreaker"), "no circuit breaker"),
    ("retention", lambda t: t["Resources"]["EdgeLogGroup"]["Properties"].update(RetentionInDays=7), "retention is not 30"),
    ("secret parameter", lambda t: t["Parameters"].update(DbPassword={"Type": "String", "NoEcho": True}), "secrets must be generated"),
    ("readiness as health check", lambda t: container(t, "TaskTaskDefinition")["HealthCheck"].update(Command=["CMD", "/usr/local/bin/task-svc", "--ready-check"]), "not the binary's --health-check (liveness)"),
    ("database with the services", lambda t: t["Stack"].update(Database="app"), "Database and AuthService in one stack"),
    ("DesiredCount", lambda t: t["Resources"]["TaskService"]["Properties"].update(DesiredCount=2), "TaskService: DesiredCount set"),
    ("10 workers", lambda t: t["Parameters"]["WorkerMaxCapacity"].update(Default=10), "MaxCapacity 10 above the 8 records"),
    ("pool of 5", lambda t: next(e for e in container(t, "AuthTaskDefinition")["Environment"] if e["Name"] == "DB_POOL_SIZE").update(Value="5"), "needed at full scale mid-rollout > max_connections 100"),
    ("max_connections unset", lambda t: t["Resources"]["DbParameterGroup"]["Properties"]["Parameters"].pop("max_connections"), "max_connections not set explicitly"),
    ("edge keep-alive 30 s", lambda t: next(e for e in container(t, "EdgeTaskDefinition")["Environment"] if e["Name"] == "HTTP_TIMEOUT_S").update(Value="30"), "HTTP_TIMEOUT_S 30 <= load balancer idle timeout 60"),
    ("edge keep-alive default", lambda t: container(t, "EdgeTaskDefinition").update(Environment=[e for e in container(t, "EdgeTaskDefinition")["Environment"] if e["Name"] != "HTTP_TIMEOUT_S"]) or t["Resources"]["LoadBalancer"]["Properties"]["LoadBalancerAttributes"][1].update(Value="120"), "HTTP_TIMEOUT_S 75 <= load balancer idle timeout 120"),
    ("no trusted proxies", lambda t: container(t, "EdgeTaskDefinition").update(Environment=[e for e in container(t, "EdgeTaskDefinition")["Environment"] if e["Name"] != "TRUSTED_PROXIES"]), "without TRUSTED_PROXIES"),
    ("awslogs mode default", lambda t: container(t, "EdgeTaskDefinition")["LogConfiguration"]["Options"].pop("mode"), "awslogs mode not pinned"),
    ("ELB 5xx not alarmed", lambda t: t["Resources"]["ErrorRateAlarm"]["Properties"]["Metrics"].pop(1), "no alarm counts HTTPCode_ELB_5XX_Count"),
    ("no major upgrade", lambda t: t["Resources"]["Database"]["Properties"].pop("AllowMajorVersionUpgrade"), "AllowMajorVersionUpgrade not set"),
]


class TemplateChecks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tpl = cfnlib.load_merged()

    def test_binaries_print_their_tables(self):
        for b in ("edge-api", "auth-svc", "task-svc", "taskapi-migrate"):
            s = schema(b)
            self.assertEqual(s["service"], b)
            self.assertTrue(s["settings"])
        self.assertTrue(any(s["name"] == "JWT_SECRET" and s["required"] and s["secret"]
                            for s in schema("edge-api")["settings"]))
        for b in ("edge-api", "auth-svc", "task-svc"):
            self.assertTrue(any(s["name"] == "RPC_AUTH_KEY" and s["required"]
                                and s["secret"] for s in schema(b)["settings"]), b)

    def test_app_template_passes(self):
        self.assertEqual(check(self.tpl), [])

    def test_each_rule_fires_when_broken(self):
        for what, mutate, expect in MUTATIONS:
            with self.subTest(broken=what):
                t = copy.deepcopy(self.tpl)
                mutate(t)
                problems = check(t)
                self.assertTrue(any(expect in p for p in problems),
                                "%s: expected %r in %s" % (what, expect, problems))


if __name__ == "__main__":
    unittest.main(verbosity=2)
