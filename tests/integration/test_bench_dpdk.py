#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A smoke test of locus-bench's DPDK transport (issue 14; bench/lb_xport_dpdk.c): one locusd on
DPDK (memif server) and locus-bench on the other end of the memif (client), two DPDK processes in
a private network namespace with no kernel in the packets' path (bench/dpdk_e2e.py is the
benchmark on the same topology). Short bounded runs, judged by locus-bench's JSON as in
test_bench.py: new REGISTERs, then INVITE -> 302 and LSP LOOKUP of the registered AORs, then an
open-loop run; every request answered and no answer wrong. Also: DPDK mode's option checks (exit
2) and EAL arguments the EAL refuses (exit 3). locusd polls adaptively here, so the test does not
hold a CPU.

Needs root (the namespace) and a build with DPDK and -Dbench=true; otherwise it prints
`skipped: <reason>`. The namespace, socket file, /var/run/dpdk directories and processes it
creates are removed in every case (finally)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from locus import BUILD, Tap  # noqa: E402

LOCUSD = os.environ.get("LOCUSD", os.path.join(BUILD, "control", "locusd"))
BENCH = os.environ.get("LOCUS_BENCH", os.path.join(BUILD, "bench", "locus-bench"))
TAG = str(os.getpid())
NS = "lbdpdk_" + TAG
SOCK = "/run/locus-bench-test-%s.sock" % TAG
NODE, GEN = "198.18.0.2", "198.18.0.1"
EAL = "--no-huge -m 256 --no-shconf --no-pci --no-telemetry"
PREFIXES = []
TMP = tempfile.mkdtemp(prefix="locus-it-bench-dpdk-")
t = Tap()


def eal(role, lcores):
    prefix = "lbdpdk-%s-%s-%d" % (role, TAG, len(PREFIXES))
    PREFIXES.append(prefix)
    return "--lcores %s %s --file-prefix %s --vdev=net_memif0,role=%s,socket=%s,socket-abstract=no" % (
        lcores, EAL, prefix, role, SOCK)


def bench(*args, timeout=60):
    """locus-bench in the namespace on the memif client; (exit status, JSON record, stderr)."""
    path = os.path.join(TMP, "run.json")
    if os.path.exists(path):
        os.unlink(path)
    argv = ["ip", "netns", "exec", NS, BENCH, "--dpdk-args", eal("client", "0@0"), "--bind", GEN,
            "--target", NODE + ":5060", "--lsp-target", NODE + ":7400", "--quiet", "--no-progress",
            "--json", path] + [str(a) for a in args]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    rec = None
    if os.path.exists(path):
        with open(path) as f:
            rec = json.load(f)
    return r.returncode, rec, r.stderr


def clean(name, rc, rec, err, sent=None):
    if rec is None:
        t.ok(False, name + ": a JSON record", "exit %s\n%s" % (rc, err))
        return
    detail = "exit %s, sent %s answered %s wrong %s missing %s\n%s" % (
        rc, rec["sent"], rec["answered"], rec["wrong"], rec["missing"], err)
    good = rc == 0 and rec["sent"] == rec["answered"] and rec["wrong"] == 0 and rec["missing"] == 0
    good = good and rec["generator"]["transport"] == "dpdk"
    if sent is not None:
        good = good and rec["sent"] == sent
    t.ok(good, "%s: %d sent over DPDK, all answered, none wrong" % (name, rec["sent"]), detail)


def bad_options():
    base = [BENCH, "--dpdk-args", "--no-pci", "--target", NODE + ":5060"]
    for args, what in ((base, "no --bind"), (base + ["--bind", GEN, "--sockets", "3"], "--sockets 3"),
                       ([BENCH, "--dpdk-args", "x", "--bind", GEN, "--target", "[::1]:5060"],
                        "an IPv6 target")):
        r = subprocess.run(args, capture_output=True, text=True, timeout=10)
        t.ok(r.returncode == 2 and "--dpdk-args" in r.stderr, "%s: exit 2 with a message" % what,
             "exit %d: %s" % (r.returncode, r.stderr))


