"""A stand-in for AWS Cloud Map in tests: dnsmasq (Debian dnsmasq-base) on a
free loopback UDP port, answering one name with one A record per instance
(MULTIVALUE-like) with a 1 s TTL. The set is changed by rewriting the
addn-hosts file and sending SIGHUP, as Cloud Map changes its records when
ECS registers or deregisters a task.

The process under test is pointed at it with RPC_DNS_SERVER=127.0.0.1:<port>
(edge-api then queries it directly), so no network namespace is needed:
127.0.0.2, 127.0.0.3, ... are all loopback addresses on Linux.

Python standard library only; dnsmasq is stopped by its pid in stop().
"""

import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

DNSMASQ_CANDIDATES = ("/usr/sbin/dnsmasq", "/sbin/dnsmasq")


def find_dnsmasq():
    for p in DNSMASQ_CANDIDATES:
        if os.access(p, os.X_OK):
            return p
    p = shutil.which("dnsmasq")
    if p:
        return p
    raise RuntimeError("dnsmasq not found: install dnsmasq-base "
                       "(scripts/deps.d/discovery.sh)")


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def query_a(name, port, timeout=0.5):
    """The A records of name from 127.0.0.1:port, or None on no answer."""
    qid = random.randrange(65536)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(q, ("127.0.0.1", port))
        r, _ = s.recvfrom(1500)
    except OSError:
        return None
    finally:
        s.close()
    rid, flags, qd, an = struct.unpack(">HHHH", r[:8])
    if rid != qid or flags & 0x000F:
        return []
    at = 12

    def skip_name(at):
        while True:
            b = r[at]
            if b == 0:
                return at + 1
            if b & 0xC0 == 0xC0:
                return at + 2
            at += 1 + b

    for _ in range(qd):
        at = skip_name(at) + 4
    out = []
    for _ in range(an):
        at = skip_name(at)
        typ, cls, _ttl, rdlen = struct.unpack(">HHIH", r[at:at + 10])
        at += 10
        if typ == 1 and cls == 1 and rdlen == 4:
            out.append(socket.inet_ntoa(r[at:at + 4]))
        at += rdlen
    return sorted(out)


class DnsStandIn:
    """dnsmasq serving name -> addrs; set_addrs() changes the set."""

    def __init__(self, name):
        self.name = name
        self.port = None
        self.proc = None
        self.tmpdir = None
        self.hosts = None
        self.log = None

    def start(self, addrs):
        self.tmpdir = tempfile.mkdtemp(prefix="taskapi-dns-")
        # dnsmasq drops root to "nobody": it must still read the file.
        os.chmod(self.tmpdir, 0o755)
        self.hosts = os.path.join(self.tmpdir, "hosts")
        self._write(addrs)
        exe = find_dnsmasq()
        for _ in range(5):
            self.port = free_udp_port()
            self.log = open(os.path.join(self.tmpdir, "dnsmasq.log"), "wb")
            self.proc = subprocess.Popen(
                [exe, "--keep-in-foreground", "--conf-file=/dev/null",
                 "--no-resolv", "--no-hosts", "--no-poll",
                 "--bind-interfaces", "--listen-address=127.0.0.1",
                 "--port=%d" % self.port, "--addn-hosts=" + self.hosts,
                 "--local-ttl=1", "--pid-file=", "--log-facility=-"],
                stdout=self.log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and self.proc.poll() is None:
                if query_a(self.name, self.port, 0.2) == sorted(addrs):
                    return self
                time.sleep(0.05)
            self._kill()
        raise RuntimeError("dnsmasq did not start: " + self.log_text())

    def _write(self, addrs):
        tmp = self.hosts + ".new"
        with open(tmp, "w") as f:
            for a in addrs:
                f.write("%s %s\n" % (a, self.name))
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.hosts)

    def set_addrs(self, addrs):
        """Publishes addrs; returns once dnsmasq answers with them."""
        self._write(addrs)
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        want = sorted(addrs) if addrs else []
        while time.monotonic() < deadline:
            if query_a(self.name, self.port, 0.2) == want:
                return
            time.sleep(0.02)
        raise RuntimeError("dnsmasq did not take the new records")

    def log_text(self):
        try:
            with open(os.path.join(self.tmpdir, "dnsmasq.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")[-2000:]
        except OSError:
            return ""

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log:
            self.log.close()
            self.log = None

    def stop(self):
        self._kill()
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
