#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""--rx-coalesce-us (dataplane/dp_worker.c, "Coalescing"): a worker that found work but not a
full burst pauses before it polls again. Nothing may be lost or answered wrongly for it:

- A burst of REGISTERs for distinct AORs, sent without waiting, is answered in full: every one
  with 200 and its own Call-ID, and each AOR then redirects an INVITE to its own contact. Two
  workers, so part of the burst crosses shards while its owner pauses (nobody kicks a pausing
  worker: the pause must end by itself).
- A lone request after a quiet spell is answered (the worker sleeps on its sockets again).
- The pauses happened (`coalesce_waits` in `locusctl stats`), and a node without the flag takes
  none.
- Out-of-range values are refused by test_lifecycle.py (exit 2 naming the flag).
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from locus import Node, Response, SipClient, Tap  # noqa: E402

N = 200
t = Tap()


def burst(node, tag):
    """Send N REGISTERs at once; return {call_id: status} of the answers within 10 s."""
    c = SipClient(node)
    # room for every answer while the burst is still being sent: the default receive buffer
    # (about 200 KB) holds fewer than N answers of 600 bytes once the kernel's overhead counts
    try:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUFFORCE, 4 << 20)
    except (OSError, AttributeError):
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    want = {}
    for i in range(N):
        cid = "co-%s-%d" % (tag, i)
        aor = "sip:co%s%03d@example.com" % (tag, i)
        msg = c.build("REGISTER", "sip:example.com", to="<%s>" % aor, call_id=cid,
                      headers=["Contact: <sip:co%s%03d@192.0.2.9:5070>" % (tag, i),
                               "Expires: 600"])
        c.sock.sendto(msg.encode(), node.sip)
        want[cid] = aor
    got = {}
    deadline = time.monotonic() + 10
    while len(got) < N and time.monotonic() < deadline:
        c.sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            raw, _ = c.sock.recvfrom(65535)
        except socket.timeout:
            break
        r = Response(raw.decode("utf-8", "replace"))
        got[r.get("Call-ID")] = r.status
    c.close()
    return want, got


def redirects(node, tag, count):
    """How many of the first `count` AORs of a burst redirect an INVITE to their own contact."""
    c = SipClient(node)
    good = 0
    for i in range(count):
        r = c.request("INVITE", "sip:co%s%03d@example.com" % (tag, i))
        good += r is not None and r.status == 302 and \
            any(uri == "sip:co%s%03d@192.0.2.9:5070" % (tag, i) for uri, _ in r.contacts())
    c.close()
    return good


node = Node("--rx-coalesce-us", "500", workers=2)
plain = None
try:
    want, got = burst(node, "a")
    t.is_(len(got), N, "a burst of %d REGISTERs: every one answered" % N)
    t.ok(set(got) == set(want) and all(code == 200 for code in got.values()),
         "each answer is a 200 for its own request",
         "missing %d, not 200: %r" % (len(set(want) - set(got)),
                                      [c for c in got.values() if c != 200][:5]))
    t.is_(redirects(node, "a", 50), 50, "50 of the AORs redirect an INVITE to their contact")

    time.sleep(0.5)
    c = SipClient(node)
    r = c.register("sip:lone@example.com", ["<sip:lone@192.0.2.9>"], expires=600)
    t.ok(r is not None and r.status == 200, "a lone REGISTER after a quiet spell is answered",
         r and r.status)
    c.close()

    s = node.stats() or {}
    t.ok(s.get("coalesce_waits", 0) > 0, "the workers paused (coalesce_waits %d)"
         % s.get("coalesce_waits", 0))
    t.ok(node.alive(), "the node is still running")

    plain = Node(workers=1)
    want, got = burst(plain, "b")
    t.is_(len(got), N, "without the flag: the burst answered too")
    s = plain.stats() or {}
    t.ok("coalesce_waits" in s and s["coalesce_waits"] == 0,
         "without the flag no worker pauses (coalesce_waits %r)" % s.get("coalesce_waits"))
finally:
    node.stop()
    if plain is not None:
        plain.stop()
t.done()
