"""The ECS stand-in: services, deployments and tasks, scheduled as ECS
does it with the task definition's and the service's own settings.

- A task: its own namespace and address, the container run under chroot;
  the container health check run inside it at interval/timeout/retries
  (failures within startPeriod do not count); an exited essential
  container or UNHEALTHY health stops the task.
- Cloud Map services: a task's record is added when its container is
  HEALTHY and removed at once when it stops (then SIGTERM).
- Load-balanced services: the task is a target from RUNNING; it is healthy
  for the deployment once the ALB says UP; stopping deregisters it
  (draining), waits the deregistration delay, then SIGTERM; a target that
  goes unhealthy after the grace period gets the task replaced.
- SIGKILL after the container's StopTimeout.
- Rolling deployments within minimum healthy / maximum percent; the
  circuit breaker (threshold 0.5 x desired, at least 3, at most 200)
  fails the deployment and, with rollback, returns to the last COMPLETED
  one."""
import itertools
import math
import os
import subprocess
import threading
import time

from host import Container, Slot, user_spec

TICK = 0.25
_ids = itertools.count(1)


class Task:
    def __init__(self, service, deployment):
        self.id = "%s-%d" % (service.name, next(_ids))
        self.service, self.deployment = service, deployment
        self.last = "PROVISIONING"
        self.health = "UNKNOWN"
        self.proc = None
        self.started = None
        self.ever_healthy_target = False
        self.failed = False
        self.stop_reason = None
        self.exit_code = None


class Service:
    def __init__(self, cluster, spec, taskdef, desired):
        self.cluster, self.spec = cluster, spec
        self.name = spec["name"]
        self.desired = desired
        self.tasks = []
        self.deployments = []
        self.lock = threading.RLock()
        self.deploy(taskdef)

    # -- deployments
    def deploy(self, taskdef, rollback_of=None):
        with self.lock:
            d = {"id": "ecs-svc/%d" % next(_ids), "taskdef": taskdef,
                 "rollout": "IN_PROGRESS", "failed": 0,
                 "started": time.monotonic(), "rollback_of": rollback_of}
            # Tasks already running this task definition belong to the new
            # deployment (a rollback keeps the last completed revision's
            # tasks instead of replacing them).
            for t in self.tasks:
                if t.deployment["taskdef"] == taskdef and t.last in (
                        "PROVISIONING", "RUNNING"):
                    t.deployment = d
            self.deployments.insert(0, d)
            self.cluster.log("%s: deployment %s of %s:%s%s" % (
                self.name, d["id"], taskdef["family"], taskdef["tag"],
                " (rollback)" if rollback_of else ""))
            return d

    @property
    def primary(self):
        return self.deployments[0]

    def threshold(self):
        return min(200, max(3, math.ceil(0.5 * self.desired)))

    def last_completed(self):
        for d in self.deployments[1:]:
            if d["rollout"] == "COMPLETED":
                return d
        return None

    def active(self):
        return [t for t in self.tasks if t.last in ("PROVISIONING", "RUNNING")]

    def is_healthy(self, t):
        if t.last != "RUNNING":
            return False
        td = t.deployment["taskdef"]
        if td["health"] and t.health != "HEALTHY":
            return False
        if self.spec["target_group"]:
            return self.cluster.alb.healthy(t.ip)
        return True

    # -- the scheduler's pass
    def reconcile(self):
        now = time.monotonic()
        with self.lock:
            p = self.primary
            for t in self.active():
                reason = None
                if t.proc and t.proc.poll() is not None:
                    t.exit_code = t.proc.returncode
                    reason = ("Essential container in task exited (exit "
                              "code %d)" % t.exit_code)
                elif t.health == "UNHEALTHY":
                    reason = "Task failed container health checks"
                elif self.spec["target_group"] and t.last == "RUNNING":
                    st = self.cluster.alb.state(t.ip) or ""
                    tg = self.cluster.r.tg_spec
                    bound = max(self.spec["grace"],
                                tg["interval"] * tg["unhealthy"])
                    if st.startswith("UP"):
                        t.ever_healthy_target = True
                    elif st.startswith("DOWN") and (
                            t.ever_healthy_target or now - t.started > bound):
                        reason = "Task failed ELB health checks"
                if reason:
                    t.failed = True
                    if t.deployment["rollout"] == "IN_PROGRESS":
                        t.deployment["failed"] += 1
                    self.cluster.stop_task(t, reason)
            if (p["rollout"] == "IN_PROGRESS" and self.spec["breaker"]
                    and p["failed"] >= self.threshold()):
                p["rollout"] = "FAILED"
                self.cluster.log("%s: circuit breaker tripped (%d failed "
                                 "tasks, threshold %d): deployment %s FAILED"
                                 % (self.name, p["failed"], self.threshold(),
                                    p["id"]))
                good = self.last_completed()
                if self.spec["rollback"] and good:
                    self.deploy(good["taskdef"], rollback_of=p["id"])
                    p = self.primary
            if p["rollout"] == "FAILED":
                return      # no rollback target: nothing more is started
            active = self.active()
            mine = [t for t in active if t.deployment is p]
            max_total = max(self.desired, math.floor(
                self.desired * self.spec["max_percent"] / 100))
            min_healthy = math.ceil(
                self.desired * self.spec["min_healthy"] / 100)
            while len(mine) < self.desired and len(active) < max_total:
                t = self.cluster.start_task(self, p)
                mine.append(t)
                active.append(t)
            healthy = sum(1 for t in active if self.is_healthy(t))
            old = sorted((t for t in active if t.deployment is not p),
                         key=lambda t: self.is_healthy(t))
            for t in old:
                if not self.is_healthy(t):
                    self.cluster.stop_task(t, "Deployment replaced the task")
                elif healthy - 1 >= min_healthy:
                    healthy -= 1
                    self.cluster.stop_task(t, "Deployment replaced the task")
            extra = len(mine) - self.desired
            if extra > 0:
                victims = sorted(mine, key=lambda t: (self.is_healthy(t),
                                                      -t.started_mono))
                for t in victims[:extra]:
                    self.cluster.stop_task(t, "Scaling activity initiated "
                                           "by (deployment %s)" % p["id"])
            if p["rollout"] == "IN_PROGRESS":
                ok = [t for t in self.active() if t.deployment is p
                      and self.is_healthy(t)]
                others = [t for t in self.tasks if t.deployment is not p
                          and t.last != "STOPPED"]
                if len(ok) >= self.desired and not others:
                    p["rollout"] = "COMPLETED"
                    self.cluster.log("%s: deployment %s COMPLETED (%d "
                                     "tasks)" % (self.name, p["id"],
                                                 self.desired))

    def steady(self):
        with self.lock:
            return (self.primary["rollout"] == "COMPLETED" and
                    len([t for t in self.active() if self.is_healthy(t)])
                    == self.desired and
                    all(t.last in ("RUNNING", "STOPPED") for t in self.tasks))


