"""Finds the AWS resources of one taskapi deployment (the stacks
ecs/deploy.sh makes: <project>-ecr, -network, -data, -app) for the ops
tools, with boto3. Resources are read from the stacks where they exist
and otherwise from what the running services point at (cluster
<project>-cluster, its services, their task definitions, security groups
and target groups), so the tools also work on a partly deployed stack
and on an emulator. Every call honours AWS_ENDPOINT_URL / --endpoint-url.
"""

import os

STACK_SUFFIXES = ("ecr", "network", "data", "app")
SERVICES = {"edge": "edge-api", "auth": "auth-svc", "task": "task-svc"}
GONE = ("DELETE_COMPLETE",)


def have_boto3():
    try:
        import boto3  # noqa: F401
    except ImportError:
        return False
    return True


class Deployment:
    def __init__(self, project="taskapi", region=None, endpoint_url=None):
        import boto3
        region = (region or os.environ.get("AWS_REGION")
                  or os.environ.get("AWS_DEFAULT_REGION"))
        self.session = boto3.session.Session(region_name=region or None)
        if not self.session.region_name:
            raise RuntimeError("no AWS region: set REGION=..., AWS_REGION "
                               "or a profile's region")
        self.region = self.session.region_name
        self.endpoint_url = (endpoint_url
                             or os.environ.get("AWS_ENDPOINT_URL") or None)
        self.project = project
        self._clients = {}
        self._taskdefs = {}
        self._stacks = None

    def has_credentials(self):
        return self.session.get_credentials() is not None

    def client(self, name):
        c = self._clients.get(name)
        if c is None:
            c = self.session.client(name, endpoint_url=self.endpoint_url)
            self._clients[name] = c
        return c

    # -- stacks

    def stack_names(self):
        return ["%s-%s" % (self.project, s) for s in STACK_SUFFIXES]

    def stacks(self):
        """{name: description} of the project's stacks that exist."""
        if self._stacks is None:
            cfn = self.client("cloudformation")
            self._stacks = {}
            for name in self.stack_names():
                try:
                    st = cfn.describe_stacks(StackName=name)["Stacks"][0]
                except cfn.exceptions.ClientError:
                    continue
                if st["StackStatus"] not in GONE:
                    self._stacks[name] = st
        return self._stacks

    def outputs(self, suffix):
        st = self.stacks().get("%s-%s" % (self.project, suffix))
        return {o["OutputKey"]: o["OutputValue"]
                for o in (st or {}).get("Outputs", [])}

    def stack_resources(self, name):
        """[(type, logical id, physical id)] of one stack, paginated."""
        cfn = self.client("cloudformation")
        out = []
        for page in cfn.get_paginator("list_stack_resources").paginate(
                StackName=name):
            for r in page["StackResourceSummaries"]:
                out.append((r["ResourceType"], r["LogicalResourceId"],
                            r.get("PhysicalResourceId", "")))
        return out

    def physical_ids(self, rtype):
        ids = []
        for name in self.stacks():
            ids += [p for t, _, p in self.stack_resources(name)
                    if t == rtype and p]
        return ids

    # -- ECS

    def cluster(self):
        return self.outputs("data").get("ClusterName",
                                        self.project + "-cluster")

    def services(self):
        """{service name: description} of the cluster's services."""
        ecs = self.client("ecs")
        arns = []
        for page in ecs.get_paginator("list_services").paginate(
                cluster=self.cluster()):
            arns += page["serviceArns"]
        out = {}
        for i in range(0, len(arns), 10):
            for s in ecs.describe_services(cluster=self.cluster(),
                                           services=arns[i:i + 10])[
                                               "services"]:
                out[s["serviceName"]] = s
        return out

    def task_definition(self, arn):
        td = self._taskdefs.get(arn)
        if td is None:
            td = self.client("ecs").describe_task_definition(
                taskDefinition=arn)["taskDefinition"]
            self._taskdefs[arn] = td
        return td

    def service_security_groups(self, service):
        cfg = (service.get("networkConfiguration") or {}).get(
            "awsvpcConfiguration") or {}
        return cfg.get("securityGroups", [])

    def log_group(self, short):
        """The log group of edge|auth|task: the task definition's awslogs
        group, else the templates' /ecs/<project>/<service>."""
        name = SERVICES[short]
        svc = self.services().get(name)
        if svc is not None:
            td = self.task_definition(svc["taskDefinition"])
            for c in td.get("containerDefinitions", []):
                lc = c.get("logConfiguration") or {}
                if c["name"] == name and lc.get("logDriver") == "awslogs":
                    return lc["options"]["awslogs-group"]
        return "/ecs/%s/%s" % (self.project, name)

    # -- load balancer

    def target_groups(self):
        arns = []
        for s in self.services().values():
            arns += [lb["targetGroupArn"] for lb in s.get("loadBalancers", [])
                     if lb.get("targetGroupArn")]
        if not arns:
            return []
        return self.client("elbv2").describe_target_groups(
            TargetGroupArns=arns)["TargetGroups"]

    def load_balancers(self):
        arns = sorted({a for tg in self.target_groups()
                       for a in tg.get("LoadBalancerArns", [])})
        if not arns:
            return []
        return self.client("elbv2").describe_load_balancers(
            LoadBalancerArns=arns)["LoadBalancers"]

    def healthy_targets(self):
        """{target group name: (healthy, total)}."""
        elb = self.client("elbv2")
        out = {}
        for tg in self.target_groups():
            th = elb.describe_target_health(
                TargetGroupArn=tg["TargetGroupArn"])[
                    "TargetHealthDescriptions"]
            out[tg["TargetGroupName"]] = (
                sum(1 for t in th if t["TargetHealth"]["State"] == "healthy"),
                th)
        return out

    # -- RDS, alarms

    def db_instances(self):
        rds = self.client("rds")
        ids = self.physical_ids("AWS::RDS::DBInstance")
        if ids:
            return [rds.describe_db_instances(DBInstanceIdentifier=i)[
                "DBInstances"][0] for i in ids]
        out = []
        for page in rds.get_paginator("describe_db_instances").paginate():
            for db in page["DBInstances"]:
                tags = {t["Key"]: t["Value"] for t in db.get("TagList", [])}
                if tags.get("project") == self.project:
                    out.append(db)
        return out

    def alarms(self):
        cw = self.client("cloudwatch")
        out = []
        for page in cw.get_paginator("describe_alarms").paginate(
                AlarmNamePrefix=self.project + "-"):
            out += page.get("MetricAlarms", []) + page.get(
                "CompositeAlarms", [])
        return out
