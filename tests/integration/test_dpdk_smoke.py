#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A smoke test of `locusd --dataplane dpdk` (issue 14): one node on a DPDK port in a private
network namespace, a client in another, joined by a veth pair (docs/dpdk.md). The DPDK side has
no address; the node answers ARP and ping itself, answers SIP over its own UDP/IPv4 stack
(including a 200 OK large enough to be fragmented), and its overlay listener is reached over TCP
through the TAP it gives the kernel (--dpdk-tap). Then SIGTERM: exit 0. Once over net_af_packet,
once over net_af_xdp. Also: a bad --dpdk-args, a missing device, a pool too large and a bad
certificate exit 2 with one line. A run that fails a check prints the node's log (a sanitizer's
report included).

Needs root (namespaces) and a build with DPDK; otherwise it prints `skipped: <reason>`. The
namespaces and processes it creates are removed in every case (finally/atexit)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from locus import LOCUSCTL, Tap  # noqa: E402

LOCUSD = os.environ.get("LOCUSD", "build/control/locusd")
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
TAG = str(os.getpid())
DUT, CLI = "ldpdk_dut_" + TAG, "ldpdk_cli_" + TAG
NODE, CLIENT = "198.18.0.2", "198.18.0.1"
EAL = "--no-huge -m 128 --no-shconf --no-pci --no-telemetry"
# LeakSanitizer suppressions for the af_xdp runs: a named leak in DPDK's af_xdp PMD (the file says
# which, and why it is not ours); only for processes that load that PMD's ports.
AF_XDP_LSAN_SUPP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan-af_xdp.supp")
t = Tap()


def sh(*cmd, check=True):
    return subprocess.run(list(cmd), capture_output=True, text=True, check=check)


def in_ns(ns, *cmd, timeout=30):
    return subprocess.run(["ip", "netns", "exec", ns] + list(cmd), capture_output=True, text=True,
                          timeout=timeout)


def topology(queues):
    """DUT and CLI namespaces, a veth pair with @queues queues, the DPDK side without address."""
    teardown()
    sh("ip", "netns", "add", DUT)
    sh("ip", "netns", "add", CLI)
    sh("ip", "link", "add", "dpa0", "address", "02:00:00:00:00:02", "numtxqueues", str(queues),
       "numrxqueues", str(queues), "netns", DUT, "type", "veth", "peer", "name", "dpa1",
       "address", "02:00:00:00:00:01", "numtxqueues", str(queues), "numrxqueues", str(queues),
       "netns", CLI)
    for ns, dev in ((DUT, "dpa0"), (CLI, "dpa1")):
        in_ns(ns, "sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % dev)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "link", "set", dev, "up")
    sh("ip", "-n", CLI, "addr", "add", CLIENT + "/24", "dev", "dpa1")


def teardown():
    for ns in (DUT, CLI):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


# The client side, run inside CLI: ping (raw ICMP), SIP over UDP, a TCP connect; prints JSON.
CLIENT_CODE = r'''
import json, socket, struct, sys, time
NODE = sys.argv[1]
out = {}
def cs(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b)); s = (s & 0xffff) + (s >> 16); s += s >> 16
    return ~s & 0xffff
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); r.settimeout(1)
out["ping"] = 0
for seq in range(3):
    pl = b"locus-%d" % seq
    h = struct.pack("!BBHHH", 8, 0, 0, 0x4c43, seq)
    r.sendto(struct.pack("!BBHHH", 8, 0, cs(h + pl), 0x4c43, seq) + pl, (NODE, 0))
    try:
        while True:
            d, a = r.recvfrom(2048); ihl = (d[0] & 15) * 4
            if d[ihl] == 0 and d[ihl + 4:ihl + 8] == struct.pack("!HH", 0x4c43, seq):
                out["ping"] += 1; break
    except socket.timeout:
        pass
def sip(method, aor, cseq, contacts=(), callid="smoke"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2); s.bind(("0.0.0.0", 0))
    port = s.getsockname()[1]
    ruri = "sip:example.com" if method == "REGISTER" else "sip:" + aor
    m = ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.0.1:%d;branch=z9hG4bK%s%d\r\nMax-Forwards: 70\r\n"
         "To: <sip:%s>\r\nFrom: <sip:%s>;tag=1\r\nCall-ID: %s\r\nCSeq: %d %s\r\n" %
         (method, ruri, port, method, cseq, aor, aor, callid, cseq, method))
    if contacts:
        m += "Contact: %s\r\nExpires: 300\r\n" % ", ".join(contacts)
    s.sendto((m + "Content-Length: 0\r\n\r\n").encode(), (NODE, 5060))
    try:
        d = s.recvfrom(65535)[0]
        return d.split(b"\r\n")[0].decode(), len(d), d.count(b"smoke-device")
    except socket.timeout:
        return "timeout", 0, 0
out["register"] = sip("REGISTER", "alice@example.com", 1, ["<sip:alice@198.18.0.1:5070>"], "a1")[0]
out["options"] = sip("OPTIONS", NODE, 1)[0]  # to the node itself
out["invite"] = sip("INVITE", "alice@example.com", 1)[0]
last = None
for cseq in range(1, 5):  # 32 long contacts: a 200 OK of about 3 KB, two or three fragments
    c = ["<sip:smoke-device-%02d-with-a-long-name@198.18.0.%d:%d;transport=udp>" % (i, 10 + i, 5000 + i)
         for i in range(cseq * 8 - 8, cseq * 8)]
    last = sip("REGISTER", "bob@example.com", cseq, c, "b1")
out["big"] = list(last)
try:
    socket.create_connection((NODE, 7400), timeout=3).close(); out["tcp"] = True
except OSError as e:
    out["tcp"] = str(e)
print(json.dumps(out))
'''


def node_env(vdevs):
    """The node's environment: ours, plus the af_xdp LeakSanitizer suppressions when it has an
    af_xdp port (they only matter in a sanitizer build; other builds ignore LSAN_OPTIONS)."""
    env = dict(os.environ)
    if any("net_af_xdp" in v for v in vdevs):
        opts = [o for o in env.get("LSAN_OPTIONS", "").split(":") if o]
        env["LSAN_OPTIONS"] = ":".join(opts + ["suppressions=" + AF_XDP_LSAN_SUPP])
    return env


def start(vdevs, lcores, extra=()):
    log = open("/tmp/locusd-dpdk-smoke-%s.log" % TAG, "w+")
    args = ["ip", "netns", "exec", DUT, LOCUSD, "--dataplane", "dpdk", "--dpdk-args",
            "--lcores %s %s %s" % (lcores, EAL, " ".join(vdevs)), "--sip", NODE + ":5060",
            "--lsp", NODE + ":7400", "--admin", "/tmp/locusd-dpdk-smoke-%s.sock" % TAG,
            "--dpdk-tap", "locus0"] + list(extra)
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=node_env(vdevs))
    deadline = time.time() + 15
    while time.time() < deadline and p.poll() is None:
        log.seek(0)
        if "locusd ready" in log.read():
            return p, log, True
        time.sleep(0.1)
    return p, log, False