class Cluster:
    """The scheduler: one thread ticking every TICK over every service."""

    def __init__(self, r):
        self.r = r          # the Rehearsal: slot, images, stand-ins, log
        self.services = {}
        self.oneoff = []
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    @property
    def alb(self):
        return self.r.alb

    def log(self, msg):
        self.r.log(msg)

    def _loop(self):
        while not self.stop_ev.wait(TICK):
            for s in list(self.services.values()):
                try:
                    s.reconcile()
                except Exception as e:  # keep scheduling; show the bug
                    self.log("scheduler error in %s: %r" % (s.name, e))

    def create_service(self, spec, taskdef, desired):
        s = Service(self, spec, taskdef, desired)
        self.services[s.name] = s
        return s

    # -- one task
    def _container(self, t, td):
        rootfs, cfg = self.r.images.resolve(td["repo"], td["tag"])
        ns, ip = self.r.slot.netns()
        t.ns, t.ip = ns, ip
        t.dir = os.path.join(self.r.dir, "tasks", t.id)
        user = user_spec(rootfs, td["user"], cfg.get("User"))
        c = Container(t.dir, ns, ip, "ip-" + ip.replace(".", "-"), rootfs,
                      user, td["readonly"], self.r.slot.host_ip,
                      self.r.search_domain)
        env = {}
        for kv in cfg.get("Env", []):
            k, _, v = kv.partition("=")
            env[k] = v
        env.update(td["env"])
        env.update(self.r.resolve_secrets(td["secrets"]))
        argv = list(td["entrypoint"] if td["entrypoint"] is not None
                    else cfg.get("Entrypoint") or [])
        argv += list(td["command"] if td["command"] is not None
                     else cfg.get("Cmd") or [])
        return c, env, argv

    def start_task(self, service, d):
        t = Task(service, d)
        service.tasks.append(t)
        t.started_mono = time.monotonic()
        threading.Thread(target=self._run_task, args=(t,),
                         daemon=True).start()
        return t

    def _run_task(self, t):
        td = t.deployment["taskdef"]
        try:
            c, env, argv = self._container(t, td)
        except Exception as e:
            t.exit_code = -1
            with t.service.lock:
                t.last, t.failed = "STOPPED", True
                t.stop_reason = "CannotStartContainerError: %s" % e
                if t.deployment["rollout"] == "IN_PROGRESS":
                    t.deployment["failed"] += 1
            self.log("%s: STOPPED: %s" % (t.id, t.stop_reason))
            return
        t.container, t.env = c, env
        for hook in self.r.task_hooks:
            hook(t)
        t.log_path = os.path.join(t.dir, "container.log")
        with open(t.log_path, "ab") as f:
            t.proc = subprocess.Popen(c.argv(argv), env=env, stdout=f,
                                      stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL)
        t.started = time.monotonic()
        with t.service.lock:
            if t.last == "PROVISIONING":
                t.last = "RUNNING"
        self.log("%s: RUNNING at %s (%s:%s)" % (t.id, t.ip, td["repo"],
                                                td["tag"]))
        spec = t.service.spec
        if spec["target_group"]:
            self.alb.register(t.ip, spec["container_port"])
        if td["health"]:
            threading.Thread(target=self._health_loop, args=(t, td["health"]),
                             daemon=True).start()
        elif spec["discovery"]:
            self.r.cloudmap_register(spec["discovery"], t.ip)

    def run_in(self, t, argv, timeout):
        try:
            r = subprocess.run(t.container.argv(argv), env=t.env,
                               capture_output=True, timeout=timeout)
            return r.returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def _health_loop(self, t, hc):
        cmd = hc["command"]
        argv = (cmd[1:] if cmd[0] == "CMD" else ["/bin/sh", "-c", cmd[1]]
                if cmd[0] == "CMD-SHELL" else cmd)
        fails = 0
        while t.last == "RUNNING" and not self.stop_ev.is_set():
            time.sleep(hc["interval"])
            if t.last != "RUNNING" or t.proc.poll() is not None:
                return
            ok = self.run_in(t, argv, hc["timeout"])
            in_start = time.monotonic() - t.started < hc["start_period"]
            if ok:
                fails = 0
                if t.health != "HEALTHY":
                    t.health = "HEALTHY"
                    self.log("%s: container health HEALTHY" % t.id)
                    if t.service.spec["discovery"] and t.last == "RUNNING":
                        self.r.cloudmap_register(t.service.spec["discovery"],
                                                 t.ip)
            elif not in_start:
                fails += 1
                if fails >= hc["retries"] and t.health != "UNHEALTHY":
                    t.health = "UNHEALTHY"
                    self.log("%s: container health UNHEALTHY" % t.id)
                    if t.service.spec["discovery"]:
                        self.r.cloudmap_deregister(
                            t.service.spec["discovery"], t.ip)

    def stop_task(self, t, reason):
        with t.service.lock:
            if t.last in ("STOPPING", "STOPPED"):
                return
            t.last, t.stop_reason = "STOPPING", reason
        self.log("%s: stopping: %s" % (t.id, reason))
        threading.Thread(target=self._stop, args=(t,), daemon=True).start()

    def _stop(self, t):
        spec = t.service.spec
        td = t.deployment["taskdef"]
        if spec["discovery"] and getattr(t, "ip", None):
            self.r.cloudmap_deregister(spec["discovery"], t.ip)
        if spec["target_group"] and getattr(t, "ip", None):
            if t.ip in self.alb.targets:
                self.alb.drain(t.ip)
                if t.proc and t.proc.poll() is None:
                    time.sleep(self.r.tg_spec["dereg_delay"])
                self.alb.deregister(t.ip)
        if t.proc and t.proc.poll() is None:
            t.proc.terminate()
            try:
                t.proc.wait(td["stop_timeout"])
            except subprocess.TimeoutExpired:
                self.log("%s: SIGKILL after StopTimeout %d s" % (
                    t.id, td["stop_timeout"]))
                t.proc.kill()
                t.proc.wait()
        if t.proc:
            t.exit_code = t.proc.returncode
        if getattr(t, "ns", None):
            Slot.drop_netns(t.ns)
        with t.service.lock:
            t.last = "STOPPED"
        self.log("%s: STOPPED (exit %s)" % (t.id, t.exit_code))

    def run_oneoff(self, td, timeout):
        """run-task: start, wait for the exit; (exit code, log text)."""
        fake = Service.__new__(Service)
        fake.name, fake.spec = td["family"], {"discovery": None,
                                              "target_group": None}
        fake.lock = threading.RLock()
        t = Task(fake, {"taskdef": td, "rollout": "ONEOFF", "failed": 0})
        c, env, argv = self._container(t, td)
        self.oneoff.append(t)
        t.log_path = os.path.join(t.dir, "container.log")
        with open(t.log_path, "ab") as f:
            t.proc = subprocess.Popen(c.argv(argv), env=env, stdout=f,
                                      stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL)
        try:
            t.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            t.proc.kill()
            t.proc.wait()
        Slot.drop_netns(t.ns)
        with open(t.log_path, "rb") as f:
            return t.proc.returncode, f.read().decode("utf-8", "replace")

    def delete_service(self, s):
        with s.lock:
            s.desired = 0
            self.services.pop(s.name, None)
            for t in s.active():
                self.stop_task(t, "Service deleted")
        deadline = time.monotonic() + 120
        while any(t.last != "STOPPED" for t in s.tasks) and \
                time.monotonic() < deadline:
            time.sleep(0.2)

    def shutdown(self):
        self.stop_ev.set()
        for s in list(self.services.values()):
            for t in s.tasks:
                if t.proc and t.proc.poll() is None:
                    t.proc.kill()
