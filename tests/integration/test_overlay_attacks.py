#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attacks on range sync and replication (issue 13, docs/overlay.md §6.3-6.4) by a client that
speaks LSP itself (docs/lsp.md §11, frames built by the independent encoder of the test vectors,
tests/data/lsp/make_vectors.py), against rings of real processes on 127.0.0.1.

A 3-node ring (R = 3, W = 2) holds N bindings registered through SIP, each counted on every node.
Then, over a raw TCP link to node 0:

- as a non-member (its id the hash of its own address): a RANGE_TRANSFER over the whole ring that
  removes registered bindings and adds one; PULL digests with empty buckets over the whole ring,
  one naming the attacker's own address and one naming another listener. Nothing is applied and
  no byte is streamed to either address.
- claiming the id and address of another member (which nothing prevents without certificates):
  a PULL with empty buckets over the whole ring (nothing is streamed); a PUSH digest for a range
  that member does not own; a transfer that is part of no exchange, over a third node's range;
  and, inside an exchange it opened with a PUSH of that member's own range, a frame over another
  range, entries outside the exchange's range, and entries inside it with an expiry ten years
  ahead, a tombstone kept for ten years, and versions near 2^64.

Afterwards every binding is still there (every AOR looked up through every node, and every store
holds exactly N bindings and no tombstone), none of the bindings the attacks tried to add exists,
no node was declared dead, and the counters show which rule refused each attack.

A 5-node ring (R = 3) then takes REPLICA_STORE datagrams (as root, with raw sockets that forge the
source address of a member, which nothing prevents without datagram tags): from a member outside
the key's chain, into a node outside it, with a version near 2^64, and a forged acknowledgement
from a member outside the chain that would send the key's records to the attacker; and, as
controls that show the forgery works, a store and an acknowledgement from members of the chain,
which are taken. Without root that part is skipped.

`secured`: the same attacks against a ring with certificates (TLS links, tagged datagrams). Its
ring flags and the attacker's links are filled in with them (MODES below); the checks of harm
are the same, those of which rule refused an attack belong to the unsecured ring.
"""
import json
import os
import random
import socket
import ssl
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "data", "lsp"))
from locus import Ring, SipBatch, Tap, TestCA, wait_for  # noqa: E402
import make_vectors as lsp  # noqa: E402

t = Tap()
rnd = random.Random(13)
N = 300
TEN_YEARS = 10 * 365 * 86400
PULL, PUSH, MERGE, HANDOFF = 1, 2, 4, 5
RANGE_DIGEST, RANGE_TRANSFER, REPLICA_STORE = 0x42, 0x41, 0x40

# The modes the attacks run in: an unsecured ring, and a ring with certificates (every node its
# own, from one test CA), where the attacker holds a certificate of that CA too (a provider of
# the federation that misbehaves) and speaks over TLS in its own name or, lying, in a member's.
MODES = [False, True]


def ring_flags(secured):
    return ["--overlay", "p2psip.org", "--replicas", "3", "--write-quorum", "2"]


def attacker_stream(node, secured):
    """A byte stream from the attacker to node's overlay port: plain TCP on an unsecured ring,
    TLS 1.3 with the attacker's own certificate on a secured one."""
    raw = socket.create_connection(node.lsp, timeout=5)
    if not secured:
        return raw
    ca = TestCA.shared()
    cert, key = ca.issue()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(os.path.join(ca.dir, "ca.pem"))
    ctx.load_cert_chain(cert, key)
    return ctx.wrap_socket(raw)


# ---- LSP frames (docs/lsp.md §11) ---------------------------------------------------------------


def now_version(counter=1):
    return lsp.hlc(int(time.time() * 1000), counter)


def sender(ident, addr):
    return lsp.tlv("SENDER", lsp.node(ident, lsp.addr4(addr[0], addr[1], 0)))


def range_tlv(lo, hi):
    return lsp.tlv("RANGE", lsp.nid(lo) + lsp.nid(hi))