def stats():
    r = in_ns(DUT, LOCUSCTL, "--admin", "/tmp/locusd-dpdk-smoke-%s.sock" % TAG, "stats")
    try:
        return json.loads(r.stdout)["total"].get("io", {})
    except ValueError:
        return {}


def run(pmd, queues, vdevs, lcores):
    topology(queues)
    failed_before = t.failed
    p, log, ready = start(vdevs, lcores)
    try:
        if not t.ok(ready and p.poll() is None, "%s: locusd --dataplane dpdk is ready" % pmd):
            return
        r = in_ns(CLI, PY, "-c", CLIENT_CODE, NODE, timeout=60)
        try:
            got = json.loads(r.stdout)
        except ValueError:
            t.ok(False, "%s: the client ran" % pmd, r.stdout + r.stderr)
            return
        t.is_(got["ping"], 3, "%s: ping answered 3/3 (ICMP echo)" % pmd)
        neigh = in_ns(CLI, "ip", "neigh", "show", NODE).stdout
        t.ok("02:00:00:00:00:02" in neigh, "%s: ARP resolved to the port's MAC" % pmd, neigh)
        t.is_(got["register"], "SIP/2.0 200 OK", "%s: REGISTER answered 200" % pmd)
        t.is_(got["options"], "SIP/2.0 200 OK", "%s: OPTIONS to the node answered 200" % pmd)
        t.ok(got["invite"].startswith("SIP/2.0 302"), "%s: INVITE to the AOR gets 302" % pmd,
             got["invite"])
        t.ok(got["big"][0] == "SIP/2.0 200 OK" and got["big"][1] > 1500 and got["big"][2] == 32,
             "%s: a 200 OK past the MTU arrives whole (fragmented)" % pmd, got["big"])
        t.is_(got["tcp"], True, "%s: TCP to the overlay listener goes through the TAP" % pmd)
        io = stats()
        t.ok(io.get("arp_answered", 0) >= 1 and io.get("icmp_echo_answered", 0) >= 3 and
             io.get("tx_fragments", 0) >= 2 and io.get("to_kernel", 0) >= 1,
             "%s: locusctl stats shows the queue's counters" % pmd, io)
        p.send_signal(15)
        try:
            rc = p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            rc = "still running"
        t.is_(rc, 0, "%s: SIGTERM: exit 0" % pmd)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        if t.failed > failed_before:
            show_log(pmd, log)
        log.close()
        os.unlink(log.name)
        teardown()


