#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""REGISTER against a real locusd over UDP: every step of RFC 3261 §10.3 the node implements,
RFC 5626 instance replacement, retransmissions, and binding expiry."""
import sys
import time

from locus import Node, SipClient, Tap

t = Tap()
node = Node("--min-expires", "2", "--max-expires", "7200", "--default-expires", "1800",
            "--max-contacts", "3", "--domain", "example.com,example.org")
ua = SipClient(node)
try:
    # add, and the 200 lists the binding with its expiry (steps 7, 8)
    r = ua.register("sip:alice@example.com", ["<sip:alice@192.0.2.1:5060>"], expires=600,
                    call_id="reg-a", cseq=1)
    t.is_(r.status, 200, "REGISTER adds a binding: 200")
    t.is_(r.contacts(), [("sip:alice@192.0.2.1:5060", {"expires": "600"})],
          "200 lists the contact with its expiry")
    t.ok(r.get("date") is not None, "200 to REGISTER carries Date")
    t.ok(r.to_tag() is not None, "the response has a To tag")

    # the same AOR under another spelling (§10.3 step 5, §19.1.4)
    r = ua.register("sip:alice@EXAMPLE.com:5060;transport=udp", [], call_id="q1")
    t.is_([c[0] for c in r.contacts()], ["sip:alice@192.0.2.1:5060"],
          "query (no Contact) with host case, default port and params differing finds it")
    r = ua.register("sip:Alice@example.com", [], call_id="q2")
    t.is_(r.contacts(), [], "the user part is case-sensitive: Alice is another AOR")

    # retransmission: same bytes, same answer, nothing applied twice
    msg = ua.build("REGISTER", "sip:example.com", to="<sip:rt@example.com>", call_id="rt",
                   cseq=5, headers=["Contact: <sip:rt@192.0.2.9>", "Expires: 900"])
    r1 = ua.send_raw(msg)
    r2 = ua.send_raw(msg)
    t.is_((r1.status, r2.status), (200, 200), "a retransmitted REGISTER gets 200 again")
    t.is_(r1.to_tag(), r2.to_tag(), "with the same To tag")
    t.is_(r1.contacts(), r2.contacts(), "and the same bindings")

    # refresh with a higher CSeq, then an out-of-order CSeq is refused and not applied
    r = ua.register("sip:alice@example.com", ["<sip:alice@192.0.2.1:5060>"], expires=1200,
                    call_id="reg-a", cseq=2)
    t.is_(r.contacts()[0][1].get("expires"), "1200", "refresh with CSeq 2 updates the expiry")
    r = ua.register("sip:alice@example.com", ["<sip:alice@192.0.2.1:5060>"], expires=0,
                    call_id="reg-a", cseq=1)
    t.ok(r.status >= 400, "a lower CSeq for the same Call-ID fails (%d)" % r.status)
    r = ua.register("sip:alice@example.com", ["<sip:alice@192.0.2.1:5060>"], expires=0,
                    call_id="reg-a", cseq=2)
    t.ok(r.status >= 400, "a replayed CSeq (new transaction) fails (%d)" % r.status)
    r = ua.register("sip:alice@example.com", [], call_id="q3")
    t.is_(len(r.contacts()), 1, "and neither was applied")

    # Expires header vs expires param, default, min (423) and max (clamp)
    r = ua.register("sip:bob@example.com", ["<sip:bob@192.0.2.2>;expires=100", "<sip:bob@192.0.2.3>"],
                    expires=200, call_id="b", cseq=1)
    got = dict((u, p.get("expires")) for u, p in r.contacts())
    t.is_(got, {"sip:bob@192.0.2.2": "100", "sip:bob@192.0.2.3": "200"},
          "the contact's expires param wins over the Expires header")
    r = ua.register("sip:carol@example.com", ["<sip:carol@192.0.2.4>"], call_id="c", cseq=1)
    t.is_(r.contacts()[0][1].get("expires"), "1800", "no expiry given: --default-expires")
    r = ua.register("sip:carol@example.com", ["<sip:carol@192.0.2.4>"], expires=99999,
                    call_id="c", cseq=2)
    t.is_(r.contacts()[0][1].get("expires"), "7200", "above --max-expires: shortened to it")
    r = ua.register("sip:carol@example.com", ["<sip:carol@192.0.2.4>"], expires=1,
                    call_id="c", cseq=3)
    t.is_(r.status, 423, "below --min-expires: 423")
    t.is_(r.get("min-expires"), "2", "with Min-Expires")

    # q values kept and returned
    r = ua.register("sip:dave@example.com", ["<sip:dave@192.0.2.5>;q=0.5"], call_id="d", cseq=1)
    t.is_(r.contacts()[0][1].get("q"), "0.5", "q is kept")

    # remove one binding, then wildcard
    r = ua.register("sip:bob@example.com", ["<sip:bob@192.0.2.2>;expires=0"], call_id="b", cseq=2)
    t.is_([c[0] for c in r.contacts()], ["sip:bob@192.0.2.3"], "expires=0 removes that binding")
    r = ua.register("sip:bob@example.com", ["*"], expires=5, call_id="b", cseq=3)
    t.is_(r.status, 400, "Contact * with a non-zero Expires: 400")
    r = ua.register("sip:bob@example.com", ["*", "<sip:bob@192.0.2.7>"], expires=0,
                    call_id="b", cseq=4)
    t.is_(r.status, 400, "Contact * with another contact: 400")
    r = ua.register("sip:bob@example.com", ["*"], call_id="b", cseq=5)
    t.is_(r.status, 400, "Contact * without Expires: 400")
    r = ua.register("sip:bob@example.com", ["*"], expires=0, call_id="b", cseq=6)
    t.is_((r.status, r.contacts()), (200, []), "Contact * with Expires: 0 removes all")

    # --max-contacts
    r = ua.register("sip:eve@example.com", ["<sip:e1@192.0.2.10>", "<sip:e2@192.0.2.10>",
                                            "<sip:e3@192.0.2.10>"], call_id="e", cseq=1)
    t.is_(len(r.contacts()), 3, "three contacts up to --max-contacts 3")
    r = ua.register("sip:eve@example.com", ["<sip:e4@192.0.2.10>"], call_id="e", cseq=2)
    t.ok(400 <= r.status < 600 and r.status != 423, "a fourth is refused (%d %s)" % (r.status, r.reason))
    r = ua.register("sip:eve@example.com", [], call_id="q4")
    t.is_(len(r.contacts()), 3, "and the three remain")

    # RFC 5626: same +sip.instance and reg-id replaces the older binding
    inst = '"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"'
    ua.register("sip:fay@example.com", ["<sip:fay@192.0.2.20:5060>;+sip.instance=%s;reg-id=1" % inst],
                call_id="f1", cseq=1)
    r = ua.register("sip:fay@example.com", ["<sip:fay@192.0.2.21:5062>;+sip.instance=%s;reg-id=1" % inst],
                    call_id="f2", cseq=1)
    t.is_([c[0] for c in r.contacts()], ["sip:fay@192.0.2.21:5062"],
          "a new contact with the same instance and reg-id replaces the old one")
    t.ok(r.contacts()[0][1].get("+sip.instance") == inst, "the 200 carries +sip.instance")

    # served domains (§10.3 steps 1 and 5)
    r = ua.register("sip:gus@example.net", ["<sip:gus@192.0.2.30>"], call_id="g", cseq=1)
    t.is_(r.status, 404, "an AOR of a domain not served: 404")
    r = ua.register("sip:gus@example.org", ["<sip:gus@192.0.2.30>"], call_id="g", cseq=2)
    t.is_(r.status, 200, "the second --domain is served")
    r = ua.request("REGISTER", "sip:" + node.sip[0], to="<sip:gus@example.org>", call_id="g", cseq=3,
                   headers=["Contact: <sip:gus@192.0.2.30>"])
    t.is_(r.status, 200, "a Request-URI naming the node by IP is accepted")

    # expiry: the wheel removes the binding when it is due
    r = ua.register("sip:hal@example.com", ["<sip:hal@192.0.2.40>"], expires=2, call_id="h", cseq=1)
    t.is_(r.status, 200, "a 2-second binding")
    time.sleep(3.2)
    r = ua.request("INVITE", "sip:hal@example.com")
    t.is_(r.status, 404, "after it expires, INVITE gets 404")
    r = ua.register("sip:hal@example.com", [], call_id="q5")
    t.is_(r.contacts(), [], "and a query lists nothing")

    t.ok(node.alive(), "the node is still running")
finally:
    ua.close()
    status = node.stop()
t.is_(status, 0, "SIGTERM: locusd exits 0")

# a full store answers 503 with Retry-After and keeps what it has (issue 3: pools sized at start)
small = Node("--max-bindings", "4", workers=1)
ua = SipClient(small)
try:
    codes = [ua.register("sip:f%d@example.com" % i, ["<sip:f%d@192.0.2.50>" % i], call_id="full%d" % i).status
             for i in range(5)]
    t.is_(codes, [200, 200, 200, 200, 503], "the fifth binding of a 4-binding node: 503")
    r = ua.register("sip:f9@example.com", ["<sip:f9@192.0.2.50>"], call_id="full9")
    t.ok(r.status == 503 and r.get("retry-after") is not None, "503 carries Retry-After")
    r = ua.request("INVITE", "sip:f0@example.com")
    t.is_(r.status, 302, "the bindings it holds still answer")
    r = ua.register("sip:f0@example.com", ["<sip:f0@192.0.2.50>"], expires=0, call_id="full0", cseq=2)
    r = ua.register("sip:f9@example.com", ["<sip:f9@192.0.2.50>"], call_id="full9", cseq=2)
    t.is_(r.status, 200, "after a removal there is room again")
finally:
    ua.close()
    status = small.stop()
t.is_(status, 0, "SIGTERM: locusd exits 0")
sys.exit(t.done())
