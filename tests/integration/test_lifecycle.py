#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""locusd's life from the outside: flags (exit 2 with a message naming the flag), --help, a port
already in use (exit 1), SIGTERM and SIGINT under load (exit 0 soon), and locusctl against a node:
publish / lookup / remove, its exit statuses, stats as JSON whose totals match what was sent, and
SIP and LSP meeting on the same canonical AOR."""
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from locus import DATAPLANE, LOCUSCTL, Node, SipClient, Tap, client_socket, free_udp_port, run_locusd

t = Tap()

# The flags DESIGN.md ("Interfaces a user sees") lists for locusd.
DESIGN_FLAGS = ["sip", "lsp", "join", "overlay", "workers", "replicas", "dataplane", "min-expires",
                "max-expires", "default-expires", "max-contacts", "admin", "log-level", "dpdk-args"]


def run_ctl(*args, timeout=15):
    start = time.time()
    r = subprocess.run([LOCUSCTL] + list(args), capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr, time.time() - start


LOCAL = ["--sip", "127.0.0.1:0", "--lsp", "127.0.0.1:0", "--admin", "127.0.0.1:0"]

# --- bad flags: exit 2, a message on stderr naming the flag, nothing started
bad = [(["--bogus", "1"], "--bogus"),
       (["--workers", "0"], "--workers"),
       (["--workers", "many"], "--workers"),
       (["--workers"], "--workers"),
       (["--sip", "nonsense"], "--sip"),
       (["--lsp", "127.0.0.1:99999"], "--lsp"),
       (["--min-expires", "100", "--max-expires", "50"], "--min-expires"),
       (["--dataplane", "foo"], "--dataplane"),
       (["--log-level", "loud"], "--log-level"),
       (["--max-contacts", "-1"], "--max-contacts"),
       (["--rx-coalesce-us", "1001"], "--rx-coalesce-us"),
       (["--rx-coalesce-us", "soon"], "--rx-coalesce-us"),
       (["stray"], "stray")]
for args, name in bad:
    code, out, err = run_locusd(*(LOCAL + args))
    t.ok(code == 2 and name in err and out == "",
         "locusd %s: exit 2, stderr names %s" % (" ".join(args), name),
         "status %r\nstdout %r\nstderr %r" % (code, out, err))
code, out, err = run_locusd(*(LOCAL + ["--workers=0"]))
t.ok(code == 2 and "--workers" in err, "--workers=0 (the = form): exit 2 naming --workers", err)
code, out, err = run_locusd(*(LOCAL + ["--config", "/nonexistent/locus.conf"]))
t.ok(code == 2 and "--config" in err and "/nonexistent/locus.conf" in err,
     "--config with a missing file: exit 2 naming the flag and the file", err)
cfg_dir = tempfile.mkdtemp(prefix="locus-it-cfg-")
cfg = os.path.join(cfg_dir, "bad.conf")
with open(cfg, "w") as f:
    f.write("# a comment\nmin-expires 30\nworkers 0\n")
code, out, err = run_locusd(*(LOCAL + ["--config", cfg]))
t.ok(code == 2 and "--workers" in err and "line 3" in err,
     "a config file with 'workers 0': exit 2 naming the flag and the line", err)
shutil.rmtree(cfg_dir)
code, out, err = run_locusd(*(LOCAL + ["--min-expires", "100", "--max-expires", "50"]))
t.ok("--max-expires" in err, "the min/max message names --max-expires too", err)

# --- --help: exit 0, every flag of DESIGN.md's list
code, out, err = run_locusd("--help")
t.is_(code, 0, "locusd --help exits 0")
missing = [f for f in DESIGN_FLAGS if ("--" + f + " ") not in out and ("--" + f + "\n") not in out]
t.is_(missing, [], "--help lists every flag DESIGN.md names")
code, out, err = run_locusd("--version")
t.ok(code == 0 and out.startswith("locusd "), "--version exits 0 and prints the version", out + err)

# --- port in use: exit 1 with a clear message
squat = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
squat.bind(("127.0.0.1", 0))
port = squat.getsockname()[1]
code, out, err = run_locusd("--sip", "127.0.0.1:%d" % port, "--lsp", "127.0.0.1:0",
                            "--admin", "127.0.0.1:0", "--workers", "2")
t.ok(code == 1 and "127.0.0.1:%d" % port in err and "in use" in err.lower(),
     "SIP port held by another socket: exit 1, stderr names the address and says it is in use",
     "status %r stderr %r" % (code, err))
squat.close()

if DATAPLANE == "sock":
    first = Node(workers=2, admin="tcp")  # the TCP form: a port another node cannot take
    code, out, err = run_locusd("--sip", "%s:%d" % first.sip, "--lsp", "127.0.0.1:0",
                                "--admin", "127.0.0.1:0", "--workers", "2", timeout=3)
    t.ok(code == 1 and "in use" in err.lower(),
         "SIP port held by another locusd: exit 1 (SO_REUSEPORT must not let two nodes share it)",
         "status %r (None: it started and ran)\nstderr %r" % (code, err))
    code, out, err = run_locusd("--sip", "127.0.0.1:0", "--lsp", "%s:%d" % first.lsp,
                                "--admin", "127.0.0.1:0", "--workers", "2", timeout=3)
    t.ok(code == 1 and "in use" in err.lower(), "LSP port held by another locusd: exit 1",
         "status %r (None: it started and ran)\nstderr %r" % (code, err))
    code, out, err = run_locusd("--sip", "127.0.0.1:0", "--lsp", "127.0.0.1:0",
                                "--admin", "%s:%d" % first.admin, "--workers", "2", timeout=3)
    t.ok(code == 1 and "%s:%d" % first.admin in err and "in use" in err.lower(),
         "admin port held by another locusd: exit 1, stderr names it", "status %r stderr %r" % (code, err))
    t.is_(first.stop(), 0, "the first node is unharmed and exits 0 on SIGTERM")
else:
    # the ports a second locusd would collide on are kernel sockets of the node's own namespace
    # (netns-sock), or not kernel sockets at all (a DPDK port): nothing to collide with here
    t.skip("SIP/LSP/admin port held by another locusd: a socket-backend check on loopback, "
           "not for LOCUS_DATAPLANE=%s" % DATAPLANE)


# --- SIGTERM / SIGINT under load: exit 0 within a few seconds
def blast(node, stop_at):
    socks = [client_socket(node) for _ in range(4)]
    n = 0
    ua = SipClient(node)
    while time.time() < stop_at:
        for s in socks:
            msg = ua.build("REGISTER", "sip:example.com", to="<sip:load%d@example.com>" % (n % 5000),
                           call_id="load-%d" % n, headers=["Contact: <sip:l%d@192.0.2.1>" % n,
                                                           "Expires: 600"])
            try:
                s.sendto(msg.encode(), node.sip)
            except OSError:
                pass  # ECONNREFUSED after the node is gone
            n += 1
    for s in socks:
        s.close()
    ua.close()


for sig in (signal.SIGTERM, signal.SIGINT):
    node = Node(workers=2)
    stop_at = time.time() + 1.5
    th = threading.Thread(target=blast, args=(node, stop_at))
    th.start()
    time.sleep(0.6)  # let the load build up before the signal
    t0 = time.time()
    node.proc.send_signal(sig)
    try:
        code = node.proc.wait(5)
    except subprocess.TimeoutExpired:
        code = None
        node.kill()
    took = time.time() - t0
    th.join()
    t.ok(code == 0 and took < 5, "%s during a REGISTER blast: exit 0 within 5 s" % sig.name,
         "status %r after %.2f s\n%s" % (code, took, node.logs()[-800:]))

# --- locusctl against a node
node = Node("--min-expires", "1", "--domain", "example.com", workers=2)
ua = SipClient(node)
try:
    code, out, err = node.ctl("publish", "sip:bob@example.com", "sip:bob@192.0.2.1:5060", "600")
    t.ok(code == 0 and "sip:bob@192.0.2.1:5060" in out, "locusctl publish: exit 0, lists the contact",
         "status %r\n%s%s" % (code, out, err))
    code, out, err = node.ctl("lookup", "sip:bob@example.com")
    t.ok(code == 0 and "sip:bob@192.0.2.1:5060 expires=" in out, "locusctl lookup: exit 0, lists it",
         "status %r\n%s%s" % (code, out, err))
    exp = [int(w.split("=")[1]) for w in out.split() if w.startswith("expires=")]
    t.ok(len(exp) == 1 and 590 <= exp[0] <= 600, "with the remaining expiry (<= 600)", out)
    code, out, err = node.ctl("remove", "sip:bob@example.com", "sip:bob@192.0.2.1:5060")
    t.is_(code, 0, "locusctl remove AOR CONTACT: exit 0")
    code, out, err = node.ctl("lookup", "sip:bob@example.com")
    t.ok(code == 1 and err.strip() != "", "lookup after remove: exit 1 with a message", out + err)

    node.ctl("publish", "sip:many@example.com", "sip:m1@192.0.2.2", "600")
    node.ctl("publish", "sip:many@example.com", "sip:m2@192.0.2.3", "600")
    code, out, err = node.ctl("lookup", "sip:many@example.com")
    t.ok(code == 0 and "sip:m1@192.0.2.2" in out and "sip:m2@192.0.2.3" in out,
         "two publishes to one AOR: lookup lists both", out + err)
    code, out, err = node.ctl("remove", "sip:many@example.com")
    t.is_(code, 0, "locusctl remove AOR (all): exit 0")
    code, out, err = node.ctl("lookup", "sip:many@example.com")
    t.is_(code, 1, "and then lookup exits 1")

    code, out, err = node.ctl("lookup", "sip:nobody@example.com")
    t.ok(code == 1 and "nobody" in err, "lookup of an unknown AOR: exit 1, message names it", err)

    # bad arguments: 2
    for args in ([], ["lookup"], ["publish", "sip:a@example.com"],
                 ["publish", "sip:a@example.com", "sip:a@192.0.2.1", "soon"],
                 ["frobnicate"], ["--timeout", "0", "ping"], ["--lsp", "nowhere", "ping"],
                 ["--bogus", "x", "ping"], ["lookup", "a", "b"]):
        code, out, err = node.ctl(*args)
        t.ok(code == 2 and err.strip() != "", "locusctl %s: exit 2 with a message" % (" ".join(args) or "(no arguments)"),
             "status %r stderr %r" % (code, err))
    code, out, err, _ = run_ctl("--help")
    t.ok(code == 0 and "lookup" in out, "locusctl --help: exit 0", out + err)

    # unreachable: a port nobody listens on
    dead = free_udp_port()
    code, out, err, took = run_ctl("--lsp", "127.0.0.1:%d" % dead, "--timeout", "500",
                                   "lookup", "sip:bob@example.com")
    t.ok(code == 1 and "127.0.0.1:%d" % dead in err and took < 3,
         "lookup against a dead port with --timeout 500: exit 1 within 3 s, naming the address",
         "status %r after %.2f s, stderr %r" % (code, took, err))
    code, out, err, took = run_ctl("--admin", "127.0.0.1:%d" % dead, "--timeout", "500", "stats")
    t.ok(code == 1 and err.strip() != "" and took < 3, "stats against a dead admin port: exit 1",
         "status %r stderr %r" % (code, err))
    code, out, err = node.ctl("ping")
    t.ok(code == 0 and "pong" in out, "locusctl ping: pong", out + err)

    # SIP and LSP meet on the canonical AOR (RFC 3261 §19.1.4: the host is case-insensitive)
    node.ctl("publish", "sip:carol@EXAMPLE.com", "sip:carol@192.0.2.7", "600")
    r = ua.request("INVITE", "sip:carol@example.com")
    t.ok(r is not None and r.status == 302 and [u for u, _ in r.contacts()] == ["sip:carol@192.0.2.7"],
         "published with locusctl (host in another case): INVITE gets 302 with the contact",
         r.raw if r else "no answer")
    r = ua.register("sip:dave@example.com", ["<sip:dave@192.0.2.8:5062>;q=0.7"], expires=300,
                    call_id="dave", cseq=1)
    code, out, err = node.ctl("lookup", "sip:dave@Example.COM")
    t.ok(code == 0 and "sip:dave@192.0.2.8:5062" in out and "q=0.700" in out,
         "REGISTERed over SIP: locusctl lookup lists the contact with its q", out + err)
    code, out, err = node.ctl("remove", "sip:dave@example.com")
    r = ua.request("INVITE", "sip:dave@example.com")
    t.ok(code == 0 and r is not None and r.status == 404, "removed with locusctl: INVITE gets 404",
         r.raw if r else "no answer")
finally:
    ua.close()
    t.is_(node.stop(), 0, "SIGTERM: locusd exits 0")

# --- a burst over 4 workers: 2000 REGISTERs for distinct AORs from 40 sockets, none waiting
# (most keys belong to another worker's shard than the one the kernel hands the datagram to);
# 50 answers per socket stay well inside a default receive buffer, so none is lost on our side
node = Node(workers=4)
try:
    uas = [SipClient(node) for _ in range(40)]
    for i in range(2000):
        ua = uas[i % 40]
        ua.sock.sendto(ua.build("REGISTER", "sip:example.com", to="<sip:burst%d@example.com>" % i,
                                call_id="burst-%d" % i,
                                headers=["Contact: <sip:b%d@192.0.2.1>" % i, "Expires: 600"]).encode(),
                       node.sip)
    got = {}
    deadline = time.time() + 10
    while sum(got.values()) < 2000 and time.time() < deadline:
        r, _, _ = select.select([u.sock for u in uas], [], [], 0.5)
        for sock in r:
            code = int(sock.recv(65535)[8:11])
            got[code] = got.get(code, 0) + 1
    t.is_(got, {200: 2000}, "a burst of 2000 REGISTERs over 4 workers: 2000 answers, all 200")
    code, out, err = node.ctl("stats")
    tot = json.loads(out)["total"] if code == 0 else {}
    t.is_(tot.get("store", {}).get("bindings"), 2000, "and the store holds 2000 bindings")
    t.is_(tot.get("ring_overflows"), 0, "no hand-off ring overflowed")
    t.is_(tot.get("drops", {}).get("tx_failed"), 0, "no send failed")
    r = uas[0].request("INVITE", "sip:burst1999@example.com")
    t.is_(r.status if r else None, 302, "the last one is found by INVITE")
    for u in uas:
        u.close()
finally:
    t.is_(node.stop(), 0, "SIGTERM: locusd exits 0")

# --- net_af_packet's ring overflows in none of DPDK 22.11's counters (imissed stays 0): locusd
# reads its sockets' PACKET_STATISTICS into kernel_ring_drops. A 32-frame ring, the node stopped
# (SIGSTOP) while 2000 OPTIONS arrive: the ring overflows and the drops are counted, never more
# than the answers missing (the veth pair's backlogs and the clients' sockets may drop some too:
# shown for the record)
def veth_dropped(ns, dev, way):
    r = subprocess.run(["ip", "-n", ns, "-s", "-j", "link", "show", dev], capture_output=True,
                       text=True)
    try:
        return int(json.loads(r.stdout)[0]["stats64"][way]["dropped"])
    except (ValueError, IndexError, KeyError):
        return 0


def softnet_dropped():
    """Frames the kernel's per-CPU backlogs dropped (all namespaces: for the record only)."""
    with open("/proc/net/softnet_stat") as f:
        return sum(int(l.split()[1], 16) for l in f if l.strip())


