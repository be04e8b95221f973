#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A node's address answers ICMP echo, and LSP (docs/lsp.md) works through it end to end: PING,
PUBLISH (the spec's own test vector, then a few hundred keys over both workers' shards), LOOKUP,
REMOVE, a wrong overlay, garbage; SIP and LSP meet on the same binding.

Written for the DPDK dataplane (issue 14: under LOCUS_DATAPLANE=dpdk-af_packet or dpdk-af_xdp
the pings and datagrams cross a veth pair into locusd's own ports, which must answer ARP and
ICMP echo and compute checksums themselves), and runs under every LOCUS_DATAPLANE (locus.py):
on loopback and in netns-sock the kernel answers the pings. The pings need a raw socket (root);
without root they are skipped, the LSP part still runs.
"""
import os
import socket
import struct
import sys

import lsp_wire as w
from locus import LspClient, Node, SipClient, Tap, icmp_echo, wait_for

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "lsp")
N_KEYS = 300


def status(ans):
    """The STATUS of an answer, or None (no answer, or none in it)."""
    if ans is None:
        return None
    for t_, v in w.tlvs(ans[w.HDR_LEN:]):
        if t_ == w.T_STATUS:
            return struct.unpack("!H", v)[0]
    return None


def records(ans):
    """{contact: expires} of an answer's RECORDs."""
    out = {}
    for t_, v in w.tlvs(ans[w.HDR_LEN:]) if ans else []:
        if t_ == 0x8002:
            rec = dict(w.tlvs(v))
            exp = rec.get(w.T_EXPIRES)
            out[rec[w.T_CONTACT].decode()] = struct.unpack("!I", exp)[0] if exp else None
    return out


def key(aor):
    return w.tlv(w.T_KEY, aor.encode())


def record(contact, expires):
    return w.tlv(0x8002, w.tlv(w.T_CONTACT, contact.encode()) +
                 w.tlv(w.T_EXPIRES, struct.pack("!I", expires)))


def with_txn(data, txn):
    """A stored vector with a transaction id of this run (retransmission matching is by txn)."""
    return data[:8] + struct.pack("!Q", txn) + data[16:]


