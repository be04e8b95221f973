#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Datagrams per replicated REGISTER (issue 14): how many UDP datagrams a 3-node ring (R = 3,
W = 2) sends for one REGISTER of a new AOR, counted from the nodes' own `tx` counters.

Every REGISTER goes to node 0 (the facing node). Node 0 owns a share f of the AORs (read from
`locusctl node` afterwards: its owned keys); for those it applies the write and starts the chain,
for the others it forwards the write to the owner first, which costs exactly one datagram more.
So with D datagrams sent by the nodes for N REGISTERs, a write whose client asks the owner costs
a = D/N - (1 - f) datagrams and one through another node a + 1 (the client's own request not
counted; the response to it is). Counts are exact when nothing is lost or retransmitted: the
load is a closed loop with a small window, well below what the ring serves, and the generator's
retransmissions are reported (they must be 0 for the figures to hold).

Usage: python3 bench/ring_datagrams.py [--aors N (20000)] [--build DIR (build-release)]
Prints one line per figure and a Markdown table row. Every process it starts is stopped by PID.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aors", type=int, default=20000)
    ap.add_argument("--build", default=os.path.join(REPO, "build-release"))
    a = ap.parse_args()
    os.environ.setdefault("LOCUSD", os.path.join(a.build, "control", "locusd"))
    os.environ.setdefault("LOCUSCTL", os.path.join(a.build, "control", "locusctl"))
    sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
    from locus import Ring  # noqa: E402
    bench = os.path.join(a.build, "bench", "locus-bench")

    ring = Ring(3, flags=["--replicas", "3", "--write-quorum", "2", "--max-bindings", "1000000"],
                workers=1)
    try:
        if ring.wait_converged(30) is None:
            sys.exit("the ring did not converge: %s" % ring.why)
        tx0 = sum(n.stats()["tx"] for n in ring.nodes)
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            subprocess.run([bench, "--target", "%s:%d" % ring.nodes[0].sip, "--quiet",
                            "--no-progress", "--json", f.name, "--aors", str(a.aors), "--count",
                            str(a.aors), "--window", "16", "--duration", "120", "--workload",
                            "register"], stdout=subprocess.DEVNULL, check=True)
            r = json.load(f)
        tx1 = sum(n.stats()["tx"] for n in ring.nodes)
        owned = ring.info(ring.nodes[0])["owned"]["keys"]
    finally:
        ring.stop()
    n = r["right"]
    share = owned / max(1, a.aors)
    per = (tx1 - tx0) / max(1, n)
    own = per - (1 - share)
    print("REGISTERs answered 200: %d of %d; generator retransmissions: %s" % (
        n, a.aors, r.get("retransmissions", r.get("retransmitted", "n/a"))))
    print("datagrams sent by the nodes: %d, %.3f per REGISTER; node 0 owns %.3f of the AORs"
          % (tx1 - tx0, per, share))
    print("per replicated write: %.2f when the client asks the owner, %.2f through another node"
          % (own, own + 1))
    print("| %s | %.3f | %.2f | %.2f |" % (os.path.basename(os.path.normpath(a.build)), per, own,
                                          own + 1))


if __name__ == "__main__":
    main()
