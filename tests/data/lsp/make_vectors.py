#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the LSP test vectors (docs/lsp.md section 9, client messages, and section 11.7, overlay
and replication messages) as <name>.lsp files, and print their annotated hex dumps in the doc's
format.

This is a second, independent encoder of the format (the C one is dht/lsp_build.c and
dht/lsp_ovl_build.c): the unit tests (test_lsp.c, test_lsp_ovl.c) decode these files with the C
decoders, re-encode them with the C encoders and compare the bytes, so the two must agree. Run it
from anywhere; it writes next to itself. The vectors are normative: change them only together
with docs/lsp.md.
"""
import ipaddress
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OVERLAY = 0x70E77DBA5136E2EA  # dht_seed_of("p2psip.org")
M = 0x8000

T = dict(KEY=0x8001, RECORD=0x8002, CALL_ID=0x8003, CSEQ=0x8004, EXPIRES=0x8005,
         SOURCE=0x8006, REPLY_CTX=0x8007, REMOVE_ALL=0x8008, STATUS=0x8010, REASON=0x0011,
         ERROR_DETAIL=0x0012, MIN_EXPIRES=0x0013, RETRY_AFTER=0x0014, NODE=0x8015,
         NODE_ID=0x0016, UPTIME=0x0017, CONTACT=0x8020, Q=0x8021, ATTRS=0x8022,
         INSTANCE=0x8023, REG_ID=0x8024, PATH=0x8025, AGE=0x0026,
         # overlay and replication (section 11)
         SENDER=0x8100, TARGET=0x8101, PEER=0x8102, PREDECESSOR=0x8103, MEMBER=0x8104,
         VIEW_DIGEST=0x8105, INCARNATION=0x8106, RING_SIZE=0x8107, RANGE=0x8108,
         SYNC_MODE=0x8109, BUCKETS=0x810A, BUCKET_SET=0x810B, ENTRY=0x810C, VERSION=0x810D,
         CHAIN=0x810E, REPLY_TO=0x810F, ORIG_TXN=0x8110, ORIG_TYPE=0x8111, FLAGS=0x8112,
         PAGE=0x8113, OWNER=0x8114, NODE_STATS=0x8115, EXPIRES_AT=0x8130, REGISTERED_AT=0x8131,
         TXN_TAG=0x8132, REC_VERSION=0x8133, WRITER=0x8134, REMOVED=0x8135)
NAMES = {v: k for k, v in T.items()}
TYPES = {1: "PING", 2: "PUBLISH", 3: "REMOVE", 4: "LOOKUP", 0x20: "JOIN", 0x21: "FIND_SUCCESSOR",
         0x22: "GET_PREDECESSOR", 0x23: "NOTIFY", 0x24: "SUCCESSOR_LIST", 0x25: "NODE_PING",
         0x26: "MEMBERSHIP", 0x27: "LEAVE", 0x28: "NODE_INFO", 0x40: "REPLICA_STORE",
         0x41: "RANGE_TRANSFER", 0x42: "RANGE_DIGEST"}
CONTAINERS = ("RECORD", "ENTRY")
MODES = {1: "PULL", 2: "PUSH", 4: "MERGE", 5: "HANDOFF"}  # 3 reserved (REPLACE, withdrawn)
REMOVALS = {1: "CONTACT: a tombstone of this binding", 2: "ALL: every record up to this version"}
STATES = {1: "alive", 2: "dead"}


def tlv(name, value):
    t = T[name] if isinstance(name, str) else name
    return (t, value)


def u16(v):
    return struct.pack(">H", v)


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def u8(v):
    return bytes([v])


def nid(v):
    """A 128-bit node or key id, most significant byte first."""
    return v.to_bytes(16, "big")


def addr4(ip, port, transport=1):
    return bytes([4, transport]) + u16(port) + bytes(int(x) for x in ip.split("."))


def addr6(ip, port, transport=0):
    return bytes([6, transport]) + u16(port) + ipaddress.IPv6Address(ip).packed


def node(ident, addr):
    """SENDER, PEER, PREDECESSOR, OWNER: id, then address. Node addresses carry transport 0."""
    return nid(ident) + addr


def member(ident, incarnation, state, addr):
    return nid(ident) + u32(incarnation) + u8(state) + addr


UNKNOWN = 2**64 - 1  # a NODE_STATS count the node could not take in time
STATS_FIELDS = ("owned keys", "owned bindings", "replica keys", "replica bindings")


def node_stats(fingers, uptime_s, flags, counts):
    """NODE_STATS: u32 fingers, u32 uptime, u8 flags, 3 zero bytes, four u64 counts."""
    return u32(fingers) + u32(uptime_s) + u8(flags) + bytes(3) + b"".join(u64(c) for c in counts)


def show_stats(v, indent, out):
    """NODE_STATS field by field, one row each."""
    fingers, uptime, flags = struct.unpack(">IIB", v[:9])
    out.append("%s  %-26s fingers %d" % (indent, hexrow(v[0:4]), fingers))
    out.append("%s  %-26s uptime %d s" % (indent, hexrow(v[4:8]), uptime))
    out.append("%s  %-26s flags 0x%02x%s, 3 zero bytes" % (
        indent, hexrow(v[8:12]), flags, " (ONE_HOP)" if flags & 1 else ""))
    for i, what in enumerate(STATS_FIELDS):
        c = struct.unpack(">Q", v[12 + 8 * i:20 + 8 * i])[0]
        out.append("%s  %-26s %s %s" % (indent, hexrow(v[12 + 8 * i:20 + 8 * i]), what,
                                        "unknown" if c == UNKNOWN else str(c)))


def show_addr(v):
    fam, transport, port = v[0], v[1], struct.unpack(">H", v[2:4])[0]
    if fam == 4:
        ip = ".".join(str(b) for b in v[4:8])
    else:
        ip = "[%s]" % ipaddress.IPv6Address(bytes(v[4:20]))
    return "%s:%d transport %d" % (ip, port, transport)


def enc(tlvs):
    out = b""
    for t, v in tlvs:
        if isinstance(v, list):
            v = enc(v)
        out += struct.pack(">HH", t, len(v)) + v
    return out


def msg(mtype, flags, hop, txn, tlvs):
    body = enc(tlvs)
    return struct.pack(">HBBBBHQQ", 0x4C53, 1, mtype, flags, hop, len(body), txn, OVERLAY) + body


def show_value(t, v, expected):
    """One TLV's annotation. `expected` is False where the TLV is not defined (unknown here)."""
    name = NAMES.get(t, NAMES.get(t | M, NAMES.get(t & ~M, "unknown 0x%04x" % t)))
    if not expected:
        return "%s (0x%04x), not defined here: unknown, mandatory bit %s, %d bytes" % (
            name, t, "set" if t & M else "clear", len(v))
    if name in ("CSEQ", "EXPIRES", "REG_ID", "MIN_EXPIRES", "RETRY_AFTER", "UPTIME", "AGE",
                "INCARNATION", "RING_SIZE", "EXPIRES_AT", "REGISTERED_AT"):
        return "%s = %d" % (name, struct.unpack(">I", v)[0])
    if name in ("TXN_TAG", "FLAGS"):
        return "%s = 0x%08x" % (name, struct.unpack(">I", v)[0])
    if name in ("ORIG_TXN", "VERSION", "REC_VERSION"):
        return "%s = 0x%016x" % (name, struct.unpack(">Q", v)[0])
    if name == "WRITER":
        return "WRITER = %016x (top 64 bits of a node id)" % struct.unpack(">Q", v)[0]
    if name == "REMOVED":
        return "REMOVED = %d (%s)" % (v[0], REMOVALS.get(v[0], "?"))
    if name == "ORIG_TYPE":
        return "ORIG_TYPE = %d (%s)" % (v[0], TYPES.get(v[0], "?"))
    if name == "SYNC_MODE":
        return "SYNC_MODE = %d (%s)" % (v[0], MODES.get(v[0], "?"))
    if name in ("SENDER", "PEER", "PREDECESSOR", "OWNER"):
        return "%s = id %s, %s" % (name, v[:16].hex(), show_addr(v[16:]))
    if name == "TARGET":
        return "TARGET = %s" % v.hex()
    if name == "MEMBER":
        inc, st = struct.unpack(">IB", v[16:21])
        return "MEMBER = id %s, incarnation %d, %s, %s" % (v[:16].hex(), inc,
                                                          STATES.get(st, "?"), show_addr(v[21:]))
    if name == "VIEW_DIGEST":
        h, c = struct.unpack(">QI", v)
        return "VIEW_DIGEST = hash 0x%016x, count %d" % (h, c)
    if name == "RANGE":
        return "RANGE = (%s, %s]" % (v[:16].hex(), v[16:].hex())
    if name == "CHAIN":
        return "CHAIN = position %d, write quorum %d, replicas %d" % tuple(v)
    if name == "PAGE":
        return "PAGE = %d of %d" % struct.unpack(">HH", v)
    if name == "BUCKETS":
        return "BUCKETS = %d buckets of (u64 hash, u32 keys)" % struct.unpack(">H", v[:2])
    if name == "NODE_STATS":
        return "NODE_STATS, %d bytes:" % len(v)
    if name == "BUCKET_SET":
        bits = [i for i in range(len(v) * 8) if v[i // 8] >> (i % 8) & 1]
        return "BUCKET_SET = buckets %s" % ", ".join(str(b) for b in bits)
    if name == "REPLY_TO":
        return "REPLY_TO = " + show_addr(v)
    if name in ("STATUS", "Q"):
        return "%s = %d" % (name, struct.unpack(">H", v)[0])
    if name == "SOURCE" and v[0] == 4:
        return "SOURCE = IPv%d %s port %d transport %d" % (
            v[0], ".".join(str(b) for b in v[4:8]), struct.unpack(">H", v[2:4])[0], v[1])
    if name == "ERROR_DETAIL":
        e, tt, off = struct.unpack(">HHI", v)
        return "ERROR_DETAIL = error %d (LC_E... -%d), TLV 0x%04x, offset %d" % (e, e, tt, off)
    if name == "REMOVE_ALL":
        return "REMOVE_ALL"
    if name.startswith("unknown"):
        return "%s (mandatory bit %s), %d bytes" % (name, "set" if t & M else "clear", len(v))
    try:
        s = v.decode("ascii")
        if all(0x20 <= c < 0x7F for c in v):
            return '%s = "%s"' % (name, s)
    except UnicodeDecodeError:
        pass
    return "%s = 0x%s" % (name, v.hex())


def hexrow(b):
    return " ".join("%02x" % x for x in b)


def hexrows(v, indent, out):
    """A value, 16 bytes a row; a run of three or more all-zero rows is shown as one line."""
    rows = [v[i:i + 16] for i in range(0, len(v), 16)]
    i = 0
    while i < len(rows):
        j = i
        while j < len(rows) and not any(rows[j]):
            j += 1
        if j - i >= 3:
            n = sum(len(r) for r in rows[i:j])
            out.append("%s  00 ... 00                  (%d zero bytes)" % (indent, n))
            i = j
            continue
        out.append("%s  %s" % (indent, hexrow(rows[i])))
        i += 1


def dump(tlvs_or_none, data, out, indent="", unknown=()):
    """Annotated dump: one line per header field group and per TLV header, values wrapped.
    `unknown` lists TLV types that are not defined where they appear."""
    p = 0
    if tlvs_or_none is None:  # the header
        magic, ver, mtype, flags, hop, blen, txn, ovl = struct.unpack(">HBBBBHQQ", data[:24])
        out.append("%-28s magic \"LS\", version %d, type %s, flags 0x%02x%s, hop limit %d, "
                   "body %d bytes" % (hexrow(data[:8]), ver, TYPES.get(mtype, "?"), flags,
                                      " (ANSWER)" if flags & 1 else "", hop, blen))
        out.append("%-28s txn id 0x%016x" % (hexrow(data[8:16]), txn))
        out.append("%-28s overlay id 0x%016x (p2psip.org)" % (hexrow(data[16:24]), ovl))
        dump([], data[24:], out, unknown=unknown)
        return
    while p < len(data):
        t, n = struct.unpack(">HH", data[p:p + 4])
        v = data[p + 4:p + 4 + n]
        name = NAMES.get(t)
        if name in CONTAINERS:
            out.append("%-28s %s, %d bytes:" % (indent + hexrow(data[p:p + 4]), name, n))
            dump([], v, out, indent + "  ")
        elif name == "BUCKETS":
            out.append("%-28s %s" % (indent + hexrow(data[p:p + 4]), show_value(t, v, True)))
            count = struct.unpack(">H", v[:2])[0]
            out.append("%s  %-26s count %d" % (indent, hexrow(v[:2]), count))
            for i in range(2, n, 12):
                h, k = struct.unpack(">QI", v[i:i + 12])
                out.append("%s  %-37s bucket %d: hash 0x%016x, %d key%s" % (
                    indent, hexrow(v[i:i + 12]), (i - 2) // 12, h, k, "" if k == 1 else "s"))
        elif name == "NODE_STATS" and n == 44:
            out.append("%-28s %s" % (indent + hexrow(data[p:p + 4]), show_value(t, v, True)))
            show_stats(v, indent, out)
        else:
            out.append("%-28s %s" % (indent + hexrow(data[p:p + 4]),
                                     show_value(t, v, t not in unknown)))
            hexrows(v, indent, out)
        p += 4 + n


KEY = b"sip:alice@example.com"
CTX = bytes.fromhex("0a0b0c0d")
REC1 = [tlv("CONTACT", b"sip:alice@192.0.2.10:5060"), tlv("EXPIRES", u32(3600)),
        tlv("Q", u16(1000))]
REC2 = [tlv("CONTACT", b"sip:alice@198.51.100.7;transport=tcp"), tlv("EXPIRES", u32(600)),
        tlv("Q", u16(500)), tlv("INSTANCE", b"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>"),
        tlv("REG_ID", u32(1))]

VECTORS = [
    ("publish-two-records", "PUBLISH of two records, as a registrar translates a REGISTER",
     msg(2, 0, 8, 0x0123456789ABCDEF, [
         tlv("KEY", KEY), tlv("REPLY_CTX", CTX), tlv("CALL_ID", b"a84b4c76e66710@pc33"),
         tlv("CSEQ", u32(314159)), tlv("SOURCE", addr4("192.0.2.10", 5060)),
         tlv("RECORD", REC1), tlv("RECORD", REC2)])),
    ("lookup", "LOOKUP of a key",
     msg(4, 0, 8, 0x1122334455667788, [tlv("KEY", KEY)])),
    ("answer-lookup", "OK answer to the LOOKUP, two records with their remaining expiry",
     msg(4, 1, 8, 0x1122334455667788, [
         tlv("STATUS", u16(200)), tlv("KEY", KEY),
         tlv("RECORD", [tlv("CONTACT", b"sip:alice@192.0.2.10:5060"), tlv("EXPIRES", u32(3540)),
                        tlv("Q", u16(1000))]),
         tlv("RECORD", [tlv("CONTACT", b"sip:alice@198.51.100.7;transport=tcp"),
                        tlv("EXPIRES", u32(540)), tlv("Q", u16(500)),
                        tlv("INSTANCE", b"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>"),
                        tlv("REG_ID", u32(1))])])),
    ("publish-unknown-mandatory",
     "PUBLISH carrying 0x8100 (SENDER, an overlay TLV: unknown in a PUBLISH), mandatory",
     msg(2, 0, 8, 0x0000000000000042, [
         tlv("KEY", KEY), tlv("REPLY_CTX", CTX), tlv(0x8100, b"\x00\x01"),
         tlv("RECORD", REC1)]), (0x8100,)),
    ("answer-error", "BAD_REQUEST answer to publish-unknown-mandatory",
     msg(2, 1, 8, 0x0000000000000042, [
         tlv("STATUS", u16(400)), tlv("KEY", KEY), tlv("REPLY_CTX", CTX),
         tlv("REASON", b"Unknown mandatory TLV"),
         tlv("ERROR_DETAIL", u16(1222) + u16(0x8100) + u32(24 + 25 + 8))])),
    ("answer-interval-too-brief", "INTERVAL_TOO_BRIEF answer to a PUBLISH, with MIN_EXPIRES",
     msg(2, 1, 8, 0x0123456789ABCDEF, [
         tlv("STATUS", u16(423)), tlv("KEY", KEY), tlv("REPLY_CTX", CTX),
         tlv("MIN_EXPIRES", u32(60))])),
]


# ---- overlay and replication (docs/lsp.md section 11.7): ring N1 < N2 < N3 ----

N1, A1 = 0x0A1B2C3D4E5F60718293A4B5C6D7E8F9, addr4("192.0.2.1", 7400, 0)
N2, A2 = 0x5A6B7C8D9EAFB0C1D2E3F405162738A9, addr4("192.0.2.2", 7400, 0)
N3, A3 = 0xB1C2D3E4F5061728394A5B6C7D8E9FA0, addr6("2001:db8::3", 7400, 0)
DIGEST = u64(0x9E3779B97F4A7C15) + u32(3)
FACING = addr4("192.0.2.1", 7400, 1)  # the node that faced the client: where the answer goes
VERSION = (1700000000000 << 12) | 1  # an owner's version: max(old + 1, now_ms << 12)
INSTANCE = b"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>"
CALL_ID = b"a84b4c76e66710@pc33"
BUCKETS = u16(8) + b"".join(u64(h) + u32(k) for h, k in [
    (0x0, 0), (0x1D3F5A7C9E0B2D4F, 3), (0x7A2B3C4D5E6F7081, 5), (0x0, 0),
    (0x3C4D5E6F708192A3, 1), (0xC1D2E3F405162738, 2), (0x0, 0), (0x5E6F708192A3B4C5, 4)])
SET_2_5 = bytes([0x24]) + bytes(511)  # buckets 2 and 5: bits 2 and 5 of byte 0


def hlc(ms, counter):
    """A record version: a hybrid logical clock value, milliseconds << 12 plus a counter."""
    return (ms << 12) | counter


# range-transfer-versions: dave's key as merged element by element (section 11.5). A REGISTER
# `Contact: *` (CSeq 10) at V_ALL, written by N2; a binding registered after it (CSeq 11) and
# removed (CSeq 12) at V_GONE by N1, its owner then; and a live binding registered (CSeq 13) at
# V_LIVE by N2. The entry's VERSION is the highest of the three.
V_ALL, V_GONE, V_LIVE = hlc(1700000100000, 0), hlc(1700000200000, 1), hlc(1700000300000, 2)
W1, W2 = N1 >> 64, N2 >> 64  # WRITER: the top 64 bits of the writing node's id
DAVE_CALL_ID = b"d4v3@host"

VECTORS += [
    ("join-answer", "JOIN answer from N1: ring of three, one page of three members",
     msg(0x20, 1, 1, 0x4A4F494E00000001, [
         tlv("STATUS", u16(200)), tlv("SENDER", node(N1, A1)), tlv("RING_SIZE", u32(3)),
         tlv("VIEW_DIGEST", DIGEST), tlv("PAGE", u16(0) + u16(1)),
         tlv("MEMBER", member(N1, 1, 1, A1)), tlv("MEMBER", member(N2, 4, 1, A2)),
         tlv("MEMBER", member(N3, 2, 2, A3))])),
    ("get-predecessor-answer",
     "GET_PREDECESSOR answer from N2: its predecessor N1 and its successor list N3, N1",
     msg(0x22, 1, 1, 0x5354414200000007, [
         tlv("STATUS", u16(200)), tlv("SENDER", node(N2, A2)),
         tlv("PREDECESSOR", node(N1, A1)), tlv("PEER", node(N3, A3)),
         tlv("PEER", node(N1, A1))])),
    ("membership", "MEMBERSHIP request (gossip) from N1: digest, WANT_VIEW, one member",
     msg(0x26, 0, 1, 0x474F535300000003, [
         tlv("SENDER", node(N1, A1)), tlv("FLAGS", u32(1)), tlv("VIEW_DIGEST", DIGEST),
         tlv("MEMBER", member(N3, 2, 2, A3))])),
    ("replica-store",
     "REPLICA_STORE from the owner N2 to its first replica: one entry of two records",
     msg(0x40, 0, 1, 0x5245504C00000001, [
         tlv("SENDER", node(N2, A2)), tlv("REPLY_TO", FACING),
         tlv("ORIG_TXN", u64(0x0123456789ABCDEF)), tlv("ORIG_TYPE", u8(2)),
         tlv("REPLY_CTX", CTX), tlv("CHAIN", bytes([1, 2, 3])),
         tlv("ENTRY", [
             tlv("KEY", KEY), tlv("VERSION", u64(VERSION)),
             tlv("RECORD", [
                 tlv("CONTACT", b"sip:alice@192.0.2.10:5060"), tlv("Q", u16(1000)),
                 tlv("CALL_ID", CALL_ID), tlv("CSEQ", u32(314159)),
                 tlv("SOURCE", addr4("192.0.2.10", 5060)), tlv("EXPIRES_AT", u32(1700003600)),
                 tlv("REGISTERED_AT", u32(1699990000)), tlv("TXN_TAG", u32(0x5EED0001))]),
             tlv("RECORD", [
                 tlv("CONTACT", b"sip:alice@198.51.100.7;transport=tcp"), tlv("Q", u16(500)),
                 tlv("INSTANCE", INSTANCE), tlv("REG_ID", u32(1)), tlv("CALL_ID", CALL_ID),
                 tlv("CSEQ", u32(314159)), tlv("EXPIRES_AT", u32(1700000600)),
                 tlv("REGISTERED_AT", u32(1700000000)), tlv("TXN_TAG", u32(0x5EED0001))])])])),
    ("range-digest", "RANGE_DIGEST from the owner N2 to a replica: PUSH, 8 buckets of (N1, N2]",
     msg(0x42, 0, 1, 0x4447535400000001, [
         tlv("SENDER", node(N2, A2)), tlv("RANGE", nid(N1) + nid(N2)),
         tlv("SYNC_MODE", u8(2)), tlv("BUCKETS", BUCKETS)])),
    ("range-digest-answer", "RANGE_DIGEST answer: buckets 2 and 5 differ",
     msg(0x42, 1, 1, 0x4447535400000001, [
         tlv("STATUS", u16(200)), tlv("SENDER", node(N3, A3)),
         tlv("RANGE", nid(N1) + nid(N2)), tlv("BUCKET_SET", SET_2_5)])),
    ("range-transfer",
     "RANGE_TRANSFER, last frame: MERGE, an entry with a record and a removal",
     msg(0x41, 0, 1, 0x5846455200000002, [
         tlv("SENDER", node(N2, A2)), tlv("RANGE", nid(N1) + nid(N2)),
         tlv("SYNC_MODE", u8(4)), tlv("FLAGS", u32(1)),
         tlv("ENTRY", [
             tlv("KEY", b"sip:bob@example.com"), tlv("VERSION", u64(VERSION + 7)),
             tlv("RECORD", [
                 tlv("CONTACT", b"sip:bob@203.0.113.5:5070"), tlv("CALL_ID", b"c0ffee@bob"),
                 tlv("CSEQ", u32(7)), tlv("EXPIRES_AT", u32(1700001800)),
                 tlv("REGISTERED_AT", u32(1699999000)), tlv("TXN_TAG", u32(0x0BB0CAFE))])]),
         tlv("ENTRY", [tlv("KEY", b"sip:carol@example.com"),
                       tlv("VERSION", u64(VERSION + 9))])])),
    ("range-transfer-versions",
     "RANGE_TRANSFER, last frame: MERGE, a live record, a tombstone and a remove-all, "
     "each with its version and writer",
     msg(0x41, 0, 1, 0x5846455200000003, [
         tlv("SENDER", node(N2, A2)), tlv("RANGE", nid(N1) + nid(N2)),
         tlv("SYNC_MODE", u8(4)), tlv("FLAGS", u32(1)),
         tlv("ENTRY", [
             tlv("KEY", b"sip:dave@example.com"), tlv("VERSION", u64(V_LIVE)),
             tlv("RECORD", [
                 tlv("CONTACT", b"sip:dave@203.0.113.9:5060"), tlv("CALL_ID", DAVE_CALL_ID),
                 tlv("CSEQ", u32(13)), tlv("EXPIRES_AT", u32(1700003900)),
                 tlv("REGISTERED_AT", u32(1700000300)), tlv("TXN_TAG", u32(0x0DA0E004)),
                 tlv("REC_VERSION", u64(V_LIVE)), tlv("WRITER", u64(W2))]),
             tlv("RECORD", [
                 tlv("CONTACT", b"sip:dave@198.51.100.20:5062"), tlv("INSTANCE", INSTANCE),
                 tlv("REG_ID", u32(2)), tlv("CALL_ID", DAVE_CALL_ID), tlv("CSEQ", u32(12)),
                 tlv("EXPIRES_AT", u32(1700003800)), tlv("TXN_TAG", u32(0x0DA0E003)),
                 tlv("REC_VERSION", u64(V_GONE)), tlv("WRITER", u64(W1)),
                 tlv("REMOVED", u8(1))]),
             tlv("RECORD", [
                 tlv("CONTACT", b"*"), tlv("CALL_ID", DAVE_CALL_ID), tlv("CSEQ", u32(10)),
                 tlv("EXPIRES_AT", u32(1700003700)), tlv("TXN_TAG", u32(0x0DA0E001)),
                 tlv("REC_VERSION", u64(V_ALL)), tlv("WRITER", u64(W2)),
                 tlv("REMOVED", u8(2))])])])),
    ("node-info", "NODE_INFO request from N1 (its control, for `locusctl ring`) to N2",
     msg(0x28, 0, 1, 0x494E464F00000001, [tlv("SENDER", node(N1, A1))])),
    ("node-info-answer",
     "NODE_INFO answer from N2: its neighbours, view and counts; the replica counts not known",
     msg(0x28, 1, 1, 0x494E464F00000001, [
         tlv("STATUS", u16(200)), tlv("SENDER", node(N2, A2)), tlv("INCARNATION", u32(4)),
         tlv("RING_SIZE", u32(3)), tlv("PREDECESSOR", node(N1, A1)),
         tlv("NODE_STATS", node_stats(2, 86400, 1, (1234, 1502, UNKNOWN, UNKNOWN))),
         tlv("PEER", node(N3, A3)), tlv("PEER", node(N1, A1))])),
]


def main():
    listing = []
    for vec in VECTORS:
        name, what, data = vec[:3]
        with open(os.path.join(HERE, name + ".lsp"), "wb") as f:
            f.write(data)
        listing.append("#### %s.lsp: %s (%d bytes)\n" % (name, what, len(data)))
        listing.append("```")
        dump(None, data, listing, unknown=vec[3] if len(vec) > 3 else ())
        listing.append("```\n")
    if "-q" not in sys.argv:
        print("\n".join(listing))


if __name__ == "__main__":
    main()