def digest_frame(txn, who, lo, hi, mode, buckets):
    """RANGE_DIGEST request from who = (id, (host, port)); buckets: 4096 (hash, keys) pairs."""
    value = lsp.u16(len(buckets)) + b"".join(lsp.u64(h) + lsp.u32(k) for h, k in buckets)
    return lsp.msg(RANGE_DIGEST, 0, 1, txn, [sender(*who), range_tlv(lo, hi),
                                             lsp.tlv("SYNC_MODE", lsp.u8(mode)),
                                             lsp.tlv("BUCKETS", value)])


def record(contact, version, expires_at, removed=None, registered_at=None, writer=1):
    now = int(time.time())
    tl = [lsp.tlv("CONTACT", contact.encode()), lsp.tlv("CALL_ID", b"attack@evil"),
          lsp.tlv("CSEQ", lsp.u32(1)), lsp.tlv("EXPIRES_AT", lsp.u32(expires_at)),
          lsp.tlv("REGISTERED_AT", lsp.u32(registered_at if registered_at is not None else now)),
          lsp.tlv("REC_VERSION", lsp.u64(version)), lsp.tlv("WRITER", lsp.u64(writer))]
    if removed is not None:
        tl.append(lsp.tlv("REMOVED", lsp.u8(removed)))
    return lsp.tlv("RECORD", tl), version


def entry(key, *records):
    return lsp.tlv("ENTRY", [lsp.tlv("KEY", key.encode()),
                             lsp.tlv("VERSION", lsp.u64(max(v for _, v in records)))]
                   + [r for r, _ in records])


def clear_all(key, version=None):
    """An ENTRY that removes every record of key (a CLEARED record, REGISTER `Contact: *`)."""
    v = version if version is not None else now_version(4095)
    return entry(key, record("*", v, int(time.time()) + 600, removed=2))


def binding(key, contact, expires_at=None, version=None):
    """An ENTRY that adds a live binding."""
    return entry(key, record(contact, version if version is not None else now_version(),
                             expires_at if expires_at is not None else int(time.time()) + 600))


def transfer_frame(txn, who, lo, hi, entries, last):
    tl = [sender(*who), range_tlv(lo, hi), lsp.tlv("SYNC_MODE", lsp.u8(MERGE))]
    if last:
        tl.append(lsp.tlv("FLAGS", lsp.u32(1)))
    return lsp.msg(RANGE_TRANSFER, 0, 1, txn, tl + list(entries))


def replica_store(txn, who, entries, chain=(1, 2, 3), reply_to=None):
    answer = [] if reply_to is None else [
        lsp.tlv("REPLY_TO", lsp.addr4(reply_to[0], reply_to[1], 1)),
        lsp.tlv("ORIG_TXN", lsp.u64(rnd.getrandbits(64))), lsp.tlv("ORIG_TYPE", lsp.u8(2))]
    return lsp.msg(REPLICA_STORE, 0, 1, txn, [sender(*who)] + answer +
                   [lsp.tlv("CHAIN", bytes(chain))] + list(entries))


def replica_ack(txn, who, key, reply_to):
    """A REPLICA_STORE answer, as nodes acknowledged to the owner until December 2026."""
    return lsp.msg(REPLICA_STORE, 1, 1, txn, [
        lsp.tlv("STATUS", lsp.u16(200)), sender(*who), lsp.tlv("KEY", key.encode()),
        lsp.tlv("REPLY_TO", lsp.addr4(reply_to[0], reply_to[1], 1)),
        lsp.tlv("ORIG_TXN", lsp.u64(rnd.getrandbits(64))), lsp.tlv("ORIG_TYPE", lsp.u8(2))])


def send_frames(node, frames, secured):
    s = attacker_stream(node, secured)
    for f in frames:
        s.sendall(f)
    time.sleep(0.3)
    s.close()


# ---- the ring's state --------------------------------------------------------------------------


def ident(ring, node):
    """(id as an int, (host, port)) of a node, from its own `locusctl node`."""
    me = ring.info(node)["self"]
    host, port = me["addr"].rsplit(":", 1)
    return int(me["id"], 16), (host, int(port))


