"""Stand-ins for the AWS services around the tasks, all real processes on
the scenario's bridge address:

- CloudMap: dnsmasq answering <name>.<namespace> with the healthy tasks'
  A records at the template's TTL, at most 8 per answer (a random 8,
  redrawn every second, when more are healthy), like Route 53 MULTIVALUE.
- Alb: haproxy configured from the listener, target group and load
  balancer attributes; targets registered, drained and removed through
  its admin socket.
- Rds: a PostgreSQL 15 cluster made with scripts/pg.sh, TLS required for
  every client (hostssl lines only), a password for the user."""
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time

from host import SOURCE_DIR, sh

MAX_ANSWERS = 8


class CloudMap:
    def __init__(self, slot, workdir, namespace, soa_ttl, log):
        self.slot, self.dir, self.log = slot, workdir, log
        self.namespace, self.soa_ttl = namespace, soa_ttl
        self.services = {}      # fqdn -> {"ttl", "ips": set}
        self.lock = threading.Lock()
        self.proc = None
        self.ttl = None
        self.redrawing = False
        self.stop_ev = threading.Event()
        os.makedirs(workdir, exist_ok=True)
        os.chmod(workdir, 0o755)
        self.hosts = os.path.join(workdir, "hosts")
        self._write()

    def start(self):
        """dnsmasq with the records' TTL (one for all names: its
        --local-ttl); restarted when a name with another TTL is added."""
        with self.lock:
            ttls = {s["ttl"] for s in self.services.values()}
            if len(ttls) > 1:
                raise RuntimeError("Cloud Map stand-in: names with different "
                                   "TTLs %s" % sorted(ttls))
            ttl = ttls.pop() if ttls else self.soa_ttl
            if self.proc and self.proc.poll() is None:
                if ttl == self.ttl:
                    return
                self.proc.kill()
                self.proc.wait()
            self.ttl = ttl
            logf = open(os.path.join(self.dir, "dnsmasq.log"), "ab")
            self.proc = subprocess.Popen(
                ["/usr/sbin/dnsmasq", "--keep-in-foreground",
                 "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                 "--no-poll", "--bind-interfaces",
                 "--listen-address=" + self.slot.host_ip, "--port=53",
                 "--local=/%s/" % self.namespace, "--addn-hosts=" + self.hosts,
                 "--local-ttl=%d" % self.ttl, "--neg-ttl=%d" % self.soa_ttl,
                 "--pid-file=", "--log-facility=-", "--user=root"],
                stdout=logf, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
            logf.close()
            self.slot.record_pid(self.proc.pid)
            if not self.redrawing:
                self.redrawing = True
                threading.Thread(target=self._redraw, daemon=True).start()
        time.sleep(0.3)
        if self.proc.poll() is not None:
            raise RuntimeError("dnsmasq exited: see " + self.dir)

    def add_service(self, fqdn, ttl):
        with self.lock:
            self.services[fqdn] = {"ttl": ttl, "ips": set()}
        self.start()

    def _write(self):
        tmp = self.hosts + ".new"
        with open(tmp, "w") as f:
            for fqdn, s in sorted(self.services.items()):
                ips = sorted(s["ips"])
                if len(ips) > MAX_ANSWERS:
                    ips = random.sample(ips, MAX_ANSWERS)
                for ip in ips:
                    f.write("%s %s\n" % (ip, fqdn))
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.hosts)
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGHUP)

    def _redraw(self):
        while not self.stop_ev.wait(1.0):
            with self.lock:
                if any(len(s["ips"]) > MAX_ANSWERS
                       for s in self.services.values()):
                    self._write()

    def register(self, fqdn, ip):
        with self.lock:
            self.services[fqdn]["ips"].add(ip)
            self._write()
        self.log("cloudmap: %s += %s" % (fqdn, ip))

    def deregister(self, fqdn, ip):
        with self.lock:
            if ip not in self.services[fqdn]["ips"]:
                return
            self.services[fqdn]["ips"].discard(ip)
            self._write()
        self.log("cloudmap: %s -= %s" % (fqdn, ip))

    def stop(self):
        self.stop_ev.set()
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Alb:
    """haproxy as the ALB: one frontend per listener, one backend per
    target group with server slots filled at registration."""
    SLOTS = 64

    def __init__(self, slot, workdir, lb, listener, tg, log):
        self.slot, self.dir, self.log = slot, workdir, log
        self.lb, self.listener, self.tg = lb, listener, tg
        self.port = listener["port"]
        self.addr = slot.host_ip
        self.sock = os.path.join(workdir, "admin.sock")
        self.free = list(range(1, self.SLOTS + 1))
        self.targets = {}       # ip -> server name
        self.lock = threading.Lock()
        self.stat, self.stat_at = {}, 0.0
        os.makedirs(workdir, exist_ok=True)

    def config(self):
        idle, tg = self.lb["idle_timeout"], self.tg
        m = tg["matcher"]
        expect = ("status %s" % m if m.isdigit() else
                  "rstatus ^(%s)$" % m.replace(",", "|").replace("-", "|"))
        return "\n".join([
            "global",
            "  stats socket %s mode 600 level admin" % self.sock,
            "  log stdout format raw local0",
            "  maxconn 4096",
            "defaults",
            "  mode http",
            "  log global",
            # status, termination state, server: a 502 is visible here.
            "  log-format \"%Ts %ci %ST %tsc %s %Tw/%Tc/%Tr/%Ta %{+Q}r\"",
            "  option dontlog-normal",
            "  timeout connect 10s",
            "  timeout client %ds" % idle,
            "  timeout server %ds" % idle,
            "  timeout http-keep-alive %ds" % idle,
            "  timeout http-request %ds" % idle,
            # An ALB sends a request once: no retry hides a target's reset.
            "  retries 0",
            "frontend listener",
            "  bind %s:%d" % (self.addr, self.port),
            "  default_backend tg",
            "backend tg",
            "  balance roundrobin",
            "  http-reuse always",
            "  option httpchk",
            "  http-check send meth GET uri %s" % tg["path"],
            "  http-check expect %s" % expect,
            "  timeout check %ds" % tg["timeout"],
            "  default-server inter %ds rise %d fall %d pool-purge-delay %ds"
            % (tg["interval"], tg["healthy"], tg["unhealthy"], idle),
            "  server-template t 1-%d 0.0.0.0:%d disabled check"
            % (self.SLOTS, tg["port"]),
            ""])

    def start(self):
        path = os.path.join(self.dir, "haproxy.cfg")
        with open(path, "w") as f:
            f.write(self.config())
        sh("haproxy", "-c", "-q", "-f", path)
        with open(os.path.join(self.dir, "haproxy.log"), "ab") as logf:
            self.proc = subprocess.Popen(["haproxy", "-db", "-f", path],
                                         stdout=logf,
                                         stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        self.slot.record_pid(self.proc.pid)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.sock):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("haproxy did not start: " + self.dir)
            time.sleep(0.05)

    def cmd(self, line):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(self.sock)
        s.sendall(line.encode() + b"\n")
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
        s.close()
        return out.decode()

    def register(self, ip, port):
        with self.lock:
            srv = "t%d" % self.free.pop(0)
            self.targets[ip] = srv
        self.cmd("set server tg/%s addr %s port %d" % (srv, ip, port))
        # A new target is "initial": healthy only after rise checks (haproxy
        # would take it as UP on leaving maintenance; one CLI line, so no
        # request reaches it in between).
        self.cmd("set server tg/%s state ready; set server tg/%s health down"
                 % (srv, srv))
        self.log("alb: register %s:%d (%s)" % (ip, port, srv))

    def state(self, ip):
        """UP, DOWN, DRAIN, MAINT (+ transitions "UP 1/3", ...)."""
        srv = self.targets.get(ip)
        if not srv:
            return None
        now = time.monotonic()
        with self.lock:
            if now - self.stat_at > 0.2:
                self.stat = {}
                for line in self.cmd("show stat").splitlines():
                    f = line.split(",")
                    if len(f) > 17 and f[0] == "tg":
                        self.stat[f[1]] = f[17]
                self.stat_at = now
            return self.stat.get(srv)

    def healthy(self, ip):
        return (self.state(ip) or "").startswith("UP")

    def drain(self, ip):
        self.cmd("set server tg/%s state drain" % self.targets[ip])
        self.log("alb: draining %s" % ip)

    def deregister(self, ip):
        with self.lock:
            srv = self.targets.pop(ip, None)
        if not srv:
            return
        self.cmd("set server tg/%s state maint" % srv)
        self.cmd("shutdown sessions server tg/%s" % srv)
        with self.lock:
            self.free.append(int(srv[1:]))
        self.log("alb: deregistered %s" % ip)

    def log_lines(self):
        try:
            with open(os.path.join(self.dir, "haproxy.log"), "rb") as f:
                return f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []

    def stop(self):
        if getattr(self, "proc", None) and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _pg(cmd, *args):
    r = subprocess.run(["bash", "-c", '. "$1"/scripts/pg.sh; shift; "$@"',
                        "pg", SOURCE_DIR, cmd] + list(args),
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s %s failed: %s" % (cmd, args, r.stderr))
    return r.stdout


def free_port(addr="127.0.0.1"):
    s = socket.socket()
    s.bind((addr, 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Rds:
    """The database instance: dbname/username from the template, a
    generated password, TLS forced, listening on the bridge address."""

    def __init__(self, slot, workdir, dbname, username, password):
        self.slot, self.dir = slot, workdir
        self.dbname, self.username, self.password = dbname, username, password
        self.host = slot.host_ip
        self.port = free_port()

    def _as_pg(self, *argv, inp=None):
        return subprocess.run(["runuser", "-u", "postgres", "--"] + list(
            argv), input=inp, capture_output=True, text=True, check=True)

    def create(self):
        os.makedirs(self.dir, exist_ok=True)
        _pg("ta_pg_init", self.dir, str(self.port), "throwaway")
        data, pg = os.path.join(self.dir, "pg", "data"), os.path.join(
            self.dir, "pg")
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
           "-days", "2", "-subj", "/CN=%s" % self.host,
           "-keyout", os.path.join(pg, "server.key"),
           "-out", os.path.join(pg, "server.crt"))
        for f in ("server.key", "server.crt"):
            shutil.chown(os.path.join(pg, f), "postgres", "postgres")
            os.chmod(os.path.join(pg, f), 0o600)
        conf = ("listen_addresses = '127.0.0.1,%s'\nssl = on\n"
                "ssl_cert_file = '%s/server.crt'\n"
                "ssl_key_file = '%s/server.key'\n"
                "password_encryption = 'scram-sha-256'\n" % (self.host, pg, pg))
        self._as_pg("tee", "-a", os.path.join(data, "postgresql.conf"),
                    inp=conf)
        # First start: TLS-only trust on loopback to set the password.
        self._hba("trust")
        _pg("ta_pg_start", self.dir)
        self.slot.record_cleanup(
            "runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "
            "%s -m immediate stop" % data)
        env = dict(os.environ, PGSSLMODE="require")
        subprocess.run(["bash", "-c", '. "$1"/scripts/pg.sh; '
                        'ta_pg_createdb "$2" "$3"', "pg", SOURCE_DIR,
                        self.dir, self.dbname], env=env, check=True,
                       capture_output=True)
        sql = ("DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE "
               "rolname = '%s') THEN CREATE ROLE \"%s\" LOGIN; END IF; END$$;"
               "ALTER ROLE \"%s\" PASSWORD '%s';"
               "ALTER DATABASE \"%s\" OWNER TO \"%s\";" % (
                   self.username, self.username, self.username,
                   self.password, self.dbname, self.username))
        subprocess.run(["psql", "-X", "-q", "-h", "127.0.0.1", "-p",
                        str(self.port), "-U", "taskapi", "-d", "postgres",
                        "-v", "ON_ERROR_STOP=1", "-c", sql], env=env,
                       check=True, capture_output=True)
        self._hba("scram-sha-256")
        self._as_pg("/usr/lib/postgresql/15/bin/pg_ctl", "-D", data,
                    "reload", "-s")

    def _hba(self, method):
        lines = ["hostssl all all 127.0.0.1/32 %s" % method,
                 "hostssl all all %s/24 %s" % (
                     self.host.rsplit(".", 1)[0] + ".0", method), ""]
        self._as_pg("tee", os.path.join(self.dir, "pg", "data",
                                        "pg_hba.conf"), inp="\n".join(lines))

    def start(self):
        _pg("ta_pg_start", self.dir)

    def stop(self):
        _pg("ta_pg_stop", self.dir)

    def delete(self):
        try:
            self._as_pg("/usr/lib/postgresql/15/bin/pg_ctl", "-D",
                        os.path.join(self.dir, "pg", "data"), "-m",
                        "immediate", "-w", "stop", "-s")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def exists(self):
        return os.path.exists(os.path.join(self.dir, "pg", "data"))

    def env(self, sslmode="require"):
        return {"DB_HOST": self.host, "DB_PORT": str(self.port),
                "DB_NAME": self.dbname, "DB_USER": self.username,
                "DB_PASSWORD": self.password, "PGSSLMODE": sslmode}
