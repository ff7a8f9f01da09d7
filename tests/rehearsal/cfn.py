"""The CloudFormation stand-in: creates a stack's resources from the
rendered template in dependency order (independent ones at once, as
CloudFormation does), waits for each ECS service to stabilize, and on a
failed first create rolls the whole stack back, deleting what it made in
reverse order. An update changes what differs (task definitions, the
services that use them) and waits for the new deployments.

Resource types with a local meaning: secrets and their attachment, the DB
instance (Rds), the namespace and Cloud Map services (CloudMap), load
balancer / target group / listener (Alb), cluster, task definitions,
services, scalable targets, log groups. Everything else is recorded as
created and has no local counterpart."""
import json
import secrets
import string
import threading
import time

from standins import Alb, CloudMap, Rds


class StackFailed(Exception):
    pass


def generate(spec):
    """GenerateSecretString, locally."""
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += "!#$%&()*+,-.:;<=>?[]^_{|}~"
    n = int(spec.get("PasswordLength", 32))
    value = "".join(secrets.choice(alphabet) for _ in range(n))
    if "SecretStringTemplate" in spec:
        d = json.loads(spec["SecretStringTemplate"])
        d[spec["GenerateStringKey"]] = value
        return d
    return value


class Stack:
    def __init__(self, r, name, base, health_override=None):
        self.r, self.name, self.base = r, name, base
        self.created = []
        self.status = None
        self.health_override = health_override or {}

    def resources(self):
        m = self.r.model
        if isinstance(self.base, (list, tuple)):
            return [n for b in self.base for n in m.stack_resources(b)]
        return m.stack_resources(self.base)

    # ---- create
    def create(self):
        r = self.r
        names = self.resources()
        mine = set(names)
        deps = {n: r.model.deps(n) & mine for n in names}
        # A service's tasks read their secrets at start: the attachment
        # that completes a secret comes first (the old single stack said
        # so with DependsOn; split stacks get it from the stack order).
        for n in names:
            if r.model.res[n]["Type"] == "AWS::ECS::Service":
                td = r.model.taskdef(r.model.service(n)["taskdef"])
                used = " ".join(v for _, v in td["secrets"])
                for a in r.model.of_type(
                        "AWS::SecretsManager::SecretTargetAttachment"):
                    if a in mine and str(r.model.props(a)["SecretId"]) in used:
                        deps[n].add(a)
        done, failed = set(), []
        running = {}
        cancel = threading.Event()
        r.log("stack %s: CREATE_IN_PROGRESS (%d resources)" % (
            self.name, len(names)))
        lock = threading.Lock()

        def work(n):
            try:
                self._create(n, cancel)
                with lock:
                    done.add(n)
                    self.created.append(n)
            except Exception as e:
                with lock:
                    failed.append((n, e))
                cancel.set()
        while True:
            with lock:
                ready = [n for n in names if n not in done and n not in running
                         and deps[n] <= done]
                if failed:
                    ready = []
            for n in ready:
                th = threading.Thread(target=work, args=(n,), daemon=True)
                running[n] = th
                th.start()
            for n, th in list(running.items()):
                if not th.is_alive():
                    del running[n]
            if (len(done) == len(names)) or (failed and not running):
                break
            if not ready and not running:
                failed.append(("?", RuntimeError("dependency cycle")))
                break
            time.sleep(0.05)
        if failed:
            bad, e = failed[0]
            r.log("stack %s: %s CREATE_FAILED: %s" % (self.name, bad, e))
            r.log("stack %s: ROLLBACK_IN_PROGRESS" % self.name)
            for n in reversed(list(self.created)):
                self._delete(n)
            self.created = []
            self.status = "ROLLBACK_COMPLETE"
            r.log("stack %s: ROLLBACK_COMPLETE" % self.name)
            raise StackFailed("%s: %s: %s" % (self.name, bad, e))
        self.status = "CREATE_COMPLETE"
        r.log("stack %s: CREATE_COMPLETE" % self.name)

    def _create(self, n, cancel):
        r, m = self.r, self.r.model
        t = m.res[n]["Type"]
        if t == "AWS::SecretsManager::Secret":
            g = m.props(n).get("GenerateSecretString", {})
            r.put_secret(m.r.ref(n), generate(g))
        elif t == "AWS::RDS::DBInstance":
            sid, _ = m.db_secret()
            sec = r.secret(m.r.ref(sid))
            p = m.props(n)
            r.rds = Rds(r.slot, r.path("rds"), p.get("DBName", sec.get(
                "dbname")), sec["username"], sec["password"])
            r.rds.create()
            r.log("rds: PostgreSQL on %s:%d, database %s, TLS required" % (
                r.rds.host, r.rds.port, r.rds.dbname))
        elif t == "AWS::SecretsManager::SecretTargetAttachment":
            arn = m.props(n)["SecretId"]
            sec = dict(r.secret(arn))
            sec.update(host=r.rds.host, port=r.rds.port, engine="postgres")
            r.put_secret(arn, sec)
        elif t == "AWS::ServiceDiscovery::PrivateDnsNamespace":
            ns = m.namespace(n)
            r.cloudmap = CloudMap(r.slot, r.path("cloudmap"), ns["name"],
                                  ns["soa_ttl"], r.log)
            r.search_domain = ns["name"]
            r.cloudmap.start()
        elif t == "AWS::ServiceDiscovery::Service":
            d = m.discovery(n)
            r.cloudmap.add_service(d["fqdn"], d["ttl"])
        elif t == "AWS::ElasticLoadBalancingV2::TargetGroup":
            r.tg_spec = m.target_group(n)
        elif t == "AWS::ElasticLoadBalancingV2::Listener":
            li = m.listener(n)
            r.alb = Alb(r.slot, r.path("alb"), m.load_balancer(li["lb"]), li,
                        m.target_group(li["tg"]), r.log)
            r.alb.start()
            r.log("alb: listening on %s:%d (idle timeout %d s)" % (
                r.alb.addr, r.alb.port, r.alb.lb["idle_timeout"]))
        elif t == "AWS::ECS::TaskDefinition":
            r.taskdefs[n] = self._taskdef(n)
        elif t == "AWS::ECS::Service":
            spec = m.service(n)
            desired = spec["desired"] if spec["desired"] is not None else 1
            s = r.cluster.create_service(spec, r.taskdefs[spec["taskdef"]],
                                         desired)
            self._wait_stable(s, cancel)
        elif t == "AWS::ApplicationAutoScaling::ScalableTarget":
            st = m.scalable_target(n)
            s = r.cluster.services[st["service"]]
            r.capacity[st["service"]] = (st["min"], st["max"])
            want = min(max(s.desired, st["min"]), st["max"])
            if want != s.desired:
                r.log("autoscaling: %s desired %d -> %d (capacity %d..%d)" % (
                    s.name, s.desired, want, st["min"], st["max"]))
                s.desired = want

    def _taskdef(self, n):
        td = self.r.model.taskdef(n)
        if td["health"] and n in self.health_override:
            td["health"]["command"] = self.health_override[n]
        return td

    def _wait_stable(self, s, cancel):
        while not cancel.is_set():
            if s.primary["rollout"] == "FAILED" and \
                    s.primary["rollback_of"] is None:
                raise StackFailed("service %s: deployment FAILED (circuit "
                                  "breaker)" % s.name)
            if s.steady():
                return
            time.sleep(0.25)
        raise StackFailed("service %s: create cancelled" % s.name)

    # ---- delete (rollback, teardown)
    def _delete(self, n):
        r, m = self.r, self.r.model
        t = m.res[n]["Type"]
        r.log("stack %s: DELETE %s (%s)" % (self.name, n, t))
        if t == "AWS::ECS::Service":
            s = r.cluster.services.get(m.service(n)["name"])
            if s:
                r.cluster.delete_service(s)
        elif t == "AWS::RDS::DBInstance" and r.rds:
            r.rds.delete()
            r.log("rds: database instance deleted")
        elif t == "AWS::ElasticLoadBalancingV2::Listener" and r.alb:
            r.alb.stop()
        elif t == "AWS::ServiceDiscovery::PrivateDnsNamespace" and r.cloudmap:
            r.cloudmap.stop()
        elif t == "AWS::SecretsManager::Secret":
            r.drop_secret(m.r.ref(n))

    # ---- update: new parameters (a new ImageTag), changed task definitions
    def update(self):
        r = self.r
        names = self.resources()
        changed, before = [], {}
        for n in names:
            if r.model.res[n]["Type"] == "AWS::ECS::TaskDefinition":
                td = self._taskdef(n)
                if td != r.taskdefs.get(n):
                    before[n] = r.taskdefs.get(n)
                    r.taskdefs[n] = td
                    changed.append(n)
        r.log("stack %s: UPDATE_IN_PROGRESS (task definitions: %s)" % (
            self.name, ", ".join(changed) or "none"))
        svcs = [n for n in names
                if r.model.res[n]["Type"] == "AWS::ECS::Service"
                and r.model.service(n)["taskdef"] in changed]
        done, errors, updated = set(), [], []
        cancel = threading.Event()

        def one(n):
            deps = r.model.deps(n) & set(svcs)
            while not deps <= done and not cancel.is_set():
                time.sleep(0.1)
            if cancel.is_set():
                return
            spec = r.model.service(n)
            s = r.cluster.services[spec["name"]]
            d = s.deploy(r.taskdefs[spec["taskdef"]])
            updated.append((s, before[spec["taskdef"]]))
            try:
                while not s.steady() or s.primary["rollback_of"]:
                    if d["rollout"] == "FAILED" or s.primary["rollback_of"]:
                        raise StackFailed("service %s: deployment FAILED "
                                          "(circuit breaker)" % s.name)
                    if cancel.is_set():
                        return
                    time.sleep(0.25)
            except StackFailed as e:
                errors.append(e)
                cancel.set()
            done.add(n)
        ths = [threading.Thread(target=one, args=(n,), daemon=True)
               for n in svcs]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        if errors:
            r.log("stack %s: UPDATE_FAILED: %s; UPDATE_ROLLBACK_IN_PROGRESS"
                  % (self.name, errors[0]))
            for n, td in before.items():
                r.taskdefs[n] = td
            for s, td in updated:
                if s.primary["taskdef"] != td:
                    s.deploy(td)
            for s, _ in updated:
                while not s.steady():
                    time.sleep(0.25)
            self.status = "UPDATE_ROLLBACK_COMPLETE"
            r.log("stack %s: UPDATE_ROLLBACK_COMPLETE" % self.name)
            raise StackFailed(str(errors[0]))
        self.status = "UPDATE_COMPLETE"
        r.log("stack %s: UPDATE_COMPLETE" % self.name)