def id_of(node, text):
    """The ring id of a key or an address ("ip:port": a node id), from `locusctl route`."""
    code, out, _ = node.ctl("route", text)
    return int(json.loads(out)["id"], 16)


def owner_of(node, aor):
    code, out, _ = node.ctl("route", aor)
    return int(json.loads(out)["owner"]["id"], 16)


def chain_of(node, aor):
    code, out, _ = node.ctl("route", aor)
    return [int(r["id"], 16) for r in json.loads(out)["replicas"]]


def sync_of(ring, node):
    return (ring.info(node) or {}).get("sync") or {}


def refused(ring, node, what):
    return (sync_of(ring, node).get("refused") or {}).get(what, 0)


def store_of(node):
    st = node.stats()
    return st["store"] if st else {}


def drops_of(node, what):
    st = node.stats()
    return st["drops"].get(what, 0) if st else 0


def lookups(ring, aors, contacts):
    """How many of the AORs get 302 with exactly their contact through every live node, and the
    first few that do not."""
    batch = SipBatch(window=128)
    reqs = []
    for j, n in enumerate(ring.live()):
        for i, aor in enumerate(aors):
            reqs.append(batch.request("INVITE", aor, n.sip, "q-%d-%d-%f" % (j, i, time.time())))
    ans = batch.run(reqs)
    batch.close()
    good, bad = 0, []
    for (cid, _, _), (j, i) in zip(reqs, [(j, i) for j in range(len(ring.live()))
                                          for i in range(len(aors))]):
        r = ans.get(cid)
        got = [c[0] for c in r.contacts()] if r is not None and r.status == 302 else None
        if got == [contacts[i]]:
            good += 1
        elif len(bad) < 5:
            bad.append((aors[i], j, r.status if r else None, got))
    return good, bad


def absent(ring, aors):
    """Whether every AOR gets 404 through every live node."""
    batch = SipBatch(window=64)
    reqs = [batch.request("INVITE", aor, n.sip, "a-%d-%d-%f" % (j, k, time.time()))
            for j, n in enumerate(ring.live()) for k, aor in enumerate(aors)]
    ans = batch.run(reqs)
    batch.close()
    return all(ans.get(cid) is not None and ans[cid].status == 404 for cid, _, _ in reqs)


def no_deaths(ring):
    infos = [ring.info(n) for n in ring.live()]
    return all(i is not None and i.get("deaths_declared", 1) == 0 and i.get("view_dead", 1) == 0
               for i in infos), [(i or {}).get("deaths_declared") for i in infos]


def register(ring, aors, contacts):
    batch = SipBatch(window=64)
    reqs = [batch.request("REGISTER", "sip:example.com", rnd.choice(ring.nodes).sip,
                          "r-%d-%f" % (i, time.time()), to="<%s>" % aor,
                          headers=["Contact: <%s>" % contacts[i], "Expires: 3600"])
            for i, aor in enumerate(aors)]
    ans = batch.run(reqs)
    batch.close()
    return sum(1 for cid, _, _ in reqs if ans.get(cid) is not None and ans[cid].status == 200)


def listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    s.setblocking(False)
    return s


def accepted(s, wait):
    """Whether anyone connected to listener s within wait seconds."""
    deadline = time.time() + wait
    while time.time() < deadline:
        try:
            c, _ = s.accept()
            c.close()
            return True
        except BlockingIOError:
            time.sleep(0.05)
    return False


def ring_range(ids, me):
    """(lo, hi) of the range the node of id me owns in a ring of ids."""
    s = sorted(ids)
    return s[s.index(me) - 1], me


# ---- the 3-node ring: range sync ---------------------------------------------------------------


