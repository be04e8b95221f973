#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""sipp (Debian package sip-tester) drives a real locusd with the scenarios of tests/sipp/:
REGISTER -> 200, INVITE to the registered AORs -> 302 + ACK, INVITE to unknown AORs -> 404 + ACK,
REGISTER Expires: 0 -> 200. Each run is bounded (-m, -r, -timeout with -timeout_error); sipp must
exit 0, and the node's counters and store must agree with what sipp sent."""
import os
import shutil
import subprocess
import sys

from locus import Node, Tap, free_udp_port, wait_for

SIPP_DIR = os.environ.get("SIPP_DIR",
                          os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sipp"))
CALLS = 100
STEPS = [("register", "REGISTER", "200"), ("invite_302", "INVITE", "302"),
         ("invite_404", "INVITE", "404"), ("unregister", "REGISTER", "200")]

t = Tap()
sipp = shutil.which("sipp")
if sipp is None:
    # counted as skipped, never as passed
    for name, _, _ in STEPS:
        t.skip("sipp not installed (apt-get install sip-tester): %s" % name)
    sys.exit(t.done())


node = Node(workers=2)


def stats():
    return node.stats()


try:
    base = stats()
    t.ok(base is not None, "locusctl stats answers before the runs")
    for name, method, code in STEPS:
        scenario = os.path.join(SIPP_DIR, name + ".xml")
        before = stats()
        cmd = [sipp, "%s:%d" % node.sip, "-sf", scenario, "-s", "u", "-m", str(CALLS), "-r", "200",
               "-timeout", "20s", "-timeout_error", "-i", "127.0.0.1", "-p", str(free_udp_port()),
               "-nostdin", "-trace_err", "-error_file", os.path.join(node.dir, name + ".err")]
        try:
            r = subprocess.run(cmd, cwd=node.dir, stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=40)
            status, out = r.returncode, r.stdout + r.stderr
        except subprocess.TimeoutExpired as e:  # subprocess.run kills it
            status, out = None, str(e.stdout or "")
        errlog = ""
        try:
            with open(os.path.join(node.dir, name + ".err"), errors="replace") as f:
                errlog = f.read()[-1500:]
        except OSError:
            pass
        t.ok(status == 0, "sipp %s (%d calls): exit 0" % (name, CALLS),
             "status %r\n%s\n%s" % (status, out[-1500:], errlog))
        # sipp may exit right after its last ACK: wait (bounded) until the node has counted them
        want_acks = before["sip_requests"]["ACK"] + (CALLS if method == "INVITE" else 0)
        want_reqs = before["sip_requests"][method] + CALLS
        after = wait_for(lambda: (lambda s: s if s and s["sip_requests"]["ACK"] >= want_acks and
                                  s["sip_requests"][method] >= want_reqs else None)(stats()),
                         timeout=5.0) or stats()
        # sipp retransmits when an answer is late (a busy machine): each copy is a request the
        # stateless node answers again, so count what came rather than expect no retransmission
        nreq = after["sip_requests"][method] - before["sip_requests"][method]
        t.ok(nreq >= CALLS, "%s: the node counted %d %s requests for %d calls (%d retransmitted)"
             % (name, nreq, method, CALLS, nreq - CALLS))
        t.is_(after["sip_responses"][code] - before["sip_responses"][code], nreq,
              "%s: and answered each with %s" % (name, code))
        if method == "INVITE":
            t.ok(after["sip_requests"]["ACK"] - before["sip_requests"]["ACK"] >= CALLS,
                 "%s: at least %d ACKs absorbed" % (name, CALLS))
            t.is_(after["tx"] - before["tx"], nreq, "%s: one response per INVITE, none to ACK" % name)
        if name == "register":
            t.is_(after["store"]["bindings"], CALLS, "after register: %d bindings in the store" % CALLS)
            t.is_(after["store"]["aors"], CALLS, "in %d AORs" % CALLS)
    end = stats()
    t.is_(end["store"]["bindings"], 0, "after unregister: no binding left")
    t.is_(end["drops"]["unparsable"], 0, "nothing sipp sent was unparsable")
finally:
    code = node.stop()
t.is_(code, 0, "SIGTERM: locusd exits 0")
sys.exit(t.done())
