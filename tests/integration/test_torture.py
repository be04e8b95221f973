#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every RFC 4475 / RFC 5118 torture message of tests/data/sip (and the fuzz regressions) sent to a
real locusd over UDP, then garbage: the node keeps answering, every answer it gives is a
well-formed SIP response sent where RFC 3261 §18.2.2 / RFC 3581 say, the requests the corpus marks
as valid get an answer, and where RFC 4475 names the answer, it is that one.

The node runs one worker so that the order is known: a datagram is handled before the OPTIONS
probe sent after it, so when the probe's 200 is back, the torture message's answer (if any) has
already been delivered (on loopback, or on the veth of a namespaced dataplane, locus.py). The
answers are caught on the client's address (127.0.0.1) at the Via sent-by ports the corpus names
(5060 when none); the node's own tx counter cross-checks that nothing went elsewhere.
"""
import glob
import os
import random
import re
import select
import sys

from locus import DATAPLANE, Node, SipClient, Tap, client_socket

CORPUS = os.environ.get("SIP_CORPUS",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sip"))
STATUS_LINE = re.compile(rb"^SIP/2\.0 [1-6][0-9][0-9] [^\r\n]*\r\n")

# What RFC 4475 / RFC 5118 say the receiver answers, where they name it (the `# The RFC:` lines of
# each .expect). A redirect server is a UAS (RFC 3261 §8.2). None in a set: dropping is allowed.
RFC_ANSWER = {
    "rfc4475-badvers": {505},
    "rfc4475-bext01": {420},
    "rfc4475-clerr": {400},
    "rfc4475-mismatch01": {400},
    "rfc4475-mismatch02": {501, 400},
    "rfc4475-unkscm": {416},
    "rfc4475-novelsc": {416, 404},
    "rfc4475-unksm2": {400, 404, 416},   # "a registrar rejects it with 400"; 404/416 also reject
    "rfc4475-regaut01": {200, 401},
    "rfc4475-esc02": {501},
    "rfc4475-intmeth": {501, 404},
    "rfc4475-cparam01": {200},
    "rfc4475-cparam02": {200},
    "rfc4475-regescrt": {200},
    "rfc4475-escnull": {200},
    "rfc4475-dblreq": {200},
    "rfc5118-ipv6-good": {200},
    "rfc5118-port-unambiguous": {200},
    # "It is reasonable to reject with 400" / "respond 400": 400, or nothing when unaddressable
    "rfc4475-badaspec": {400, None}, "rfc4475-baddn": {400, None}, "rfc4475-badinv01": {400, None},
    "rfc4475-escruri": {400, None}, "rfc4475-insuf": {400, None}, "rfc4475-ltgtruri": {400, None},
    "rfc4475-lwsruri": {400, None}, "rfc4475-lwsstart": {400, None}, "rfc4475-trws": {400, None},
    "rfc4475-multi01": {400, None}, "rfc4475-quotbal": {400, None}, "rfc4475-regbadct": {400, None},
    "rfc4475-ncl": {400, None}, "rfc4475-mcl01": {400, None},
    # RFC 4475 §3.1.2.4: "should respond with a 400 Bad Request due to the CSeq error"; the CSeq
    # can be copied as it came (§8.2.6.2), so the request can be answered
    "rfc4475-scalar02": {400},
    "rfc5118-ipv6-bad": {400, None},
}


def read_expect(path):
    out = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            k, _, v = line.rstrip("\n").partition(" ")
            out.setdefault(k, v)
    return out


def well_formed(raw):
    """Whether raw parses as a SIP response: status line, header lines, the empty line."""
    if not STATUS_LINE.match(raw) or b"\r\n\r\n" not in raw:
        return False
    lines = []
    for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        if line[:1] in (b" ", b"\t") and lines:
            lines[-1] += b" " + line.strip()  # folding (RFC 3261 §7.3.1) is legal in a response too
        else:
            lines.append(line)
    names = set()
    for line in lines:
        name, sep, _ = line.partition(b":")
        if not sep or not re.match(rb"^[A-Za-z0-9!%*_+`'~.-]+\s*$", name):
            return False
        names.add(name.strip().lower())
    need = [{b"via", b"v"}, {b"from", b"f"}, {b"to", b"t"}, {b"call-id", b"i"}, {b"cseq"}]
    return all(names & n for n in need)


# RFC 3261 §18.1.1: a datagram of up to 65,535 bytes must be handled; a DPDK node reassembles
# the fragments itself (net/net_reasm.h). Except over net_af_packet: DPDK 22.11's PMD joins its
# sockets to a fanout group with PACKET_FANOUT_FLAG_DEFRAG, so the kernel reassembles before the
# ring and cuts the datagram to the ring's frame (framesz, at most an mbuf: about 2 KB;
# docs/dpdk.md). Such datagrams never reach locusd there: the test checks that they are counted
# (drop_truncated) instead of answered.
AF_PACKET_LIMIT = 1472 if DATAPLANE == "dpdk-af_packet" else None  # one frame at MTU 1500
AF_PACKET_WHY = "larger than a net_af_packet ring frame: the kernel reassembles and truncates " \
    "(PACKET_FANOUT_FLAG_DEFRAG; docs/dpdk.md)"


def beyond_frame(data):
    return AF_PACKET_LIMIT is not None and len(data) > AF_PACKET_LIMIT


def truncated(st):
    return (st or {}).get("io", {}).get("drop_truncated", 0)


t = Tap()
node = Node(workers=1)
ua = SipClient(node)
sender = client_socket(node)
listeners = {sender.getsockname()[1]: sender}
for port in (5060, 5050, 6050, 19823):
    try:
        listeners[port] = client_socket(node, port=port)
    except OSError:
        print("# port %d is in use: answers sent there are only counted, not read" % port)
all_ports = len(listeners) == 5


def stats():
    return node.stats()


def drain(timeout=0.05):
    """Every datagram waiting on the listeners: [(port, bytes)]."""
    got = []
    while True:
        r, _, _ = select.select(list(listeners.values()), [], [], timeout)
        if not r:
            return got
        for s in r:
            data, _ = s.recvfrom(65535)
            got.append((s.getsockname()[1], data))
        timeout = 0.01


def probe():
    r = ua.request("OPTIONS", "sip:%s:%d" % node.sip)
    return r is not None and r.status == 200


def send_and_probe(data):
    """Send one datagram from `sender`, then the OPTIONS probe; returns (probe ok, answers)."""
    sender.sendto(data, node.sip)
    ok = probe()
    return ok, drain()


try:
    files = sorted(glob.glob(os.path.join(CORPUS, "*.sip")))
    t.ok(len(files) >= 60, "the corpus has the RFC 4475 and RFC 5118 messages (%d files)" % len(files))
    bad_answers = []
    before_all = stats()
    for path in files:
        name = os.path.basename(path)[:-4]
        exp = read_expect(path[:-4] + ".expect")
        with open(path, "rb") as f:
            data = f.read()
        before = stats()
        ok, answers = send_and_probe(data)
        after = stats()
        t.ok(ok, "%s: the node still answers OPTIONS with 200" % name)
        if beyond_frame(data):
            t.is_(truncated(after) - truncated(before), 1,
                  "%s (%d bytes): counted as truncated" % (name, len(data)))
            t.skip("%s: %s" % (name, AF_PACKET_WHY))
            continue
        sent = after["tx"] - before["tx"] - 1 if before and after else None  # less the probe's 200
        for port, raw in answers:
            t.ok(well_formed(raw), "%s: its answer (to port %d) is a well-formed SIP response" % (name, port),
                 raw[:300].decode("utf-8", "replace"))
        if all_ports:
            t.is_(len(answers), sent, "%s: every answer sent arrived at the Via's port" % name)
        status = None
        if answers:
            m = re.match(rb"SIP/2\.0 (\d+)", answers[0][1])
            status = int(m.group(1)) if m else None
        valid_req = exp.get("result") == "ok" and exp.get("type") == "request" and \
            exp.get("method") != "ACK"
        if valid_req:
            t.ok(sent is not None and sent >= 1, "%s: a valid request gets an answer" % name,
                 "tx delta %r" % sent)
        if exp.get("type") == "response" or data.startswith(b"SIP/2.0 "):
            t.is_(sent, 0, "%s: a response is never answered" % name)
        want = RFC_ANSWER.get(name)
        if want is not None:
            got = status if answers else (None if sent == 0 else "sent elsewhere")
            t.ok(got in want, "%s: the answer RFC 4475/5118 names (%s)" %
                 (name, "/".join(str(w) if w else "none" for w in sorted(want, key=str))),
                 "got: %r%s" % (got, ("\n" + answers[0][1][:400].decode("utf-8", "replace")) if answers else ""))
            if name == "rfc4475-bext01" and answers:
                t.ok(re.search(rb"\r\nUnsupported: *nothingSupportsThis, *nothingSupportsThisEither\r\n", answers[0][1]) is not None,
                     "%s: the 420 lists the unknown tag in Unsupported" % name,
                     answers[0][1][:600].decode("utf-8", "replace"))

    # --- garbage: random bytes, empty, the largest datagram, binary noise, truncations, flips
    rnd = random.Random(4475)
    unparsable0 = stats()["drops"]["unparsable"]
    batches = {
        "random printable garbage": [bytes(rnd.choice(b"abcdefghijklmnopqrstuvwxyz:;<>@ \r\n/.=")
                                           for _ in range(rnd.randint(1, 1400))) for _ in range(100)],
        "binary noise": [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 1400)))
                         for _ in range(100)],
        "empty and tiny datagrams": [b"", b"\r\n", b"\r\n\r\n", b"\x00", b"S", b"SIP/2.0",
                                     b"INVITE", b"INVITE sip:a@b SIP/2.0\r\n",
                                     b"INVITE sip:a@b SIP/2.0\r\n\r\n"],
        "65507-byte datagrams": [b"A" * 65507, bytes(rnd.getrandbits(8) for _ in range(65507)),
                                 (ua.build("INVITE", "sip:alice@example.com",
                                           headers=["X-Pad: " + "p" * 65000]).encode() + b"x" * 65507)[:65507]],
    }
    # every prefix of a valid INVITE (its Via names the sender with rport, so answers come back)
    inv = ua.build("INVITE", "sip:alice@example.com",
                   via="SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK-trunc" % sender.getsockname(),
                   headers=["Contact: <sip:x@192.0.2.1>", "Content-Type: application/sdp"],
                   body="v=0\r\no=- 0 0 IN IP4 192.0.2.1\r\ns=-\r\n").encode()
    batches["every truncation of a valid INVITE"] = [inv[:i] for i in range(len(inv))]
    flips = []
    for _ in range(300):
        b = bytearray(inv)
        for _ in range(rnd.randint(1, 4)):
            b[rnd.randrange(len(b))] = rnd.choice(b"\x00\r\n :;<>\"\\%@,=\x7f\xff0Z")
        flips.append(bytes(b))
    batches["valid INVITE with 1-4 bytes replaced"] = flips
    for label, datagrams in batches.items():
        before = stats()
        for d in datagrams:
            sender.sendto(d, node.sip)
        ok = probe()
        answers = drain()
        after = stats()
        t.ok(ok, "%s (%d datagrams): the node still answers OPTIONS with 200" % (label, len(datagrams)))
        bad = [raw for _, raw in answers if not well_formed(raw)]
        t.ok(not bad, "%s: all %d answers are well-formed SIP responses" % (label, len(answers)),
             bad[0][:300].decode("utf-8", "replace") if bad else None)
        big = sum(beyond_frame(d) for d in datagrams)
        t.is_(after["rx_sip"] - before["rx_sip"], len(datagrams) - big + 1,
              "%s: every datagram was received" % label +
              (" (but %d %s)" % (big, AF_PACKET_WHY) if big else ""))
        if big:
            t.is_(truncated(after) - truncated(before), big,
                  "%s: those %d counted as truncated" % (label, big))
    # RFC 3261 §18.1.1: "implementations MUST be able to handle messages up to the maximum
    # datagram packet size. For UDP, this size is 65,535 bytes, including IP and UDP headers."
    # A valid INVITE of exactly 65507 bytes (80 headers of 700 octets, then a body) is answered.
    via = "SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK-big" % sender.getsockname()
    fill = ["X-Filler-%02d: %s" % (i, "f" * 686) for i in range(80)]
    base = ua.build("INVITE", "sip:big@example.com", via=via, headers=fill + ["Content-Type: text/plain"],
                    body="")
    body_len = 65507 - len(base.encode())
    body_len -= len(str(body_len)) - 1  # Content-Length: 0 becomes a longer number
    big = ua.build("INVITE", "sip:big@example.com", via=via, headers=fill + ["Content-Type: text/plain"],
                   body="b" * body_len).encode()
    t.is_(len(big), 65507, "the large INVITE is 65507 bytes")
    before = stats()
    ok, answers = send_and_probe(big)
    st = [int(raw[8:11]) for _, raw in answers if STATUS_LINE.match(raw)]
    if beyond_frame(big):
        t.is_(truncated(stats()) - truncated(before), 1, "the large INVITE: counted as truncated")
        t.skip("a valid 65507-byte INVITE: %s" % AF_PACKET_WHY)
    else:
        t.is_(st, [404], "a valid 65507-byte INVITE to an unknown AOR is answered 404 (§18.1.1)")
        io0, io1 = (before or {}).get("io"), (stats() or {}).get("io")
        if io0 is not None and io1 is not None:  # a DPDK node reassembled it
            t.ok(io1["rx_reassembled"] - io0["rx_reassembled"] >= 1 and
                 io1["rx_fragments"] - io0["rx_fragments"] >= 45,
                 "reassembled from its 45 fragments (rx_reassembled, rx_fragments)",
                 dict((k, io1[k] - io0[k]) for k in io1 if k.startswith(("rx_", "drop_reasm"))))

    t.ok(stats()["drops"]["unparsable"] > unparsable0, "garbage is counted as unparsable drops")
    t.ok(node.alive(), "the node is alive at the end")
finally:
    ua.close()
    for s in listeners.values():
        s.close()
    code = node.stop()
t.is_(code, 0, "SIGTERM: locusd exits 0")
sys.exit(t.done())