def sync_attacks(secured):
    ring = Ring(0, flags=ring_flags(secured))
    for _ in range(3):
        ring.add(via=0, secured=secured)
    took = ring.wait_converged(timeout=60)
    t.ok(took is not None, "3 nodes converge (%.1f s)" % (took or -1), ring.why)
    aors = ["sip:v%04d@example.com" % i for i in range(N)]
    contacts = ["sip:v%04d@10.13.%d.%d:5060" % (i, i // 250, i % 250) for i in range(N)]
    t.is_(register(ring, aors, contacts), N, "%d bindings registered through SIP" % N)
    t.ok(wait_for(lambda: all(store_of(n).get("bindings") == N for n in ring.nodes), timeout=30),
         "every node holds the %d (R = 3)" % N, [store_of(n).get("bindings") for n in ring.nodes])
    good, bad = lookups(ring, aors, contacts)
    t.is_(good, 3 * N, "each is looked up through each node before the attacks")

    target = ring.nodes[0]
    ids = [ident(ring, n) for n in ring.nodes]
    others = [i for i, _ in ids]
    owner = {aor: owner_of(target, aor) for aor in aors}
    held = {i: [a for a in aors if owner[a] == i] for i in others}
    # the attacker claims the id and address of member 1 or 2, whichever owns more of the AORs;
    # "another's range" is the larger of the two other nodes' ranges
    member = max(ids[1:], key=lambda x: len(held[x[0]]))
    victim = max((x for x in ids if x != member), key=lambda x: len(held[x[0]]))
    mine = held[member[0]]                                  # in the member's range
    not_mine = [a for a in aors if owner[a] != member[0]]   # outside it
    third = held[victim[0]][:10]                            # in another node's range
    if not t.ok(len(mine) >= 3 and len(third) >= 2,
                "AORs in the claimed member's range (%d) and in another's (%d)"
                % (len(mine), len(held[victim[0]]))):
        ring.stop()  # a layout of ids where that cannot be (vanishingly rare): nothing to try
        return

    def fake(tag, where):
        """A new AOR whose owner is where(owner id), for a binding the attacker tries to add."""
        return next(f for f in ("sip:intruder-%s%d@example.com" % (tag, k) for k in range(5000))
                    if where(owner_of(target, f)))

    fakes = [fake("any", lambda o: True), fake("victim", lambda o: o == victim[0]),
             fake("out", lambda o: o != member[0]), fake("in", lambda o: o == member[0])]

    # -- a non-member: its id is the hash of its own address, which is no member's --
    lst, elsewhere = listener(), listener()
    stranger = (id_of(target, "127.0.0.1:%d" % lst.getsockname()[1]),
                ("127.0.0.1", lst.getsockname()[1]))
    bystander = (id_of(target, "127.0.0.1:%d" % elsewhere.getsockname()[1]),
                 ("127.0.0.1", elsewhere.getsockname()[1]))
    before = refused(ring, target, "strangers")
    send_frames(target, [transfer_frame(rnd.getrandbits(64), stranger, 0, 0,
                                        [clear_all(a) for a in aors[:20]]
                                        + [binding(fakes[0], "sip:evil@203.0.113.1")], True)],
                secured)
    empty = [(0, 0)] * 4096
    send_frames(target, [digest_frame(rnd.getrandbits(64), stranger, 0, 0, PULL, empty),
                         digest_frame(rnd.getrandbits(64), bystander, 0, 0, PULL, empty)], secured)
    streamed = accepted(lst, 3.0) or accepted(elsewhere, 0.5)
    t.ok(not streamed, "a non-member's PULL with empty buckets: nothing streamed to it or to "
         "the address it names")
    if not secured:
        t.ok(wait_for(lambda: refused(ring, target, "strangers") >= before + 3, timeout=5),
             "its transfer and both digests refused as from a stranger (%d)"
             % (refused(ring, target, "strangers") - before))

    # -- claiming member 1's id and address --
    sent0 = sync_of(ring, target).get("entries_sent", 0)
    d0 = refused(ring, target, "digests")
    send_frames(target, [digest_frame(rnd.getrandbits(64), member, 0, 0, PULL, empty)], secured)
    nxt = sorted(others)[(sorted(others).index(member[0]) + 1) % 3]
    lo, hi = member[0], nxt  # the next node's range: member 1 does not own it
    send_frames(target, [digest_frame(rnd.getrandbits(64), member, lo, hi, PUSH,
                                      [(rnd.getrandbits(64), 1)] * 4096)], secured)
    if not secured:
        t.ok(wait_for(lambda: refused(ring, target, "digests") >= d0 + 2, timeout=5),
             "a member's PULL of the whole ring and its PUSH of a range it does not own: "
             "refused")
    time.sleep(2)
    t.is_(sync_of(ring, target).get("entries_sent", 0), sent0,
          "nothing streamed for them (entries sent by node 0)")

    # a transfer that is part of no exchange, over node 2's range
    tr0, en0 = refused(ring, target, "transfers"), refused(ring, target, "entries")
    lo2, hi2 = ring_range(others, victim[0])
    loose = [clear_all(a) for a in third] + [binding(fakes[1], "sip:evil@203.0.113.2")]
    send_frames(target, [transfer_frame(rnd.getrandbits(64), member, lo2, hi2, loose, True)],
                secured)
    if not secured:
        t.ok(wait_for(lambda: refused(ring, target, "transfers") >= tr0 + 1 and
                      refused(ring, target, "entries") >= en0 + len(loose), timeout=5),
             "a member's transfer of another's range, part of no exchange: refused with its "
             "%d entries" % len(loose))

    # an exchange of member 1's own range (allowed), then what it must not carry
    lo1, hi1 = ring_range(others, member[0])
    txn = rnd.getrandbits(64)
    answered = sync_of(ring, target).get("digests_answered", 0)
    st0 = store_of(target)
    tr0, en0 = refused(ring, target, "transfers"), refused(ring, target, "entries")
    s = attacker_stream(target, secured)
    s.sendall(digest_frame(txn, member, lo1, hi1, PUSH, [(rnd.getrandbits(64), 1)] * 4096))
    opened = wait_for(lambda: sync_of(ring, target).get("digests_answered", 0) > answered,
                      timeout=5)
    if not secured:
        t.ok(opened, "a member's PUSH of its own range is answered (the exchange the next "
             "frames claim to be part of)")
    outside = [clear_all(a) for a in not_mine[:10]] + [binding(fakes[2], "sip:evil@203.0.113.3")]
    inside_fake = fakes[3]
    far = int(time.time()) + TEN_YEARS
    # keys of the member's range whose records break the bounds
    ahead = [binding(inside_fake, "sip:evil@203.0.113.4", expires_at=far),
             clear_all(mine[0], version=2**64 - 1),
             entry(mine[1], record(contacts[aors.index(mine[1])], now_version(4095), far,
                                   removed=1)),
             binding(inside_fake, "sip:evil@203.0.113.5", version=2**64 - 2)]
    s.sendall(transfer_frame(txn, member, lo2, hi2, [clear_all(third[0])], False))  # other range
    s.sendall(transfer_frame(txn, member, lo1, hi1, outside, False))
    s.sendall(transfer_frame(txn, member, lo1, hi1, ahead, False))
    s.sendall(transfer_frame(txn, member, lo1, hi1, [], True))
    time.sleep(0.5)
    s.close()
    if not secured:
        t.ok(wait_for(lambda: refused(ring, target, "transfers") >= tr0 + 1, timeout=5),
             "a frame of the exchange over another range: refused")
        t.ok(wait_for(lambda: refused(ring, target, "entries") >= en0 + 1 + len(outside),
                      timeout=5),
             "entries outside the exchange's range: refused, not applied (%d)"
             % (refused(ring, target, "entries") - en0))
        st1 = store_of(target)
        t.ok(st1.get("out_of_bounds", 0) >= st0.get("out_of_bounds", 0) + 2 and
             st1.get("future_versions", 0) >= st0.get("future_versions", 0) + 2,
             "inside it, an expiry and a tombstone ten years ahead and versions near 2^64: "
             "refused by the store's bounds (out_of_bounds +%d, future_versions +%d)"
             % (st1.get("out_of_bounds", 0) - st0.get("out_of_bounds", 0),
                st1.get("future_versions", 0) - st0.get("future_versions", 0)))

    # -- afterwards --
    time.sleep(2)
    good, bad = lookups(ring, aors, contacts)
    t.is_(good, 3 * N, "afterwards every binding is still there: %d lookups of %d through every "
          "node give exactly its contact" % (good, 3 * N))
    if bad:
        print("#   " + repr(bad))
    totals = [(store_of(n).get("bindings"), store_of(n).get("tombstones")) for n in ring.nodes]
    t.is_(totals, [(N, 0)] * 3, "every store holds exactly the %d bindings and no tombstone" % N)
    t.ok(absent(ring, fakes),
         "none of the %d bindings the attacks tried to add exists" % len(fakes))
    fine, deaths = no_deaths(ring)
    t.ok(fine, "no node was declared dead", deaths)
    ok, why = ring.converged()
    t.ok(ok, "the ring is as it was", why)
    lst.close()
    elsewhere.close()
    stopped = [n.stop() for n in ring.live()]
    t.ok(all(x == 0 for x in stopped), "every node exits 0", stopped)


# ---- the 5-node ring: chain replication ----------------------------------------------------------


def spoofed(src, dst, payload):
    """A UDP datagram to dst that claims to come from src (a raw IP socket: root only). The
    kernel fills in the IP checksum and length; the UDP checksum 0 means none (IPv4)."""
    udp = struct.pack(">HHHH", src[1], dst[1], 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     socket.inet_aton(src[0]), socket.inet_aton(dst[0]))
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    try:
        s.sendto(ip + udp, (dst[0], 0))
    finally:
        s.close()


def udp_got(s, wait):
    s.settimeout(wait)
    try:
        s.recvfrom(65535)
        return True
    except socket.timeout:
        return False


def chain_attacks(secured):
    if os.geteuid() != 0:
        t.skip("REPLICA_STORE with a member's source address needs root (raw sockets)")
        return
    ring = Ring(0, flags=ring_flags(secured))
    for _ in range(5):
        ring.add(via=0, secured=secured)
    took = ring.wait_converged(timeout=60)
    t.ok(took is not None, "5 nodes converge (%.1f s)" % (took or -1), ring.why)
    M = 100
    aors = ["sip:c%03d@example.com" % i for i in range(M)]
    contacts = ["sip:c%03d@10.14.0.%d:5060" % (i, i) for i in range(M)]
    t.is_(register(ring, aors, contacts), M, "%d bindings registered" % M)
    t.ok(wait_for(lambda: sum(store_of(n).get("bindings", 0) for n in ring.nodes) == 3 * M,
                  timeout=30), "three copies of each")
    by_id = {ident(ring, n)[0]: n for n in ring.nodes}
    who = {i: ident(ring, n) for i, n in by_id.items()}
    ring_ids = sorted(by_id)
    key = aors[7]
    chain = chain_of(ring.nodes[0], key)  # owner, replica 1, replica 2
    wide = ring_ids[(ring_ids.index(chain[2]) + 1) % 5]  # one more with the slack
    outsider = next(i for i in ring_ids if i not in chain and i != wide)
    owner, r1 = by_id[chain[0]], by_id[chain[1]]
    t.ok(len(set(chain + [wide, outsider])) == 5, "key %s: chain of 3, one more, one outside"
         % key)

    u0 = drops_of(r1, "replica_untrusted")
    spoofed(who[outsider][1], r1.lsp, replica_store(rnd.getrandbits(64), who[outsider],
                                                    [clear_all(key)]))
    if not secured:
        t.ok(wait_for(lambda: drops_of(r1, "replica_untrusted") >= u0 + 1, timeout=5),
             "REPLICA_STORE from a member outside the key's chain: refused")
    x = by_id[outsider]
    b0, u1 = store_of(x).get("bindings"), drops_of(x, "replica_untrusted")
    spoofed(who[chain[0]][1], x.lsp, replica_store(rnd.getrandbits(64), who[chain[0]],
                                                   [binding(key, "sip:evil@203.0.113.9")]))
    if not secured:
        t.ok(wait_for(lambda: drops_of(x, "replica_untrusted") >= u1 + 1, timeout=5),
             "REPLICA_STORE into a node outside the key's chain: refused")
    f0 = store_of(r1).get("future_versions", 0)
    spoofed(who[chain[0]][1], r1.lsp, replica_store(rnd.getrandbits(64), who[chain[0]],
                                                    [clear_all(key, version=2**64 - 1)]))
    if not secured:
        t.ok(wait_for(lambda: store_of(r1).get("future_versions", 0) >= f0 + 1, timeout=5),
             "from the key's owner, a removal at version 2^64 - 1: refused by the store's bounds")

    # control: the forgery works, so the refusals above were the rules' doing
    rin = (r1.stats() or {}).get("replica_in", 0)
    spoofed(who[chain[0]][1], r1.lsp, replica_store(rnd.getrandbits(64), who[chain[0]], [
        binding(key, "sip:control@203.0.113.10", expires_at=int(time.time()) + 2)]))
    taken = wait_for(lambda: (r1.stats() or {}).get("replica_in", 0) > rin, timeout=5)
    t.ok(taken != secured, "control: the same store from the key's owner is %s"
         % ("refused (tagged datagrams)" if secured else "taken (2 s expiry)"))

    # Nodes send no acknowledgement to a REPLICA_STORE and take none (docs/lsp.md 11.3.9): the
    # replica completing the quorum answers the REPLY_TO itself. So a forged acknowledgement, even
    # one from the chain, makes nobody send the key's records anywhere.
    catcher = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    catcher.bind(("127.0.0.1", 0))
    u2 = drops_of(owner, "replica_untrusted")
    spoofed(who[outsider][1], owner.lsp, replica_ack(rnd.getrandbits(64), who[outsider], key,
                                                     catcher.getsockname()))
    leaked = udp_got(catcher, 1.5)
    t.ok(not leaked, "a forged acknowledgement from a member outside the key's chain sends the "
         "key's records nowhere")
    if not secured:
        t.ok(drops_of(owner, "replica_untrusted") >= u2 + 1, "and is counted as refused")
    spoofed(who[chain[1]][1], owner.lsp, replica_ack(rnd.getrandbits(64), who[chain[1]], key,
                                                     catcher.getsockname()))
    t.ok(not udp_got(catcher, 1.5), "one from replica 1 (of the chain) sends nothing either")
    # control: the REPLY_TO of a store from the owner is answered by the replica completing the
    # quorum; unsecured, whoever can put the owner's address on a datagram is the owner
    spoofed(who[chain[0]][1], r1.lsp, replica_store(
        rnd.getrandbits(64), who[chain[0]],
        [binding(key, "sip:control2@203.0.113.11", expires_at=int(time.time()) + 2)],
        chain=(1, 2, 3), reply_to=catcher.getsockname()))
    t.ok(udp_got(catcher, 2.0) != secured, "control: a store from the key's owner is %s"
         % ("refused (tagged datagrams)" if secured else "answered by replica 1, to its REPLY_TO"))
    catcher.close()

    time.sleep(3)  # the control's binding expires
    good, bad = lookups(ring, aors, contacts)
    t.is_(good, 5 * M, "every binding is still there (%d lookups through every node)" % (5 * M))
    if bad:
        print("#   " + repr(bad))
    t.ok(wait_for(lambda: sum(store_of(n).get("bindings", 0) for n in ring.nodes) == 3 * M and
                  store_of(x).get("bindings") == b0, timeout=10),
         "exactly three copies of each, none forged into the outsider",
         [store_of(n).get("bindings") for n in ring.nodes])
    fine, deaths = no_deaths(ring)
    t.ok(fine, "no node was declared dead", deaths)
    stopped = [n.stop() for n in ring.live()]
    t.ok(all(x == 0 for x in stopped), "every node exits 0", stopped)


for secured in MODES:
    sync_attacks(secured)
    chain_attacks(secured)
sys.exit(t.done())