def show_log(pmd, log):
    """The node's log (stdout and stderr: a sanitizer's report goes there) as TAP comments, for a
    run of this PMD that failed a check: its head (start-up) and its tail (where ASan, UBSan or
    LeakSanitizer print), so that a flake that does not repeat can still be diagnosed."""
    log.flush()
    log.seek(0)
    lines = log.read().splitlines()
    print("# ---- %s: the node's log (%d lines) ----" % (pmd, len(lines)))
    shown = lines
    if len(lines) > 400:
        shown = lines[:40] + ["[... %d lines ...]" % (len(lines) - 360)] + lines[-320:]
    for line in shown:
        print("# " + line)
    print("# ---- end of the node's log ----", flush=True)


def bad_args():
    """Exit paths before the node runs: exit 2 with one line naming the flag, nothing leaked (a
    sanitizer build reports leaks at exit, which changes the status) and, for af_xdp, no XDP
    program left on the interface."""
    topology(1)
    tmp = tempfile.mkdtemp(prefix="locusd-dpdk-smoke-")
    try:
        junk = os.path.join(tmp, "junk.pem")  # readable, so it passes the flag check, but no PEM
        with open(junk, "w") as f:
            f.write("not a certificate\n")
        pkt = "--lcores 0@0,1@1 %s --vdev=net_af_packet0,iface=dpa0,qpairs=1" % EAL
        xdp = "--lcores 0@0,1@1 %s --vdev=net_af_xdp0,iface=dpa0,start_queue=0" % EAL
        tls = ["--overlay-ca", junk, "--cert", junk, "--key", junk]
        for name, eal, extra, flag in (
                ("an unknown EAL option", "--bogus-option", [], "--dpdk-args"),
                ("a missing device", "--lcores 0@0,1@1 %s --vdev=net_af_packet0,"
                 "iface=nosuchif" % EAL, [], "--dpdk-args"),
                ("a pool too large for -m", pkt, ["--dpdk-mbufs", "2000000"], "--dpdk-mbufs"),
                ("a bad certificate with an af_xdp port", xdp, tls, "--cert"),
                # af_xdp fills each RX queue with 2048 mbufs: a pool of 1024 cannot start it,
                # and the message says how many it needs
                ("a pool too small for af_xdp", xdp, ["--dpdk-mbufs", "1024"],
                 "--dpdk-mbufs 1024: too small for the ports, which need at least")):
            r = subprocess.run(["ip", "netns", "exec", DUT, LOCUSD, "--dataplane", "dpdk",
                                "--dpdk-args", eal, "--sip", NODE + ":5060", "--lsp",
                                NODE + ":7400"] + extra, capture_output=True, text=True,
                               timeout=60, env=node_env([eal]))
            lines = [x for x in r.stderr.splitlines() if x.strip()]
            t.ok(r.returncode == 2 and len(lines) == 1 and flag in lines[0],
                 "%s: exit 2 and one line" % name, "exit %d\n%s" % (r.returncode, r.stderr))
        link = sh("ip", "-n", DUT, "link", "show", "dpa0").stdout
        t.ok("prog/xdp" not in link, "no XDP program left on the interface", link)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        teardown()


def main():
    if os.geteuid() != 0:
        t.skip("not root: network namespaces need it")
        return t.done()
    probe = subprocess.run([LOCUSD, "--dataplane", "dpdk", "--dpdk-args", "--bogus", "--sip",
                            NODE + ":5060", "--lsp", NODE + ":7400"], capture_output=True,
                           text=True)
    if "without DPDK" in probe.stderr:
        t.skip("this build has no DPDK")
        return t.done()
    try:
        bad_args()
        run("af_packet", 1, ["--vdev=net_af_packet0,iface=dpa0,qpairs=1"], "0@0,1@1")
        run("af_xdp", 1, ["--vdev=net_af_xdp0,iface=dpa0,start_queue=0"], "0@0,1@1")
        run("af_packet-2q", 2, ["--vdev=net_af_packet0,iface=dpa0,qpairs=2"], "0@0,1@1,2@1")
    finally:
        teardown()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
