#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""BATCH datagrams between members (docs/lsp.md §11.3.14, dataplane/dp_batch.c), on a 3-node
ring (R = 3, W = 2; secured under LOCUS_SECURED=1):

- The messages a node sends to the same member in one pass over a burst leave as one BATCH:
  node 0 is stopped (SIGSTOP) while a client queues 64 LOOKUPs of keys spread over the ring in
  its socket, then resumed, so that it takes them in bursts and forwards two thirds of them to
  the two other owners at once. Every LOOKUP is answered with its record (counted exactly), and
  node 0's counters show BATCH datagrams of two or more messages each.
- On a secured ring, a BATCH from anyone but a member (untagged) is dropped unanswered and
  counted (`batch_untrusted`): a client's BATCH of LOOKUPs gets no answer at all, while the same
  LOOKUP sent alone does. On an unsecured ring (membership is only an address there) each of its
  messages is answered as a client's: to the client, REPLY_TO ignored.
- A BATCH whose framing is bad ends at the bad part (a message overrunning the batch).
"""
import os
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lsp_wire as w  # noqa: E402
from locus import Ring, Tap, client_socket, secured_default  # noqa: E402

OVL = ["--overlay", "p2psip.org"]
SECURED = secured_default()
BATCH = 0x50
N = 64


def batch(msgs):
    body = b"".join(msgs)
    return struct.pack("!HBBBBHQQ", w.MAGIC, 1, BATCH, 0, 1, len(body), 0, w.P2PSIP_ORG) + body


def lookup(key, txn):
    return w.message(w.LOOKUP, w.tlv(w.T_KEY, key.encode()), txn=txn, hop=8)


def answers(sock, want, timeout):
    """{txn: answer bytes} of the answers that came within timeout, until all of want came."""
    got = {}
    deadline = time.monotonic() + timeout
    while set(got) != want:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data = sock.recv(65535)
        except socket.timeout:
            break
        if len(data) >= 24:
            txn = w.header(data)[4]
            got[txn] = data
    return got


def stat(node, key):
    s = node.stats() or {}
    return s.get(key, 0), s.get("drops", {})


t = Tap()
ring = Ring(3, flags=OVL + ["--replicas", "3", "--write-quorum", "2"], workers=1)
try:
    took = ring.wait_converged(30)
    t.ok(took is not None, "a 3-node ring (R = 3, W = 2) converges", getattr(ring, "why", ""))
    n0 = ring.nodes[0]
    keys = ["sip:batch%02d@example.com" % i for i in range(N)]
    published = 0
    for i, k in enumerate(keys):
        code, out, err = ring.nodes[i % 3].ctl(*OVL, "publish", k, "sip:b%02d@192.0.2.7" % i, "600")
        published += code == 0
    t.is_(published, N, "%d keys published, through every node" % N)

    # 1. a burst of LOOKUPs at a node that was stopped: forwards leave batched
    b0, _ = stat(n0, "batches_out")
    m0, _ = stat(n0, "batched_out")
    sock = client_socket(n0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    txns = set(range(1000, 1000 + N))
    os.kill(n0.proc.pid, signal.SIGSTOP)
    try:
        for i, k in enumerate(keys):
            sock.sendto(lookup(k, 1000 + i), n0.lsp)
    finally:
        os.kill(n0.proc.pid, signal.SIGCONT)
    got = answers(sock, txns, 10.0)
    right = sum(1 for i, k in enumerate(keys)
                if (1000 + i) in got and w.tlvs(got[1000 + i][24:]) and
                ("sip:b%02d@192.0.2.7" % i).encode() in got[1000 + i])
    t.is_(right, N, "every LOOKUP of the burst answered with its record")
    b1, _ = stat(n0, "batches_out")
    m1, _ = stat(n0, "batched_out")
    t.ok(b1 > b0 and m1 - m0 >= 2 * (b1 - b0),
         "node 0 forwarded them in BATCH datagrams (%d batches carrying %d messages)"
         % (b1 - b0, m1 - m0))

    # 2. a client's BATCH: secured, nothing answered, counted; unsecured, answered as a client's
    _, d0 = stat(n0, "batches_out")
    bad = batch([lookup(keys[0], 2001), lookup(keys[1], 2002)])
    sock.sendto(bad, n0.lsp)
    if SECURED:
        got = answers(sock, {2001, 2002}, 1.0)
        t.is_(len(got), 0, "secured: a client's BATCH of two LOOKUPs gets no answer")
    else:
        got = answers(sock, {2001, 2002}, 5.0)
        t.ok(set(got) == {2001, 2002},
             "unsecured: a client's BATCH of two LOOKUPs is answered as two datagrams would be")
    _, d1 = stat(n0, "batches_out")
    want = d0.get("batch_untrusted", 0) + (1 if SECURED else 0)
    t.ok(d1.get("batch_untrusted", 0) == want,
         "batch_untrusted counts it on a secured ring only", d1)
    sock.sendto(lookup(keys[0], 2003), n0.lsp)
    got = answers(sock, {2003}, 5.0)
    t.ok(2003 in got, "the same LOOKUP alone is answered")

    # 3. a BATCH whose second message overruns it: no answer, the node lives on
    framed = batch([lookup(keys[2], 2004), lookup(keys[3], 2005)])
    cut = bytearray(framed)
    second = 24 + len(lookup(keys[2], 2004))
    struct.pack_into("!H", cut, second + 6, 0xFFFF)
    sock.sendto(bytes(cut), n0.lsp)
    sock.sendto(lookup(keys[4], 2006), n0.lsp)
    # unsecured, the message before the bad part stands (answered as a client's); secured, the
    # untagged BATCH is dropped whole
    want = {2006} if SECURED else {2004, 2006}
    got = answers(sock, want, 5.0)
    t.ok(set(got) == want,
         "a BATCH whose second message overruns it: the second is dropped%s, and the node "
         "answers the next request" % ("" if SECURED else " (the first stands)"), sorted(got))
    sock.close()
finally:
    ring.stop()
t.done()
