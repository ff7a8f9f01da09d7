"""The rehearsal: ecs/deploy.sh's steps played on this machine from the
rendered templates, with the real images, real processes and real
sockets (docs/rehearsal.md). A scenario makes one Rehearsal, deploys,
acts, and closes it (also on failure: tearDown/atexit); the timeline of
what happened is printed at the end either way.

Needs root (namespaces, mounts, chroot), TA_BIN_DIR, TA_SOURCE_DIR and
TA_BUILD_DIR; haproxy, dnsmasq, umoci, debootstrap, openssl, PostgreSQL 15
(scripts/deps.d/rehearsal.sh). A missing tool fails the scenario."""
import atexit
import json
import os
import shutil
import sys
import tempfile
import threading
import time

import cfn
import ecs
import host
import model

TOOLS = ["/usr/sbin/haproxy", "/usr/sbin/dnsmasq", "/usr/bin/umoci",
         "/usr/sbin/debootstrap", "/usr/bin/openssl", "/usr/sbin/ip",
         "/usr/lib/postgresql/15/bin/initdb", "/usr/bin/psql"]
_LIVE = []


@atexit.register
def _close_all():
    for r in list(_LIVE):
        r.close()


def check_environment():
    missing = [k for k in ("TA_BIN_DIR", "TA_SOURCE_DIR", "TA_BUILD_DIR")
               if not os.environ.get(k)]
    if missing:
        raise RuntimeError("rehearsal: missing environment: %s" % missing)
    if os.geteuid() != 0:
        raise RuntimeError("rehearsal: needs root (netns, mount, chroot)")
    absent = [t for t in TOOLS if not os.access(t, os.X_OK)]
    if absent:
        raise RuntimeError("rehearsal: missing tools %s: run "
                           "scripts/deps.d/rehearsal.sh" % absent)