t = Tap()
node = Node("--overlay", "p2psip.org", "--domain", "example.com", "--min-expires", "1", workers=2)
lsp = LspClient(node)
ua = SipClient(node)
try:
    # --- ICMP echo to the node's address, from where the clients are
    if os.geteuid() != 0:
        t.skip("ICMP echo needs a raw socket (root)")
    else:
        # the first one may wait for ARP: a generous timeout, and a second chance
        first = icmp_echo(node, 1, timeout=5.0) or icmp_echo(node, 2, timeout=5.0)
        t.ok(first, "ping %s: an echo reply" % node.sip[0])
        got = sum(icmp_echo(node, 10 + i) for i in range(10))
        t.is_(got, 10, "10 more pings of 56 bytes: 10 replies with the same id, sequence and data")
        t.ok(icmp_echo(node, 100, size=1400), "a ping of 1400 bytes: its reply, data intact")

    # --- LSP PING
    ans = lsp.request(w.message(w.PING, b""))
    t.is_(status(ans), 200, "LSP PING: OK")
    t.ok(ans is not None and w.header(ans)[1] & w.F_ANSWER, "the answer has the ANSWER flag")

    # --- PUBLISH: the spec's vector (docs/lsp.md §9), answered with both records
    with open(os.path.join(VECTORS, "publish-two-records.lsp"), "rb") as f:
        pub = f.read()
    ans = lsp.request(with_txn(pub, 0x0123456789ABCDEF ^ os.getpid()))
    t.is_(status(ans), 200, "PUBLISH publish-two-records.lsp: OK")
    want = {"sip:alice@192.0.2.10:5060": 3600, "sip:alice@198.51.100.7;transport=tcp": 600}
    got = records(ans)
    t.is_(sorted(got), sorted(want), "the answer lists both records")
    t.ok(all(want[c] - 5 <= (got.get(c) or 0) <= want[c] for c in want),
         "with their expiries", got)
    t.ok(ans is not None and b"\x80\x07\x00\x04\x0a\x0b\x0c\x0d" in ans,
         "and echoes REPLY_CTX")

    # --- LOOKUP, LSP and SIP on the same binding
    ans = lsp.request(w.message(w.LOOKUP, key("sip:alice@example.com")))
    t.is_(status(ans), 200, "LOOKUP sip:alice@example.com: OK")
    t.is_(sorted(records(ans)), sorted(want), "lists the two published contacts")
    r = ua.request("INVITE", "sip:alice@example.com")
    t.ok(r is not None and r.status == 302 and sorted(u for u, _ in r.contacts()) == sorted(want),
         "INVITE sip:alice@example.com over SIP: 302 with the LSP-published contacts",
         r.raw if r else "no answer")
    code, out, err = node.ctl("--overlay", "p2psip.org", "lookup", "sip:alice@example.com")
    t.ok(code == 0 and all(c in out for c in want), "locusctl lookup (LSP from the client side)",
         out + err)

    # --- REMOVE one, then all
    ans = lsp.request(w.message(w.REMOVE, key("sip:alice@example.com") +
                                w.tlv(0x8002, w.tlv(w.T_CONTACT, b"sip:alice@192.0.2.10:5060"))))
    t.is_(status(ans), 200, "REMOVE of one record: OK")
    ans = lsp.request(w.message(w.LOOKUP, key("sip:alice@example.com")))
    t.is_(sorted(records(ans)), ["sip:alice@198.51.100.7;transport=tcp"], "the other remains")
    ans = lsp.request(w.message(w.REMOVE, key("sip:alice@example.com") + w.tlv(0x8008, b"")))
    t.is_(status(ans), 200, "REMOVE with REMOVE_ALL: OK")
    ans = lsp.request(w.message(w.LOOKUP, key("sip:alice@example.com")))
    t.is_(status(ans), 404, "then LOOKUP: NOT_FOUND")

    # --- many keys: every PUBLISH answered OK, every key found again (keys land on both
    # workers' shards, whichever queue a datagram arrives on)
    codes = {}
    for i in range(N_KEYS):
        ans = lsp.request(w.message(w.PUBLISH, key("sip:k%d@example.com" % i) +
                                    record("sip:k%d@192.0.2.%d" % (i, i % 250 + 1), 600)))
        codes[status(ans)] = codes.get(status(ans), 0) + 1
    t.is_(codes, {200: N_KEYS}, "%d PUBLISHes of distinct keys: all OK" % N_KEYS)
    found = 0
    for i in range(N_KEYS):
        ans = lsp.request(w.message(w.LOOKUP, key("sip:k%d@example.com" % i)))
        found += list(records(ans)) == ["sip:k%d@192.0.2.%d" % (i, i % 250 + 1)]
    t.is_(found, N_KEYS, "each of them found by LOOKUP with its contact")
    st = node.stats()
    t.ok(st is not None and st["store"]["bindings"] == N_KEYS,
         "the store holds %d bindings" % N_KEYS, st and st.get("store"))
    t.ok(st is not None and st["lsp_requests"]["publish"] >= N_KEYS + 1 and
         st["lsp_requests"]["lookup"] >= N_KEYS + 3, "the LSP counters saw them",
         st and st.get("lsp_requests"))

    # --- what must not work
    ans = lsp.request(w.message(w.LOOKUP, key("sip:k1@example.com"), overlay=0x1122334455667788))
    t.is_(status(ans), 412, "an overlay id not the node's: WRONG_OVERLAY")
    garbage = [b"", b"LS", os.urandom(23), b"\x4c\x53" + os.urandom(200)]
    s = lsp.sock
    for g in garbage:
        s.sendto(g, node.lsp)
    s.settimeout(0.5)
    try:
        stray = s.recv(65535)
    except socket.timeout:
        stray = None
    t.ok(stray is None or len(stray) >= w.HDR_LEN, "garbage: nothing, or a well-formed answer")
    t.ok(wait_for(lambda: status(lsp.request(w.message(w.PING, b""))) == 200, 5.0),
         "the node still answers PING afterwards")
    t.ok(node.alive(), "the node is still running")
finally:
    lsp.close()
    ua.close()
    code = node.stop()
t.is_(code, 0, "SIGTERM: locusd exits 0")
sys.exit(t.done())
