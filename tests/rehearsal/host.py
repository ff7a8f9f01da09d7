"""The machine side of the rehearsal: a private bridge subnet per scenario,
one network namespace per task (awsvpc: one address each, lo up), the
container images (ecs/build-images.sh, unpacked with umoci), and tasks run
under chroot as the task definition says.

Each scenario takes a slot n (10.213.n.0/24, bridge tarb<n>); the slot's
state directory records what it made, so a later run sweeps what a killed
run left behind (namespaces, the processes in them, stand-in pids)."""
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time

STATE = "/run/taskapi-rehearsal"
SUBNET = "10.213.%d"
SOURCE_DIR = os.environ.get("TA_SOURCE_DIR", os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))

# Runs argv under chroot in the task's private mount namespace: the image
# root as an overlay (mountpoints for hosts/resolv.conf on top; read-only
# when the task definition says so), /proc, /dev, the generated
# /etc/hosts and /etc/resolv.conf bind-mounted as a container runtime does.
RUNNER = r"""
set -e
root=$1 dir=$2 user=$3 ro=$4; shift 4
mnt=$dir/mnt
if [ "$ro" = 1 ]; then
  /bin/mount -t overlay overlay -o "lowerdir=$dir/layer:$root" "$mnt"
else
  /bin/mount -t overlay overlay -o "lowerdir=$dir/layer:$root,upperdir=$dir/upper,workdir=$dir/work" "$mnt"
fi
/bin/mount -t proc proc "$mnt/proc"
/bin/mount --bind /dev "$mnt/dev"
/bin/mount --bind "$dir/resolv.conf" "$mnt/etc/resolv.conf"
/bin/mount --bind "$dir/hosts" "$mnt/etc/hosts"
exec /usr/sbin/chroot --userspec="$user" "$mnt" "$@"
"""


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, capture_output=True,
                          text=True, **kw)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _kill_pid(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def sweep_slot(n):
    d = os.path.join(STATE, "slot%d" % n)
    for ns in sh("ip", "netns", "list", check=False).stdout.split():
        if ns.startswith("tarh%d-" % n):
            for p in sh("ip", "netns", "pids", ns, check=False).stdout.split():
                _kill_pid(int(p))
            sh("ip", "netns", "del", ns, check=False)
    try:
        with open(os.path.join(d, "pids")) as f:
            for line in f:
                if line.strip():
                    _kill_pid(int(line))
    except OSError:
        pass
    try:
        with open(os.path.join(d, "cleanup")) as f:
            for line in f:
                if line.strip():
                    subprocess.run(["sh", "-c", line], capture_output=True)
    except OSError:
        pass
    sh("ip", "link", "del", "tarb%d" % n, check=False)
    shutil.rmtree(d, ignore_errors=True)


def sweep_stale():
    os.makedirs(STATE, exist_ok=True)
    for e in os.listdir(STATE):
        if not e.startswith("slot"):
            continue
        try:
            with open(os.path.join(STATE, e, "owner")) as f:
                owner = int(f.read())
        except (OSError, ValueError):
            owner = 0
        if not owner or not pid_alive(owner):
            sweep_slot(int(e[4:]))


class Slot:
    """A bridge with its own /24, and the namespaces of one scenario."""

    def __init__(self):
        # Sweeping and taking a slot under one lock: a scenario starting
        # at the same moment must never see a slot between its mkdir and
        # its owner file (it would sweep it as stale and take it too).
        os.makedirs(STATE, exist_ok=True)
        with open(os.path.join(STATE, "lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            sweep_stale()
            for n in range(1, 250):
                d = os.path.join(STATE, "slot%d" % n)
                try:
                    os.mkdir(d)
                except FileExistsError:
                    continue
                with open(os.path.join(d, "owner"), "w") as f:
                    f.write(str(os.getpid()))
                self.n, self.dir = n, d
                break
            else:
                raise RuntimeError("no free rehearsal slot")
            # A bridge left by a run killed outright (its slot swept).
            sh("ip", "link", "del", "tarb%d" % self.n, check=False)
        self.bridge = "tarb%d" % self.n
        self.host_ip = SUBNET % self.n + ".1"
        self.next = 10
        # A fixed address: a bridge without one takes the lowest address
        # of its ports and changes it as tasks come and go. Tasks that
        # had resolved the host (the database, the DNS stand-in) then
        # send to a stale MAC, the frames are dropped until their ARP
        # entry fails over (several seconds), and the first query on an
        # idle database connection passes its deadline (seen as 504s and
        # a 503 from /tasks/health right after a deploy).
        sh("ip", "link", "add", self.bridge, "address",
           "02:7a:00:00:00:%02x" % self.n, "type", "bridge")
        sh("ip", "addr", "add", self.host_ip + "/24", "dev", self.bridge)
        sh("ip", "link", "set", self.bridge, "up")
        self.lock = threading.Lock()

    def record_pid(self, pid):
        with open(os.path.join(self.dir, "pids"), "a") as f:
            f.write("%d\n" % pid)

    def record_cleanup(self, cmd):
        with open(os.path.join(self.dir, "cleanup"), "a") as f:
            f.write(cmd + "\n")

    def netns(self):
        """A new namespace with one address on the bridge: (name, ip)."""
        with self.lock:
            k = self.next
            self.next += 1
        if k > 250:
            raise RuntimeError("slot %d: out of addresses" % self.n)
        ns, host, peer = ("tarh%d-%d" % (self.n, k), "tarv%d-%d" % (self.n, k),
                          "tarp%d-%d" % (self.n, k))
        ip = SUBNET % self.n + ".%d" % k
        # The slot is ours: a name still there is a previous scenario's,
        # whose namespace the kernel has not finished destroying (veth
        # pairs go asynchronously after `ip netns del`).
        sh("ip", "link", "del", host, check=False)
        if os.path.exists(os.path.join("/run/netns", ns)):
            self.drop_netns(ns)
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", host, "type", "veth", "peer", "name", peer)
        sh("ip", "link", "set", host, "master", self.bridge, "up")
        sh("ip", "link", "set", peer, "netns", ns)
        for cmd in (["link", "set", "lo", "up"],
                    ["link", "set", peer, "name", "eth0"],
                    ["addr", "add", ip + "/24", "dev", "eth0"],
                    ["link", "set", "eth0", "up"],
                    ["route", "add", "default", "via", self.host_ip]):
            sh("ip", "-n", ns, *cmd)
        return ns, ip

    @staticmethod
    def drop_netns(ns):
        for p in sh("ip", "netns", "pids", ns, check=False).stdout.split():
            _kill_pid(int(p))
        sh("ip", "netns", "del", ns, check=False)

    def close(self):
        sweep_slot(self.n)


class Images:
    """The OCI layout of ecs/build-images.sh (its own copy under the build
    dir, rebuilt when the binaries change), a local "registry" mapping
    (repository, version) -> layout tag, unpacked root file systems."""

    def __init__(self, build_dir, bin_dir):
        self.top = os.path.join(build_dir, "rehearsal")
        self.layout = os.path.join(self.top, "oci")
        self.bin_dir = bin_dir
        os.makedirs(self.top, exist_ok=True)
        self.registry = {}

    def _lock(self):
        f = open(os.path.join(self.top, ".lock"), "w")
        fcntl.flock(f, fcntl.LOCK_EX)
        return f

    def _stamp(self):
        h = hashlib.sha256()
        files = [os.path.join(self.bin_dir, b) for b in (
            "edge-api", "auth-svc", "task-svc", "taskapi-migrate")]
        mig = os.path.join(SOURCE_DIR, "db", "migrations")
        files += sorted(os.path.join(mig, f) for f in os.listdir(mig))
        files += [os.path.join(SOURCE_DIR, "ecs", x) for x in (
            "build-images.sh", "runtime-packages.txt")]
        for p in files:
            with open(p, "rb") as f:
                h.update(p.encode() + f.read())
        return h.hexdigest()

    def build(self, log):
        with self._lock():
            stamp = self._stamp()
            sfile = os.path.join(self.top, "stamp")
            old = None
            if os.path.exists(sfile):
                with open(sfile) as f:
                    old = f.read()
            if old == stamp:
                log("images: layout up to date")
            else:
                t0 = time.monotonic()
                r = subprocess.run(
                    [os.path.join(SOURCE_DIR, "ecs", "build-images.sh"),
                     "--bin-dir", self.bin_dir, "--out", self.layout,
                     "--cache", os.path.join(self.top, "cache")],
                    capture_output=True, text=True)
                if r.returncode != 0:
                    raise RuntimeError("build-images.sh failed:\n" + r.stderr)
                with open(sfile, "w") as f:
                    f.write(stamp)
                log("images: built in %.0f s" % (time.monotonic() - t0))

    def push(self, repo, version, tag):
        self.registry[(repo, version)] = tag

    def derive(self, src_tag, new_tag, label=None, entrypoint=None):
        """A new image tag in the layout made from src_tag: a new label
        (a new image digest) or another entry point."""
        with self._lock():
            if new_tag in self.tags():
                return
            cmd = ["umoci", "config", "--image",
                   "%s:%s" % (self.layout, src_tag), "--tag", new_tag]
            if label:
                cmd += ["--config.label", label]
            for i, a in enumerate(entrypoint or []):
                cmd += ["--config.entrypoint" if i == 0 else "--config.cmd", a]
            sh(*cmd)

    def tags(self):
        with open(os.path.join(self.layout, "index.json")) as f:
            idx = json.load(f)
        return {m.get("annotations", {}).get(
            "org.opencontainers.image.ref.name"): m["digest"]
            for m in idx["manifests"]}

    def _blob(self, digest):
        algo, hexd = digest.split(":")
        with open(os.path.join(self.layout, "blobs", algo, hexd)) as f:
            return json.load(f)

    def resolve(self, repo, version):
        """(rootfs path, OCI config) of repo:version; unpacked once."""
        if (repo, version) not in self.registry:
            raise RuntimeError("CannotPullContainerError: %s:%s not found"
                               % (repo, version))
        tag = self.registry[(repo, version)]
        digest = self.tags()[tag]
        cfg = self._blob(self._blob(digest)["config"]["digest"])["config"]
        # The root file system depends on the layers only.
        layers = [x["digest"] for x in self._blob(digest)["layers"]]
        key = hashlib.sha256("".join(layers).encode()).hexdigest()[:16]
        bundle = os.path.join(self.top, "rootfs", key)
        with self._lock():
            if not os.path.exists(os.path.join(bundle, "done")):
                shutil.rmtree(bundle, ignore_errors=True)
                os.makedirs(os.path.dirname(bundle), exist_ok=True)
                sh("umoci", "unpack", "--image",
                   "%s:%s" % (self.layout, tag), bundle)
                open(os.path.join(bundle, "done"), "w").close()
        return os.path.join(bundle, "rootfs"), cfg


def user_spec(rootfs, user, image_user):
    """ECS User "10001" (or the image's) -> uid:gid, the group from the
    image's /etc/passwd."""
    u = user or image_user or "0"
    if ":" in u:
        return u
    try:
        with open(os.path.join(rootfs, "etc", "passwd")) as f:
            for line in f:
                p = line.split(":")
                if p[0] == u or p[2] == u:
                    return "%s:%s" % (p[2], p[3])
    except OSError:
        pass
    return "%s:%s" % (u, u)


class Container:
    """One task's container: its directory (mountpoint layer, hosts,
    resolv.conf, log) and the argv that runs anything in it."""

    def __init__(self, workdir, ns, ip, hostname, rootfs, user, readonly,
                 dns_ip, search):
        self.dir, self.ns, self.ip = workdir, ns, ip
        self.rootfs, self.user, self.readonly = rootfs, user, readonly
        for d in ("layer/etc", "mnt", "upper", "work"):
            os.makedirs(os.path.join(workdir, d), exist_ok=True)
        for f in ("hosts", "resolv.conf"):
            open(os.path.join(workdir, "layer", "etc", f), "w").close()
        with open(os.path.join(workdir, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n%s %s\n" % (ip, hostname))
        with open(os.path.join(workdir, "resolv.conf"), "w") as f:
            f.write("nameserver %s\nsearch %s\n" % (dns_ip, search))
        for f in ("hosts", "resolv.conf"):
            os.chmod(os.path.join(workdir, f), 0o644)

    def argv(self, argv):
        return ["/usr/sbin/ip", "netns", "exec", self.ns, "/usr/bin/unshare",
                "--mount", "--propagation", "private", "/bin/sh", "-c",
                RUNNER, "sh", self.rootfs, self.dir, self.user,
                "1" if self.readonly else "0"] + list(argv)
