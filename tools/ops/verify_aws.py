"""verify's checks of a deployment's AWS configuration, judged from the
resources themselves (awsdeploy.Deployment): worker and edge ports not
reachable from outside (security group rules, public IPs), RDS private,
encrypted and forcing TLS (its parameter group's rds.force_ssl), secrets
injected as task definition `secrets` and never as `environment`, and
port 80 redirecting to 443 when a certificate is configured."""

import http.client
import ipaddress
import re

from httpclient import parse_base

# Ports nothing outside the VPC may reach, per service.
PORTS = {"edge-api": 8080, "auth-svc": 7001, "task-svc": 7002}
# What each service must get through `secrets`.
NEEDED_SECRETS = {"edge-api": ("JWT_SECRET", "RPC_AUTH_KEY"),
                  "auth-svc": ("DB_PASSWORD", "JWT_SECRET", "RPC_AUTH_KEY"),
                  "task-svc": ("DB_PASSWORD", "RPC_AUTH_KEY")}
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|_KEY|CREDENTIALS)$")


def _is_public(cidr):
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return True
    return not net.is_private


class AwsChecks:
    def __init__(self, dep, record, base_url=None):
        self.dep = dep
        self.record = record
        self.base_url = base_url

    def run(self):
        try:
            services = self.dep.services()
        except Exception as e:      # noqa: BLE001 - any AWS error is a FAIL
            self.record("AWS: services of cluster %s" % self.dep.cluster(),
                        "FAIL", "cannot list them: %s" % e)
            return
        for name in PORTS:
            self.ports(name, services.get(name))
        for name in PORTS:
            self.secrets(name, services.get(name))
        self.database()
        self.redirect()

    def _guard(self, name, fn):
        try:
            probs = fn()
        except Exception as e:      # noqa: BLE001
            probs = ["AWS error: %s" % e]
        if probs is None:
            return
        self.record(name, "FAIL" if probs else "PASS",
                    "; ".join(probs) if probs else "ok")

    def ports(self, name, svc):
        port = PORTS[name]
        check = "AWS: %s port %d not reachable from outside" % (name, port)

        def judge():
            if svc is None:
                return ["service %s not found in cluster %s"
                        % (name, self.dep.cluster())]
            probs = []
            cfg = svc["networkConfiguration"]["awsvpcConfiguration"]
            if cfg.get("assignPublicIp") == "ENABLED":
                probs.append("tasks get a public IP")
            sgs = cfg.get("securityGroups", [])
            if not sgs:
                return probs + ["no security group"]
            ec2 = self.dep.client("ec2")
            for sg in ec2.describe_security_groups(GroupIds=sgs)[
                    "SecurityGroups"]:
                for perm in sg.get("IpPermissions", []):
                    lo = perm.get("FromPort", 0)
                    hi = perm.get("ToPort", 65535)
                    if perm.get("IpProtocol") == "-1":
                        lo, hi = 0, 65535
                    cidrs = [r["CidrIp"] for r in perm.get("IpRanges", [])]
                    cidrs += [r["CidrIpv6"] for r in
                              perm.get("Ipv6Ranges", [])]
                    for c in cidrs:
                        if _is_public(c):
                            probs.append("%s admits %s on %s" % (
                                sg["GroupId"], c,
                                "all ports" if (lo, hi) == (0, 65535)
                                else "%d-%d" % (lo, hi)))
            return probs
        self._guard(check, judge)

    def secrets(self, name, svc):
        check = "AWS: %s secrets injected as secrets" % name

        def judge():
            if svc is None:
                return ["service %s not found" % name]
            td = self.dep.task_definition(svc["taskDefinition"])
            probs = []
            mine = None
            for c in td.get("containerDefinitions", []):
                env = [e["name"] for e in c.get("environment", [])]
                plain = [n for n in env if SECRET_NAME.search(n)]
                if plain:
                    probs.append("container %s has %s in plain environment"
                                 % (c["name"], ", ".join(plain)))
                if c["name"] == name:
                    mine = c
            if mine is None:
                return probs + ["no container named %s" % name]
            got = {s["name"] for s in mine.get("secrets", [])}
            miss = [n for n in NEEDED_SECRETS[name] if n not in got]
            if miss:
                probs.append("%s not in secrets" % ", ".join(miss))
            return probs
        self._guard(check, judge)

    def database(self):
        def judge_all():
            dbs = self.dep.db_instances()
            if not dbs:
                return ["no RDS instance of project %s found"
                        % self.dep.project]
            probs = []
            for db in dbs:
                i = db["DBInstanceIdentifier"]
                if db.get("PubliclyAccessible"):
                    probs.append("%s is publicly accessible" % i)
                if not db.get("StorageEncrypted"):
                    probs.append("%s storage is not encrypted" % i)
                probs += self._force_ssl(db)
            return probs
        self._guard("AWS: RDS private, encrypted, forcing TLS", judge_all)

    def _force_ssl(self, db):
        rds = self.dep.client("rds")
        i = db["DBInstanceIdentifier"]
        groups = [g["DBParameterGroupName"]
                  for g in db.get("DBParameterGroups", [])]
        for g in groups:
            for page in rds.get_paginator("describe_db_parameters").paginate(
                    DBParameterGroupName=g):
                for p in page["Parameters"]:
                    if p["ParameterName"] == "rds.force_ssl":
                        if str(p.get("ParameterValue")) == "1":
                            return []
                        return ["%s: rds.force_ssl is %r in %s" % (
                            i, p.get("ParameterValue"), g)]
        return ["%s: rds.force_ssl not set in %s" % (
            i, ", ".join(groups) or "any parameter group")]

    def redirect(self):
        check = "AWS: port 80 redirects to 443 (certificate configured)"

        def judge():
            elb = self.dep.client("elbv2")
            lbs = self.dep.load_balancers()
            if not lbs:
                return ["no load balancer behind the edge service"]
            probs = []
            has_cert = False
            for lb in lbs:
                ls = elb.describe_listeners(
                    LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
                https = [x for x in ls if x.get("Protocol") == "HTTPS"]
                if not https:
                    continue
                has_cert = True
                http80 = [x for x in ls if x.get("Port") == 80]
                if not http80:
                    probs.append("%s has no port 80 listener"
                                 % lb["LoadBalancerName"])
                for x in http80:
                    acts = x.get("DefaultActions", [])
                    rc = (acts[0].get("RedirectConfig") or {}) if acts \
                        else {}
                    if not acts or acts[0].get("Type") != "redirect" or \
                            rc.get("Protocol") != "HTTPS" or \
                            str(rc.get("Port")) != "443":
                        probs.append("%s port 80 does not redirect to "
                                     "HTTPS 443" % lb["LoadBalancerName"])
            if not has_cert:
                self.record(check, "SKIP", "no HTTPS listener: no "
                            "certificate configured")
                return None
            return probs + self._live_redirect()
        self._guard(check, judge)

    def _live_redirect(self):
        """With an https BASE_URL, port 80 of the same name must answer
        301 to https://."""
        if not self.base_url:
            return []
        scheme, host, _, _ = parse_base(self.base_url)
        if scheme != "https":
            return []
        c = http.client.HTTPConnection(host, 80, timeout=15)
        try:
            c.request("GET", "/health")
            r = c.getresponse()
            r.read()
            loc = r.getheader("Location") or ""
        except OSError as e:
            return ["http://%s/health: %r" % (host, e)]
        finally:
            c.close()
        if r.status != 301 or not loc.startswith("https://"):
            return ["http://%s/health answered %d %r" % (host, r.status,
                                                         loc)]
        return []
