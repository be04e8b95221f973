# SPDX-License-Identifier: MIT
"""Helpers for the integration tests: real locusd processes on 127.0.0.1 with OS-assigned ports,
a SIP client over UDP, and TAP output that meson reads.

Every node runs in its own temporary directory with its log there; a node is stopped with
SIGTERM (and must exit 0), and killed by PID if it does not stop in time. Every process a test
starts is tracked and killed at exit, also when the test fails.

Dataplanes (issue 14). LOCUS_DATAPLANE chooses where and how a Node runs, so that the same tests
run against every I/O backend:

  sock            (default) the socket backend on 127.0.0.1, clients on 127.0.0.1
  netns-sock      the socket backend in a network namespace of its own, bound to the address of
                  its end of a veth pair; proves the topology below without DPDK
  dpdk-af_packet  --dataplane dpdk on that veth end through net_af_packet (qpairs = workers)
  dpdk-af_xdp     the same through net_af_xdp, one vdev per queue (start_queue = 0..workers-1)

Topology of the namespaced modes (class Netns), all of it private to one test process: a client
namespace with a bridge br0 holding 198.18.0.1/24 (and 198.18.0.254, a second client address),
and per node a namespace whose "dpa0" is one end of a veth pair with as many queues as the node
has workers; the other end is a port of br0. Node k's address is 198.18.0.(k+2) (on dpa0 in
netns-sock; in the DPDK modes dpa0 has no address, and locusd answers ARP for it itself). All
nodes of a process share the one segment, so they reach each other and the client without
routing. IPv6 is off everywhere (no router or neighbour solicitations on the DPDK port). The
tests' sockets that talk to a node are made in the client namespace (client_socket(): setns
around socket(), then back; a socket keeps the namespace it was made in), and locusctl runs
there too (its admin interface is a Unix socket, a file path, which works across namespaces).
Every namespace (and with it every veth and the bridge) is deleted at exit, after killing what
still runs in it, also on SIGTERM (meson's timeout).

The namespaced modes need root; the DPDK modes also a locusd built with DPDK. Where they cannot
run, importing this module prints "skipped: <reason>" as TAP and exits, so the test counts as
skipped, except under CI=true as root, where a DPDK that cannot run is a failure.
"""
import atexit
import contextlib
import ctypes
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import struct

import lsp_wire  # tests/integration/lsp_wire.py, beside this file

BUILD = os.environ.get("LOCUS_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
LOCUSD = os.environ.get("LOCUSD", os.path.join(BUILD, "control", "locusd"))
LOCUSCTL = os.environ.get("LOCUSCTL", os.path.join(BUILD, "control", "locusctl"))

_procs = []


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            p.wait()


atexit.register(_cleanup)


def _on_term(sig, frame):
    """meson's timeout (or anyone) sends SIGTERM: leave through sys.exit, so that finally blocks
    (a test's network namespace) and _cleanup (its nodes) still run."""
    sys.exit(128 + sig)


signal.signal(signal.SIGTERM, _on_term)


# --- dataplanes and network namespaces (see the module's docstring)

DATAPLANES = ("sock", "netns-sock", "dpdk-af_packet", "dpdk-af_xdp")
DATAPLANE = os.environ.get("LOCUS_DATAPLANE", "") or "sock"
IN_CI = os.environ.get("CI", "") == "true"
NETNS_CLIENT = "198.18.0.1"  # the client's address on br0 in the namespaced modes
NETNS_CLIENT_ALT = "198.18.0.254"  # a second one (Via maddr tests)
NETNS_SIP_PORT, NETNS_LSP_PORT, NETNS_ADMIN_PORT = 5060, 7400, 7401  # alone in its namespace

_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: %s" % os.strerror(e))


@contextlib.contextmanager
def in_netns(name):
    """Run the body with this thread in network namespace `name` (None: stay), then come back.
    Sockets made inside stay in that namespace for their whole life; other threads are not
    affected (setns moves only the calling thread)."""
    if name is None:
        yield
        return
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open("/var/run/netns/" + name, os.O_RDONLY)
        try:
            _setns(target)
            try:
                yield
            finally:
                _setns(own)
        finally:
            os.close(target)
    finally:
        os.close(own)


def _ip(*args, check=True):
    r = subprocess.run(["ip"] + list(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), r.stderr.strip()))
    return r


def _sysctl(ns, *settings):
    subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw"] + list(settings), check=True,
                   stdout=subprocess.DEVNULL)


