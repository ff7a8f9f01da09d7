"""What the rehearsal reads from the rendered CloudFormation templates.

Every ecs/*.yaml is loaded (tests/deploy/cfnlib.py's decoder and
Renderer); the stack of a template is <Project>-<file name>. Imports
(Fn::ImportValue) are replaced by the exporting template's value node, so
one merged template holds every resource and references can be followed
across stacks, while each resource remembers the stack that owns it.
Resources are found by Type, never by logical name. Standard library +
cfnlint only."""
import copy
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "deploy"))
import cfnlib  # noqa: E402

SOURCE_DIR = cfnlib.SOURCE_DIR
ECS_DIR = cfnlib.ECS_DIR
REGISTRY = "registry.local"
# TODO(lead): remove once ecs/deploy.sh --plan exists everywhere.
FALLBACK_PLAN = ["stack ecr", "images", "lint", "stack network", "stack data",
                 "migrate", "stack app", "rollout", "health"]
NO_LOCAL_MEANING = {"ecr", "images", "lint", "network"}
ALB_IDLE_DEFAULT = 60


def project_version():
    with open(os.path.join(SOURCE_DIR, "CMakeLists.txt")) as f:
        m = re.search(r"project\(taskapi VERSION ([0-9.]+)", f.read())
    return m.group(1)


