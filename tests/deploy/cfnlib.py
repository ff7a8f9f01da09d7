"""Shared helpers for the deployment tests: parse the CloudFormation
templates in ecs/ (cfn-lint's decoder: YAML short forms become plain
Fn:: dicts), render intrinsic functions to strings with readable
placeholders, follow dependencies, and turn task definitions into the ECS
API's JSON. Standard library + cfnlint only."""
import copy
import json
import os
import re
import subprocess

SOURCE_DIR = os.environ.get(
    "TA_SOURCE_DIR",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ECS_DIR = os.path.join(SOURCE_DIR, "ecs")
TEMPLATES = ["ecr.yaml", "network.yaml", "data.yaml", "app.yaml"]
# The two stacks a deployment is made of, in deploy order: data.yaml's
# exports are imported by app.yaml as ${DataStackName}-<Output>.
STACKS = ["data.yaml", "app.yaml"]

# Placeholders the standalone policies in iam-policies/ use as well.
PSEUDO = {"AWS::Region": "<REGION>", "AWS::AccountId": "<ACCOUNT_ID>",
          "AWS::Partition": "aws", "AWS::StackName": "<STACK_NAME>",
          "AWS::URLSuffix": "amazonaws.com"}
PARAMS = {"Project": "<PROJECT>", "ImageTag": "<IMAGE_TAG>",
          "EcrStackName": "<ECR_STACK>", "DataStackName": "<DATA_STACK>"}
# What app.yaml imports from ecr.yaml, rendered like the ECR stack makes it.
REPO = {"Edge": "edge-api", "Auth": "auth-svc", "Task": "task-svc"}
IMPORTS = {}
for _k, _v in REPO.items():
    IMPORTS["<ECR_STACK>-%sRepositoryArn" % _k] = (
        "arn:aws:ecr:<REGION>:<ACCOUNT_ID>:repository/<PROJECT>/" + _v)
    IMPORTS["<ECR_STACK>-%sRepositoryUri" % _k] = (
        "<ACCOUNT_ID>.dkr.ecr.<REGION>.amazonaws.com/<PROJECT>/" + _v)

NO_VALUE = object()


def _plain(v):
    """cfnlint's node types -> plain dict/list/str (deep)."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, str):
        return str(v)
    return v


def load(path):
    from cfnlint.decode import decode
    tpl, matches = decode(path)
    if matches:
        raise ValueError("%s: %s" % (path, matches))
    return _plain(tpl)


def load_named(name):
    return load(os.path.join(ECS_DIR, name))


def _exports(tpl):
    """{output name: value node} of the outputs a template exports as
    ${AWS::StackName}-<output name>."""
    out = {}
    for name, o in tpl.get("Outputs", {}).items():
        exp = o.get("Export", {}).get("Name")
        if exp == {"Fn::Sub": "${AWS::StackName}-%s" % name}:
            out[name] = o["Value"]
    return out


def _inline_imports(v, exports, unresolved):
    """v with every {"Fn::ImportValue": {"Fn::Sub": "${DataStackName}-X"}}
    replaced by the data stack's value node for X."""
    if isinstance(v, list):
        return [_inline_imports(x, exports, unresolved) for x in v]
    if not isinstance(v, dict):
        return v
    if list(v) == ["Fn::ImportValue"]:
        m = re.fullmatch(r"\$\{DataStackName\}-(\w+)",
                         str(v["Fn::ImportValue"].get("Fn::Sub", ""))
                         if isinstance(v["Fn::ImportValue"], dict) else "")
        if m:
            if m.group(1) not in exports:
                unresolved.add(m.group(1))
                return v
            return copy.deepcopy(exports[m.group(1)])
    return {k: _inline_imports(x, exports, unresolved) for k, x in v.items()}


def load_merged():
    """data.yaml and app.yaml as one template, the way the two stacks work
    together: app.yaml's imports of data.yaml's exports become the exported
    value itself (a Ref/GetAtt of the data stack's resource), so references
    and dependencies can be followed across the stacks. Resource and
    parameter names are unique across the two (checked here)."""
    data, app = (load_named(n) for n in STACKS)
    clash = set(data["Resources"]) & set(app["Resources"])
    if clash:
        raise ValueError("resources in both stacks: %s" % sorted(clash))
    unresolved = set()
    app = _inline_imports(app, _exports(data), unresolved)
    if unresolved:
        raise ValueError("app.yaml imports what data.yaml does not export: %s"
                         % sorted(unresolved))
    merged = {"Parameters": dict(data.get("Parameters", {})),
              "Conditions": dict(data.get("Conditions", {})),
              "Resources": dict(data["Resources"]),
              "Outputs": {}}
    for key in ("Parameters", "Conditions", "Resources"):
        for name, v in app.get(key, {}).items():
            old = merged[key].get(name)
            if key == "Parameters" and old is not None:
                if (old.get("Type"), old.get("Default")) != (
                        v.get("Type"), v.get("Default")):
                    raise ValueError("parameter %s: type or default differs "
                                     "between the stacks" % name)
            elif old is not None and old != v:
                raise ValueError("%s %s differs between the stacks"
                                 % (key, name))
            merged[key][name] = v
    merged["Outputs"] = dict(app.get("Outputs", {}))
    merged["Stack"] = {n: ("data" if n in data["Resources"] else "app")
                       for n in merged["Resources"]}
    return merged


def snake_upper(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


class Renderer:
    """Resolves Ref/GetAtt/Sub/Join/If/ImportValue/Select to strings.
    Resources become placeholders, except log groups (their name) and
    Cloud Map services (their Name), which the checks need literally."""

    def __init__(self, tpl, conditions=None, params=None):
        self.tpl = tpl
        self.res = tpl.get("Resources", {})
        self.conditions = conditions or {}
        self.params = dict(PARAMS)
        for name, p in tpl.get("Parameters", {}).items():
            if name not in self.params:
                # CloudFormation hands every parameter over as a string.
                self.params[name] = str(p.get("Default",
                                              "<%s>" % snake_upper(name)))
        self.params.update(params or {})

    def ref(self, name):
        if name in PSEUDO:
            return PSEUDO[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.params:
            return self.params[name]
        r = self.res[name]
        t = r["Type"]
        if t == "AWS::Logs::LogGroup":
            return self.render(r["Properties"]["LogGroupName"])
        if t == "AWS::SecretsManager::Secret":
            return "<%s_ARN>" % snake_upper(name)
        return "<%s>" % name

    def getatt(self, name, attr):
        r = self.res[name]
        if r["Type"] == "AWS::ServiceDiscovery::Service" and attr == "Name":
            return self.render(r["Properties"]["Name"])
        if r["Type"] == "AWS::ECS::Service" and attr == "Name":
            return self.render(r["Properties"]["ServiceName"])
        return "<%s.%s>" % (name, attr)

    def sub(self, s, extra):
        def one(m):
            key = m.group(1)
            if key in extra:
                return str(self.render(extra[key]))
            if "." in key:
                return str(self.getatt(*key.split(".", 1)))
            return str(self.ref(key))
        return re.sub(r"\$\{([^}!]+)\}", one, s)

    def render(self, v):
        if isinstance(v, list):
            out = [self.render(x) for x in v]
            return [x for x in out if x is not NO_VALUE]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            (k, a), = v.items()
            if k == "Ref":
                return self.ref(a)
            if k == "Fn::GetAtt":
                if isinstance(a, str):
                    a = a.split(".", 1)
                return self.getatt(a[0], a[1])
            if k == "Fn::Sub":
                if isinstance(a, list):
                    return self.sub(a[0], a[1])
                return self.sub(a, {})
            if k == "Fn::Join":
                parts = self.render(a[1])
                if isinstance(parts, str):
                    return parts
                return a[0].join(str(x) for x in parts)
            if k == "Fn::ImportValue":
                name = self.render(a)
                return IMPORTS.get(name, "<import:%s>" % name)
            if k == "Fn::If":
                return self.render(a[1] if self.conditions.get(a[0]) else a[2])
            if k == "Fn::Select":
                return self.render(a[1])[int(a[0])]
        out = {k: self.render(x) for k, x in v.items()}
        return {k: x for k, x in out.items() if x is not NO_VALUE}


def references(v):
    """Logical names a value refers to (Ref, GetAtt, ${X} in Sub)."""
    found = set()
    if isinstance(v, list):
        for x in v:
            found |= references(x)
    elif isinstance(v, dict):
        for k, a in v.items():
            if k == "Ref" and isinstance(a, str):
                found.add(a)
            elif k == "Fn::GetAtt":
                found.add(a[0] if isinstance(a, list) else a.split(".")[0])
            elif k == "Fn::Sub":
                s = a[0] if isinstance(a, list) else a
                found |= {m.split(".")[0]
                          for m in re.findall(r"\$\{([^}!]+)\}", s)}
                if isinstance(a, list):
                    found |= references(a[1])
            else:
                found |= references(a)
    return found


def dependencies(tpl, name):
    """Every resource name must exist before: DependsOn and references,
    transitively."""
    res = tpl["Resources"]
    seen, todo = set(), [name]
    while todo:
        r = res[todo.pop()]
        dep = r.get("DependsOn", [])
        direct = set([dep] if isinstance(dep, str) else dep)
        direct |= references(r.get("Properties", {}))
        direct |= references(r.get("Metadata", {}))
        for d in direct:
            if d in res and d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def of_type(tpl, rtype):
    return {k: r for k, r in tpl["Resources"].items() if r["Type"] == rtype}


def _camel(v):
    """CloudFormation's PascalCase keys -> the ECS API's camelCase; the
    awslogs options and DockerLabels keep their keys."""
    if isinstance(v, list):
        return [_camel(x) for x in v]
    if not isinstance(v, dict):
        return v
    out = {}
    for k, x in v.items():
        key = k[0].lower() + k[1:]
        out[key] = x if k in ("Options", "DockerLabels") else _camel(x)
    return out


def taskdef_api_json(tpl, logical, conditions=None):
    """register-task-definition input for one AWS::ECS::TaskDefinition."""
    props = Renderer(tpl, conditions).render(
        copy.deepcopy(tpl["Resources"][logical]["Properties"]))
    props.pop("Tags", None)
    return _camel(props)


def binary_config(bin_dir, binary):
    """The configuration table the binary prints with TA_PRINT_CONFIG=1:
    {"service":..., "settings":[{"name","default","required","secret"}]}."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "TA_PRINT_CONFIG": "1"}
    out = subprocess.run([os.path.join(bin_dir, binary)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=30, check=True).stdout
    return json.loads(out.decode().strip().splitlines()[-1])
