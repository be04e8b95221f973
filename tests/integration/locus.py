# SPDX-License-Identifier: MIT
"""Helpers for the integration tests: real locusd processes on 127.0.0.1 with OS-assigned ports,
a SIP client over UDP, and TAP output that meson reads.

Every node runs in its own temporary directory with its log there; a node is stopped with
SIGTERM (and must exit 0), and killed by PID if it does not stop in time. Every process a test
starts is tracked and killed at exit, also when the test fails.
"""
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

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
    exec does), so that the PID is locusd's own and stop() and kill() reach it."""

    def __init__(self, *flags, workers=2, timeout=10.0, cpus=None, host="127.0.0.1", ports=None,
                 prefix=(), secured=None, admin="unix"):
        self.dir = tempfile.mkdtemp(prefix="locus-it-")
        self.log_path = os.path.join(self.dir, "locusd.log")
        self.log = open(self.log_path, "w")
        # the LSP port is used for UDP and for the TCP overlay links: pick one free for both,
        # rather than let the kernel pick a UDP port whose TCP twin may be taken
        sip, lsp, admin_port = ports or (0, free_lsp_port(host), 0)
        if ports or admin == "tcp":
            admin_flag = ["--admin", "%s:%d" % (host, admin_port)]
        elif admin == "unix":
            admin_flag = ["--admin", os.path.join(self.dir, "admin.sock")]
        elif admin == "default":
            admin_flag = []
        else:
            admin_flag = ["--admin", admin]
        args = list(prefix) + [LOCUSD, "--sip", "%s:%d" % (host, sip), "--lsp", "%s:%d" % (host, lsp)]
        args += admin_flag + ["--workers", str(workers)] + list(flags)
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
    """A UDP SIP user agent on 127.0.0.1 that sends requests to one node and reads answers."""

    _seq = 0

    def __init__(self, node, timeout=2.0):
        self.node = node
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(timeout)
        self.port = self.sock.getsockname()[1]

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
        call_id = call_id or "cid-%d-%d@127.0.0.1" % (self.port, SipClient._seq)
        via = via or "SIP/2.0/UDP 127.0.0.1:%d;rport;branch=%s" % (self.port, self.branch())
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


def free_lsp_port(host="127.0.0.1"):
    """A port on host that was free for both UDP and TCP a moment ago (a node's LSP address
    uses both)."""
    for _ in range(100):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((host, 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
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
    nodes are in other network namespaces)."""

    def __init__(self, window=64, timeout=0.5, tries=5, t2=4.0, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
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

    def add(self, via=0, lsp=None, **node_kw):
        """Start one more node, joining through node `via` (ignored for the first). node_kw goes
        to Node (host, ports, prefix of a node in a network namespace)."""
        flags = list(self.flags)
        if self.nodes:
            boot = self.nodes[via]
            flags += ["--join", "%s:%d" % boot.lsp]
        if lsp:
            flags += ["--lsp", "127.0.0.1:%d" % lsp]
        node = Node(*flags, workers=self.workers, cpus=self.cpus, **node_kw)
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