def deploy_plan():
    """The ordered steps of ecs/deploy.sh --plan, or the fallback list."""
    try:
        r = subprocess.run([os.path.join(ECS_DIR, "deploy.sh"), "--plan"],
                           capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        lines = [x.strip() for x in r.stdout.splitlines() if x.strip()]
        if r.returncode == 0 and lines and all(
                re.fullmatch(r"[a-z]+( [a-z0-9-]+)?", x) for x in lines):
            return lines, "deploy.sh --plan"
    except (OSError, subprocess.TimeoutExpired):
        pass
    return list(FALLBACK_PLAN), "fallback list (deploy.sh has no --plan)"


class Render(cfnlib.Renderer):
    """cfnlib's Renderer with concrete stack names and ECR URIs."""

    def __init__(self, tpl, conditions, params, stack_name=None):
        super().__init__(tpl, conditions, params)
        self.stack_name = stack_name

    def ref(self, name):
        if name == "AWS::StackName" and self.stack_name:
            return self.stack_name
        return super().ref(name)

    def getatt(self, name, attr):
        r = self.res.get(name, {})
        if r.get("Type") == "AWS::ECR::Repository" and attr == "RepositoryUri":
            return "%s/%s" % (REGISTRY, self.render(
                r["Properties"]["RepositoryName"]))
        return super().getatt(name, attr)


def _conditions(tpl, params):
    r = Render(tpl, {}, params)

    def ev(c):
        if isinstance(c, dict):
            (k, a), = c.items()
            if k == "Fn::Equals":
                return r.render(a[0]) == r.render(a[1])
            if k == "Fn::Not":
                return not ev(a[0])
            if k == "Fn::And":
                return all(ev(x) for x in a)
            if k == "Fn::Or":
                return any(ev(x) for x in a)
            if k == "Condition":
                return ev(tpl["Conditions"][a])
        return bool(c)
    return {n: ev(c) for n, c in tpl.get("Conditions", {}).items()}


def _inline(v, exports):
    if isinstance(v, list):
        return [_inline(x, exports) for x in v]
    if not isinstance(v, dict):
        return v
    if list(v) == ["Fn::ImportValue"]:
        name = exports["__render__"](v["Fn::ImportValue"])
        if name in exports:
            return copy.deepcopy(exports[name])
        raise ValueError("import of %r: no template exports it" % name)
    return {k: _inline(x, exports) for k, x in v.items()}


class Model:
    """All templates, merged; params override parameter defaults."""

    def __init__(self, params=None):
        self.version = project_version()
        self.project = (params or {}).get("Project", "taskapi")
        files = sorted(f for f in os.listdir(ECS_DIR) if f.endswith(".yaml"))
        raw = {f[:-5]: cfnlib.load_named(f) for f in files}
        self.params = {"Project": self.project, "ImageTag": self.version}
        for base in raw:
            self.params["%sStackName" % base.capitalize()] = self.stack_name(
                base)
        merged_params = {}
        for tpl in raw.values():
            for n, p in tpl.get("Parameters", {}).items():
                merged_params.setdefault(n, p)
        self.params.update(params or {})
        self.params = {k: str(v) for k, v in self.params.items()}
        shell = {"Parameters": merged_params, "Resources": {}}
        exports = {"__render__": lambda n: Render(shell, {}, self.params)
                   .render(n)}
        for base, tpl in raw.items():
            r = Render(tpl, {}, self.params, self.stack_name(base))
            for name, o in tpl.get("Outputs", {}).items():
                if "Export" in o:
                    exports[r.render(o["Export"]["Name"])] = o["Value"]
        self.tpl = {"Parameters": merged_params, "Resources": {},
                    "Conditions": {}}
        self.stack_of = {}
        for base, tpl in raw.items():
            self.tpl["Conditions"].update(tpl.get("Conditions", {}))
            for name, res in tpl.get("Resources", {}).items():
                if name in self.tpl["Resources"]:
                    raise ValueError("resource %s in two templates" % name)
                self.tpl["Resources"][name] = _inline(res, exports)
                self.stack_of[name] = base
        self.conditions = _conditions(self.tpl, self.params)
        self.r = Render(self.tpl, self.conditions, self.params)
        self.res = {n: x for n, x in self.tpl["Resources"].items()
                    if self.conditions.get(x.get("Condition"), True)}
        self.ids = {}   # rendered Ref / GetAtt placeholder -> logical name
        for n in self.res:
            self.ids[str(self.r.ref(n))] = n
            self.ids["<%s.Arn>" % n] = n

    def stack_name(self, base):
        return "%s-%s" % (self.project, base)

    def of_type(self, rtype, stack=None):
        return {n: x for n, x in self.res.items() if x["Type"] == rtype
                and (stack is None or self.stack_of[n] == stack)}

    def props(self, name):
        return self.r.render(copy.deepcopy(self.res[name].get(
            "Properties", {})))

    def lookup(self, rendered):
        """Logical name a rendered Ref/GetAtt placeholder stands for."""
        return self.ids.get(str(rendered))

    def stack_resources(self, stack):
        return [n for n in self.res if self.stack_of[n] == stack]

    def deps(self, name):
        return cfnlib.dependencies(self.tpl, name) & set(self.res)

    # ---- the pieces the stand-ins need
    def taskdef(self, name):
        p = self.props(name)
        c = p["ContainerDefinitions"][0]
        image = c["Image"]
        repo, _, tag = image.rpartition(":")
        hc = c.get("HealthCheck")
        return {
            "logical": name, "family": p.get("Family", name),
            "container": c["Name"], "image": image,
            "repo": repo.rsplit("/", 1)[-1], "tag": tag,
            "entrypoint": c.get("EntryPoint"), "command": c.get("Command"),
            "env": {e["Name"]: str(e["Value"])
                    for e in c.get("Environment", [])},
            "secrets": [(s["Name"], s["ValueFrom"])
                        for s in c.get("Secrets", [])],
            "user": str(c.get("User", "")),
            "readonly": bool(c.get("ReadonlyRootFilesystem", False)),
            "stop_timeout": int(c.get("StopTimeout", 30)),
            "health": None if not hc else {
                "command": list(hc["Command"]),
                "interval": int(hc.get("Interval", 30)),
                "timeout": int(hc.get("Timeout", 5)),
                "retries": int(hc.get("Retries", 3)),
                "start_period": int(hc.get("StartPeriod", 0))},
            "ports": [int(m["ContainerPort"])
                      for m in c.get("PortMappings", [])],
        }

    def target_group(self, name):
        p = self.props(name)
        attrs = {a["Key"]: a["Value"]
                 for a in p.get("TargetGroupAttributes", [])}
        return {"logical": name, "port": int(p.get("Port", 80)),
                "path": p.get("HealthCheckPath", "/"),
                "interval": int(p.get("HealthCheckIntervalSeconds", 30)),
                "timeout": int(p.get("HealthCheckTimeoutSeconds", 5)),
                "healthy": int(p.get("HealthyThresholdCount", 5)),
                "unhealthy": int(p.get("UnhealthyThresholdCount", 2)),
                "matcher": str(p.get("Matcher", {}).get("HttpCode", "200")),
                "dereg_delay": int(attrs.get(
                    "deregistration_delay.timeout_seconds", 300))}

    def load_balancer(self, name):
        p = self.props(name)
        attrs = {a["Key"]: a["Value"]
                 for a in p.get("LoadBalancerAttributes", [])}
        return {"logical": name, "idle_timeout": int(attrs.get(
            "idle_timeout.timeout_seconds", ALB_IDLE_DEFAULT))}

    def listener(self, name):
        p = self.props(name)
        fwd = [a for a in p.get("DefaultActions", [])
               if a.get("Type") == "forward"]
        return {"logical": name, "port": int(p["Port"]),
                "protocol": p.get("Protocol", "HTTP"),
                "lb": self.lookup(p["LoadBalancerArn"]),
                "tg": self.lookup(fwd[0]["TargetGroupArn"]) if fwd else None}

    def discovery(self, name):
        p = self.props(name)
        ns = self.lookup(p["NamespaceId"])
        recs = p["DnsConfig"]["DnsRecords"]
        return {"logical": name, "name": p["Name"], "namespace": ns,
                "fqdn": "%s.%s" % (p["Name"], self.props(ns)["Name"]),
                "ttl": int([x for x in recs if x["Type"] == "A"][0]["TTL"]),
                "custom_health": "HealthCheckCustomConfig" in p}

    def namespace(self, name):
        p = self.props(name)
        soa = p.get("Properties", {}).get("DnsProperties", {}).get("SOA", {})
        return {"logical": name, "name": p["Name"],
                "soa_ttl": int(soa.get("TTL", 15))}

    def scalable_target(self, name):
        p = self.props(name)
        svc = p["ResourceId"].rsplit("/", 1)[-1]
        return {"logical": name, "service": svc,
                "min": int(p["MinCapacity"]), "max": int(p["MaxCapacity"])}

    def service(self, name):
        p = self.props(name)
        dc = p.get("DeploymentConfiguration", {})
        cb = dc.get("DeploymentCircuitBreaker", {})
        lbs = p.get("LoadBalancers", [])
        regs = p.get("ServiceRegistries", [])
        return {
            "logical": name, "name": p.get("ServiceName", name),
            "taskdef": self.lookup(p["TaskDefinition"]),
            "desired": (int(p["DesiredCount"]) if "DesiredCount" in p
                        else None),
            "min_healthy": int(dc.get("MinimumHealthyPercent", 100)),
            "max_percent": int(dc.get("MaximumPercent", 200)),
            "breaker": bool(cb.get("Enable", False)),
            "rollback": bool(cb.get("Rollback", False)),
            "grace": int(p.get("HealthCheckGracePeriodSeconds", 0)),
            "target_group": self.lookup(lbs[0]["TargetGroupArn"])
            if lbs else None,
            "container_port": int(lbs[0]["ContainerPort"]) if lbs else None,
            "discovery": self.lookup(regs[0]["RegistryArn"]) if regs else None,
        }

    def service_taskdefs(self):
        return {self.service(s)["taskdef"]
                for s in self.of_type("AWS::ECS::Service")}

    def oneoff_taskdefs(self):
        """Task definitions no service runs (the migrate task)."""
        used = self.service_taskdefs()
        return sorted(n for n in self.of_type("AWS::ECS::TaskDefinition")
                      if n not in used)

    def db_secret(self):
        """(secret logical name, SecretStringTemplate dict) of the secret a
        SecretTargetAttachment ties to the database."""
        import json
        for n in self.of_type("AWS::SecretsManager::SecretTargetAttachment"):
            sid = self.lookup(self.props(n)["SecretId"])
            g = self.props(sid).get("GenerateSecretString", {})
            return sid, json.loads(g.get("SecretStringTemplate", "{}"))
        raise ValueError("no SecretTargetAttachment in any template")