def client_rcvbuf_errors(node):
    """Udp RcvbufErrors of the clients' namespace (answers the clients' sockets dropped)."""
    snmp = subprocess.run(["ip", "netns", "exec", node.client_ns, "cat", "/proc/net/snmp"],
                          capture_output=True, text=True).stdout.splitlines()
    udp = [l.split()[1:] for l in snmp if l.startswith("Udp:")]
    return int(dict(zip(*udp)).get("RcvbufErrors", 0)) if len(udp) == 2 else 0


if DATAPLANE == "dpdk-af_packet":
    import locus
    locus.AF_PACKET_FRAMECNT = 32
    try:
        node = Node(workers=1)
    finally:
        locus.AF_PACKET_FRAMECNT = 2048
    try:
        uas = [SipClient(node) for _ in range(40)]
        # one answer first: the clients' namespace must know the node's MAC, or the kernel
        # there holds a stopped node's datagrams for ARP (about 160) and drops the rest
        uas[0].request("OPTIONS", "sip:example.com")
        rcvbuf0, backlog0 = client_rcvbuf_errors(node), softnet_dropped()
        node.proc.send_signal(signal.SIGSTOP)  # the worker away (a time slice, stretched)
        try:
            for i in range(2000):
                ua = uas[i % 40]
                ua.sock.sendto(ua.build("OPTIONS", "sip:example.com",
                                        call_id="ring-%d" % i).encode(), node.sip)
            time.sleep(0.2)
        finally:
            node.proc.send_signal(signal.SIGCONT)
        answers, deadline = 0, time.time() + 5
        while answers < 2000 and time.time() < deadline:
            r, _, _ = select.select([u.sock for u in uas], [], [], 0.5)
            for sock in r:
                sock.recv(65535)
                answers += 1
        code, out, err = node.ctl("stats")
        st = json.loads(out) if code == 0 else {}
        ring = st.get("kernel_ring_drops", 0)
        tx_full = st.get("total", {}).get("io", {}).get("drop_tx_full", 0)
        # the veth pair drops too when a backlog overflows (requests: dpa0 rx / the client
        # end's tx; answers: dpa0 tx), before or after the ring: for the record
        veth_drops = veth_dropped(node.netns, "dpa0", "rx") + \
            veth_dropped(node.netns, "dpa0", "tx") + \
            veth_dropped(node.client_ns, "c" + node.netns.rsplit("-n", 1)[1], "tx")
        rcvbuf, backlog = client_rcvbuf_errors(node) - rcvbuf0, softnet_dropped() - backlog0
        print("# %d answers, kernel_ring_drops %d, drop_tx_full %d, veth pair dropped %d, "
              "client Udp RcvbufErrors +%d, CPU backlogs dropped +%d" %
              (answers, ring, tx_full, veth_drops, rcvbuf, backlog))
        t.ok(ring > 0 and ring + tx_full <= 2000 - answers <= ring + tx_full + veth_drops + rcvbuf +
             backlog,
             "af_packet, a 32-frame ring, 2000 OPTIONS while stopped: every missing answer is "
             "counted, the ring's by locusd "
             "(kernel_ring_drops %d, drop_tx_full %d; %d answers missing)" %
             (ring, tx_full, 2000 - answers))
        for u in uas:
            u.close()
    finally:
        t.is_(node.stop(), 0, "SIGTERM: locusd exits 0")

