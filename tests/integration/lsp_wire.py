# SPDX-License-Identifier: MIT
"""LSP on the wire for tests that play a stranger or a forger (docs/lsp.md): the header, TLVs,
node and address values, and raw IPv4/UDP datagrams with a source address of the test's choice
(root only), so that a test can send what a member would send, from a member's address, without
being that member."""

import os
import socket
import struct

MAGIC = 0x4C53
F_ANSWER = 0x01
HDR_LEN = 24

# message types (docs/lsp.md §3)
PING, PUBLISH, REMOVE, LOOKUP = 0x01, 0x02, 0x03, 0x04
JOIN, FIND_SUCCESSOR, GET_PREDECESSOR, NOTIFY = 0x20, 0x21, 0x22, 0x23
NODE_PING, MEMBERSHIP, LEAVE, NODE_INFO = 0x25, 0x26, 0x27, 0x28
REPLICA_STORE, RANGE_TRANSFER, RANGE_DIGEST = 0x40, 0x41, 0x42

# TLVs (docs/lsp.md §4.3, §11.2)
T_KEY, T_RECORD, T_EXPIRES, T_STATUS, T_CONTACT = 0x8001, 0x8002, 0x8005, 0x8010, 0x8020
T_SENDER, T_MEMBER, T_VIEW_DIGEST, T_INCARNATION = 0x8100, 0x8104, 0x8105, 0x8106
T_AUTH, AUTH_LEN = 0x8140, 36  # the member's tag (§4.8): TLV header and 32 bytes, always last

# the overlay id of --overlay p2psip.org (docs/lsp.md §2)
P2PSIP_ORG = 0x70E77DBA5136E2EA


def tlv(t, value):
    return struct.pack("!HH", t, len(value)) + value


def addr(host, port):
    """An IPv4 address value (§4.7): family 4, transport 0, port, 4 bytes."""
    return struct.pack("!BBH", 4, 0, port) + socket.inet_aton(host)


def node(node_id, host, port):
    """A node value: 16-byte id (an int or 32 hex digits) and its address."""
    if isinstance(node_id, str):
        node_id = int(node_id, 16)
    return node_id.to_bytes(16, "big") + addr(host, port)


def message(mtype, body, txn=None, overlay=P2PSIP_ORG, flags=0, hop=1):
    txn = txn if txn is not None else int.from_bytes(os.urandom(8), "big")
    return struct.pack("!HBBBBHQQ", MAGIC, 1, mtype, flags, hop, len(body), txn, overlay) + body


def header(data):
    """(type, flags, hop, body length, txn, overlay) of a message."""
    _, _, mtype, flags, hop, blen, txn, ovl = struct.unpack("!HBBBBHQQ", data[:HDR_LEN])
    return mtype, flags, hop, blen, txn, ovl


def tlvs(body):
    """[(type, value)] of a body (top level only)."""
    out, off = [], 0
    while off + 4 <= len(body):
        t, n = struct.unpack("!HH", body[off:off + 4])
        out.append((t, body[off + 4:off + 4 + n]))
        off += 4 + n
    return out


def strip_auth(data):
    """The message without its AUTH TLV (the body length fixed), as if a member sent it
    untagged; None when it has none."""
    if len(data) < HDR_LEN + AUTH_LEN or struct.unpack("!H", data[-AUTH_LEN:-AUTH_LEN + 2])[0] != T_AUTH:
        return None
    out = bytearray(data[:-AUTH_LEN])
    struct.pack_into("!H", out, 6, len(out) - HDR_LEN)
    return bytes(out)


def member(node_id, host, port, incarnation=1, alive=True):
    """A MEMBER value (§11.2): id, incarnation, state (1 alive, 2 dead), address."""
    if isinstance(node_id, str):
        node_id = int(node_id, 16)
    return (node_id.to_bytes(16, "big") + struct.pack("!IB", incarnation, 1 if alive else 2) +
            addr(host, port))


def membership(sender, members, overlay=P2PSIP_ORG):
    """MEMBERSHIP gossip from `sender` (a node value) spreading `members` (MEMBER values)."""
    body = tlv(T_SENDER, sender) + tlv(T_VIEW_DIGEST, struct.pack("!QI", 0, len(members)))
    return message(MEMBERSHIP, body + b"".join(tlv(T_MEMBER, m) for m in members),
                   overlay=overlay)


def join(sender_id, host, port, overlay=P2PSIP_ORG):
    return message(JOIN, tlv(T_SENDER, node(sender_id, host, port)), overlay=overlay)


def inet_csum(data):
    """The Internet checksum (RFC 1071) of data, for hand-built IPv4, UDP and ICMP headers."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def send_spoofed(src, dst, payload):
    """Send one UDP datagram from `src` (host, port) to `dst` with a raw socket (root). The
    receiver cannot tell it from one its peer sent."""
    ip_src, ip_dst = socket.inet_aton(src[0]), socket.inet_aton(dst[0])
    udp_len = 8 + len(payload)
    pseudo = ip_src + ip_dst + struct.pack("!BBH", 0, socket.IPPROTO_UDP, udp_len)
    udp = struct.pack("!HHHH", src[1], dst[1], udp_len, 0)
    udp = struct.pack("!HHHH", src[1], dst[1], udp_len, inet_csum(pseudo + udp + payload)) + payload
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0, 64, socket.IPPROTO_UDP, 0,
                      ip_src, ip_dst)
    iph = iph[:10] + struct.pack("!H", inet_csum(iph)) + iph[12:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    try:
        s.sendto(iph + udp, (dst[0], 0))
    finally:
        s.close()


class Sniffer:
    """Captures UDP datagrams on the loopback interface (AF_PACKET, root): what a member sent to
    another, byte for byte, for a test that replays it."""

    def __init__(self):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
        self.s.bind(("lo", 0))
        self.s.settimeout(0.2)

    def next_udp(self, want, timeout=5.0):
        """The first datagram (src, dst, payload) for which want(src, dst, payload) holds."""
        import time
        end = time.time() + timeout
        while time.time() < end:
            try:
                frame = self.s.recv(70000)
            except socket.timeout:
                continue
            ip = frame[14:]
            if len(ip) < 28 or ip[9] != socket.IPPROTO_UDP:
                continue
            ihl = (ip[0] & 0x0F) * 4
            sport, dport, ulen = struct.unpack("!HHH", ip[ihl:ihl + 6])
            src = (socket.inet_ntoa(ip[12:16]), sport)
            dst = (socket.inet_ntoa(ip[16:20]), dport)
            payload = ip[ihl + 8:ihl + ulen]
            if want(src, dst, payload):
                return src, dst, payload
        return None

    def close(self):
        self.s.close()
