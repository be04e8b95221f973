#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Removals and the write quorum on a ring of real processes (issue 12, docs/overlay.md §6).

A 3-node ring, R = 3, W = 2, on 127.0.0.1:

- A removed contact leaves a tombstone on every copy (locusctl stats: store.tombstones), and the
  contact registered again rewrites that tombstone instead of adding a second record of the same
  binding: afterwards the ring holds 3 bindings and no tombstone.
- `Contact: *` of an AOR nobody holds still leaves its CLEARED record on every copy (the bindings
  it removes may live on the other side of a partition), and a later registration of that AOR
  wins over it.
- The copies converge and stay converged: after a sync round, further rounds find no differing
  buckets (a key with two records of one binding would differ for ever).
- A node cut off from the ring below the write quorum refuses REGISTERs with 503 and Retry-After
  and changes nothing, still answers lookups; once the ring is back, writes are acknowledged again
  and the contact it refused is nowhere.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from locus import Ring, SipClient, Tap, wait_for  # noqa: E402

t = Tap()
R = 3


def store_totals(ring):
    """(bindings, tombstones) summed over the live nodes' stores, or None if one did not answer."""
    b = tb = 0
    for n in ring.live():
        st = n.stats()
        if st is None:
            return None
        b += st["store"]["bindings"]
        tb += st["store"]["tombstones"]
    return b, tb


def differing(ring):
    """Buckets that range sync found differing so far, summed over the live nodes."""
    total = 0
    for n in ring.live():
        info = ring.info(n) or {}
        total += (info.get("sync") or {}).get("buckets_differing", 0)
    return total


def contacts(ua, aor):
    r = ua.register(aor, call_id="q-%s-%f" % (aor, time.time()))
    return None if r is None or r.status != 200 else sorted(c[0] for c in r.contacts())


ring = Ring(0, flags=["--replicas", str(R), "--write-quorum", "2"])
for i in range(3):
    ring.add(via=0)
took = ring.wait_converged(timeout=60)
t.ok(took is not None, "3 nodes converge (%.1f s)" % (took or -1), ring.why)
ua = [SipClient(n) for n in ring.nodes]

# a contact, removed, registered again: one record per binding, a tombstone only in between
alice, c1 = "sip:alice@example.com", "sip:alice@10.7.0.1:5060"
r = ua[0].register(alice, ["<%s>" % c1], expires=600, call_id="a-1")
t.ok(r is not None and r.status == 200, "alice's contact registered through node 0")
t.ok(wait_for(lambda: store_totals(ring) == (3, 0), timeout=15),
     "3 copies of it: (bindings, tombstones) = %s" % (store_totals(ring),))
r = ua[1].register(alice, ["<%s>;expires=0" % c1], call_id="a-2")
t.ok(r is not None and r.status == 200 and not r.contacts(),
     "removed through node 1: 200 without contacts")
t.ok(wait_for(lambda: store_totals(ring) == (0, 3), timeout=15),
     "every copy keeps a tombstone of it: %s" % (store_totals(ring),))
t.ok(all(contacts(u, alice) == [] for u in ua), "no node lists it")
r = ua[2].register(alice, ["<%s>" % c1], expires=600, call_id="a-3")
t.ok(r is not None and r.status == 200, "registered again through node 2")
t.ok(wait_for(lambda: store_totals(ring) == (3, 0), timeout=15),
     "the tombstone is rewritten, not doubled: %s" % (store_totals(ring),))
t.ok(all(contacts(u, alice) == [c1] for u in ua), "every node lists it once")

# Contact: * of an AOR nobody holds, then a registration after it
bob, c2 = "sip:bob@example.com", "sip:bob@10.7.0.2:5060"
r = ua[0].register(bob, ["*"], expires=0, call_id="b-1")
t.ok(r is not None and r.status == 200, "Contact: * of an AOR the ring does not hold: 200")
t.ok(wait_for(lambda: store_totals(ring) == (3, 3), timeout=15),
     "its CLEARED record is on every copy: %s" % (store_totals(ring),))
r = ua[1].register(bob, ["<%s>" % c2], expires=600, call_id="b-2")
t.ok(r is not None and r.status == 200, "bob registers after it")
t.ok(wait_for(lambda: all(contacts(u, bob) == [c2] for u in ua), timeout=10),
     "the later registration wins over the removal, on every node")

# converged, and staying so: two more sync rounds (T_sync = 10 s) find nothing to repair
time.sleep(11)
before = differing(ring)
time.sleep(21)
after = differing(ring)
t.ok(after == before, "two sync rounds later no bucket differs (%d, then %d)" % (before, after))

# below the write quorum: a node alone refuses writes, and serves reads
for n in ring.nodes[1:]:
    n.kill()
alone = wait_for(lambda: (ring.info(ring.nodes[0]) or {}).get("ring_size") == 1, timeout=30)
t.ok(alone, "node 0 alone after kill -9 of the other two")
c3 = "sip:carol@10.7.0.3:5060"
r = ua[0].register("sip:carol@example.com", ["<%s>" % c3], expires=600, call_id="c-1")
t.ok(r is not None and r.status == 503 and r.get("retry-after") is not None,
     "a REGISTER below the write quorum: 503 with Retry-After (%s %s)"
     % (r and r.status, r and r.reason))
t.ok(contacts(ua[0], alice) == [c1], "a lookup is still answered from its copy")
ports = [n.lsp[1] for n in ring.nodes[1:]]
ring.nodes = ring.nodes[:1]
for port in ports:
    ring.add(via=0, lsp=port)
took = ring.wait_converged(timeout=60)
t.ok(took is not None, "the two come back at their addresses (%.1f s)" % (took or -1), ring.why)
ua = [SipClient(n) for n in ring.nodes]
t.ok(wait_for(lambda: all(contacts(u, "sip:carol@example.com") == [] for u in ua), timeout=10),
     "the refused contact is nowhere")
r = ua[0].register("sip:carol@example.com", ["<%s>" % c3], expires=600, call_id="c-2")
t.ok(r is not None and r.status == 200, "with the quorum back, the REGISTER is acknowledged")
for u in ua:
    u.close()
stopped = [n.stop() for n in ring.live()]
t.ok(all(s == 0 for s in stopped), "every node exits 0", stopped)
sys.exit(t.done())
