#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What overlay security costs (issue 13), on this machine, release build, in one run:

A 3-node ring (R = 3, W = 2) unsecured (plain TCP links, untagged datagrams) and the same ring
secured (TLS 1.3 links, every datagram between members tagged with SipHash-2-4 and checked,
bench/results/2026-12-07-mac.md), each loaded by the same closed-loop generator (locus-bench,
pinned to CPU 0) through one facing node, every locusd pinned to CPU 1 (ring_bench.py's setup):
new REGISTERs (each forwarded to the key's owner unless the facing node owns it, then written
down the replica chain: 3-4 member datagrams per request) and INVITE->302 (a forwarded LOOKUP
and its answer: 2). Reported per workload: requests/s, latency, the servers' CPU per request (all
nodes, /proc utime+stime) and per member datagram (the tagged ones of the secured run, both
ends counted), and the ratio secured/unsecured. Also: the time a secured ring of 3 takes to
converge (TLS handshakes) against an unsecured one.

Usage: python3 bench/security_bench.py [--aors N (100000)] [--rounds K (2)]
Every process it starts is stopped by PID at exit, also on failure.
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ring_bench import BUILD, cpu_s, load, pin, total  # noqa: E402
from locus import Ring  # noqa: E402  (ring_bench put tests/integration on the path)


def ring_of(secured, flags):
    ring = Ring(0, flags=flags, workers=1)
    for i in range(3):
        node = ring.add(via=0, secured=secured)
        pin(node, 1)
    took = ring.wait_converged(60)
    return ring, took or -1


def measure(ring, aors, label):
    rows = []
    nodes = ring.nodes
    for mode in ("register", "invite"):
        c0 = sum(cpu_s(n) for n in nodes)
        a0 = sum(total(n, "auth_tx") for n in nodes)
        r = load(nodes[0], mode, aors, aors)
        c1 = sum(cpu_s(n) for n in nodes)
        a1 = sum(total(n, "auth_tx") for n in nodes)
        rows.append({"system": label, "mode": mode, "rate": r["rate"], "ok": r["ok"],
                     "lost": r["lost"], "p50": r["p50_us"], "p99": r["p99_us"],
                     "cpu": (c1 - c0) * 1e6 / max(1, r["answered"]),
                     "tagged": (a1 - a0) / max(1, r["answered"])})
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aors", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    subprocess.run(["ninja", "-C", BUILD], check=True, stdout=subprocess.DEVNULL)
    flags = ["--max-bindings", str(a.aors * 2), "--replicas", "3"]
    print("# %d AORs, 3-node ring, locus-bench on CPU 0, every node on CPU 1; %d rounds, "
          "alternating" % (a.aors, a.rounds))
    rows, conv = [], {False: [], True: []}
    for _ in range(a.rounds):
        for secured in (False, True):
            ring, took = ring_of(secured, flags)
            conv[secured].append(took)
            rows += measure(ring, a.aors, "secured" if secured else "unsecured")
            ring.stop()
    print("| ring | workload | requests/s | ok | lost | p50 µs | p99 µs | server CPU µs/req "
          "(all nodes) | tagged datagrams/req |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %s | %.0f | %d | %d | %.0f | %.0f | %.2f | %.2f |" % (
            r["system"], r["mode"], r["rate"], r["ok"], r["lost"], r["p50"], r["p99"], r["cpu"],
            r["tagged"]))
    print("\n| workload | requests/s secured/unsecured | CPU/req secured/unsecured | added CPU "
          "per tagged datagram (µs, both ends) |")
    print("|---|---|---|---|")
    for mode in ("register", "invite"):
        u = [r for r in rows if r["mode"] == mode and r["system"] == "unsecured"]
        s = [r for r in rows if r["mode"] == mode and r["system"] == "secured"]
        ur, sr = sum(r["rate"] for r in u) / len(u), sum(r["rate"] for r in s) / len(s)
        uc, sc = sum(r["cpu"] for r in u) / len(u), sum(r["cpu"] for r in s) / len(s)
        tg = sum(r["tagged"] for r in s) / len(s)
        print("| %s | %.2f | %.2f | %.2f |" % (mode, sr / ur, sc / uc,
                                               (sc - uc) / tg if tg else 0.0))
    print("\nring of 3 converged: unsecured %s s, secured %s s" % (
        ", ".join("%.2f" % x for x in conv[False]), ", ".join("%.2f" % x for x in conv[True])))


if __name__ == "__main__":
    main()