class Netns:
    """The namespaces of one test process: a client namespace with bridge br0, and one namespace
    per node joined to br0 by a veth pair. Names carry the PID and a random tag, so parallel runs
    (and other worktrees) never collide; no interface is ever made on the host. One instance per
    process (Netns.get()), deleted at exit."""

    _shared = None

    @classmethod
    def get(cls):
        if cls._shared is None:
            cls._shared = Netns()
            atexit.register(cls._shared.close)  # runs before _cleanup (atexit is LIFO)
        return cls._shared

    def __init__(self):
        self.prefix = "locus-%d-%s" % (os.getpid(), os.urandom(2).hex())
        self.client = self.prefix + "-c"
        self.names = []
        self.next = 2
        self._add_ns(self.client)
        _ip("-n", self.client, "link", "add", "br0", "type", "bridge", "forward_delay", "0")
        _sysctl(self.client, "net.ipv6.conf.br0.disable_ipv6=1")
        for a in (NETNS_CLIENT, NETNS_CLIENT_ALT):
            _ip("-n", self.client, "addr", "add", a + "/24", "dev", "br0")
        _ip("-n", self.client, "link", "set", "br0", "up")

    def _add_ns(self, name):
        self.names.append(name)
        _ip("netns", "add", name)
        _sysctl(name, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
        _ip("-n", name, "link", "set", "lo", "up")

    def add_node(self, queues, address):
        """A namespace for one node: (its name, the node's address). Its "dpa0" is a veth end
        with `queues` rx and tx queues, up, with the address when `address` (else none)."""
        k = self.next
        if k > 253:
            raise RuntimeError("more than 252 namespaced nodes in one process")
        self.next += 1
        ns, addr, port = "%s-n%d" % (self.prefix, k), "198.18.0.%d" % k, "c%d" % k
        self._add_ns(ns)
        q = str(queues)
        _ip("-n", self.client, "link", "add", port, "numtxqueues", q, "numrxqueues", q, "type",
            "veth", "peer", "name", "dpa0", "numtxqueues", q, "numrxqueues", q, "netns", ns)
        _sysctl(self.client, "net.ipv6.conf.%s.disable_ipv6=1" % port)
        _sysctl(ns, "net.ipv6.conf.dpa0.disable_ipv6=1")
        if not address:
            # a veth is not a wire: the kernel hands GSO frames of up to 64 KB across it whole
            # (a TCP sender on the segment, the bridge, then veth), and a DPDK port reading dpa0
            # would get them truncated; segmenting on our end first gives it what a NIC would
            subprocess.run(["ip", "netns", "exec", self.client, "ethtool", "-K", port, "tso",
                            "off", "gso", "off"], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        _ip("-n", self.client, "link", "set", port, "master", "br0", "up")
        if address:
            _ip("-n", ns, "addr", "add", addr + "/24", "dev", "dpa0")
        _ip("-n", ns, "link", "set", "dpa0", "up")
        return ns, addr

    def mac(self, ns, dev="dpa0"):
        return json.loads(_ip("-n", ns, "-j", "link", "show", dev).stdout)[0]["address"]

    def close(self):
        """Kill what still runs in our namespaces (only what this process started can be there),
        then delete them; their interfaces go with them."""
        for ns in reversed(self.names):
            r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
            for pid in r.stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for ns in reversed(self.names):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        self.names = []


def dpdk_lcores(workers):
    """EAL --lcores for a main lcore and `workers` worker lcores on this machine's CPUs: the main
    (control) lcore on CPU 0, workers from CPU 1 on, wrapping (two busy pollers on one CPU work,
    slowly: see the notes on DPDK here). LOCUS_DPDK_LCORES overrides."""
    if os.environ.get("LOCUS_DPDK_LCORES"):
        return os.environ["LOCUS_DPDK_LCORES"]
    ncpu = max(1, len(os.sched_getaffinity(0)))
    cpus = sorted(os.sched_getaffinity(0))
    return ",".join(["0@%d" % cpus[0]] +
                    ["%d@%d" % (i, cpus[i % ncpu]) for i in range(1, workers + 1)])


AF_PACKET_FRAMECNT = 2048  # frames per net_af_packet ring (a test may lower it to overflow it)


def dpdk_eal_args(pmd, workers, iface="dpa0"):
    """EAL arguments of a DPDK node on `iface` with `workers` queues: af_packet one port of
    `workers` queue pairs, af_xdp one port per queue (veth has no combined channels)."""
    if pmd == "af_packet":
        # framecnt: 2048 frames per ring, a NIC's descriptor count rather than the PMD's 512,
        # which is shallower than a socket's receive buffer and overflows in a burst while the
        # workers share 2 CPUs (the ring's drops are not even counted: imissed stays 0)
        vdevs = ["--vdev=net_af_packet0,iface=%s,qpairs=%d,framecnt=%d" %
                 (iface, workers, AF_PACKET_FRAMECNT)]
    else:
        vdevs = ["--vdev=net_af_xdp%d,iface=%s,start_queue=%d" % (i, iface, i)
                 for i in range(workers)]
    mem = os.environ.get("LOCUS_DPDK_MEM", "256")
    return " ".join(["--lcores", dpdk_lcores(workers), "--no-huge", "-m", mem, "--no-shconf",
                     "--no-pci", "--no-telemetry"] + vdevs)


def client_socket(node=None, type=socket.SOCK_DGRAM, proto=0, host=None, port=0, bind=True,
                  netns=None):
    """An IPv4 socket in the namespace the tests reach `node` from (the client namespace in the
    namespaced modes, else this one), bound to (host or the node's client address, port)."""
    ns = netns if netns is not None else (node.client_ns if node is not None else None)
    with in_netns(ns):
        s = socket.socket(socket.AF_INET, type, proto)
    if bind:
        default = node.client_host if node is not None else "127.0.0.1"
        try:
            s.bind((host or default, port))
        except OSError:
            s.close()
            raise
    return s


class Tap:
    """TAP producer: ok(), is_(), then done() prints the plan and returns the exit status."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, detail=None):
        self.n += 1
        print(("ok" if cond else "not ok") + " %d - %s" % (self.n, name), flush=True)
        if not cond:
            self.failed += 1
            if detail:
                for line in str(detail).splitlines():
                    print("#   " + line)
        return cond

    def is_(self, got, want, name):
        return self.ok(got == want, name, "got: %r\nexpected: %r" % (got, want))

    def skip(self, reason):
        """A check that cannot run here: TAP's SKIP (meson counts it as skipped) and a plain line."""
        self.n += 1
        print("# skipped: %s" % reason)
        print("ok %d # SKIP %s" % (self.n, reason), flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


CERTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                     "locus-certs")


class TestCA:
    """A throwaway overlay CA (scripts/locus-certs) that issues node certificates, for secured
    rings. One per test process, made on first use, removed at exit."""

    _shared = None

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="locus-ca-")
        self.n = 0
        self._run("ca", self.dir)

    @classmethod
    def shared(cls):
        if cls._shared is None:
            cls._shared = TestCA()
            atexit.register(shutil.rmtree, cls._shared.dir, True)
        return cls._shared

    def _run(self, *args):
        r = subprocess.run([CERTS] + list(args), capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("locus-certs %s: %s" % (" ".join(args), r.stderr))
        return r.stdout

    def issue(self, name=None, expired=False):
        """(cert, key) paths of a new node certificate."""
        self.n += 1
        name = name or "node%d" % self.n
        self._run("expired" if expired else "node", self.dir, name)
        return os.path.join(self.dir, name + ".pem"), os.path.join(self.dir, name + ".key")

    def revoke(self, name):
        self._run("revoke", self.dir, name)

    def flags(self, name=None):
        """locusd flags of a secured node with a fresh certificate."""
        cert, key = self.issue(name)
        return ["--overlay-ca", os.path.join(self.dir, "ca.pem"), "--cert", cert, "--key", key]

    def node_id(self, cert):
        return self._run("id", cert).strip()


def secured_default():
    """Whether rings are secured unless a test says otherwise: LOCUS_SECURED=1 runs the
    existing suites over TLS links and authenticated datagrams."""
    return os.environ.get("LOCUS_SECURED", "") not in ("", "0")


def run_locusd(*args, timeout=10):
    """Run locusd to completion (for flags that must make it exit); (status, stdout, stderr),
    status None when it did not exit within `timeout` (then it is killed)."""
    p = subprocess.Popen([LOCUSD] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    _procs.append(p)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return None, out, err
    return p.returncode, out, err


class Node:
    """One locusd process. Extra flags as a list; ports are picked by the OS. `cpus`: a set of CPU
    numbers the process (all its threads) is confined to, or None.

    `admin`: where its admin interface listens. "unix" (the default): a Unix socket in the node's
    own directory; "tcp": TCP on `host` with a port the OS picks; "default": no --admin at all
    (locusd's own default socket, named after the LSP port); any other string is passed to
    --admin as it is. `self.admin` is then the socket's path (a str) or (host, port), and
    `self.admin_arg` what locusctl's --admin takes.

    For a node in a network namespace of its own (test_partition): `host` is the address it binds
    SIP, LSP and admin to, `ports` (sip, lsp, admin) fixed ports (nothing else runs there; the
    admin is then on TCP), and `prefix` a command that locusd's command line is appended to, such
    as ["ip", "netns", "exec", NS]. The prefix must exec locusd rather than fork it (ip netns
    exec does), so that the PID is locusd's own and stop() and kill() reach it.

    `dataplane`: one of DATAPLANES; None takes LOCUS_DATAPLANE, unless the caller places the
    node itself (host, ports or prefix given: then "sock"). A namespaced node gets a namespace
    and address of its own from Netns (self.netns, self.sip[0]); self.client_ns is the namespace
    its clients must be in (None: this one), self.client_host and self.client_alt two addresses
    there that reach it and that it can answer (127.0.0.1 and 127.0.0.2 on loopback)."""

    def __init__(self, *flags, workers=2, timeout=10.0, cpus=None, host="127.0.0.1", ports=None,
                 prefix=(), secured=None, admin="unix", dataplane=None):
        if dataplane is None:
            placed = prefix or ports or host != "127.0.0.1"
            dataplane = "sock" if placed else DATAPLANE
        if dataplane not in DATAPLANES:
            raise ValueError("dataplane %r is not one of %s" % (dataplane, DATAPLANES))
        self.dataplane = dataplane
        self.netns, self.client_ns = None, None
        self.client_host, self.client_alt = "127.0.0.1", "127.0.0.2"
        flags = list(flags)
        if dataplane != "sock":
            topo = Netns.get()
            self.netns, host = topo.add_node(workers, address=(dataplane == "netns-sock"))
            self.client_ns, self.client_host, self.client_alt = \
                topo.client, NETNS_CLIENT, NETNS_CLIENT_ALT
            ports, prefix = (NETNS_SIP_PORT, NETNS_LSP_PORT, NETNS_ADMIN_PORT), \
                ["ip", "netns", "exec", self.netns]
            if admin == "tcp" and dataplane != "netns-sock":
                raise ValueError("a TCP admin needs a kernel address: none on a DPDK port")
            if dataplane.startswith("dpdk-"):
                flags = ["--dataplane", "dpdk", "--dpdk-args",
                         dpdk_eal_args(dataplane[len("dpdk-"):], workers)] + flags
                if "--dpdk-tap" not in flags:
                    # the kernel's path (docs/dpdk.md): the overlay's TCP listener needs the
                    # node's address in the kernel too; one TAP per namespace, so one name
                    flags += ["--dpdk-tap", "ltap0"]
                timeout = max(timeout, 60.0)  # EAL init, and busy pollers sharing 2 CPUs
                cpus = None  # EAL pins its lcores itself
                if os.environ.get("LOCUS_DPDK_STATIC_NEIGH") == "1":  # a fallback, not the test
                    _ip("-n", self.client_ns, "neigh", "replace", host, "lladdr",
                        topo.mac(self.netns), "dev", "br0", "nud", "permanent")
        self.dir = tempfile.mkdtemp(prefix="locus-it-")
        self.log_path = os.path.join(self.dir, "locusd.log")
        self.log = open(self.log_path, "w")
        # the LSP port is used for UDP and for the TCP overlay links: pick one free for both,
        # rather than let the kernel pick a UDP port whose TCP twin may be taken
        sip, lsp, admin_port = ports or (0, free_lsp_port(host), 0)
        if (ports and not self.netns) or admin == "tcp":
            admin_flag = ["--admin", "%s:%d" % (host, admin_port)]
        elif admin == "unix":
            admin_flag = ["--admin", os.path.join(self.dir, "admin.sock")]
        elif admin == "default":
            admin_flag = []
        else:
            admin_flag = ["--admin", admin]
        args = list(prefix) + [LOCUSD, "--sip", "%s:%d" % (host, sip), "--lsp", "%s:%d" % (host, lsp)]
        args += admin_flag + ["--workers", str(workers)] + flags
        if (secured_default() if secured is None else secured) and "--cert" not in flags:
            args += TestCA.shared().flags()
        pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     preexec_fn=pin)
        _procs.append(self.proc)
        line = self._ready_line(timeout)
        m = re.search(r"sip=([\d.]+):(\d+) lsp=([\d.]+):(\d+) admin=(\S+)", line)
        if not m:
            self.kill()
            raise RuntimeError("locusd did not start: %r\n%s" % (line, self.logs()))
        self.sip = (m.group(1), int(m.group(2)))
        self.lsp = (m.group(3), int(m.group(4)))
        self.admin_arg = m.group(5)
        if self.admin_arg.startswith("unix:"):
            self.admin = self.admin_arg[len("unix:"):]
        else:
            host_, _, port_ = self.admin_arg.rpartition(":")
            self.admin = (host_, int(port_))

    def _ready_line(self, timeout):
        deadline = time.time() + timeout
        import select
        while time.time() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if r:
                return self.proc.stdout.readline()
            if self.proc.poll() is not None:
                return ""
        return ""

    def logs(self):
        if not os.path.exists(self.log_path):
            return ""
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=10.0):
        """SIGTERM; returns the exit status (None if it had to be killed). A node that exits 0
        leaves nothing behind; otherwise its directory and log stay for the post-mortem."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        if self.proc.returncode == 0:
            self.log.close()
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print("# locusd exited %s; its log is %s" % (self.proc.returncode, self.log_path))
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stats(self):
        """The "total" object of `locusctl stats`, or None when the node does not answer."""
        code, out, _ = self.ctl("stats")
        return json.loads(out)["total"] if code == 0 else None

    def ctl(self, *args, timeout=10):
        """Run locusctl against this node; returns (status, stdout, stderr)."""
        cmd = [LOCUSCTL, "--lsp", "%s:%d" % self.lsp, "--admin", self.admin_arg] + list(args)
        if self.client_ns:  # LSP commands must come from where the clients are
            cmd = ["ip", "netns", "exec", self.client_ns] + cmd
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr


class Response:
    """A parsed SIP response: status, reason, and headers (lower-case long names, lists)."""

    COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length"}

    def __init__(self, raw):
        self.raw = raw
        head = raw.split("\r\n\r\n", 1)[0]
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        self.status = int(parts[1])
        self.reason = parts[2] if len(parts) > 2 else ""
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            name = self.COMPACT.get(name, name)
            self.headers.setdefault(name, []).append(value.strip())

    def get(self, name):
        v = self.headers.get(name.lower())
        return v[0] if v else None

    def all(self, name):
        """Every value of a header, comma lists split outside <> and quotes."""
        out = []
        for v in self.headers.get(name.lower(), []):
            out.extend(split_commas(v))
        return out

    def contacts(self):
        """[(uri, {param: value})] of the Contact header values."""
        res = []
        for c in self.all("contact"):
            m = re.match(r"\s*<([^>]*)>(.*)", c)
            uri, rest = (m.group(1), m.group(2)) if m else (c.split(";")[0], ";".join(c.split(";")[1:]))
            params = {}
            for p in rest.split(";"):
                if p.strip():
                    k, _, v = p.partition("=")
                    params[k.strip().lower()] = v.strip()
            res.append((uri, params))
        return res

    def to_tag(self):
        m = re.search(r";\s*tag=([^;\s]+)", self.get("to") or "")
        return m.group(1) if m else None


def split_commas(v):
    out, cur, depth, quoted = [], "", 0, False
    for ch in v:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


class SipClient:
    """A UDP SIP user agent that sends requests to one node and reads answers, on the node's
    client address (127.0.0.1, or 198.18.0.1 in the client namespace): self.host, self.port."""

    _seq = 0

    def __init__(self, node, timeout=2.0):
        self.node = node
        self.sock = client_socket(node)
        self.sock.settimeout(timeout)
        self.host, self.port = self.sock.getsockname()

    def close(self):
        self.sock.close()

    @classmethod
    def branch(cls):
        cls._seq += 1
        return "z9hG4bK-it-%d-%d" % (os.getpid(), cls._seq)

    def build(self, method, ruri, headers=None, to=None, from_=None, call_id=None, cseq=1,
              via=None, body="", max_forwards=70):
        """A request with the usual headers; `headers` is a list of extra "Name: value" lines."""
        to = to or "<%s>" % ruri
        from_ = from_ or "<sip:tester@example.com>;tag=t%d" % self.port
        call_id = call_id or "cid-%d-%d@%s" % (self.port, SipClient._seq, self.host)
        via = via or "SIP/2.0/UDP %s:%d;rport;branch=%s" % (self.host, self.port, self.branch())
        lines = ["%s %s SIP/2.0" % (method, ruri), "Via: " + via]
        if max_forwards is not None:
            lines.append("Max-Forwards: %d" % max_forwards)
        lines += ["From: " + from_, "To: " + to, "Call-ID: " + call_id,
                  "CSeq: %d %s" % (cseq, method)]
        lines += list(headers or [])
        lines.append("Content-Length: %d" % len(body.encode()))
        return "\r\n".join(lines) + "\r\n\r\n" + body

    def send_raw(self, data, expect=True):
        """Send bytes; return the Response, or None when none came (expect=False waits briefly)."""
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendto(data, self.node.sip)
        return self.recv(expect)

    def recv(self, expect=True):
        old = self.sock.gettimeout()
        if not expect:
            self.sock.settimeout(0.3)
        try:
            raw, _ = self.sock.recvfrom(65535)
            return Response(raw.decode("utf-8", "replace"))
        except socket.timeout:
            return None
        finally:
            self.sock.settimeout(old)

    def request(self, method, ruri, **kw):
        expect = kw.pop("expect", True)
        return self.send_raw(self.build(method, ruri, **kw), expect)

    def register(self, aor, contacts=None, expires=None, call_id=None, cseq=1, headers=None, **kw):
        """REGISTER for aor with Contact lines (strings) and an optional Expires header."""
        hdrs = ["Contact: " + c for c in (contacts or [])]
        if expires is not None:
            hdrs.append("Expires: %d" % expires)
        hdrs += list(headers or [])
        domain = aor.split("@", 1)[1] if "@" in aor else aor.split(":", 1)[1]
        return self.request("REGISTER", "sip:" + domain.split(";")[0], to="<%s>" % aor,
                            call_id=call_id, cseq=cseq, headers=hdrs, **kw)


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_lsp_port(host="127.0.0.1"):
    """A port on host that was free for both UDP and TCP a moment ago (a node's LSP address
    uses both). It is drawn below the kernel's ephemeral range: a port the kernel handed out
    would also be its choice for the next outgoing TCP connection of any node (the overlay
    links of a big ring open many), which could take it before the new node binds it."""
    low = min(_ephemeral_low(), 65536)
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(10000, low) if low > 11000 else 0
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            u.bind((host, port))
            port = u.getsockname()[1]
            t.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no port free for both UDP and TCP")


def free_udp_port():
    """A UDP port on 127.0.0.1 that was free a moment ago."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(cond, timeout=5.0, step=0.05):
    """Poll cond() until true or timeout; returns its last value."""
    deadline = time.time() + timeout
    v = cond()
    while not v and time.time() < deadline:
        time.sleep(step)
        v = cond()
    return v


class SipBatch:
    """Many SIP requests in flight from one socket (a window), answers matched by Call-ID, lost
    ones retransmitted like a UA's timer E would. For tests that need thousands of requests.
    `host`: the address the socket binds and its Via names (another than 127.0.0.1 when the
    nodes are in other network namespaces); `netns`: the namespace the socket is made in (None:
    this one; a node's client_ns for namespaced nodes)."""

    def __init__(self, window=64, timeout=0.5, tries=5, t2=4.0, host="127.0.0.1", netns=None):
        self.sock = client_socket(host=host, netns=netns)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.window, self.timeout, self.tries, self.t2 = window, timeout, tries, t2

    def close(self):
        self.sock.close()

    def run(self, requests, pace=0.0):
        """requests: an iterable of (call_id, bytes, (host, port)), read only when the next one is
        sent (a generator may decide each request at its send time). `pace`: at least this many
        seconds between the first transmissions of two requests (retransmissions are not paced).
        Returns {call_id: Response}; a request that got no answer after every try is missing from
        it. The times of each call_id (time.monotonic()) are left in sent_at (first transmission),
        answered_at (its final answer) and gave_up_at (no answer after the last try)."""
        import select
        self.retransmitted = 0
        self.sent_at, self.answered_at, self.gave_up_at = {}, {}, {}
        answers, pending = {}, {}
        source, more, next_new = iter(requests), True, 0.0
        while more or pending:
            now = time.monotonic()
            while more and len(pending) < self.window and now >= next_new:
                req = next(source, None)
                if req is None:
                    more = False
                    break
                cid, data, dest = req
                now = time.monotonic()
                self.sock.sendto(data, dest)
                pending[cid] = [data, dest, now, 1]
                self.sent_at[cid] = now
                next_new = now + pace
            wait = 0.05
            if more and len(pending) < self.window:
                wait = min(wait, max(0.0, next_new - time.monotonic()))
            r, _, _ = select.select([self.sock], [], [], wait)
            if r:
                while True:
                    try:
                        raw = self.sock.recv(65535, socket.MSG_DONTWAIT)
                    except BlockingIOError:
                        break
                    resp = Response(raw.decode("utf-8", "replace"))
                    cid = resp.get("call-id")
                    if cid in pending and resp.status >= 200:
                        answers[cid] = resp
                        self.answered_at[cid] = time.monotonic()
                        del pending[cid]
            now = time.monotonic()
            for cid, p in list(pending.items()):
                if now - p[2] > min(self.timeout * (2 ** (p[3] - 1)), self.t2):
                    if p[3] >= self.tries:
                        del pending[cid]
                        self.gave_up_at[cid] = now
                    else:
                        self.sock.sendto(p[0], p[1])
                        p[2], p[3] = now, p[3] + 1
                        self.retransmitted += 1
        return answers

    def request(self, method, ruri, dest, call_id, to=None, headers=(), cseq=1):
        """The bytes of one request from this batch's socket (for run())."""
        branch = "z9hG4bK-b-%s" % call_id
        lines = ["%s %s SIP/2.0" % (method, ruri),
                 "Via: SIP/2.0/UDP %s:%d;rport;branch=%s" % (self.host, self.port, branch),
                 "Max-Forwards: 70", "From: <sip:tester@example.com>;tag=b%d" % self.port,
                 "To: " + (to or "<%s>" % ruri), "Call-ID: " + call_id,
                 "CSeq: %d %s" % (cseq, method)] + list(headers) + ["Content-Length: 0"]
        return (call_id, ("\r\n".join(lines) + "\r\n\r\n").encode(), dest)


class Ring:
    """A ring of locusd nodes on 127.0.0.1. Node i > 0 joins through a node chosen by
    `bootstrap(i)` (default: node 0). Every node gets the same extra flags (and CPUs, see Node)."""

    def __init__(self, n=0, flags=(), workers=1, bootstrap=None, cpus=None):
        self.flags, self.workers, self.cpus = list(flags), workers, cpus
        self.nodes = []
        for i in range(n):
            self.add(bootstrap(i) if bootstrap and i > 0 else 0)

    def add(self, via=0, lsp=None, extra=(), **node_kw):
        """Start one more node, joining through node `via` (ignored for the first), with the
        ring's flags and `extra` ones of its own. node_kw goes to Node (host, ports, prefix of a
        node in a network namespace; dataplane)."""
        flags = list(self.flags) + list(extra)
        if self.nodes:
            boot = self.nodes[via]
            flags += ["--join", "%s:%d" % boot.lsp]
        if lsp:
            flags += ["--lsp", "127.0.0.1:%d" % lsp]
        node_kw.setdefault("workers", self.workers)
        node_kw.setdefault("cpus", self.cpus)
        node = Node(*flags, **node_kw)
        self.nodes.append(node)
        return node

    def live(self):
        return [n for n in self.nodes if n.alive()]

    def successors(self):
        """The successor list length the nodes were given (--successors, default 8)."""
        f = self.flags
        return int(f[f.index("--successors") + 1]) if "--successors" in f else 8

    def info(self, node):
        code, out, _ = node.ctl("node")
        try:
            return json.loads(out) if code == 0 else None
        except ValueError:
            return None

    def copies(self):
        """(owned keys, replica keys) summed over the live nodes (`locusctl node`), or None when
        a node did not say."""
        own = rep = 0
        for n in self.live():
            info = self.info(n)
            if info is None or info.get("owned") is None:
                return None
            own += info["owned"]["keys"]
            rep += info["replica"]["keys"]
        return own, rep

    def converged(self):
        """(True, "") when every live node's successor, predecessor and one-hop view are the
        true ones; else (False, what is wrong first)."""
        infos = [self.info(n) for n in self.live()]
        if any(i is None for i in infos):
            return False, "a node did not answer"
        ids = sorted(i["self"]["id"] for i in infos)
        k = len(ids)
        for i in infos:
            me = ids.index(i["self"]["id"])
            if k == 1:
                if i["successors"] or i["predecessor"]:
                    return False, "a lone node has neighbours"
                continue
            succ = [s["id"] for s in i["successors"]]
            want = [ids[(me + j) % k] for j in range(1, min(k - 1, self.successors()) + 1)]
            if succ != want:
                return False, "%s: successors %s, want %s" % (i["self"]["addr"], succ[:2], want[:2])
            if not i["predecessor"] or i["predecessor"]["id"] != ids[(me - 1) % k]:
                return False, "%s: wrong predecessor" % i["self"]["addr"]
            if i["one_hop"] and sorted(m["id"] for m in i["members"]) != ids:
                return False, "%s: view of %d, want %d" % (i["self"]["addr"], len(i["members"]), k)
        return True, ""

    def wait_converged(self, timeout=30.0):
        """Seconds it took, or None; the last reason is in self.why."""
        start = time.time()
        while time.time() - start < timeout:
            ok, self.why = self.converged()
            if ok:
                return time.time() - start
            time.sleep(0.2)
        return None

    def stop(self):
        for n in self.nodes:
            if n.alive():
                n.stop()


class LspClient:
    """LSP requests (docs/lsp.md; frames from lsp_wire) to one node from its client namespace,
    retransmitted with the same transaction id as §5 says, answers matched by it."""

    def __init__(self, node, timeout=0.5, tries=5):
        self.node, self.timeout, self.tries = node, timeout, tries
        self.sock = client_socket(node)

    def close(self):
        self.sock.close()

    def request(self, data, dest=None):
        """Send the message `data`; the answer's bytes, or None when none came."""
        txn = data[8:16]
        dest = dest or self.node.lsp
        wait = self.timeout
        for _ in range(self.tries):
            self.sock.sendto(data, dest)
            deadline = time.monotonic() + wait
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.sock.settimeout(left)
                try:
                    ans = self.sock.recv(65535)
                except socket.timeout:
                    break
                if len(ans) >= 24 and ans[8:16] == txn and ans[4] & 0x01:
                    return ans
            wait = min(wait * 2, 4.0)
        return None


def icmp_echo(node, seq, size=56, timeout=3.0, addr=None):
    """One ICMP echo request from the node's client namespace to its address (raw socket: root);
    True when the matching echo reply (same id, sequence and payload) came within timeout."""
    s = client_socket(node, socket.SOCK_RAW, socket.IPPROTO_ICMP, bind=False)
    try:
        ident = (os.getpid() + seq) & 0xFFFF
        payload = os.urandom(size)
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq & 0xFFFF)
        pkt = struct.pack("!BBHHH", 8, 0, lsp_wire.inet_csum(hdr + payload), ident, seq & 0xFFFF) + payload
        s.sendto(pkt, (addr or node.sip[0], 0))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = s.recv(65535)
            except socket.timeout:
                return False
            icmp = data[(data[0] & 0x0F) * 4:]
            if len(icmp) >= 8 and icmp[0] == 0 and struct.unpack("!HH", icmp[4:8]) == \
                    (ident, seq & 0xFFFF) and icmp[8:] == payload:
                return True
        return False
    finally:
        s.close()


