#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Overlay security on real processes (issue 13, docs/security.md): certificate admission,
TLS 1.3 links, node ids from keys, authenticated datagrams.

A secured ring of 5 (scripts/locus-certs makes the CA and the certificates; every node reads the
CA's CRL file) takes 300 registrations through random nodes. Then each attack below is tried,
and after all of them every binding is still there (counted through lookups at every node) and
no node declared another dead:

- admission: a locusd with a certificate of another CA, a locusd without certificates, a
  locusd whose certificate was revoked, and TLS clients with an expired certificate, a revoked
  one, another CA's, or none, are refused (counted by reason in `locusctl node`: security), and
  none of them joins or gets a view;
- a member's certificate with another member's id in SENDER (an impostor) gets no answer and
  is counted;
- bad flags: a key that is not the certificate's, an expired certificate, a missing file, half
  of the three flags: exit status 2 with a message;
- datagrams (root: raw sockets on the loopback): a REPLICA_STORE a member sent, captured, then
  replayed byte for byte, altered under its tag, or stripped of its tag and sent from the
  member's address, and an owner's answer stripped of its tag: each is dropped and counted
  (auth_replay, auth_bad_tag, replica_untrusted, auth_required), and nothing it carried is
  stored or relayed;
- revocation while running: a member whose certificate is revoked (the CRL file rewritten) is
  cut off: its links close within a few seconds and the others stop counting it as a member.
"""
import json
import os
import random
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lsp_wire as W  # noqa: E402
from locus import Node, Ring, SipClient, Tap, TestCA, free_lsp_port, run_locusd, wait_for  # noqa: E402

t = Tap()
N, AORS = 5, 300
ROOT = os.geteuid() == 0
ca = TestCA()
crl = os.path.join(ca.dir, "crl.pem")


def secured_flags(name):
    cert, key = ca.issue(name)
    return ["--overlay-ca", os.path.join(ca.dir, "ca.pem"), "--cert", cert, "--key", key,
            "--crl", crl, "--overlay", "p2psip.org"]


def security(node):
    code, out, _ = node.ctl("node")
    return json.loads(out).get("security", {}) if code == 0 else {}


def total(nodes, field):
    return sum(security(n).get(field, 0) for n in nodes)


def drops(nodes, name):
    return sum((n.stats() or {}).get("drops", {}).get(name, 0) for n in nodes)


def deaths(nodes):
    total_ = 0
    for n in nodes:
        code, out, _ = n.ctl("node")
        total_ += json.loads(out)["deaths_declared"] if code == 0 else 0
    return total_


# ---- a secured ring of 5 ----
ring = Ring(0, workers=2)
for i in range(N):
    node = Node(*(secured_flags("m%d" % i) + (["--join", "%s:%d" % ring.nodes[0].lsp]
                                               if ring.nodes else [])), workers=2, secured=False)
    ring.nodes.append(node)
took = ring.wait_converged(timeout=60)
t.ok(took is not None, "a secured ring of %d converges (%.1f s)" % (N, took or -1), ring.why)
ids = sorted(json.loads(n.ctl("node")[1])["self"]["id"] for n in ring.nodes)
want_ids = sorted(ca.node_id(os.path.join(ca.dir, "m%d.pem" % i)) for i in range(N))
t.is_(ids, want_ids, "every node id is the SHA-256 of its certificate's key (locus-certs id)")

ua = [SipClient(n) for n in ring.nodes]
contacts = {}
ok = 0
for i in range(AORS):
    aor = "sip:s%d@p2psip.org" % i
    contacts[aor] = "<sip:s%d@10.1.%d.%d:5060>" % (i, i // 250, i % 250)
    r = random.choice(ua).register(aor, [contacts[aor]], expires=3600)
    ok += r is not None and r.status == 200
t.is_(ok, AORS, "%d REGISTERs through random nodes answered 200" % AORS)
st = [n.stats() for n in ring.nodes]
t.ok(sum(s["auth_tx"] for s in st) > 0 and sum(s["auth_rx"] for s in st) > 0,
     "datagrams between members are tagged and checked (auth_tx %d, auth_rx %d)"
     % (sum(s["auth_tx"] for s in st), sum(s["auth_rx"] for s in st)))


def all_bindings_there(tries=1):
    """Every AOR answers 302 with its contact at every node: the count that matters. `tries`:
    sends per lookup, as a UA retransmits."""
    good = 0
    for aor, c in contacts.items():
        for u in ua:
            for _ in range(tries):
                r = u.request("INVITE", aor)
                if r is not None:
                    break
            good += r is not None and r.status == 302 and c.strip("<>") in (r.get("contact") or "")
    return good


# ---- bad flags ----
def start_status(*flags):
    code, _, err = run_locusd("--sip", "127.0.0.1:0", "--lsp", "127.0.0.1:%d" % free_lsp_port(),
                              "--admin", "127.0.0.1:0", *flags)
    return code, err.strip()


cert0, key0 = os.path.join(ca.dir, "m0.pem"), os.path.join(ca.dir, "m0.key")
key1 = os.path.join(ca.dir, "m1.key")
caf = os.path.join(ca.dir, "ca.pem")
code, err = start_status("--overlay-ca", caf, "--cert", cert0, "--key", key1)
t.ok(code == 2 and "key" in err, "a key that is not the certificate's: exit 2 (%s)" % err)
old_cert, old_key = ca.issue("old", expired=True)
code, err = start_status("--overlay-ca", caf, "--cert", old_cert, "--key", old_key)
t.ok(code == 2 and "expired" in err, "an expired certificate: exit 2 (%s)" % err)
code, err = start_status("--overlay-ca", caf, "--cert", cert0)
t.ok(code == 2 and "together" in err, "--cert without --key: exit 2 (%s)" % err)
code, err = start_status("--overlay-ca", caf + ".missing", "--cert", cert0, "--key", key0)
t.ok(code == 2 and "cannot read" in err, "a missing CA file: exit 2 (%s)" % err)

# ---- strangers that try to join ----
before = {f: total(ring.nodes, f) for f in ("refused_chain", "refused_revoked",
                                              "refused_no_cert", "refused_expired")}
boot = ["--join", "%s:%d" % ring.nodes[0].lsp, "--overlay", "p2psip.org"]
other = TestCA()
ocert, okey = other.issue("x")
stranger = Node(*(["--overlay-ca", os.path.join(other.dir, "ca.pem"), "--cert", ocert, "--key",
                   okey] + boot), workers=1, secured=False)
lab = Node(*boot, workers=1, secured=False)
rcert, rkey = ca.issue("revoked")
ca.revoke("revoked")  # rewrites crl.pem: the members reload it within seconds
time.sleep(3)
# (without --crl: with it the node would refuse its own certificate at start)
revoked = Node(*(["--overlay-ca", caf, "--cert", rcert, "--key", rkey] + boot),
               workers=1, secured=False)
time.sleep(5)
sizes = [json.loads(n.ctl("node")[1])["ring_size"] for n in ring.nodes]
t.is_(sizes, [N] * N, "a node of another CA, one without certificates and a revoked one do not "
      "join: every member still counts %d" % N)
views = [json.loads(x.ctl("node")[1])["view_alive"] for x in (stranger, lab, revoked)]
t.is_(views, [1, 1, 1], "none of them learned a member of the ring")
t.ok(total([stranger], "refused_chain") > 0,
     "the node of another CA refuses the members' certificates in turn (refused_chain)")
t.ok(total(ring.nodes, "refused_revoked") > before["refused_revoked"],
     "a revoked certificate is refused and counted (refused_revoked)")
for x in (stranger, lab, revoked):
    x.stop()


def tls_client(cert=None, key=None, ca_file=caf):
    """A TLS 1.3 client to a member; ca_file None: it does not check the member's certificate
    (a stranger that wants to be judged by the member, not to judge it)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if ca_file:
        ctx.load_verify_locations(ca_file)
    else:
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    raw = socket.create_connection(ring.nodes[1].lsp, timeout=3)
    return ctx.wrap_socket(raw)


def answered(s, frame):
    """Whether anything comes back on our own connection after @frame (a node answers on its
    own outgoing link, so a refused client sees its connection closed, not an answer)."""
    try:
        s.sendall(frame)
        s.settimeout(2)
        return len(s.recv(100)) > 0
    except (ssl.SSLError, OSError):
        return False
    finally:
        s.close()


join = W.join(1, "127.0.0.1", 9)
answered(tls_client(old_cert, old_key), join)
answered(tls_client(), join)
answered(tls_client(ocert, okey, ca_file=None), join)
time.sleep(0.5)
t.ok(total(ring.nodes, "refused_chain") > before["refused_chain"],
     "a TLS client with another CA's certificate is refused (refused_chain)")
t.ok(total(ring.nodes, "refused_expired") > before["refused_expired"],
     "a TLS client with an expired certificate is refused (refused_expired)")
t.ok(total(ring.nodes, "refused_no_cert") > before["refused_no_cert"],
     "a TLS client without a certificate is refused (refused_no_cert)")

# an admitted certificate that claims another member's id: nothing it says is believed
imp_cert, imp_key = ca.issue("impostor")
victim_info = json.loads(ring.nodes[2].ctl("node")[1])
victim, victim_inc = victim_info["self"], victim_info["incarnation"]
host, port = victim["addr"].split(":")
before_imp = total(ring.nodes, "impostor_frames")
answered(tls_client(imp_cert, imp_key),
         W.message(W.LEAVE, W.tlv(W.T_SENDER, W.node(victim["id"], host, int(port))) +
                   W.tlv(W.T_INCARNATION, struct.pack("!I", victim_inc)), overlay=W.P2PSIP_ORG))
time.sleep(0.5)
t.ok(total(ring.nodes, "impostor_frames") > before_imp,
     "a LEAVE in another member's name from an admitted certificate is refused (impostor)")

# ---- datagrams ----
if not ROOT:
    t.skip("forged, replayed and untagged datagrams need raw sockets: run as root")
else:
    sniff = W.Sniffer()
    lsp = {n.lsp for n in ring.nodes}
    aor = "sip:captured@p2psip.org"
    contacts[aor] = "<sip:captured@10.9.9.9:5060>"
    got = {}

    def grab(src, dst, p):
        if src in lsp and dst in lsp and len(p) > W.HDR_LEN:
            mtype, flags = p[3], p[4]
            if mtype == W.REPLICA_STORE and not flags & W.F_ANSWER and b"captured" in p:
                got.setdefault("store", (src, dst, p))
            if mtype == W.PUBLISH and flags & W.F_ANSWER and b"captured" in p:
                got.setdefault("answer", (src, dst, p))
            return "store" in got and "answer" in got
        return False

    # registered through a node that owns none of its copies' chain heads? any: sniff both
    for u in ua:
        r = u.register(aor, [contacts[aor]], expires=3600, call_id="cap-%d" % u.port)
        if sniff.next_udp(grab, timeout=1.0):
            break
    sniff.close()
    t.ok("store" in got, "captured a tagged REPLICA_STORE between members")
    if "store" in got:
        src, dst, p = got["store"]
        c0 = {k: drops(ring.nodes, k) for k in ("auth_replay", "auth_bad_tag",
                                                 "replica_untrusted", "auth_required")}
        W.send_spoofed(src, dst, p)
        forged = bytearray(p)
        i = forged.find(b"captured")
        forged[i:i + 8] = b"hijacked"
        W.send_spoofed(src, dst, bytes(forged))
        W.send_spoofed(src, dst, W.strip_auth(p).replace(b"captured", b"hijacked"))
        time.sleep(0.5)
        t.ok(drops(ring.nodes, "auth_replay") > c0["auth_replay"],
             "a replayed REPLICA_STORE is dropped (auth_replay)")
        t.ok(drops(ring.nodes, "auth_bad_tag") > c0["auth_bad_tag"],
             "a REPLICA_STORE altered under its tag is dropped (auth_bad_tag)")
        t.ok(drops(ring.nodes, "replica_untrusted") > c0["replica_untrusted"],
             "an untagged REPLICA_STORE from a member's address is refused (replica_untrusted)")
        if "answer" in got:
            src, dst, p = got["answer"]
            W.send_spoofed(src, dst, W.strip_auth(p))
            time.sleep(0.3)
            t.ok(drops(ring.nodes, "auth_required") > c0["auth_required"],
                 "an owner's answer without its tag is not relayed (auth_required)")
        else:
            t.skip("no owner's answer crossed the wire for the captured AOR (it was owned "
                   "by the node the UA asked)")
        hijacked = 0
        for u in ua:
            r = u.request("INVITE", "sip:hijacked@p2psip.org")
            hijacked += r is not None and r.status == 302
        t.is_(hijacked, 0, "nothing the forged datagrams carried was stored")

good = all_bindings_there()
t.is_(good, len(contacts) * N, "after every attack, every binding answers at every node "
      "(%d lookups)" % (len(contacts) * N))
t.is_(deaths(ring.nodes), 0, "no node declared another dead")

# ---- the TCP admin of a secured node is mutual TLS ----
tcp_admin = Node(*(secured_flags("admin-node") + ["--join", "%s:%d" % ring.nodes[0].lsp]),
                 workers=1, secured=False, admin="tcp")
acert, akey = ca.issue("operator")
code, out, _ = tcp_admin.ctl("stats")
t.ok(code != 0 and '"total"' not in out, "the TCP admin of a secured node answers no client "
     "without a certificate (exit %d)" % code)
code, out, _ = tcp_admin.ctl("--overlay-ca", caf, "--cert", acert, "--key", akey, "stats")
t.ok(code == 0 and '"total"' in out, "... and answers one with a certificate of the overlay's CA")
code, out, _ = tcp_admin.ctl("--overlay-ca", os.path.join(other.dir, "ca.pem"), "--cert", ocert,
                             "--key", okey, "stats")
t.ok(code != 0 and '"total"' not in out, "... but not one with another CA's certificate")
code, _, err = tcp_admin.ctl("--cert", acert, "stats")
t.is_(code, 2, "locusctl --cert without --overlay-ca and --key: exit 2 (%s)"
      % " ".join(err.split()))
tcp_admin.stop()

# ---- a member gossips ids it made up, to own other members' keys ----
# X sits just below member 2 (it would own nearly all of member 2's keys) at member 1's address;
# Y just below member 3 at an address where nobody answers
liar_cert, liar_key = ca.issue("liar")
liar_id = int(ca.node_id(liar_cert), 16)
infos = [json.loads(n.ctl("node")[1])["self"] for n in ring.nodes]
n1_host, n1_port = infos[1]["addr"].split(":")
x_id = (int(infos[2]["id"], 16) - 1) % (1 << 128)
y_id = (int(infos[3]["id"], 16) - 1) % (1 << 128)
gossip = W.membership(W.node(liar_id, "127.0.0.1", 9),
                      [W.member(x_id, n1_host, int(n1_port), incarnation=7),
                       W.member(y_id, "127.0.0.1", 9, incarnation=7)])
for n in ring.nodes:
    raw = socket.create_connection(n.lsp, timeout=3)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(caf)
    ctx.load_cert_chain(liar_cert, liar_key)
    with ctx.wrap_socket(raw) as c:
        c.sendall(gossip)
        time.sleep(0.2)


def routed_to(fake):
    """Nodes whose table names the made-up id as a live member."""
    hit = 0
    for n in ring.nodes:
        code, out, _ = n.ctl("node")
        members = json.loads(out)["members"] if code == 0 else []
        hit += any(int(m["id"], 16) == fake for m in members)
    return hit


time.sleep(1)
t.is_(routed_to(x_id), 0, "an id a member made up at another member's address is in no node's "
      "table (that address's certificate is another's)")
t.ok(total(ring.nodes, "impostor_members") > 0, "and is counted (impostor_members)")
t.ok(wait_for(lambda: routed_to(y_id) == 0, timeout=30),
     "an id made up at an address where nobody answers is declared dead by the nodes' own "
     "failure detectors")
time.sleep(1)
t.is_(all_bindings_there(tries=3), len(contacts) * N,
      "every binding still answers at every node (a UA's retransmissions allowed)")

# ---- revocation while running ----
victim_node = ring.nodes[N - 1]
ca.revoke("m%d" % (N - 1))
ok_ = wait_for(lambda: all(json.loads(n.ctl("node")[1])["ring_size"] == N - 1
                           for n in ring.nodes[:N - 1]), timeout=30)
t.ok(ok_, "a member revoked while running is cut off: the others count %d" % (N - 1))
t.ok(total(ring.nodes[:N - 1], "dropped_revoked") + total(ring.nodes[:N - 1], "refused_revoked")
     > 0, "its links were closed or refused for the revocation (counted)")

for u in ua:
    u.close()
ring.stop()
sys.exit(t.done())
