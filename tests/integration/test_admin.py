#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The admin interface (issue 13): a Unix socket of mode 0600 by default, TCP only when asked, and
never able to hold the control thread, with real locusd processes on 127.0.0.1.

- bad --admin values: exit 2 with a message (locusd and locusctl);
- the socket: mode 0600 (also under umask 000), locusd's own default path found by locusctl from
  the LSP port, a stale socket file replaced, a live one or another file left alone (exit 1), the
  file removed at exit;
- an attack for 10 s on one node of a 3-node ring: clients that trickle a byte every 100 ms,
  clients that never read their answer; meanwhile another client's `stats` is answered at once,
  the node answers LSP, and no node declares any other dead;
- more connections than the bound (16): the others are told "busy" and closed at once, the held
  ones are closed at their deadline, no fd is leaked, and the node is unharmed;
- NODE_INFO from a stranger (not a member) is not answered and is counted; a member's NODE_INFO
  starts at most one count of the store per few seconds (the answers in between are the cached
  count);
- `ring` while one node is SIGSTOPped: answered after the deadline, the stopped node listed as not
  answering, while the asking node keeps answering and the others keep each other alive.
"""
import json
import os
import random
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from locus import LOCUSCTL, Node, Ring, Tap, _procs, run_locusd, wait_for  # noqa: E402

t = Tap()
OVERLAY = "p2psip.org"
OVERLAY_ID = 0x70E77DBA5136E2EA  # dht_seed_of("p2psip.org"), docs/lsp.md
LOCAL = ["--sip", "127.0.0.1:0", "--lsp", "127.0.0.1:0", "--workers", "1"]


def run_ctl(*args, timeout=20):
    r = subprocess.run([LOCUSCTL] + list(args), capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def ctl(n, *args):
    """locusctl against node n, in the ring's overlay (LSP requests of another one are refused)."""
    return run_ctl("--overlay", OVERLAY, "--lsp", "%s:%d" % n.lsp, "--admin", n.admin_arg, *args)


def node_json(n):
    code, out, _ = n.ctl("node")
    try:
        return json.loads(out) if code == 0 else None
    except ValueError:
        return None


def admin_connect(n, timeout=2.0):
    """A raw connection to node n's admin interface (Unix or TCP)."""
    if isinstance(n.admin, str):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(n.admin)
    return s


def read_all(s, timeout):
    """What s receives until EOF or timeout; (bytes, whether EOF came)."""
    s.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data, True
            data += chunk
    except (socket.timeout, OSError):
        return data, False


def open_fds(n):
    return len(os.listdir("/proc/%d/fd" % n.proc.pid))


def default_admin_path(lsp_port):
    """Where locusd puts its admin socket without --admin (ctl_admin_default)."""
    if os.geteuid() == 0:
        return "/run/locus/locusd-%d.sock" % lsp_port
    xdg = os.environ.get("XDG_RUNTIME_DIR", "")
    if xdg.startswith("/"):
        return "%s/locus/locusd-%d.sock" % (xdg, lsp_port)
    return "/tmp/locus-%d/locusd-%d.sock" % (os.geteuid(), lsp_port)


# ---- (d) bad --admin values: exit 2, a message naming the flag, nothing started ----------------
for v in ["", "unix:", "nonsense", "127.0.0.1:99999", "127.0.0.1", "[::1]", "/" + "x" * 120,
          "unix:" + "a" * 108]:
    code, out, err = run_locusd(*(LOCAL + ["--admin", v]))
    t.ok(code == 2 and "--admin" in err and out == "",
         "locusd --admin %r: exit 2, stderr names --admin" % (v[:20] + ("..." if len(v) > 20 else "")),
         "status %r\nstdout %r\nstderr %r" % (code, out, err))
    code, out, err = run_ctl("--admin", v, "stats")
    t.ok(code == 2 and "--admin" in err, "locusctl --admin %r: exit 2 with a message" % v[:20],
         "status %r stderr %r" % (code, err))
code, out, err = run_locusd("--help")
t.ok(code == 0 and "--admin PATH|ADDR:PORT" in out and "0600" in out and "/run/locus" in out,
     "--help documents both forms, the mode and the default path", out)

