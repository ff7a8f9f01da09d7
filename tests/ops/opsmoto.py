"""moto (an AWS API emulator) in server mode on 127.0.0.1 for the ops
tests, as tests/deploy/test_deploy_moto.py runs it, and a deployment of
project PROJECT built in it: the ECR stack from the real ecs/ecr.yaml
through CloudFormation, and, since moto cannot create the data and app
stacks (see docs/deploy.md), what those stacks make, created directly
with the settings the templates give them: security groups, cluster,
task definitions, services, load balancer with HTTPS and the 80 -> 443
redirect, RDS with its parameter group, alarms and a log group with JSON
lines. Dummy credentials, no AWS configuration file: nothing can reach
AWS."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

REGION = "us-east-1"
PROJECT = "tamops"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Moto:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="taskapi-opsmoto-")
        self.url = "http://127.0.0.1:%d" % free_port()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AWS_")}
        env.update({"AWS_ACCESS_KEY_ID": "testing",
                    "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_DEFAULT_REGION": REGION,
                    "AWS_CONFIG_FILE": os.path.join(self.tmp, "none"),
                    "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.tmp,
                                                                "none")})
        self.env = env
        self.log = open(os.path.join(self.tmp, "moto.log"), "wb")
        port = self.url.rsplit(":", 1)[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
             port], env=env, stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "/moto-api/",
                                       timeout=2).read()
                break
            except OSError:
                if self.proc.poll() is not None or \
                        time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start")
                time.sleep(0.2)
        import boto3
        self.session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing",
            region_name=REGION)

    def client(self, name):
        return self.session.client(name, endpoint_url=self.url)

    def tool_env(self):
        """The environment a tool runs with: moto's endpoint, dummy keys."""
        env = dict(self.env)
        env["AWS_ENDPOINT_URL"] = self.url
        return env

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def build_deployment(m, src):
    """Creates PROJECT's resources in moto m; returns a dict of their ids."""
    ids = {}
    cfn = m.client("cloudformation")
    with open(os.path.join(src, "ecs", "ecr.yaml")) as f:
        cfn.create_stack(StackName=PROJECT + "-ecr", TemplateBody=f.read(),
                         Parameters=[{"ParameterKey": "Project",
                                      "ParameterValue": PROJECT}])
    ec2 = m.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.50.%d.0/24" % i,
                                 AvailabilityZone=REGION + az)["Subnet"][
                                     "SubnetId"]
               for i, az in enumerate("ab")]

    def sg(name, rules):
        g = ec2.create_security_group(GroupName="%s-%s" % (PROJECT, name),
                                      Description=name, VpcId=vpc)["GroupId"]
        if rules:
            ec2.authorize_security_group_ingress(GroupId=g,
                                                 IpPermissions=rules)
        ids[name + "_sg"] = g
        return g

    alb = sg("alb", [{"IpProtocol": "tcp", "FromPort": p, "ToPort": p,
                      "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
                     for p in (80, 443)])

    def from_sg(port, src_sg):
        return [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
                 "UserIdGroupPairs": [{"GroupId": src_sg}]}]
    edge = sg("edge", from_sg(8080, alb))
    auth = sg("auth", from_sg(7001, edge))
    task = sg("task", from_sg(7002, edge))

    elb = m.client("elbv2")
    lb = elb.create_load_balancer(Name=PROJECT + "-alb", Subnets=subnets,
                                  SecurityGroups=[alb], Scheme=
                                  "internet-facing")["LoadBalancers"][0]
    tg = elb.create_target_group(Name=PROJECT + "-edge", Protocol="HTTP",
                                 Port=8080, VpcId=vpc, TargetType="ip",
                                 HealthCheckPath="/health")[
                                     "TargetGroups"][0]
    ids["tg"] = tg["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"],
                         Targets=[{"Id": "10.50.0.10", "Port": 8080},
                                  {"Id": "10.50.1.10", "Port": 8080}])
    cert = m.client("acm").request_certificate(
        DomainName="api.example.com")["CertificateArn"]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"],
                        Protocol="HTTPS", Port=443,
                        Certificates=[{"CertificateArn": cert}],
                        DefaultActions=[{"Type": "forward", "TargetGroupArn":
                                         tg["TargetGroupArn"]}])
    ids["http_listener"] = elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "redirect", "RedirectConfig": {
            "Protocol": "HTTPS", "Port": "443",
            "StatusCode": "HTTP_301"}}])["Listeners"][0]["ListenerArn"]

    sm = m.client("secretsmanager")
    secret = {n: sm.create_secret(Name="%s/%s" % (PROJECT, n),
                                  SecretString="x" * 40)["ARN"]
              for n in ("db", "jwt", "rpc")}
    ecs = m.client("ecs")
    cluster = PROJECT + "-cluster"
    ecs.create_cluster(clusterName=cluster)
    logs = m.client("logs")
    needs = {"edge-api": ("JWT_SECRET", "RPC_AUTH_KEY"),
             "auth-svc": ("DB_PASSWORD", "JWT_SECRET", "RPC_AUTH_KEY"),
             "task-svc": ("DB_PASSWORD", "RPC_AUTH_KEY")}
    src_of = {"DB_PASSWORD": secret["db"] + ":password::",
              "JWT_SECRET": secret["jwt"], "RPC_AUTH_KEY": secret["rpc"]}
    for name, group in (("edge-api", edge), ("auth-svc", auth),
                        ("task-svc", task)):
        lg = "/ecs/%s/%s" % (PROJECT, name)
        logs.create_log_group(logGroupName=lg)
        td = ecs.register_task_definition(
            family="%s-%s" % (PROJECT, name), networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{
                "name": name, "image": "x/%s:0.1.0" % name,
                "essential": True,
                "environment": [{"name": "LOG_LEVEL", "value": "info"}],
                "secrets": [{"name": n, "valueFrom": src_of[n]}
                            for n in needs[name]],
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": lg, "awslogs-region": REGION,
                    "awslogs-stream-prefix": name}}}])[
                        "taskDefinition"]["taskDefinitionArn"]
        kw = {}
        if name == "edge-api":
            kw["loadBalancers"] = [{"targetGroupArn": tg["TargetGroupArn"],
                                    "containerName": name,
                                    "containerPort": 8080}]
        ecs.create_service(cluster=cluster, serviceName=name,
                           taskDefinition=td, desiredCount=2,
                           launchType="FARGATE", networkConfiguration={
                               "awsvpcConfiguration": {
                                   "subnets": subnets,
                                   "securityGroups": [group],
                                   "assignPublicIp": "DISABLED"}}, **kw)
        ids[name + "_td"] = td
    stream = "edge-api/edge-api/0123"
    logs.create_log_stream(logGroupName="/ecs/%s/edge-api" % PROJECT,
                           logStreamName=stream)
    now = int(time.time() * 1000)
    ids["log_lines"] = [json.dumps({"level": "info", "service": "edge-api",
                                    "event": "access", "n": i})
                        for i in range(3)]
    logs.put_log_events(logGroupName="/ecs/%s/edge-api" % PROJECT,
                        logStreamName=stream, logEvents=[
                            {"timestamp": now - 60000 + i, "message": line}
                            for i, line in enumerate(ids["log_lines"])])

    rds = m.client("rds")
    rds.create_db_parameter_group(DBParameterGroupName=PROJECT + "-pg",
                                  DBParameterGroupFamily="postgres16",
                                  Description="TLS required")
    set_force_ssl(m, "1")
    rds.create_db_instance(DBInstanceIdentifier=PROJECT + "-db",
                           Engine="postgres", DBInstanceClass="db.t3.micro",
                           AllocatedStorage=20, MasterUsername="taskapi",
                           MasterUserPassword="not-a-real-one-1",
                           StorageEncrypted=True, PubliclyAccessible=False,
                           DBParameterGroupName=PROJECT + "-pg",
                           Tags=[{"Key": "project", "Value": PROJECT}])
    cw = m.client("cloudwatch")
    for n in ("5xx-rate", "edge-api-cpu"):
        cw.put_metric_alarm(AlarmName="%s-%s" % (PROJECT, n),
                            MetricName="CPUUtilization", Namespace="AWS/ECS",
                            Statistic="Average", Period=60,
                            EvaluationPeriods=1, Threshold=70,
                            ComparisonOperator="GreaterThanThreshold")
    return ids


def set_force_ssl(m, value):
    m.client("rds").modify_db_parameter_group(
        DBParameterGroupName=PROJECT + "-pg",
        Parameters=[{"ParameterName": "rds.force_ssl",
                     "ParameterValue": value, "ApplyMethod": "immediate"}])