# --- stats: totals match what was sent (a fresh node)
node = Node("--min-expires", "10", workers=2)
ua = SipClient(node)
try:
    for i in range(5):
        ua.register("sip:s%d@example.com" % i, ["<sip:s%d@192.0.2.1>" % i, "<sip:s%db@192.0.2.1>" % i],
                    expires=600, call_id="s%d" % i, cseq=1)
    ua.register("sip:s9@example.com", ["<sip:s9@192.0.2.1>"], expires=5, call_id="s9", cseq=1)  # 423
    for i in range(3):
        ua.request("INVITE", "sip:s%d@example.com" % i)   # 302
    ua.request("INVITE", "sip:none@example.com")          # 404
    ua.request("ACK", "sip:s0@example.com", expect=False)  # no answer
    ua.request("OPTIONS", "sip:example.com")              # 200
    node.ctl("publish", "sip:lsp@example.com", "sip:lsp@192.0.2.9", "600")
    code, out, err = node.ctl("stats")
    try:
        st = json.loads(out)
    except ValueError as e:
        st = None
        t.ok(False, "locusctl stats prints JSON", "%s\n%s" % (e, out[:500]))
    if st is not None:
        t.ok(code == 0, "locusctl stats: exit 0 and JSON")
        tot = st["total"]
        t.is_(tot["sip_requests"]["REGISTER"], 6, "REGISTER counter: 6")
        t.is_(tot["sip_requests"]["INVITE"], 4, "INVITE counter: 4")
        t.is_(tot["sip_requests"]["ACK"], 1, "ACK counter: 1")
        t.is_(tot["sip_responses"]["200"], 6, "200 counter: 5 REGISTER + 1 OPTIONS")
        t.is_(tot["sip_responses"]["423"], 1, "423 counter: 1")
        t.is_(tot["sip_responses"]["302"], 3, "302 counter: 3")
        t.is_(tot["sip_responses"]["404"], 1, "404 counter: 1")
        t.is_(tot["rx_sip"], 12, "rx_sip: 12 datagrams")
        t.is_(tot["lsp_requests"]["publish"], 1, "LSP publish counter: 1")
        t.is_(tot["store"]["bindings"], 11, "the store holds 5x2 + 1 bindings")
        t.is_(tot["store"]["aors"], 6, "in 6 AORs")
        t.is_(st["workers"], 2, "workers: 2")
        summed = sum(w["sip_requests"]["REGISTER"] for w in st["per_worker"])
        t.is_(summed, tot["sip_requests"]["REGISTER"], "per-worker REGISTER counters add up to the total")
        t.is_(sum(w["store"]["bindings"] for w in st["per_worker"]), tot["store"]["bindings"],
              "per-worker bindings add up to the total")
finally:
    ua.close()
    t.is_(node.stop(), 0, "SIGTERM: locusd exits 0")
sys.exit(t.done())