def _dpdk_unavailable():
    """Why this locusd cannot run --dataplane dpdk, or None when it may. Asks locusd itself, with
    EAL arguments naming an interface that does not exist: a build without DPDK refuses the flag
    at once (exit 2, a message about the build); a build with it gets as far as EAL or the port
    and fails otherwise (or runs: then it is killed). No traffic, no namespace."""
    if not os.path.exists(LOCUSD):
        return "no locusd at %s" % LOCUSD
    d = tempfile.mkdtemp(prefix="locus-probe-")
    try:
        code, out, err = run_locusd(
            "--sip", "127.0.0.1:0", "--lsp", "127.0.0.1:0", "--admin", os.path.join(d, "a.sock"),
            "--workers", "1", "--dataplane", "dpdk", "--dpdk-args",
            "--lcores 0@0,1@0 --no-huge -m 64 --no-shconf --no-pci --no-telemetry "
            "--vdev=net_af_packet0,iface=locus-no-such0", timeout=20)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    text = (err or "").strip()
    if code == 2 and re.search(r"(?i)dpdk", text) and \
            re.search(r"(?i)without dpdk|this build has no dpdk|not built with dpdk", text):
        return "locusd cannot run --dataplane dpdk: %s" % text.splitlines()[-1]
    return None


def require_dataplane(mode):
    """Make sure nodes of dataplane `mode` can run here, or end the test now: skipped, with the
    reason (TAP: "# skipped: <reason>"), or failed for a DPDK that cannot run under CI=true as
    root (CI must really run the DPDK tests). Call it before printing any TAP line; importing
    this module calls it for LOCUS_DATAPLANE."""
    if mode == "sock":
        return
    if mode not in DATAPLANES:
        print("Bail out! dataplane %s is not one of %s" % (mode, ", ".join(DATAPLANES)))
        sys.exit(2)
    reason, fatal = None, False
    if os.geteuid() != 0:
        reason = "dataplane %s needs root (network namespaces)" % mode
    elif shutil.which("ip") is None:
        reason, fatal = "dataplane %s needs ip (iproute2)" % mode, IN_CI
    elif mode.startswith("dpdk-"):
        reason = _dpdk_unavailable()
        if reason is None and shutil.which("ethtool") is None:
            reason = "dataplane %s needs ethtool (GSO off on the veth facing the port)" % mode
        fatal = IN_CI
    if reason is None:
        return
    t = Tap()
    if fatal:
        t.ok(False, "dataplane %s can run (CI=true as root: it must)" % mode, reason)
        sys.exit(t.done())
    t.skip(reason)
    sys.exit(t.done())


require_dataplane(DATAPLANE)
