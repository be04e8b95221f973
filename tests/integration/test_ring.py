#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Rings of real locusd processes on 127.0.0.1 (issue 4): they converge, and any node answers
for any AOR.

- Rings of 1, 2, 3, 8 and 16 nodes converge: every node's successor list and predecessor are the
  true ones and every one-hop view is complete. In the 8- and 16-node rings, the nodes after the
  first three start all at once, each joining through a different, random one of the first three.
- A ring of 8 that keeps no complete view (--one-hop-max 2) converges and routes every REGISTER
  and INVITE to the owner over several hops.
- 10,000 AORs are registered through random nodes of the 16-node ring, then each is looked up
  (INVITE -> 302) through another random node; every answer must list exactly the AOR's contact.
- `locusctl ring` through one node lists all 16 with their state; owned and replica keys sum to
  N and 2N (R = 3).
- `locusctl route` names the same owner from every node, and that owner is where the key lives.
- A stale CSeq sent through a different node than the first REGISTER is still refused (the owner
  applies RFC 3261 §10.3 whichever node the UA talks to).
"""
import random
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from locus import Ring, SipBatch, SipClient, Tap, wait_for  # noqa: E402

t = Tap()
rnd = random.Random(4)


def ring_of(n):
    ring = Ring(min(n, 3))
    if n > 3:
        firsts = list(range(3))
        for _ in range(n - 3):
            ring.add(via=rnd.choice(firsts))
    return ring


for n in (1, 2, 3, 8):
    ring = ring_of(n)
    took = ring.wait_converged(timeout=30)
    t.ok(took is not None, "a ring of %d converges (%.1f s)" % (n, took or -1), ring.why)
    ring.stop()

# Beyond one-hop (--one-hop-max 2): requests travel by Chord's successors and fingers, several
# hops each, with REPLY_TO bringing every answer straight back to the facing node
ring = Ring(1, flags=["--one-hop-max", "2", "--successors", "2", "--replicas", "2"])
for _ in range(7):
    ring.add(via=0)
took = ring.wait_converged(timeout=60)
t.ok(took is not None, "a ring of 8 without the complete view converges (%.1f s)" % (took or -1),
     ring.why)
fb = SipBatch(window=32)
M = 500
fwd0 = sum((n.stats() or {}).get("forwarded", 0) for n in ring.nodes)
regs = [fb.request("REGISTER", "sip:example.com", rnd.choice(ring.nodes).sip, "fr-%d" % i,
                   to="<sip:fm%03d@example.com>" % i,
                   headers=["Contact: <sip:fm%03d@10.3.0.1:%d>" % (i, 2000 + i), "Expires: 600"])
        for i in range(M)]
ans = fb.run(regs)
ok200 = sum(1 for i in range(M) if ans.get("fr-%d" % i) and ans["fr-%d" % i].status == 200)
invs = [fb.request("INVITE", "sip:fm%03d@example.com" % i, rnd.choice(ring.nodes).sip, "fi-%d" % i)
        for i in range(M)]
ans = fb.run(invs)
good = sum(1 for i in range(M) if ans.get("fi-%d" % i) and ans["fi-%d" % i].status == 302 and
           [c[0] for c in ans["fi-%d" % i].contacts()] == ["sip:fm%03d@10.3.0.1:%d" % (i, 2000 + i)])
fwd = sum((n.stats() or {}).get("forwarded", 0) for n in ring.nodes) - fwd0
t.ok(ok200 == M and good == M,
     "finger routing: %d of %d REGISTERs 200, %d of %d INVITEs 302 with the right contact "
     "(%.2f forwards per request)" % (ok200, M, good, M, fwd / (2.0 * M)))
fb.close()
ring.stop()

ring = ring_of(16)
took = ring.wait_converged(timeout=60)
t.ok(took is not None, "a ring of 16 (13 joining at once through 3 bootstraps) converges "
     "(%.1f s)" % (took or -1), ring.why)

# 10,000 AORs through random nodes, looked up through other random nodes
N = 10000
nodes = ring.nodes
batch = SipBatch(window=128)
aors = ["sip:u%05d@example.com" % i for i in range(N)]
via = [rnd.randrange(len(nodes)) for _ in range(N)]
reqs = []
for i, aor in enumerate(aors):
    reqs.append(batch.request("REGISTER", "sip:example.com", nodes[via[i]].sip, "reg-%d" % i,
                              to="<%s>" % aor,
                              headers=["Contact: <sip:u%05d@10.0.%d.%d:5060>" % (i, i // 250, i % 250),
                                       "Expires: 3600"]))
start = time.time()
ans = batch.run(reqs)
took = time.time() - start
ok200 = sum(1 for i in range(N) if ans.get("reg-%d" % i) and ans["reg-%d" % i].status == 200)
t.ok(ok200 == N, "%d REGISTERs through random nodes: %d answered 200 (%.1f s)" % (N, ok200, took))

reqs = []
other = []
for i, aor in enumerate(aors):
    j = rnd.randrange(len(nodes) - 1)
    j = j if j < via[i] else j + 1  # another node than the one it registered through
    other.append(j)
    reqs.append(batch.request("INVITE", aor, nodes[j].sip, "inv-%d" % i))
start = time.time()
ans = batch.run(reqs)
took = time.time() - start
right, wrong = 0, []
for i in range(N):
    r = ans.get("inv-%d" % i)
    want = "sip:u%05d@10.0.%d.%d:5060" % (i, i // 250, i % 250)
    if r is not None and r.status == 302 and [c[0] for c in r.contacts()] == [want]:
        right += 1
    elif len(wrong) < 5:
        wrong.append((aors[i], r.status if r else None, r.contacts() if r else None))
t.ok(right == N, "%d INVITEs through other nodes: %d got 302 with the right contact (%.1f s)"
     % (N, right, took), wrong)
batch.close()

# locusctl ring: every node's state, asked through one node
import json  # noqa: E402


def ring_all():
    code, out, _ = nodes[5].ctl("ring", timeout=30)
    return json.loads(out)["nodes"] if code == 0 else []


def all_copies():
    ns = ring_all()
    if len(ns) != 16 or not all(n["answered"] and n["owned"] for n in ns):
        return None
    return sum(n["owned"]["keys"] for n in ns), sum(n["replica"]["keys"] for n in ns)


copies = wait_for(lambda: all_copies() == (N, 2 * N), timeout=30, step=1.0)
ns = ring_all()
t.ok(copies and all(n["one_hop_view"] == 16 and n["fingers"] > 0 and len(n["successors"]) == 8
                    and n["predecessor"] for n in ns),
     "locusctl ring: 16 nodes answer, each with its predecessor, 8 successors, fingers, a view "
     "of 16, and owned + replica keys summing to N and 2N: %s" % (all_copies(),))

# every node names the same owner
owners = set()
for node in nodes:
    code, out, _ = node.ctl("route", "sip:u00042@example.com")
    owners.add(json.loads(out)["owner"]["id"] if code == 0 else None)
t.ok(len(owners) == 1 and None not in owners, "locusctl route: every node names one owner",
     owners)

# §10.3 ordering holds across nodes: CSeq 5 via node 1, then CSeq 3 via node 7 is refused
ua1, ua7 = SipClient(nodes[1]), SipClient(nodes[7])
r1 = ua1.register("sip:order@example.com", ["<sip:order@10.9.9.9>"], expires=600,
                  call_id="order-1", cseq=5)
r7 = ua7.register("sip:order@example.com", ["<sip:order@10.9.9.9>"], expires=600,
                  call_id="order-1", cseq=3)
t.ok(r1 is not None and r1.status == 200 and r7 is not None and r7.status == 400,
     "a stale CSeq through another node is refused (%s then %s)"
     % (r1 and r1.status, r7 and r7.status))
ua1.close()
ua7.close()

stopped = [n.stop() for n in nodes]
t.ok(all(s == 0 for s in stopped), "all 16 nodes leave and exit 0 on SIGTERM", stopped)
sys.exit(t.done())
