#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""LSP clients of a ring (docs/lsp.md §6, §11.3.9): PUBLISH, LOOKUP and REMOVE through every node
of a 3-node ring with R = 3, W = 2, so that each request is answered by its owner, forwarded to
it, or answered for it by the replica that completes the write quorum (which answers the node
facing the client, never the client directly: a client hears only from the node it asked).

Keys are written the way a client may write them: a SIP URI with upper-case host letters, a
default port and URI parameters, which name one stored key (the canonical AOR), and an opaque
key that is not a URI. Every key is published through one node and looked up through each node;
a SIP REGISTER of the same AOR meets the LSP bindings; a removal through a third node is seen
everywhere. The answers come from `locusctl`, whose exit status says whether the node answered.

It also counts the datagrams the nodes send for replicated writes, from their `tx` counters: a
write answered by the replica completing the quorum costs (R - 1) REPLICA_STOREs, one answer to
the facing node and, when the facing node is not the owner, the forward; so a ring where no
datagram is lost sends at most R + 1 per write, client answer included (the counts are exact
when nothing is retransmitted; locusctl retransmits after 500 ms, which a loaded machine may
cause, so the bound allows one retransmission in ten).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from locus import Ring, SipClient, Tap  # noqa: E402

t = Tap()
ring = Ring(3, flags=["--replicas", "3", "--write-quorum", "2", "--min-expires", "1"], workers=2)
try:
    took = ring.wait_converged(30)
    t.ok(took is not None, "a 3-node ring (R = 3, W = 2) converges", getattr(ring, "why", ""))
    nodes = ring.nodes

    def lookup(node, key):
        code, out, err = node.ctl("lookup", key)
        return code, out + err

    # every node faces a publish of its own key, written in a non-canonical form
    keys = ["sip:carol%d@EXAMPLE.com:5060;transport=udp" % i for i in range(3)]
    canon = ["sip:carol%d@example.com" % i for i in range(3)]
    contact = ["sip:carol%d@192.0.2.%d:5060" % (i, 10 + i) for i in range(3)]
    tx0 = sum(n.stats()["tx"] for n in nodes)
    pubs = 0
    for i, node in enumerate(nodes):
        code, out, err = node.ctl("publish", keys[i], contact[i], "600")
        pubs += 1
        t.ok(code == 0 and contact[i] in out,
             "PUBLISH of %s through node %d: answered, lists the contact" % (keys[i], i),
             "status %r\n%s%s" % (code, out, err))
    tx1 = sum(n.stats()["tx"] for n in nodes)
    sent = tx1 - tx0
    # per write: R - 1 = 2 REPLICA_STOREs, the quorum's answer, the client answer, at most one
    # forward: 5; stats queries themselves send no datagrams (admin socket)
    t.ok(sent <= pubs * 5 + 1, "the nodes sent %d datagrams for %d replicated publishes "
         "(at most 5 each: 2 REPLICA_STOREs, one answer to the facing node, the client's "
         "answer, a forward)" % (sent, pubs), "tx %d -> %d" % (tx0, tx1))

    for i in range(3):
        for j, node in enumerate(nodes):
            code, out = lookup(node, canon[i])
            t.ok(code == 0 and contact[i] in out,
                 "LOOKUP of %s through node %d finds it" % (canon[i], j), out)

    # an opaque key (not a URI) is stored as it is
    opaque = "device:0a1b2c3d/Sensor"
    code, out, err = nodes[1].ctl("publish", opaque, "sip:sensor@192.0.2.99", "600")
    t.ok(code == 0, "PUBLISH of an opaque key through node 1", out + err)
    code, out = lookup(nodes[2], opaque)
    t.ok(code == 0 and "sip:sensor@192.0.2.99" in out, "LOOKUP of it through node 2", out)
    code, out = lookup(nodes[2], opaque.lower())
    t.ok(code == 1, "an opaque key is case-sensitive: its lower-case form is another key", out)

    # SIP and LSP meet on the canonical AOR
    ua = SipClient(nodes[2])
    r = ua.register("sip:carol0@example.com", ["<sip:carol0@198.51.100.1:5070>"], expires=600)
    t.ok(r is not None and r.status == 200 and len(r.contacts()) == 2,
         "a REGISTER of the AOR through node 2 lists the LSP binding and its own",
         r and r.raw[:400])
    code, out = lookup(nodes[0], keys[0])
    t.ok(code == 0 and "198.51.100.1:5070" in out and contact[0] in out,
         "LOOKUP through node 0 with the client's own spelling finds both", out)
    ua.close()

    # a removal through a third node is seen by every node
    code, out, err = nodes[(1 + 1) % 3].ctl("remove", keys[1], contact[1])
    t.is_(code, 0, "REMOVE of one binding through node 2")
    for j, node in enumerate(nodes):
        code, out = lookup(node, canon[1])
        t.ok(code == 1, "LOOKUP through node %d after the removal: not found" % j, out)
    code, out, err = nodes[0].ctl("remove", canon[2])
    t.is_(code, 0, "REMOVE of every binding of an AOR through node 0")
    for j, node in enumerate(nodes):
        code, out = lookup(node, keys[2])
        t.ok(code == 1, "LOOKUP through node %d after removing all: not found" % j, out)

    drops = [n.stats()["drops"] for n in nodes]
    bad = [(i, k, v) for i, d in enumerate(drops) for k, v in d.items()
           if v and k in ("reply_ctx_invalid", "lsp_answer", "replica_untrusted")]
    t.ok(not bad, "no answer was refused or unmatched, no replica message untrusted", bad)
finally:
    ring.stop()
t.done()
