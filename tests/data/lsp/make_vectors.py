#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the LSP test vectors (docs/lsp.md section 9) as <name>.lsp files, and print their
annotated hex dumps in the doc's format.

This is a second, independent encoder of the format (the C one is dht/lsp_build.c): the unit
test decodes these files with the C decoder, re-encodes them with the C encoder and compares the
bytes, so the two must agree. Run it from anywhere; it writes next to itself. The vectors are
normative: change them only together with docs/lsp.md.
"""
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
         INSTANCE=0x8023, REG_ID=0x8024, PATH=0x8025, AGE=0x0026)
NAMES = {v: k for k, v in T.items()}
TYPES = {1: "PING", 2: "PUBLISH", 3: "REMOVE", 4: "LOOKUP"}


def tlv(name, value):
    t = T[name] if isinstance(name, str) else name
    return (t, value)


def u16(v):
    return struct.pack(">H", v)


def u32(v):
    return struct.pack(">I", v)


def addr4(ip, port, transport=1):
    return bytes([4, transport]) + u16(port) + bytes(int(x) for x in ip.split("."))


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


def show_value(t, v):
    code = t & 0x7FFF
    name = NAMES.get(t, NAMES.get(t | M, NAMES.get(t & ~M, "unknown 0x%04x" % t)))
    if name in ("CSEQ", "EXPIRES", "REG_ID", "MIN_EXPIRES", "RETRY_AFTER", "UPTIME", "AGE"):
        return "%s = %d" % (name, struct.unpack(">I", v)[0])
    if name in ("STATUS", "Q"):
        return "%s = %d" % (name, struct.unpack(">H", v)[0])
    if name == "SOURCE":
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


def dump(tlvs_or_none, data, out, indent=""):
    """Annotated dump: one line per header field group and per TLV header, values wrapped."""
    p = 0
    if tlvs_or_none is None:  # the header
        magic, ver, mtype, flags, hop, blen, txn, ovl = struct.unpack(">HBBBBHQQ", data[:24])
        out.append("%-28s magic \"LS\", version %d, type %s, flags 0x%02x%s, hop limit %d, "
                   "body %d bytes" % (hexrow(data[:8]), ver, TYPES.get(mtype, "?"), flags,
                                      " (ANSWER)" if flags & 1 else "", hop, blen))
        out.append("%-28s txn id 0x%016x" % (hexrow(data[8:16]), txn))
        out.append("%-28s overlay id 0x%016x (p2psip.org)" % (hexrow(data[16:24]), ovl))
        dump([], data[24:], out)
        return
    while p < len(data):
        t, n = struct.unpack(">HH", data[p:p + 4])
        v = data[p + 4:p + 4 + n]
        if t == T["RECORD"]:
            out.append("%-28s RECORD, %d bytes:" % (indent + hexrow(data[p:p + 4]), n))
            dump([], v, out, indent + "  ")
        else:
            out.append("%-28s %s" % (indent + hexrow(data[p:p + 4]), show_value(t, v)))
            for i in range(0, n, 16):
                out.append("%s  %s" % (indent, hexrow(v[i:i + 16])))
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
    ("publish-unknown-mandatory", "PUBLISH carrying an unknown mandatory TLV 0x8100",
     msg(2, 0, 8, 0x0000000000000042, [
         tlv("KEY", KEY), tlv("REPLY_CTX", CTX), tlv(0x8100, b"\x00\x01"),
         tlv("RECORD", REC1)])),
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


def main():
    listing = []
    for name, what, data in VECTORS:
        with open(os.path.join(HERE, name + ".lsp"), "wb") as f:
            f.write(data)
        listing.append("#### %s.lsp: %s (%d bytes)\n" % (name, what, len(data)))
        listing.append("```")
        dump(None, data, listing)
        listing.append("```\n")
    if "-q" not in sys.argv:
        print("\n".join(listing))


if __name__ == "__main__":
    main()