def teardown(node):
    if node is not None and node.poll() is None:
        node.terminate()
        try:
            node.wait(10)
        except subprocess.TimeoutExpired:
            node.kill()
            node.wait()
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    if os.path.exists(SOCK):
        os.unlink(SOCK)
    for p in PREFIXES:
        shutil.rmtree("/var/run/dpdk/" + p, ignore_errors=True)
    shutil.rmtree(TMP, ignore_errors=True)


def start_node():
    for cmd in (["ip", "netns", "add", NS], ["ip", "-n", NS, "link", "set", "lo", "up"],
                ["ip", "-n", NS, "addr", "add", NODE + "/32", "dev", "lo"]):
        subprocess.run(cmd, check=True, capture_output=True)
    log = open(os.path.join(TMP, "locusd.log"), "w+")
    node = subprocess.Popen(["ip", "netns", "exec", NS, LOCUSD, "--dataplane", "dpdk", "--dpdk-args",
                             eal("server", "0@0,1@1"), "--sip", NODE + ":5060", "--lsp",
                             NODE + ":7400", "--admin", os.path.join(TMP, "admin.sock")],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 20
    while time.time() < deadline and node.poll() is None:
        log.seek(0)
        if "locusd ready" in log.read() and os.path.exists(SOCK):
            return node, log
        time.sleep(0.1)
    log.seek(0)
    raise RuntimeError("locusd did not start:\n" + log.read())


def runs():
    rc, rec, err = bench("--aors", 2000, "--seed", 21, "--duration", 10)
    clean("2000 new REGISTERs", rc, rec, err, sent=2000)
    rc, rec, err = bench("--aors", 2000, "--seed", 21, "--mix", "invite=3,lsp-lookup=1,unknown=1",
                         "--count", 4000, "--duration", 10, "--sockets", 2)
    clean("INVITE -> 302, INVITE -> 404 and LSP LOOKUP, two source ports", rc, rec, err, sent=4000)
    ops = rec["ops"] if rec else {}
    t.ok(all(ops.get(o, {}).get("answered", 0) > 0 for o in ("invite", "lsp-lookup", "unknown")),
         "every operation of the mix ran", json.dumps(ops)[:400])
    rc, rec, err = bench("--aors", 2000, "--seed", 21, "--workload", "invite", "--rate", 2000,
                         "--duration", 1)
    clean("open loop at 2000/s for 1 s", rc, rec, err)
    t.ok(rec is not None and 1900 <= rec["sent"] <= 2100,
         "open loop: about 2000 requests offered (%s)" % (rec and rec["sent"]))


def main():
    if os.geteuid() != 0:
        t.skip("not root: network namespaces need it")
        return t.done()
    if not os.path.exists(BENCH):
        t.skip("locus-bench not built (-Dbench=true)")
        return t.done()
    probe = subprocess.run([BENCH, "--dpdk-args", "--bogus", "--bind", GEN, "--target",
                            NODE + ":5060", "--count", "1"], capture_output=True, text=True,
                           timeout=30)
    if "without DPDK" in probe.stderr:
        t.skip("this build has no DPDK")
        return t.done()
    node = None
    try:
        bad_options()
        t.ok(probe.returncode == 3 and probe.stderr.count("\n") >= 1,
             "a bad --dpdk-args: exit 3", "exit %d: %s" % (probe.returncode, probe.stderr))
        node, log = start_node()
        runs()
        node.terminate()
        t.is_(node.wait(10), 0, "locusd exits 0 on SIGTERM")
    except Exception as e:  # noqa: BLE001 (reported as a failure, then cleaned up)
        t.ok(False, "the test ran", repr(e))
    finally:
        teardown(node)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
