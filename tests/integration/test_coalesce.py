#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""--rx-coalesce-us (dataplane/dp_worker.c, "Coalescing"; the rule in dp_coalesce.h): a worker
that found work but not a full burst pauses before it polls again, when a pause should gather
two requests or more at the rate of the last 100 ms. Nothing may be lost or answered wrongly
for it:

- Load: REGISTERs for distinct AORs sent at about 10,000/s for 0.6 s (a sender thread, a reader
  thread), to a node with 1 ms pauses and two workers (so part of the load crosses shards while
  its owner pauses: nobody kicks a pausing worker, the pause must end by itself). Every one is
  answered with 200 and its own Call-ID; AORs then redirect an INVITE to their own contact. At
  that rate (five requests a pause) the workers pause, counted in `coalesce_waits`.
- Light load: 50 requests, 20 ms apart, after the load: all answered, and no pause taken (at
  0.05 requests a pause, a pause would only add a timer wake-up); a pause after every one, as
  without the rule, would be 50 or more.
- A node without the flag answers the same load and never pauses.
- Out-of-range values are refused by test_lifecycle.py (exit 2 naming the flag); the rule's edges
  by tests/unit/dataplane/test_dp_coalesce.c.
"""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from locus import Node, Response, SipClient, Tap  # noqa: E402

N = 6000
RATE = 10000  # requests/s the sender aims at
MIN_RATE = 4000  # below this the pauses are not certain (two a pause is 2,000/s at 1 ms)
t = Tap()


def register(c, tag, i):
    cid = "co-%s-%d" % (tag, i)
    aor = "sip:co%s%05d@example.com" % (tag, i)
    return cid, c.build("REGISTER", "sip:example.com", to="<%s>" % aor, call_id=cid,
                        headers=["Contact: <sip:co%s%05d@192.0.2.9:5070>" % (tag, i),
                                 "Expires: 600"]).encode()


def load(node, tag):
    """Send N REGISTERs paced at RATE; return (want call-ids, {call_id: status}, achieved rate)."""
    c = SipClient(node)
    # room for the answers while the reader falls behind: the default receive buffer (about
    # 200 KB) holds a few hundred answers of 600 bytes once the kernel's overhead counts
    try:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUFFORCE, 8 << 20)
    except (OSError, AttributeError):
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    msgs = [register(c, tag, i) for i in range(N)]
    raw = []
    stop = threading.Event()

    def reader():
        c.sock.settimeout(0.2)
        while not stop.is_set() and len(raw) < N:
            try:
                raw.append(c.sock.recv(65535))
            except socket.timeout:
                continue

    rd = threading.Thread(target=reader)
    rd.start()
    step = 20  # requests per 2 ms at RATE
    t0 = time.monotonic()
    for k in range(0, N, step):
        for _, m in msgs[k:k + step]:
            c.sock.sendto(m, node.sip)
        ahead = t0 + (k + step) / RATE - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    rate = N / max(time.monotonic() - t0, 1e-6)
    deadline = time.monotonic() + 15
    while len(raw) < N and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    rd.join()
    c.close()
    got = {}
    for r in raw:
        resp = Response(r.decode("utf-8", "replace"))
        got[resp.get("Call-ID")] = resp.status
    return set(cid for cid, _ in msgs), got, rate


def waits(node):
    s = node.stats() or {}
    return s.get("coalesce_waits")


node = Node("--rx-coalesce-us", "1000", workers=2)
plain = None
try:
    want, got, rate = load(node, "a")
    t.is_(len(got), N, "%d REGISTERs at %.0f/s: every one answered" % (N, rate))
    t.ok(set(got) == want and all(code == 200 for code in got.values()),
         "each answer is a 200 for its own request",
         "missing %d, not 200: %r" % (len(want - set(got)),
                                      [c for c in got.values() if c != 200][:5]))
    c = SipClient(node)
    good = 0
    for i in range(0, N, N // 50):
        r = c.request("INVITE", "sip:coa%05d@example.com" % i)
        good += r is not None and r.status == 302 and \
            any(uri == "sip:coa%05d@192.0.2.9:5070" % i for uri, _ in r.contacts())
    t.is_(good, 50, "50 of the AORs redirect an INVITE to their contact")
    w_load = waits(node)
    if rate >= MIN_RATE:
        t.ok(w_load is not None and w_load > 0,
             "at %.0f/s the workers paused (coalesce_waits %r)" % (rate, w_load))
    else:
        t.skip("the sender reached only %.0f/s (the machine is busy); pauses not certain" % rate)

    # Each worker decides from its own last window, so a worker whose last window was the tail
    # of the load may still pause for up to 100 ms of light traffic: two rounds of requests
    # over many AORs (every shard) make every worker close a window of light traffic first.
    for rnd in range(2):
        time.sleep(0.5)
        for i in range(16):
            c.register("sip:warm%02d@example.com" % i, ["<sip:warm@192.0.2.9>"], expires=600)
    time.sleep(0.15)
    w_light = waits(node)
    answered = 0
    for i in range(50):
        r = c.register("sip:light%02d@example.com" % i, ["<sip:light@192.0.2.9>"], expires=600)
        answered += r is not None and r.status == 200
        time.sleep(0.02)
    c.close()
    t.is_(answered, 50, "50 REGISTERs 20 ms apart: every one answered")
    # a pause after each of them (the rule's absence) would be 50 or more
    took = (waits(node) or 0) - (w_light or 0)
    t.ok(took < 10, "at 50/s no pause is taken (%d, of 50 requests)" % took)
    t.ok(node.alive(), "the node is still running")

    plain = Node(workers=1)
    want, got, rate = load(plain, "b")
    t.is_(len(got), N, "without the flag: the load answered too")
    t.is_(waits(plain), 0, "without the flag no worker pauses")
finally:
    node.stop()
    if plain is not None:
        plain.stop()
t.done()