# ---- (c) the socket file --------------------------------------------------------------------
work = tempfile.mkdtemp(prefix="locus-it-admin-")
try:
    # under umask 000 too: the socket is made 0600, not 0777 & ~umask
    n = Node(workers=1, prefix=["sh", "-c", 'umask 000 && exec "$@"', "sh"])
    st = os.stat(n.admin)
    t.ok(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600,
         "the admin socket is a socket of mode 0600 (locusd run under umask 000)",
         "mode %o" % st.st_mode)
    code, out, _ = n.ctl("stats")
    t.ok(code == 0 and "uptime_s" in out, "locusctl --admin PATH stats is answered", out[:200])
    code, out, err = run_ctl("--admin", "unix:" + n.admin, "stats")
    t.ok(code == 0 and "uptime_s" in out, "locusctl --admin unix:PATH too", err)

    # another node on the same path: refused, the first keeps its socket
    code, out, err = run_locusd(*(LOCAL + ["--admin", n.admin]), timeout=5)
    t.ok(code == 1 and n.admin in err and "in use" in err, "a second node on a live socket: exit 1",
         "status %r stderr %r" % (code, err))
    t.ok(n.ctl("stats")[0] == 0, "and the first node still answers on it")
    path = n.admin
    t.is_(n.stop(), 0, "SIGTERM: exit 0")
    t.ok(not os.path.exists(path), "the socket file is removed at exit")

    # a stale socket (a node killed before it could remove it) is replaced
    stale = os.path.join(work, "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(stale)
    s.close()
    n = Node(workers=1, admin=stale)
    t.ok(n.ctl("stats")[0] == 0 and stat.S_IMODE(os.stat(stale).st_mode) == 0o600,
         "a stale socket file is replaced (and the new one is 0600)")
    n.kill()
    t.ok(os.path.exists(stale), "kill -9 leaves the socket file behind")
    shutil.rmtree(n.dir, ignore_errors=True)
    n = Node(workers=1, admin=stale)
    t.ok(n.ctl("stats")[0] == 0, "and the next node on that path replaces it")
    t.is_(n.stop(), 0, "SIGTERM: exit 0")

    # a file that is not a socket is not ours to remove
    plain = os.path.join(work, "plain")
    with open(plain, "w") as f:
        f.write("keep me\n")
    code, out, err = run_locusd(*(LOCAL + ["--admin", plain]), timeout=5)
    with open(plain) as f:
        kept = f.read()
    t.ok(code == 1 and plain in err and kept == "keep me\n",
         "--admin naming a regular file: exit 1, the file untouched", "status %r stderr %r" % (code, err))

    # locusd's own default: a socket named after the LSP port, which locusctl finds from --lsp
    n = Node(workers=1, admin="default")
    want = default_admin_path(n.lsp[1])
    st = os.stat(want) if os.path.exists(want) else None
    t.ok(n.admin == want and st is not None and stat.S_IMODE(st.st_mode) == 0o600,
         "without --admin: a socket of mode 0600 at %s" % want, "ready line admin=%s" % n.admin_arg)
    dst = os.stat(os.path.dirname(want))
    t.ok(stat.S_IMODE(dst.st_mode) & 0o022 == 0 and dst.st_uid == os.geteuid(),
         "its directory is this user's, writable by nobody else", "mode %o" % dst.st_mode)
    code, out, err = run_ctl("--lsp", "127.0.0.1:%d" % n.lsp[1], "stats")
    t.ok(code == 0 and "uptime_s" in out, "locusctl with only --lsp finds the default socket", err)
    t.is_(n.stop(), 0, "SIGTERM: exit 0")
    t.ok(not os.path.exists(want), "and the default socket is removed at exit")

    # TCP only when asked, and it works as before
    n = Node(workers=1, admin="tcp")
    t.ok(isinstance(n.admin, tuple) and n.ctl("stats")[0] == 0, "--admin ADDR:PORT: TCP, answered",
         n.admin_arg)
    t.is_(n.stop(), 0, "SIGTERM: exit 0")
finally:
    shutil.rmtree(work, ignore_errors=True)

# ---- a 3-node ring for the rest ----------------------------------------------------------------
ring = Ring(3, flags=["--overlay", OVERLAY], workers=1)
stopped_pid = None
try:
    t.ok(ring.wait_converged(30) is not None, "a ring of 3 converges", getattr(ring, "why", ""))
    A, B, C = ring.nodes

    # ---- (a) trickling and non-reading clients for 10 s against A -------------------------------
    stop_at = time.time() + 10
    trickled = []     # (seconds the node kept a junk connection, what it said)
    slow_ok = []      # answers to commands trickled a byte per 100 ms
    unread = []       # (answer bytes, EOF) of clients that read only at the very end
    errors = []

    def trickle_junk():
        while time.time() < stop_at:
            try:
                s = admin_connect(A)
                start = time.time()
                said = b""
                while time.time() < stop_at + 3:
                    try:
                        s.send(b"x")
                    except OSError:  # closed between two bytes: what it said is still there
                        said += read_all(s, 0.5)[0]
                        break
                    r = read_all(s, 0.1)
                    said += r[0]
                    if r[1]:
                        break
                trickled.append((time.time() - start, said))
                s.close()
            except OSError as e:
                errors.append("junk: %s" % e)
                time.sleep(0.1)

    def trickle_command(cmd):
        while time.time() < stop_at:
            try:
                s = admin_connect(A)
                for ch in cmd:
                    s.send(bytes([ch]))
                    time.sleep(0.1)
                data, eof = read_all(s, 5)
                slow_ok.append(eof and data.startswith(b"{"))
                s.close()
            except OSError as e:
                errors.append("slow: %s" % e)
                time.sleep(0.1)

    def never_read(cmd):
        socks = []
        while time.time() < stop_at:
            try:
                s = admin_connect(A)
                s.send(cmd)
                socks.append(s)
            except OSError as e:
                errors.append("unread: %s" % e)
            time.sleep(1.5)
        for s in socks:
            unread.append(read_all(s, 5))
            s.close()

    threads = [threading.Thread(target=trickle_junk) for _ in range(4)]
    threads += [threading.Thread(target=trickle_command, args=(c,)) for c in (b"ring\n", b"stats\n")]
    threads += [threading.Thread(target=never_read, args=(c,)) for c in (b"stats\n", b"ring\n")]
    for th in threads:
        th.start()
    lat, failed, pings = [], 0, 0
    while time.time() < stop_at:
        t0 = time.time()
        code, out, _ = A.ctl("stats")
        lat.append(time.time() - t0)
        failed += code != 0
        pings += ctl(A, "ping")[0] == 0
        time.sleep(0.2)
    for th in threads:
        th.join(20)
    t.ok(failed == 0 and len(lat) >= 20 and max(lat) < 1.5,
         "during the attack another client's stats is answered every time, within 1.5 s",
         "%d of %d failed, slowest %.2f s" % (failed, len(lat), max(lat or [0])))
    t.is_(pings, len(lat), "and A answers every LSP ping")
    t.ok(len(trickled) >= 12 and all(1.8 < d < 3.5 for d, _ in trickled) and
         all(b"no command line within 2 s" in said for _, said in trickled),
         "a client trickling a byte per 100 ms without a line is closed at its 2 s deadline",
         "%d connections, kept %s" % (len(trickled), sorted(round(d, 1) for d, _ in trickled)[-5:]))
    t.ok(len(slow_ok) >= 4 and all(slow_ok), "commands trickled byte by byte are answered",
         "%r" % slow_ok)
    t.ok(len(unread) >= 8 and all(eof and data.startswith(b"{") for data, eof in unread),
         "clients that never read get their whole answer, then the node closes",
         "%r" % [(len(d), e) for d, e in unread])
    t.is_(errors, [], "no attacking connection was refused (the attack stays under the bound)")
    infos = [node_json(n) for n in ring.nodes]
    t.is_([i and i["deaths_declared"] for i in infos], [0, 0, 0],
          "no node declared another dead (deaths_declared 0 on all three)")
    t.is_([i and i["view_alive"] for i in infos], [3, 3, 3], "every view still holds all three")

    # ---- (b) more connections than the bound ----------------------------------------------------
    base_fds = open_fds(A)
    held = [admin_connect(A) for _ in range(16)]
    time.sleep(0.3)  # accepted, each holding a slot
    extra = [admin_connect(A) for _ in range(8)]
    said = [read_all(s, 1.0) for s in extra]
    t.ok(all(eof and d.startswith(b"error: busy") for d, eof in said),
         "8 connections beyond the bound of 16: each told 'busy' and closed at once",
         "%r" % said)
    code, out, err = A.ctl("stats")
    t.ok(code == 1 and "busy" in out, "a 17th client (locusctl stats) is refused the same way", out + err)
    t.ok(ctl(A, "ping")[0] == 0, "while all 16 are held, A answers LSP")
    said = [read_all(s, 4.0) for s in held]
    t.ok(all(eof and b"no command line within 2 s" in d for d, eof in said),
         "the 16 silent connections are closed at their 2 s deadline", "%r" % said[:3])
    for s in held + extra:
        s.close()
    t.ok(wait_for(lambda: A.ctl("stats")[0] == 0, 3), "then stats is answered again")
    flood = []
    for _ in range(100):
        try:
            flood.append(admin_connect(A, timeout=0.5))
        except OSError:
            pass
    for s in flood:
        s.close()
    t.ok(wait_for(lambda: open_fds(A) <= base_fds + 2, 5),  # + 2: a link may have reconnected
         "a flood of 100 connections more: no fd left behind", "%d fds, %d before" % (open_fds(A), base_fds))
    infos = [node_json(n) for n in ring.nodes]
    t.is_([i and i["deaths_declared"] for i in infos], [0, 0, 0], "and still no death declared")

    # ---- NODE_INFO from a stranger: not answered, counted ---------------------------------------
    lis = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lis.bind(("127.0.0.1", 0))
    lis.listen(4)
    lis.settimeout(2.5)
    port = lis.getsockname()[1]
    sender = random.Random(13).getrandbits(128).to_bytes(16, "big")
    sender += bytes([4, 0]) + struct.pack(">H", port) + bytes([127, 0, 0, 1])
    body = struct.pack(">HH", 0x8100, len(sender)) + sender
    frame = struct.pack(">HBBBBHQQ", 0x4C53, 1, 0x28, 0, 1, len(body), 0x5354524E47455231,
                        OVERLAY_ID) + body
    before = node_json(A)
    with socket.create_connection(A.lsp, timeout=2) as s:
        s.sendall(frame)
        try:
            conn, _ = lis.accept()
            got = read_all(conn, 1.0)[0]
            conn.close()
        except socket.timeout:
            got = None
    lis.close()
    after = node_json(A)
    t.ok(got is None, "NODE_INFO from a stranger: no answer reaches its address",
         "the node connected and sent %r" % got)
    t.ok(before and after and after["node_info_refused"] == before["node_info_refused"] + 1 and
         after["bad_frames"] == before["bad_frames"],
         "and it is counted as refused (a well-formed frame, not a bad one)",
         "before %r after %r" % (before and before["node_info_refused"],
                                 after and after["node_info_refused"]))

    # ---- a member's NODE_INFO starts at most one count per few seconds --------------------------
    def ring_counts(n):
        code, out, _ = n.ctl("ring")
        res = {}
        for e in json.loads(out)["nodes"] if code == 0 else []:
            if e["answered"] and e["owned"] is not None:
                res[e["node"]["addr"]] = e["owned"]["keys"] + e["replica"]["keys"]
        return res

    time.sleep(3.5)  # no count on A or C for longer than the limit: B's ring starts fresh ones
    first = ring_counts(B)
    code, _, err = ctl(B, "publish", "sip:counted@example.com", "sip:c@192.0.2.1", "600")
    t.is_(code, 0, "a publish for a new AOR (held by all three nodes: R = 3)")
    def b_keys():
        i = node_json(B)
        return i and i["owned"] and i["owned"]["keys"] + i["replica"]["keys"]

    t.ok(wait_for(lambda: b_keys() == first.get("%s:%d" % B.lsp, -1) + 1, 2.0),
         "B holds it (its own count, asked on B itself)")
    second = ring_counts(B)
    time.sleep(3.5)
    third = ring_counts(B)
    a, b, c = ("%s:%d" % n.lsp for n in (A, B, C))
    t.ok(len(first) == 3 and second.get(b) == first.get(b) + 1,
         "B's own entry is counted afresh for every ring", "%r %r" % (first, second))
    t.ok(second.get(a) == first.get(a) and second.get(c) == first.get(c),
         "A and C answer a NODE_INFO that comes within 3 s of their last count with that count",
         "first %r second %r" % (first, second))
    t.ok(third.get(a) == first.get(a) + 1 and third.get(c) == first.get(c) + 1,
         "and count afresh once it is older", "first %r third %r" % (first, third))

    # ---- (e) ring while C is stopped ------------------------------------------------------------
    os.kill(C.proc.pid, signal.SIGSTOP)
    stopped_pid = C.proc.pid
    start = time.time()
    p = subprocess.Popen([LOCUSCTL, "--lsp", "%s:%d" % A.lsp, "--admin", A.admin_arg, "ring"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _procs.append(p)
    during, lat = 0, []
    while p.poll() is None and time.time() - start < 15:
        t0 = time.time()
        during += A.ctl("stats")[0] == 0 and ctl(A, "ping")[0] == 0
        lat.append(time.time() - t0)
        time.sleep(0.1)
    out, err = p.communicate(timeout=10)
    took = time.time() - start
    try:
        nodes = {e["node"]["addr"]: e["answered"] for e in json.loads(out)["nodes"]}
    except (ValueError, KeyError):
        nodes = None
    t.ok(p.returncode == 0 and nodes == {a: True, b: True, c: False},
         "ring with C stopped: C listed as not answering, A and B answered", out + err)
    t.ok(2.8 < took < 6.0, "answered after the 3 s deadline, not before and not much after",
         "took %.2f s" % took)
    t.ok(during >= 10 and len(lat) == during and max(lat) < 1.5,
         "while ring waited, A answered stats and LSP ping every time",
         "%d of %d, slowest %.2f s" % (during, len(lat), max(lat or [0])))
    ia, ib = node_json(A), node_json(B)

    def alive_in(info, n):
        return any(m["addr"] == "%s:%d" % n.lsp and not m.get("suspect") for m in info["members"])

    t.ok(ia and ib and alive_in(ia, B) and alive_in(ib, A),
         "A and B still hold each other alive (their pings went on)", "%r\n%r" % (ia, ib))
finally:
    if stopped_pid is not None:
        os.kill(stopped_pid, signal.SIGCONT)
    t.is_([n.stop() for n in ring.nodes], [0, 0, 0], "all three exit 0 on SIGTERM (C resumed)")
sys.exit(t.done())
