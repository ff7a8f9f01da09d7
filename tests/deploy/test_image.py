"""The Docker-less container images (ecs/build-images.sh), smoke-tested the
way ECS runs them: each image is unpacked from the OCI layout and run under
chroot on a read-only bind mount of its rootfs, with the image's own
entrypoint, environment and user (10001), in a private mount namespace
(/proc and /dev mounted as a container runtime does).

Checks: shared libraries all resolve (ldd in the image); the root is
read-only and the user is not root; `--health-check` of each worker exits 1
with no worker and 0 against a running one; SIGTERM makes a worker exit 0;
the three images together answer /health, /auth/health, /tasks/health and a
register + login through the edge; the migrate tool in the task-svc image
finds its migrations. Needs root (debootstrap, mount, chroot) and DB_* of a
migrated database reachable over TCP. The debootstrap base is cached under
TA_BUILD_DIR/images/cache, keyed by the package list.

With a sanitizer build, the sanitizer runtimes the binaries link are added
to the test images (--extra-packages); released images never carry them.
"""

import http.client
import json
import os
import re
import secrets
import shutil
import socket
import string
import subprocess
import sys
import tempfile
import time
import unittest

SERVICES = ("edge-api", "auth-svc", "task-svc")
UID = 10001

# Runs argv under chroot on a read-only bind mount, in a private mount
# namespace so that no mount outlives the process. $1 rootfs, $2 mount
# point, $3 user:group, then argv.
RUNNER = r"""
set -e
root=$1; mnt=$2; user=$3; shift 3
mount --bind "$root" "$mnt"
mount -o remount,bind,ro "$mnt"
mount -t proc proc "$mnt/proc"
mount --bind /dev "$mnt/dev"
exec chroot --userspec="$user" "$mnt" "$@"
"""

ENV_NEEDED = ("TA_BIN_DIR", "TA_SOURCE_DIR", "TA_BUILD_DIR", "DB_HOST",
              "DB_PORT", "DB_NAME", "DB_USER")

state = {}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sanitizer_packages(bindir):
    """Debian packages of the sanitizer runtimes the binaries link."""
    pkgs = set()
    for svc in SERVICES:
        out = subprocess.run(["ldd", os.path.join(bindir, svc)],
                             capture_output=True, text=True).stdout
        for m in re.finditer(r"=> (\S*lib(?:asan|ubsan|lsan|tsan)\S*)", out):
            r = subprocess.run(["dpkg", "-S", os.path.realpath(m.group(1))],
                               capture_output=True, text=True)
            if r.returncode != 0:
                r = subprocess.run(["dpkg", "-S", m.group(1)],
                                   capture_output=True, text=True)
            if r.returncode == 0:
                pkgs.add(r.stdout.split(":")[0])
    return sorted(pkgs)


def oci_config(layout, tag):
    """The image config (OCI) of tag in layout."""
    def blob(digest):
        algo, hexd = digest.split(":")
        with open(os.path.join(layout, "blobs", algo, hexd)) as f:
            return json.load(f)
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    for m in index["manifests"]:
        if m.get("annotations", {}).get(
                "org.opencontainers.image.ref.name") == tag:
            return blob(blob(m["digest"])["config"]["digest"])
    raise AssertionError("tag %s not in %s" % (tag, layout))


def setUpModule():
    missing = [k for k in ENV_NEEDED if not os.environ.get(k)]
    if missing:
        raise RuntimeError("test_image: missing environment: "
                           + ", ".join(missing))
    if os.geteuid() != 0:
        raise RuntimeError("test_image: needs root (debootstrap, mount, "
                           "chroot); CI runs as root")
    src = os.environ["TA_SOURCE_DIR"]
    bindir = os.environ["TA_BIN_DIR"]
    images = os.path.join(os.environ["TA_BUILD_DIR"], "images")
    layout = os.path.join(images, "oci")
    cmd = [os.path.join(src, "ecs", "build-images.sh"), "--bin-dir", bindir,
           "--out", layout, "--cache", os.path.join(images, "cache")]
    extra = sanitizer_packages(bindir)
    if extra:
        cmd += ["--extra-packages", ",".join(extra)]
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    sys.stdout.write(r.stderr)
    if r.returncode != 0:
        raise RuntimeError("build-images.sh failed (%d)" % r.returncode)
    print("test_image: images built in %.1f s" % (time.monotonic() - t0))
    tmp = tempfile.mkdtemp(prefix="taskapi-image-test-")
    state.update(layout=layout, tmp=tmp, mnt=os.path.join(tmp, "mnt"),
                 procs=[], configs={}, roots={})
    os.mkdir(state["mnt"])
    for svc in SERVICES:
        bundle = os.path.join(tmp, svc)
        subprocess.run(["umoci", "unpack", "--image",
                        "%s:%s" % (layout, svc), bundle], check=True,
                       stdout=subprocess.DEVNULL)
        state["roots"][svc] = os.path.join(bundle, "rootfs")
        state["configs"][svc] = oci_config(layout, svc)["config"]
    state["jwt"] = "".join(secrets.choice(string.ascii_letters)
                           for _ in range(48))
    state["rpc_auth_key"] = secrets.token_hex(32)


