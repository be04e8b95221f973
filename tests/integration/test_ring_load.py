#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A ring under load on one CPU: being busy is not being dead.

Three nodes confined to one CPU (locus-bench on another when there is one) take 400,000 new
REGISTERs as fast as they answer; then a fourth node joins on the same CPU, so hundreds of
thousands of bindings move to it while 200,000 refreshes run; then INVITEs to 400,000 picks of
the registered AORs. Every node's view is read each second throughout (`locusctl node`).

Nodes used to declare each other dead under such load: a node whose workers fell behind applying
range transfers stopped reading all its overlay links, its pings and their answers included, so
its peers (and it) saw silence for T_fail; ownership moved, more full-range transfers started, and
the ring could livelock. Checks:
- every request is answered and no answer is wrong (every INVITE gets its AOR's contact);
- no node ever declares another dead, and every view read during the load has all live nodes;
- after the load the ring is converged, and every key is owned once and held as a replica twice
  (owned and replica counts sum to N and 2N: none was lost on the way to the new node).
Under a sanitizer build (several times slower) the load is 5 times smaller. Needs locus-bench
(-Dbench=true) and CPU affinity; otherwise it prints "skipped: <reason>".
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from locus import BUILD, LOCUSD, Ring, Tap, wait_for  # noqa: E402

BENCH = os.environ.get("LOCUS_BENCH", os.path.join(BUILD, "bench", "locus-bench"))
t = Tap()


def skip_all(reason):
    t.skip(reason)
    sys.exit(t.done())


if not os.path.exists(BENCH):
    skip_all("locus-bench is not built (meson setup -Dbench=true)")
if not hasattr(os, "sched_setaffinity"):
    skip_all("no CPU affinity on this system")
try:
    cpus = sorted(os.sched_getaffinity(0))
except OSError as e:
    skip_all("cannot read the CPU affinity: %s" % e)
with open(LOCUSD, "rb") as f:
    sanitized = b"AddressSanitizer" in f.read()

NODE_CPUS = {cpus[-1]}
BENCH_CPUS = {cpus[0]}  # the same CPU when there is only one
PER_SEED = 40000 if sanitized else 200000
SEEDS = (2, 3)
N = PER_SEED * len(SEEDS)
TMP = tempfile.mkdtemp(prefix="locus-it-load-")


def bench(name, targets, *args):
    """One locus-bench run on BENCH_CPUS; returns its JSON record (None when it wrote none)."""
    path = os.path.join(TMP, name + ".json")
    cmd = [BENCH, "--quiet", "--no-progress", "--json", path, "--window", "128", "--sockets", "8"]
    for n in targets:
        cmd += ["--target", "%s:%d" % n.sip]
    start = time.time()
    r = subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, timeout=240,
                       preexec_fn=lambda: os.sched_setaffinity(0, BENCH_CPUS))
    rec = None
    if os.path.exists(path):
        with open(path) as f:
            rec = json.load(f)
    took = time.time() - start
    if rec is None:
        t.ok(False, "%s: locus-bench wrote a record" % name, "exit %s\n%s" % (r.returncode, r.stderr))
        return None
    t.ok(r.returncode == 0 and rec["sent"] == rec["answered"] and rec["wrong"] == 0,
         "%s: %d sent, %d answered, %d wrong (%.0f/s, %.1f s)" % (
             name, rec["sent"], rec["answered"], rec["wrong"], rec["throughput"], took),
         r.stderr[-3000:])
    return rec


class Watch(threading.Thread):
    """Reads every live node's view each second: the most deaths any node declared, the views of
    the first three nodes that lacked one of them (a node declared dead drops out), and the reads
    no answer came for."""

    def __init__(self, ring):
        super().__init__(daemon=True)
        self.ring, self.stop, self.reads = ring, False, 0
        self.deaths, self.short, self.silent = 0, [], 0
        self.first = list(ring.nodes)

    def run(self):
        while not self.stop:
            for n in self.ring.live():
                info = self.ring.info(n)
                self.reads += 1
                if info is None:
                    self.silent += 1
                    continue
                self.deaths = max(self.deaths, info["deaths_declared"])
                if n in self.first and info["ring_size"] < len(self.first):
                    self.short.append((n.lsp[1], info["ring_size"]))
            time.sleep(1.0)


begin = time.time()
ring = Ring(3, cpus=NODE_CPUS)
t.ok(ring.wait_converged(timeout=20) is not None, "3 nodes on CPU %s converge" % sorted(NODE_CPUS),
     ring.why)
watch = Watch(ring)
watch.start()
first3 = list(ring.nodes)
for s in SEEDS:
    bench("register seed %d" % s, first3, "--workload", "register", "--aors", PER_SEED,
          "--seed", s, "--count", PER_SEED)
ring.add(via=0)  # joins on the same CPU: its range and its replicas' ranges move to it
bench("refresh while a node joins", first3, "--workload", "refresh", "--aors", PER_SEED,
      "--seed", SEEDS[0], "--registered", PER_SEED, "--count", PER_SEED)
for s in SEEDS:
    bench("invite seed %d" % s, ring.nodes, "--workload", "invite", "--aors", PER_SEED,
          "--seed", s, "--registered", PER_SEED, "--count", PER_SEED)
watch.stop = True
watch.join(timeout=30)

final = [ring.info(n) for n in ring.live()]
deaths = max([watch.deaths] + [i["deaths_declared"] for i in final if i is not None])
t.ok(deaths == 0 and not watch.short and all(i is not None for i in final),
     "no node declared another dead (at most %d); %d views read, none short of a live node, %d "
     "unanswered" % (deaths, watch.reads, watch.silent),
     "short views (port, ring size): %s" % watch.short[:10])
t.ok(ring.wait_converged(timeout=20) is not None, "the 4 nodes are converged after the load",
     ring.why)
done = wait_for(lambda: ring.copies() == (N, 2 * N), timeout=40, step=1.0)
t.ok(done, "every key owned once and held twice more: (owned, replica) = %s, want (%d, %d)" % (
    ring.copies(), N, 2 * N))
print("# %d bindings on CPU %s%s; %.1f s in all" % (N, sorted(NODE_CPUS),
                                                     " (sanitizer build)" if sanitized else "",
                                                     time.time() - begin))
ring.stop()
sys.exit(t.done())
