#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""On-demand links of a secured overlay under a burst (docs/security.md §4): no request is lost
because the link its answer needs was still being opened.

A secured ring of 8 beyond one hop (--one-hop-max 2: requests travel by fingers, and every
answer goes by REPLY_TO straight back to the facing node), one worker per node; then a ninth
member joins: right after that only its neighbours, fingers and bootstrap have links to it, so
most replicas and owners that answer it have none yet. Then:

- 600 REGISTERs all through the ninth member, all in flight at once: each replica completing a
  write parks its answers to the facing node while it asks control for a link (about 75 each,
  more than the 64 a worker used to hold), and the facing node dials back the members that
  opened links to it (their keys serve once a link of its own verified their address). Every
  request must be answered 200, counted exactly, and no node may drop a datagram for want of a
  key (auth_no_key) or of parking room (auth_park_full).
- The same 600 AORs looked up (INVITE -> 302) all at once through another node, which the
  owners answer: every one with exactly its contact, and again no such drop.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from locus import Ring, SipBatch, Tap  # noqa: E402

t = Tap()
N = 600  # about 75 answers for each replica and owner: more than the 64 a worker used to park
FLAGS = ["--one-hop-max", "2", "--successors", "2", "--replicas", "2"]


def counters(ring):
    """Per node: (auth_no_key, auth_park_full, auth_parked)."""
    out = []
    for n in ring.nodes:
        s = n.stats() or {}
        d = s.get("drops", {})
        out.append((d.get("auth_no_key"), d.get("auth_park_full"), s.get("auth_parked")))
    return out


def no_key_drops(before, after):
    """The auth_no_key and auth_park_full drops between two counters() (None: unreadable)."""
    if any(None in c for c in before + after):
        return None
    return sum(a[0] - b[0] + a[1] - b[1] for b, a in zip(before, after))


ring = Ring(0, flags=FLAGS)
for i in range(8):
    ring.add(via=0, secured=True)
took = ring.wait_converged(timeout=60)
t.ok(took is not None, "a secured ring of 8 beyond one hop converges (%.1f s)" % (took or -1),
     ring.why)
# a ninth member, the facing node of the burst: only its neighbours and fingers link to it yet
newcomer = ring.add(via=1, secured=True)
took = ring.wait_converged(timeout=60)
t.ok(took is not None, "a ninth member joins (%.1f s)" % (took or -1), ring.why)

batch = SipBatch(window=N)
aors = ["sip:burst%04d@example.com" % i for i in range(N)]
contact = ["sip:burst%04d@10.4.%d.%d:5060" % (i, i // 250, i % 250) for i in range(N)]
facing = newcomer
before = counters(ring)
ans = batch.run([batch.request("REGISTER", "sip:example.com", facing.sip, "reg-%d" % i,
                               to="<%s>" % aors[i],
                               headers=["Contact: <%s>" % contact[i], "Expires: 600"])
                 for i in range(N)])
after = counters(ring)
ok200 = sum(1 for i in range(N) if ans.get("reg-%d" % i) and ans["reg-%d" % i].status == 200)
parked = [a[2] - b[2] for b, a in zip(before, after) if a[2] is not None and b[2] is not None]
t.ok(ok200 == N, "%d REGISTERs at once through one node: %d answered 200 (%d retransmissions; "
     "datagrams parked per node for a key: %s)" % (N, ok200, batch.retransmitted, parked))
drops = no_key_drops(before, after)
t.ok(drops == 0, "no datagram dropped for want of a member's key or parking room (%s)" % drops,
     "per node (auth_no_key, auth_park_full, auth_parked): %s" % after)

facing = ring.nodes[6]
before = after
ans = batch.run([batch.request("INVITE", aors[i], facing.sip, "inv-%d" % i) for i in range(N)])
after = counters(ring)
good = sum(1 for i in range(N) if ans.get("inv-%d" % i) and ans["inv-%d" % i].status == 302 and
           [c[0] for c in ans["inv-%d" % i].contacts()] == [contact[i]])
t.ok(good == N, "%d INVITEs at once through another node: %d answered 302 with exactly their "
     "contact (%d retransmissions)" % (N, good, batch.retransmitted))
drops = no_key_drops(before, after)
t.ok(drops == 0, "again no datagram dropped for want of a key or parking room (%s)" % drops,
     "per node (auth_no_key, auth_park_full, auth_parked): %s" % after)

batch.close()
ring.stop()
sys.exit(t.done())