def tearDownModule():
    for p in state.get("procs", []):
        if p.poll() is None:
            p.kill()
            p.wait()
    if state.get("tmp"):
        shutil.rmtree(state["tmp"], ignore_errors=True)


def image_env(svc, extra=None):
    """The image's Env, then the test's settings, as a runtime merges them."""
    env = {}
    for kv in state["configs"][svc].get("Env", []):
        k, _, v = kv.partition("=")
        env[k] = v
    env["PATH"] = env.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin"
    for k in ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD"):
        if os.environ.get(k):
            env[k] = os.environ[k]
    env["JWT_SECRET"] = state["jwt"]
    env["RPC_AUTH_KEY"] = state["rpc_auth_key"]
    env["LOG_LEVEL"] = "info"
    # A sanitizer build: leak checks need ptrace, which a chroot as
    # uid 10001 does not give; the sanitizer pass checks leaks elsewhere.
    env["ASAN_OPTIONS"] = "detect_leaks=0"
    env.update(extra or {})
    return env


def in_image(svc, argv=None, extra_env=None, entry=True, **kw):
    """Popen of the image's entrypoint (+argv), or of argv alone, as the
    image's user under chroot on a read-only root."""
    cfg = state["configs"][svc]
    cmd = (list(cfg.get("Entrypoint") or []) if entry else []) + list(
        argv or [])
    user = cfg.get("User", "")
    if ":" not in user:
        user = user + ":" + user
    full = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            RUNNER, "sh", state["roots"][svc], state["mnt"], user] + cmd
    p = subprocess.Popen(full, env=image_env(svc, extra_env),
                         stdin=subprocess.DEVNULL, **kw)
    state["procs"].append(p)
    return p


def run_in_image(svc, argv, extra_env=None, entry=True, timeout=30):
    p = in_image(svc, argv, extra_env, entry, stdout=subprocess.PIPE,
                 stderr=subprocess.STDOUT)
    out, _ = p.communicate(timeout=timeout)
    return p.returncode, out.decode("utf-8", "replace")


def wait_health(svc, env, want, timeout=15.0):
    deadline = time.monotonic() + timeout
    rc = None
    while time.monotonic() < deadline:
        rc, _ = run_in_image(svc, ["--health-check"], env)
        if rc == want:
            return rc
        time.sleep(0.2)
    return rc