class Rehearsal:
    def __init__(self, scenario, params=None):
        check_environment()
        self.scenario = scenario
        self.t0 = time.monotonic()
        self.events = []
        self.elock = threading.Lock()
        self.params = dict(params or {})
        self.model = model.Model(self.params)
        self.dir = tempfile.mkdtemp(prefix="taskapi-rehearsal-%s-" % scenario)
        os.chmod(self.dir, 0o711)   # the postgres user reaches rds/
        _LIVE.append(self)
        self.slot = host.Slot()
        self.log("slot %d: bridge %s, %s.0/24, workdir %s" % (
            self.slot.n, self.slot.bridge, self.slot.host_ip[:-2], self.dir))
        self.images = host.Images(os.environ["TA_BUILD_DIR"],
                                  os.environ["TA_BIN_DIR"])
        self.secrets = {}
        self.secrets_file = self.path("secrets.json")
        self.rds = self.cloudmap = self.alb = None
        self.tg_spec = None
        self.search_domain = "local"
        self.taskdefs = {}
        self.capacity = {}
        self.task_hooks = []    # f(task): after its namespace, before start
        self.stacks = {}
        self.cluster = ecs.Cluster(self)
        self.closed = False

    # ---- timeline
    def log(self, msg):
        t = time.monotonic() - self.t0
        with self.elock:
            self.events.append((t, msg))
        if os.environ.get("TA_REHEARSAL_VERBOSE"):
            sys.stdout.write("%8.2f  %s\n" % (t, msg))
            sys.stdout.flush()

    def now(self):
        return time.monotonic() - self.t0

    def timeline(self):
        with self.elock:
            ev = list(self.events)
        return "\n".join(["==== timeline: rehearsal.%s (seconds since "
                          "start) ====" % self.scenario] +
                         ["%8.2f  %s" % e for e in ev])

    def path(self, *p):
        return os.path.join(self.dir, *p)

    # ---- secrets (Secrets Manager stand-in: one JSON file)
    def put_secret(self, arn, value=None, drop=False):
        with self.elock:
            if drop:
                self.secrets.pop(arn, None)
            else:
                self.secrets[arn] = value
            with open(self.secrets_file + ".new", "w") as f:
                json.dump(self.secrets, f)
            os.chmod(self.secrets_file + ".new", 0o600)
            os.replace(self.secrets_file + ".new", self.secrets_file)

    def drop_secret(self, arn):
        self.put_secret(arn, drop=True)

    def secret(self, arn):
        with open(self.secrets_file) as f:
            return json.load(f)[arn]

    def resolve_secrets(self, pairs):
        """ECS Secrets: <secret> or <secret>:<json-key>:: from the file."""
        with open(self.secrets_file) as f:
            store = json.load(f)
        out = {}
        for name, vf in pairs:
            for arn in sorted(store, key=len, reverse=True):
                if vf == arn:
                    v = store[arn]
                    out[name] = v if isinstance(v, str) else json.dumps(v)
                    break
                if vf.startswith(arn + ":"):
                    key = vf[len(arn) + 1:].split(":")[0]
                    if key not in store[arn]:
                        raise RuntimeError("ResourceInitializationError: "
                                           "secret %s has no key %s" % (
                                               arn, key))
                    out[name] = str(store[arn][key])
                    break
            else:
                raise RuntimeError("ResourceInitializationError: no secret "
                                   "%s" % vf)
        return out

    # ---- Cloud Map registration of a task (by discovery logical name)
    def cloudmap_register(self, logical, ip):
        self.cloudmap.register(self.model.discovery(logical)["fqdn"], ip)

    def cloudmap_deregister(self, logical, ip):
        self.cloudmap.deregister(self.model.discovery(logical)["fqdn"], ip)

    # ---- images: build, "push" the version the templates name
    def push_images(self, version=None, label=None, broken=()):
        """Tags for repo:version in the layout; version None: the built
        images as the project version. broken: repos whose new image exits
        at start."""
        version = version or self.model.version
        for repo in ("edge-api", "auth-svc", "task-svc"):
            tag = repo
            if version != self.model.version or label:
                tag = "%s-%s" % (repo, version)
                self.images.derive(
                    repo, tag, label="org.opencontainers.image.version=%s%s"
                    % (version, " " + label if label else ""),
                    entrypoint=(["/bin/sh", "-c", "echo 'fatal: exits at "
                                 "start' >&2; exit 3"] if repo in broken
                                else None))
            self.images.push(repo, version, tag)
        self.log("images: pushed %s:%s%s" % (
            "/".join(("edge-api", "auth-svc", "task-svc")), version,
            " (broken: %s)" % ",".join(broken) if broken else ""))

    # ---- the deploy plan
    def deploy(self, plan=None, merged_stacks=None, health_override=None,
               rollout_timeout=600):
        """Plays plan (default: deploy.sh --plan). merged_stacks: template
        names played as one stack (the old order). Returns the steps run;
        raises cfn.StackFailed / RuntimeError on the first failed step."""
        if plan is None:
            plan, source = model.deploy_plan()
            self.log("plan from %s: %s" % (source, ", ".join(plan)))
        self.log("images: building (ecs/build-images.sh)")
        self.images.build(self.log)
        self.push_images()
        for step in plan:
            kind, _, arg = step.partition(" ")
            if kind in model.NO_LOCAL_MEANING or arg in \
                    model.NO_LOCAL_MEANING:
                continue
            self.log("step: %s" % step)
            if kind == "stack":
                bases = arg
                if merged_stacks and arg in merged_stacks:
                    if arg != merged_stacks[-1]:
                        continue
                    bases = list(merged_stacks)
                name = self.model.stack_name("+".join(bases) if isinstance(
                    bases, list) else bases)
                st = cfn.Stack(self, name, bases, health_override)
                self.stacks[arg] = st
                st.create()
            elif kind == "migrate":
                self.migrate()
            elif kind == "rollout":
                self.wait_rollout(rollout_timeout)
            elif kind == "health":
                self.wait_health()
            else:
                raise RuntimeError("unknown deploy step %r" % step)
        return plan

    def migrate(self):
        names = self.model.oneoff_taskdefs()
        if not names or names[0] not in self.taskdefs:
            raise RuntimeError("migrate: no one-off task definition has been "
                               "created by a stack yet")
        td = self.taskdefs[names[0]]
        self.log("migrate: run-task %s" % td["family"])
        code, out = self.cluster.run_oneoff(td, 300)
        self.log("migrate: exited %s" % code)
        if code != 0:
            raise RuntimeError("migrations exited with %s:\n%s" % (code,
                                                                   out[-3000:]))
        self.migrate_log = out

    def wait_rollout(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            svcs = list(self.cluster.services.values())
            if any(s.primary["rollout"] == "FAILED" for s in svcs):
                raise RuntimeError("a deployment FAILED")
            if svcs and all(s.steady() for s in svcs):
                self.log("rollout: every service COMPLETED (%s)" % ", ".join(
                    "%s=%d" % (s.name, s.desired) for s in svcs))
                return
            if time.monotonic() > deadline:
                raise RuntimeError("rollout not COMPLETED in %d s" % timeout)
            time.sleep(0.25)

    def wait_health(self, timeout=300):
        import client
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if client.Api(self).request("GET", "/health")[0] == 200:
                    self.log("health: GET /health through the ALB: 200")
                    return
            except OSError:
                pass
            time.sleep(1)
        raise RuntimeError("GET /health through the ALB never answered 200")

    # ---- later changes
    def upgrade(self, params):
        """A new version the way deploy.sh does it: the plan's stack steps
        as stack updates (the migrate task definition moves first), the
        migrations, then the services roll."""
        plan, _ = model.deploy_plan()
        self.params.update(params)
        self.model = model.Model(self.params)
        self.log("upgrade to %s" % params)
        for step in plan:
            kind, _, arg = step.partition(" ")
            if kind in model.NO_LOCAL_MEANING or \
                    arg in model.NO_LOCAL_MEANING:
                continue
            self.log("step: %s (upgrade)" % step)
            if kind == "stack":
                self.stacks[arg].update()
            elif kind == "migrate":
                self.migrate()
            elif kind == "rollout":
                self.wait_rollout(600)
            elif kind == "health":
                self.wait_health()

    def update_app(self, params, stack="app"):
        """A stack update with new parameters (e.g. a new ImageTag)."""
        self.params.update(params)
        self.model = model.Model(self.params)
        self.stacks[stack].update()

    def override_env(self, service, env, timeout=600):
        """A new revision of service's task definition with env changed,
        deployed like an update (new tasks, then the old ones drained)."""
        s = self.cluster.services[service]
        td = dict(s.primary["taskdef"])
        td["env"] = dict(td["env"], **env)
        td["revision"] = td.get("revision", 1) + 1
        self.log("update: %s with %s" % (service, env))
        d = s.deploy(td)
        deadline = time.monotonic() + timeout
        while not (s.steady() and s.primary is d):
            if d["rollout"] == "FAILED" or time.monotonic() > deadline:
                raise RuntimeError("%s: deployment of %s failed" % (service,
                                                                    env))
            time.sleep(0.25)

    def set_desired(self, service, n):
        lo, hi = self.capacity.get(service, (0, 10 ** 6))
        if not lo <= n <= hi:
            raise RuntimeError("%s: %d outside capacity %d..%d" % (
                service, n, lo, hi))
        s = self.cluster.services[service]
        self.log("autoscaling: %s desired %d -> %d" % (service, s.desired, n))
        s.desired = n

    def tasks(self, service, running=True):
        s = self.cluster.services[service]
        return [t for t in s.tasks if not running or t.last == "RUNNING"]

    def task_logs(self, lines=30):
        parts = []
        for s in self.cluster.services.values():
            for t in s.tasks:
                try:
                    with open(t.log_path, "rb") as f:
                        tail = f.read().decode("utf-8", "replace")
                except (OSError, AttributeError):
                    continue
                parts.append("---- %s (%s, %s) ----\n%s" % (
                    t.id, t.last, t.stop_reason or "",
                    "\n".join(tail.splitlines()[-lines:])))
        return "\n".join(parts)

    def task_problems(self, limit=60):
        """Every task's log lines at warn or error, requests answered 5xx,
        the load balancer's last lines: what a failure is usually about,
        short enough to survive a truncated CI log."""
        out = []
        for s in self.cluster.services.values():
            for t in s.tasks:
                try:
                    with open(t.log_path, "rb") as f:
                        lines = f.read().decode("utf-8", "replace")
                except (OSError, AttributeError):
                    continue
                for line in lines.splitlines():
                    if ('"level":"warn"' in line or
                            '"level":"error"' in line or
                            '"status":5' in line):
                        out.append("%s: %s" % (t.id, line[:400]))
        if self.alb:
            out += ["alb: " + x for x in self.alb.log_lines()[-20:]]
        return "\n".join(["==== warn/error lines of every task ===="] +
                         out[-limit:])

    def save_timeline(self, outcome):
        """Writes the timeline where make rehearse prints it from."""
        d = os.path.join(os.environ["TA_BUILD_DIR"], "rehearsal", "timelines")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, self.scenario + ".txt"), "w") as f:
            f.write(self.timeline() + "\n==== %s: %s ====\n" % (
                self.scenario, outcome))

    def close(self):
        if self.closed:
            return
        self.closed = True
        self.cluster.shutdown()
        for x in (self.alb, self.cloudmap):
            if x:
                x.stop()
        if self.rds and self.rds.exists():
            self.rds.delete()
        self.slot.close()
        if not os.environ.get("TA_REHEARSAL_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
        if self in _LIVE:
            _LIVE.remove(self)