def http_get(port, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    hdrs = {"Content-Type": "application/json"} if body is not None else {}
    c.request(method, path, json.dumps(body) if body is not None else None,
              hdrs)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, json.loads(data) if data else None


class ImageConfig(unittest.TestCase):
    def test_user_entrypoint_and_rootfs(self):
        for svc in SERVICES:
            cfg = state["configs"][svc]
            self.assertEqual(cfg.get("User"), "%d:%d" % (UID, UID), svc)
            self.assertEqual(cfg.get("Entrypoint"),
                             ["/usr/local/bin/" + svc], svc)
            root = state["roots"][svc]
            with open(os.path.join(root, "etc", "passwd")) as f:
                self.assertRegex(f.read(), r"(?m)^taskapi:x:%d:%d:" %
                                 (UID, UID))
            # Runtime libraries only: no compiler, no headers.
            self.assertFalse(os.path.exists(os.path.join(root, "usr/bin/gcc")))
            self.assertFalse(os.path.exists(
                os.path.join(root, "usr/include/nng")))
        env = dict(kv.split("=", 1)
                   for kv in state["configs"]["task-svc"]["Env"])
        migrations = env["MIGRATIONS_DIR"]
        files = os.listdir(state["roots"]["task-svc"] + migrations)
        want = os.listdir(os.path.join(os.environ["TA_SOURCE_DIR"], "db",
                                       "migrations"))
        self.assertEqual(sorted(files), sorted(f for f in want
                                               if f.endswith(".sql")))

    def test_shared_libraries_resolve(self):
        bins = [(svc, "/usr/local/bin/" + svc) for svc in SERVICES]
        bins.append(("task-svc", "/usr/local/bin/taskapi-migrate"))
        for svc, path in bins:
            rc, out = run_in_image(svc, ["/usr/bin/ldd", path], entry=False)
            self.assertEqual(rc, 0, out)
            self.assertNotIn("not found", out, path)
            self.assertIn("libc.so.6", out)

    def test_read_only_root_non_root_user(self):
        rc, out = run_in_image("task-svc", [
            "/bin/sh", "-c", "id -u; id -g; : > /probe"], entry=False)
        self.assertNotEqual(rc, 0)
        self.assertEqual(out.splitlines()[:2], [str(UID), str(UID)])
        self.assertIn("Read-only file system", out)


class Workers(unittest.TestCase):
    def check_worker(self, svc):
        url = "tcp://127.0.0.1:%d" % free_port()
        env = {"RPC_LISTEN": url, "DB_POOL_SIZE": "2"}
        rc, out = run_in_image(svc, ["--health-check"], env)
        self.assertEqual(rc, 1, "health-check without a worker: " + out)
        log = open(os.path.join(state["tmp"], svc + ".log"), "w+b")
        p = in_image(svc, [], env, stdout=log, stderr=subprocess.STDOUT)
        try:
            self.assertEqual(wait_health(svc, env, 0), 0,
                             "health-check against the running worker")
            self.assertIsNone(p.poll())
            p.terminate()
            p.wait(60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
        log.close()
        self.assertEqual(p.returncode, 0, "exit on SIGTERM\n" + text)
        events = [json.loads(line).get("event") for line in text.splitlines()
                  if line.startswith("{")]
        self.assertIn("started", events, text)
        self.assertIn("stopped", events, text)
        rc, _ = run_in_image(svc, ["--health-check"], env)
        self.assertEqual(rc, 1, "health-check after the worker stopped")

    def test_task_svc(self):
        self.check_worker("task-svc")

    def test_auth_svc(self):
        self.check_worker("auth-svc")

    def test_migrate_status_in_task_image(self):
        rc, out = run_in_image("task-svc", [
            "/usr/local/bin/taskapi-migrate", "--status"], entry=False)
        self.assertEqual(rc, 0, out)
        recs = [json.loads(line) for line in out.splitlines()
                if line.startswith("{")]
        cfg = [r for r in recs if r.get("event") == "config"]
        self.assertEqual(cfg[0]["MIGRATIONS_DIR"],
                         "/usr/local/share/taskapi/migrations", out)
        states = [r["state"] for r in recs
                  if r.get("event") == "migration_status"]
        sql = [f for f in os.listdir(os.path.join(
            os.environ["TA_SOURCE_DIR"], "db", "migrations"))
            if f.endswith(".sql")]
        self.assertEqual(states, ["applied"] * len(sql), out)


class WholeSystem(unittest.TestCase):
    def test_three_images_serve_the_api(self):
        auth = "tcp://127.0.0.1:%d" % free_port()
        task = "tcp://127.0.0.1:%d" % free_port()
        port = free_port()
        procs = [
            in_image("auth-svc", [], {"RPC_LISTEN": auth},
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            in_image("task-svc", [], {"RPC_LISTEN": task},
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            in_image("edge-api", [], {"PORT": str(port),
                                      "AUTH_RPC_URL": auth,
                                      "TASK_RPC_URL": task},
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        ]
        try:
            deadline = time.monotonic() + 20
            statuses = {}
            while time.monotonic() < deadline:
                try:
                    statuses = {path: http_get(port, "GET", path)[0]
                                for path in ("/health", "/auth/health",
                                             "/tasks/health")}
                except OSError:
                    statuses = {}
                if statuses and set(statuses.values()) == {200}:
                    break
                time.sleep(0.2)
            self.assertEqual(set(statuses.values()), {200}, statuses)
            name = "img_" + secrets.token_hex(8)
            pw = secrets.token_urlsafe(16)
            st, body = http_get(port, "POST", "/auth/register", {
                "username": name, "email": name + "@example.com",
                "password": pw})
            self.assertEqual(st, 201, body)
            st, body = http_get(port, "POST", "/auth/login",
                                {"username": name, "password": pw})
            self.assertEqual(st, 200)
            self.assertIn("token", body)
            # The browser console is in the edge binary itself.
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", "/")
            r = c.getresponse()
            page = r.read()
            c.close()
            self.assertEqual(r.status, 200)
            self.assertIn(b"/console/app.js", page)
        finally:
            for p in reversed(procs):
                if p.poll() is None:
                    p.terminate()
            codes = [p.wait(60) for p in reversed(procs)]
        self.assertEqual(codes, [0, 0, 0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
