#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Network partitions (issue 12): writes that both sides of a partition acknowledged survive the
heal, and removals stay removed.

Topology: a router namespace and 5 node namespaces, each node joined to the router by a veth pair
on a /24 of its own (node i is 198.18.i.2, the router 198.18.i.1 on that link), the nodes' default
route via the router, IP forwarding on in the router only. One locusd per node namespace, bound to
its own address (fixed ports: nothing else runs there), joining the first node. The test's inner
part runs in the router namespace, as the SIP client (on 198.18.255.1, the router's loopback) and
the operator: a partition is an nftables rule in the router's forward hook that drops everything
forwarded between the two groups' links; heal deletes it. Traffic between the router itself and a
node is never forwarded, so the client reaches both sides all along.

Schedule of one seed (random.Random(seed) picks the groups, then the operations):

1. 300 AORs registered with 1-2 contacts each (Expires 3600) through random nodes: every one must
   be answered 200, and every node must then give every AOR's contacts (a baseline).
2. A 2|3 partition for 15 s; through nodes of both sides in turn, REGISTERs each with a fresh
   Call-ID and CSeq 1 (so no CSeq ordering refuses them): refreshes of existing contacts (a new
   expiry), added contacts (a URI of that write's own), removals of one contact (expires=0),
   removals of all (`Contact: *`, Expires 0), new AORs, and pairs that change two different
   contacts of one AOR, one through each side (both changes must survive). While it lasts, each
   side must see only itself in its ring view. Heal; the ring must converge; then, within 60 s,
   every node must give the same answer for every AOR and keep giving it for 12 s (longer than a
   range sync round, so that the repair the heal starts has run before the state is judged);
   then the check below.
3. The same with a 1|4 partition, then with a flapping one (two different 2|3 splits in turn,
   every 2-3 s, for 15 s, writing throughout).

The check asks every AOR through every node (a REGISTER without Contact, answered 200 with the
current contacts and their expiries; each node forwards it to the key's owner, so agreement says
the nodes agree on the owners, and the answer is the owner's copy) and requires: all nodes agree,
and, per (AOR, contact URI),
the state seen is the effect of a write nothing acknowledged came after. A write is acknowledged
when it was answered 200; a 503, another final status, or no answer at all is not acknowledged,
and may or may not have taken effect. Write b follows write a when a's answer came before b was
sent (an unacknowledged write ends when the client gave up or got its final answer); otherwise they
are concurrent. An add or refresh makes the contact present with its expiry (the expiry seen must
match that write's: a refresh lost is a write lost), a removal of it or a `Contact: *` of its AOR
makes it absent (also a contact added through the other side, if added before the `*` was sent),
and before any write it was absent. The state seen must be the effect of one of
the writes that no acknowledged write touching that contact follows (unacknowledged ones among
them too, since they may have been applied). A contact seen absent (or with an older expiry) when
only adds and refreshes qualify is a lost write; one seen present when only removals qualify is an
undone removal. Each is reported with the writes' history, counted, and fails the test.

Needs root (network namespaces), ip and nft; without them it prints "skipped: <reason>". Every
namespace is deleted on exit, whatever happens, after killing what still runs inside it. Seeds:
LOCUS_PARTITION_SEEDS (default "1,2"); one seed takes about 2 minutes. For a hunt:
LOCUS_PARTITION_PHASES names the phases to run (e.g. "flapping": the others are still drawn, so a
seed cuts the same way), LOCUS_PARTITION_FLAGS adds locusd flags (e.g. "--log-level debug"),
LOCUS_PARTITION_CPUS confines every node to these CPUs (e.g. "0": one CPU for all, so that nodes
wait for one another as on a loaded CI machine), LOCUS_PARTITION_PAUSE_S stops one node (SIGSTOP)
for that long after each split, as a machine too loaded to run it would. On failure the nodes'
logs are kept; the seed's start is printed as wall-clock time, and each check's time relative to
it, so that the writes' times and the checks can be found in the logs.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from locus import Ring, SipBatch, Tap  # noqa: E402

NODES, N_AORS, R = 5, 300, 3
PARTITION_S = 15.0  # how long each partition (and the flapping) lasts, writing throughout
CONVERGE_S = 60.0  # for the ring to converge after a heal
AGREE_S = 60.0  # then for every node to give every AOR the same answer, and keep giving it
STABLE_S = 12.0  # for this long: more than a range sync round (T_sync, 10 s)
PACE_S = 0.05  # one new write every 50 ms: about 300 writes a partition
HOT_AORS = 30  # half of a phase's writes go to these, so that the sides meet on the same AORs
SIP_PORT, LSP_PORT, ADMIN_PORT = 5060, 7400, 7401
CLIENT = "198.18.255.1"  # the client's address, on the router's loopback
TABLE = "locus_pt"  # the router's nftables table; its chain "cut" holds the partition's rules
SLACK_S = 2.0  # expiries are whole seconds, read off the loop's clock: allow this much either way
SHOW = 10  # violations shown in full per kind and check
ALL = "*"  # the effect of a `Contact: *` removal: every contact of the AOR


def node_addr(i):
    return "198.18.%d.2" % i


def names(prefix):
    return prefix + "-r", ["%s-n%d" % (prefix, i) for i in range(NODES)]


# ---------------------------------------------------------------------------------------------
# Outer part: the namespaces, the inner part run inside the router namespace, and the cleanup.


def sh(*cmd):
    subprocess.run(list(cmd), check=True, stdout=subprocess.DEVNULL)


def build_topology(router, nodes):
    """Router and node namespaces, one veth pair each, routes, forwarding, the empty filter.
    The router namespace must have been added."""
    sh("ip", "-n", router, "link", "set", "lo", "up")
    sh("ip", "-n", router, "addr", "add", CLIENT + "/32", "dev", "lo")
    sh("ip", "netns", "exec", router, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward")
    for i, ns in enumerate(nodes):
        sh("ip", "netns", "add", ns)
        # created from inside the router namespace, so no interface ever appears on the host
        sh("ip", "-n", router, "link", "add", "vn%d" % i, "type", "veth", "peer", "name", "eth0",
           "netns", ns)
        sh("ip", "-n", router, "addr", "add", "198.18.%d.1/24" % i, "dev", "vn%d" % i)
        sh("ip", "-n", router, "link", "set", "vn%d" % i, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "addr", "add", node_addr(i) + "/24", "dev", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        sh("ip", "-n", ns, "route", "add", "default", "via", "198.18.%d.1" % i)
    sh("ip", "netns", "exec", router, "nft", "add", "table", "inet", TABLE)
    sh("ip", "netns", "exec", router, "nft",
       "add chain inet %s cut { type filter hook forward priority 0; policy accept; }" % TABLE)


def teardown(all_ns):
    """Kill what still runs in our namespaces (only what this test started can be in them), then
    delete them. Takes a few tens of milliseconds."""
    for ns in all_ns:
        r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        for pid in r.stdout.split():
            print("# killing pid %s, still running in %s" % (pid, ns), flush=True)
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def outer():
    t = Tap()
    if os.geteuid() != 0:
        t.skip("needs root for network namespaces")
        return t.done()
    if shutil.which("nft") is None or shutil.which("ip") is None:
        t.skip("needs nft (nftables) and ip (iproute2)")
        return t.done()
    prefix = "locus-pt-%d" % os.getpid()
    router, nodes = names(prefix)
    child = None
    try:
        try:
            sh("ip", "netns", "add", router)
        except subprocess.CalledProcessError as e:  # a container that forbids namespaces
            t.skip("cannot add a network namespace: %s" % e)
            return t.done()
        try:
            build_topology(router, nodes)
        except subprocess.CalledProcessError as e:  # namespaces work here: a fault of this test
            t.ok(False, "the namespaces, links and nftables table are set up", e)
            return t.done()
        env = dict(os.environ, LOCUS_PT_PREFIX=prefix)
        child = subprocess.Popen(["ip", "netns", "exec", router, sys.executable,
                                  os.path.abspath(__file__)], env=env)
        child.wait()
        return child.returncode
    finally:
        # Normally the inner part has stopped its nodes and ended. When we are stopped (meson's
        # timeout sends SIGTERM to the process group, and SIGKILL half a second later) there is
        # no time to let it stop them gracefully: kill everything in our namespaces (the inner
        # part first, in the router's) and delete them at once.
        teardown([router] + nodes)
        if child is not None:
            child.wait()


# ---------------------------------------------------------------------------------------------
# Inner part, in the router namespace: the partitions.


class Router:
    """The partition rules in this (the router's) namespace, and how many packets they dropped."""

    def __init__(self):
        self.dropped = 0

    def split(self, groups):
        """Drop everything forwarded between the two groups' links; replaces the split in force
        in one nft transaction, so a flap never lets traffic through in between."""
        a, b = (", ".join('"vn%d"' % i for i in g) for g in groups)
        self.dropped += self._counted()
        script = ("flush chain inet {t} cut\n"
                  "add rule inet {t} cut iifname {{ {a} }} oifname {{ {b} }} counter drop\n"
                  "add rule inet {t} cut iifname {{ {b} }} oifname {{ {a} }} counter drop\n"
                  ).format(t=TABLE, a=a, b=b)
        subprocess.run(["nft", "-f", "-"], input=script, text=True, check=True)

    def heal(self):
        self.dropped += self._counted()
        subprocess.run(["nft", "flush", "chain", "inet", TABLE, "cut"], check=True)

    def _counted(self):
        r = subprocess.run(["nft", "-j", "list", "chain", "inet", TABLE, "cut"],
                           capture_output=True, text=True, check=True)
        n = 0
        for item in json.loads(r.stdout)["nftables"]:
            for expr in item.get("rule", {}).get("expr", []):
                if "counter" in expr:
                    n += expr["counter"]["packets"]
        return n


def group_name(g):
    return " ".join("n%d" % i for i in g)


def split_name(groups):
    return "%s | %s" % (group_name(groups[0]), group_name(groups[1]))


def side_views(ring, groups):
    """(True, "") when every node's live view is exactly its own side."""
    for g in groups:
        want = sorted("%s:%d" % ring.nodes[i].lsp for i in g)
        for i in g:
            info = ring.info(ring.nodes[i])
            if info is None:
                return False, "n%d did not answer" % i
            got = sorted(m["addr"] for m in info["members"])
            if got != want:
                return False, "n%d sees %s; its side is %s" % (i, got, want)
    return True, ""


class Partitioner(threading.Thread):
    """Puts the splits of a schedule [(offset_s, groups)] in force at their times and heals at
    `length`; `current` is the split in force, read by the write generator. With `verify`, it
    also waits (at most 10 s) for each side to see only itself after the first split."""

    def __init__(self, router, ring, schedule, length, verify):
        super().__init__(daemon=True)
        self.router, self.ring, self.schedule, self.length = router, ring, schedule, length
        self.verify, self.current = verify, schedule[0][1]
        self.pauses = random.Random(len(schedule))
        self.started = threading.Event()
        self.seen_after, self.why, self.error, self.healed_at = None, "", None, None

    def run(self):
        try:
            self.start_at = time.monotonic()
            for off, groups in self.schedule:
                sleep_until(self.start_at + off)
                self.router.split(groups)
                self.current = groups
                self.started.set()
                if self.verify:
                    self._wait_views(groups)
                self._pause_one()
            sleep_until(self.start_at + self.length)
        except Exception as e:  # reported by the main thread
            self.error = e
        finally:
            self.started.set()
            try:
                self.router.heal()
                self.healed_at = time.monotonic()
            except Exception as e:
                self.error = self.error or e

    def _pause_one(self):
        """With LOCUS_PARTITION_PAUSE_S: stop one node (SIGSTOP) for that long, as a machine
        too loaded to run it would, then let it go on (SIGCONT)."""
        pause = float(os.environ.get("LOCUS_PARTITION_PAUSE_S", "0"))
        if pause <= 0:
            return
        i = self.pauses.randrange(len(self.ring.nodes))
        n = self.ring.nodes[i]
        print("# n%d stopped for %.1f s at +%.1f s of the phase" %
              (i, pause, time.monotonic() - self.start_at), flush=True)
        n.proc.send_signal(signal.SIGSTOP)
        time.sleep(pause)
        n.proc.send_signal(signal.SIGCONT)

    def _wait_views(self, groups):
        # T_fail is 2 s: the deaths are declared, and gossiped, within a few seconds
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            ok, self.why = side_views(self.ring, groups)
            if ok:
                self.seen_after = time.monotonic() - self.start_at
                return
            time.sleep(0.25)


def sleep_until(when):
    time.sleep(max(0.0, when - time.monotonic()))


# ---------------------------------------------------------------------------------------------
# The workload: every write, what it meant to do, and what became of it.


class Write:
    """One REGISTER. effects: {contact URI: expiry in s, 0 for a removal}, or ALL."""

    def __init__(self, no, phase, kind, aor, headers, effects, node, side):
        self.no, self.phase, self.kind, self.aor = no, phase, kind, aor
        self.headers, self.effects, self.node, self.side = headers, effects, node, side
        self.cid = None
        self.sent = self.end = None  # first transmission; final answer or giving up
        self.status = None  # None: no answer after every retransmission

    @property
    def acked(self):
        return self.status == 200


class Workload:
    """The writes of one seed. `intended` is the workload's own idea of each AOR's contacts, used
    only to pick sensible targets; `uris` is every contact URI ever written per AOR."""

    def __init__(self, rnd, seed):
        self.rnd, self.seed = rnd, seed
        self.writes, self.intended, self.uris = [], {}, {}
        self.ops = 0  # operations made: names new contacts and picks expiries

    def new_aor(self):
        aor = "sip:p%03d@example.com" % len(self.uris)
        self.uris[aor], self.intended[aor] = set(), set()
        return aor

    def _op(self, kind, aor, uri=None):
        """(kind, headers, effects) of one operation on aor, and the model updated."""
        live = sorted(self.intended[aor])
        if kind in ("refresh", "remove") and uri is None:
            if not live:
                kind = "add"  # nothing to refresh or remove
            else:
                uri = self.rnd.choice(live)
        # a distinct expiry per operation, far from the initial 3600, so the expiry seen says
        # which write a contact's state comes from
        self.ops += 1
        expires = 600 + 7 * (self.ops % 400)
        if kind == "refresh":
            return kind, ["Contact: <%s>" % uri, "Expires: %d" % expires], {uri: expires}
        if kind == "remove":
            self.intended[aor].discard(uri)
            return kind, ["Contact: <%s>;expires=0" % uri], {uri: 0}
        if kind == "clear":
            self.intended[aor].clear()
            return kind, ["Contact: *", "Expires: 0"], ALL
        uri = "sip:%s-o%d@ua.invalid" % (user(aor), self.ops)
        self.intended[aor].add(uri)
        self.uris[aor].add(uri)
        return kind, ["Contact: <%s>" % uri, "Expires: %d" % expires], {uri: expires}

    def _write(self, batch, phase, kind, aor, headers, effects, node, side, nodes):
        w = Write(len(self.writes), phase, kind, aor, headers, effects, node, side)
        self.writes.append(w)
        w.cid = "w%d-%d-%d" % (self.seed, w.no, os.getpid())
        return batch.request("REGISTER", "sip:example.com", nodes[node].sip, w.cid,
                             to="<%s>" % aor, headers=headers)

    def initial(self, batch, nodes):
        """Requests registering N_AORS AORs with 1-2 contacts each, through random nodes."""
        reqs = []
        for _ in range(N_AORS):
            aor = self.new_aor()
            uris = ["sip:%s-c%d@ua.invalid" % (user(aor), k) for k in range(self.rnd.randint(1, 2))]
            self.uris[aor].update(uris)
            self.intended[aor].update(uris)
            headers = ["Contact: <%s>" % u for u in uris] + ["Expires: 3600"]
            reqs.append(self._write(batch, "initial", "initial", aor, headers,
                                    {u: 3600 for u in uris}, self.rnd.randrange(len(nodes)),
                                    0, nodes))
        return reqs

    def during(self, batch, phase, nodes, split_now, until):
        """Writes until `until`, each decided when it is sent, through a node of either side of
        the split in force (split_now()) in turn."""
        hot = self.rnd.sample(sorted(self.uris), HOT_AORS)
        kinds = ["refresh"] * 25 + ["add"] * 15 + ["remove"] * 15 + ["clear"] * 6 + \
                ["new-aor"] * 10 + ["pair"] * 29
        side = 0
        while time.monotonic() < until:
            groups = split_now()
            kind = self.rnd.choice(kinds)
            aor = self.rnd.choice(hot if self.rnd.random() < 0.5 else sorted(self.uris))
            if kind == "pair":
                for k, (op, hdrs, eff) in enumerate(self._pair(aor)):
                    s = (side + k) % 2
                    yield self._write(batch, phase, op, aor, hdrs, eff,
                                      self.rnd.choice(groups[s]), s, nodes)
            else:
                if kind == "new-aor":
                    aor = self.new_aor()
                    _, hdrs, eff = self._op("add", aor)
                else:
                    kind, hdrs, eff = self._op(kind, aor)
                yield self._write(batch, phase, kind, aor, hdrs, eff, self.rnd.choice(groups[side]),
                                  side, nodes)
            side ^= 1

    def _pair(self, aor):
        """Two operations on different contacts of aor, for the two sides: both must survive."""
        live = sorted(self.intended[aor])
        if len(live) >= 2:
            c1, c2 = self.rnd.sample(live, 2)
            a = self._op(self.rnd.choice(["refresh", "remove"]), aor, c1)
            b = self._op(self.rnd.choice(["refresh", "remove"]), aor, c2)
        else:
            a = self._op("refresh" if live else "add", aor)
            b = self._op("add", aor)
        return [("pair-" + a[0],) + a[1:], ("pair-" + b[0],) + b[1:]]

    def settle(self, batch, answers, phase):
        """Copy the batch's times and answers into the phase's writes."""
        for w in self.writes:
            if w.phase != phase:
                continue
            r = answers.get(w.cid)
            w.sent = batch.sent_at[w.cid]
            w.status = r.status if r is not None else None
            w.end = batch.answered_at[w.cid] if r is not None else batch.gave_up_at[w.cid]

    def history(self):
        """{aor: {uri: [(write, expiry or 0)]}} in send order; a `Contact: *` touches every URI
        of its AOR, also those first written later (real time orders them)."""
        h = {aor: {u: [] for u in uris} for aor, uris in self.uris.items()}
        for w in self.writes:
            if w.effects == ALL:
                for u in h[w.aor]:
                    h[w.aor][u].append((w, 0))
            else:
                for u, e in w.effects.items():
                    h[w.aor][u].append((w, e))
        return h


def user(aor):
    return aor.split(":", 1)[1].split("@", 1)[0]


# ---------------------------------------------------------------------------------------------
# Reading the state back, and the checker.


class Queries:
    """Every AOR asked through every node (a REGISTER without Contact)."""

    def __init__(self, batch, nodes):
        self.batch, self.nodes, self.round = batch, nodes, 0

    def ask(self, aors):
        """{aor: [per node: None (no 200) or {uri: (earliest, latest) absolute expiry}]}."""
        self.round += 1
        keys, reqs = {}, []
        for aor in aors:
            for i, n in enumerate(self.nodes):
                cid = "q%d-%d-%s-%d" % (self.round, i, user(aor), os.getpid())
                keys[cid] = (aor, i)
                reqs.append(self.batch.request("REGISTER", "sip:example.com", n.sip, cid,
                                               to="<%s>" % aor))
        ans = self.batch.run(reqs)
        out = {aor: [None] * len(self.nodes) for aor in aors}
        for cid, (aor, i) in keys.items():
            r = ans.get(cid)
            if r is None or r.status != 200:
                continue
            lo, hi = self.batch.sent_at[cid], self.batch.answered_at[cid]
            seen = {}
            for uri, params in r.contacts():
                x = int(params.get("expires", "-1"))
                seen[uri] = (lo + x - 1, hi + x + 1)
            out[aor][i] = seen
        return out


def overlap(a, b, slack=0.0):
    return a[0] - slack <= b[1] and b[0] - slack <= a[1]


def same(a, b):
    """Whether two answers for one AOR give the same contacts with the same expiries."""
    return (a is not None and b is not None and set(a) == set(b) and
            all(overlap(a[u], b[u], SLACK_S) for u in a))


def disagreeing(answers):
    """AORs whose answers differ between nodes (or that a node did not answer)."""
    return [aor for aor, per_node in answers.items()
            if not all(same(per_node[0], s) for s in per_node)]


def changed(before, after):
    """AORs whose (agreed) answer differs between two rounds of queries."""
    return [aor for aor in after if not same(before[aor][0], after[aor][0])]


def maximal(events):
    """The events no acknowledged event follows: (write or None for "before any write", effect).
    An event follows another when it was sent after the other's end."""
    acked = [w for w, _ in events if w.acked]
    out = [] if acked else [(None, 0)]  # before any write the contact was absent
    for w, e in events:
        if not any(w.end < a.sent for a in acked):
            out.append((w, e))
    return out


def explains(event, seen):
    w, e = event
    if e == 0:
        return seen is None
    return seen is not None and overlap((w.sent + e, w.end + e), seen, SLACK_S)


def classify(allowed, seen):
    if seen is None or any(e > 0 for _, e in allowed):
        return "lost"  # absent, or present with an expiry that no qualifying write gave it
    if any(w is not None and w.acked for w, _ in allowed):
        return "undone"
    return "unexplained"


def check(wl, answers):
    """{(kind, aor, uri): (allowed events, {node: seen})} of every state no write explains."""
    found = {}
    history = wl.history()
    for aor, per_node in answers.items():
        uris = set(history.get(aor, {}))
        for s in per_node:
            uris.update(s or {})
        for uri in sorted(uris):
            allowed = maximal(history.get(aor, {}).get(uri, []))
            for i, s in enumerate(per_node):
                if s is None:
                    continue
                seen = s.get(uri)
                if any(explains(ev, seen) for ev in allowed):
                    continue
                key = (classify(allowed, seen), aor, uri)
                found.setdefault(key, (allowed, {}))[1][i] = seen
    return found


# ---------------------------------------------------------------------------------------------
# One seed.


class Seed:
    def __init__(self, t, prefix, seed, logs_shown):
        self.t, self.prefix, self.seed = t, prefix, seed
        self.logs_shown = logs_shown  # a one-element list: whether node logs were printed yet
        self.rnd = random.Random(seed)
        self.router = Router()
        self.known = set()  # violations of the last check, to tell the new ones

    def rel(self, when):
        return when - self.t0

    def ok(self, cond, name, detail=None):
        res = self.t.ok(cond, "seed %d: %s" % (self.seed, name), detail)
        if not res and not self.logs_shown[0]:
            self.logs_shown[0] = True
            for i, n in enumerate(self.ring.nodes):
                print("# last lines of n%d's log (%s):" % (i, n.log_path))
                for line in n.logs().splitlines()[-15:]:
                    print("#   " + line)
        return res

    def plan(self):
        """The splits, drawn before any operation, so the same seed always cuts the same way."""
        ids = list(range(NODES))
        self.rnd.shuffle(ids)
        two_three = (sorted(ids[:2]), sorted(ids[2:]))
        self.rnd.shuffle(ids)
        one_four = (sorted(ids[:1]), sorted(ids[1:]))
        splits = set()
        while len(splits) < 2:
            self.rnd.shuffle(ids)
            splits.add((tuple(sorted(ids[:2])), tuple(sorted(ids[2:]))))
        s1, s2 = sorted(splits)
        flap, off, k = [], 0.0, 0
        while off < PARTITION_S:
            flap.append((off, [list(g) for g in (s1 if k % 2 == 0 else s2)]))
            off += self.rnd.uniform(2.0, 3.0)
            k += 1
        return [("partition " + split_name(two_three), [(0.0, two_three)], True),
                ("partition " + split_name(one_four), [(0.0, one_four)], True),
                ("flapping %s / %s" % (split_name(s1), split_name(s2)), flap, False)]

    def run(self):
        self.t0, wall = time.monotonic(), time.time()
        print("# seed %d starts at %s.%03dZ (the times below are relative to it)"
              % (self.seed, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(wall)),
                 int(wall * 1000) % 1000), flush=True)
        phases = self.plan()
        only = [p for p in os.environ.get("LOCUS_PARTITION_PHASES", "").split(",") if p]
        if only:
            phases = [ph for ph in phases if any(ph[0].startswith(o) for o in only)]
        extra = os.environ.get("LOCUS_PARTITION_FLAGS", "").split()
        cpus = {int(c) for c in os.environ.get("LOCUS_PARTITION_CPUS", "").split(",") if c}
        self.ring = Ring(0, flags=["--replicas", str(R)] + extra, workers=1, cpus=cpus or None)
        self.batch = SipBatch(window=64, timeout=0.5, tries=6, t2=4.0, host=CLIENT)
        failed_before = self.t.failed
        try:
            try:
                for i in range(NODES):
                    self.ring.add(via=0, host=node_addr(i), ports=(SIP_PORT, LSP_PORT, ADMIN_PORT),
                                  prefix=["ip", "netns", "exec", "%s-n%d" % (self.prefix, i)])
            except RuntimeError as e:
                self.ok(False, "%d nodes start in their namespaces" % NODES, e)
                return
            took = self.ring.wait_converged(timeout=CONVERGE_S)
            if not self.ok(took is not None, "%d nodes in namespaces converge (%.1f s)"
                           % (NODES, took or -1), self.ring.why):
                return
            self.queries = Queries(SipBatch(window=64, timeout=0.5, tries=4, t2=4.0, host=CLIENT),
                                   self.ring.nodes)
            self.wl = Workload(self.rnd, self.seed)
            self.register_initial()
            self.check_state("before any partition")
            for name, schedule, verify in phases:
                self.phase(name, schedule, verify)
        finally:
            self.router.heal()
            self.finish(self.t.failed > failed_before)

    def register_initial(self):
        ans = self.batch.run(self.wl.initial(self.batch, self.ring.nodes))
        self.wl.settle(self.batch, ans, "initial")
        bad = [(w.aor, w.status) for w in self.wl.writes if not w.acked]
        self.ok(not bad, "%d AORs registered through random nodes, all answered 200 (%d were not)"
                % (N_AORS, len(bad)), bad[:5])

    def sync_totals(self):
        """The nodes' range sync counters summed (`locusctl node`): what repair has cost so far."""
        keys = ("bytes_sent", "frames_sent", "entries_sent", "handoffs", "pushes")
        total = dict.fromkeys(keys, 0)
        for n in self.ring.nodes:
            sync = (self.ring.info(n) or {}).get("sync") or {}
            for k in keys:
                total[k] += sync.get(k, 0)
        return total

    def phase(self, name, schedule, verify):
        nodes = self.ring.nodes
        before = self.sync_totals()
        p = Partitioner(self.router, self.ring, schedule, PARTITION_S, verify)
        p.start()
        p.started.wait(10)
        start = time.monotonic()
        writes = self.wl.during(self.batch, name, nodes, lambda: p.current, start + PARTITION_S)
        ans = self.batch.run(writes, pace=PACE_S)
        p.join(PARTITION_S + 30)
        self.wl.settle(self.batch, ans, name)
        print("# seed %d %s: from +%.1f s, healed at +%.1f s, last write settled at +%.1f s, "
              "%d packets dropped so far" % (self.seed, name, self.rel(p.start_at),
                                             self.rel(p.healed_at or 0), self.rel(time.monotonic()),
                                             self.router.dropped), flush=True)
        self.ok(p.error is None, "%s: the partition rules applied and removed" % name, p.error)
        if verify:
            self.ok(p.seen_after is not None, "%s: each side sees only itself (after %.1f s)"
                    % (name, p.seen_after or -1), p.why)
        self.write_counts(name, schedule)
        took = self.ring.wait_converged(timeout=CONVERGE_S)
        alive = all(n.alive() for n in nodes)
        self.ok(took is not None and alive, "%s healed: the %d nodes converge (%.1f s)"
                % (name, NODES, took or -1), self.ring.why if alive else "a node exited")
        self.check_state("after " + name)
        after = self.sync_totals()
        # the cost of repair (bench/results/ records it): range transfers during the partition
        # and until the state settled after the heal, over all nodes
        print("# seed %d %s: repair traffic %d bytes in %d frames, %d entries sent, %d hand-offs, "
              "%d pushes" % (self.seed, name, after["bytes_sent"] - before["bytes_sent"],
                             after["frames_sent"] - before["frames_sent"],
                             after["entries_sent"] - before["entries_sent"],
                             after["handoffs"] - before["handoffs"],
                             after["pushes"] - before["pushes"]), flush=True)

    def write_counts(self, name, schedule):
        """Counts per side as TAP diagnostics; both sides must have answered writes. A flapping
        phase's side 0 and 1 are the first and second group of whichever split was in force."""
        splits = [g for _, g in schedule]
        label = [" / ".join(sorted(set(group_name(g[k]) for g in splits))) for k in (0, 1)]
        answered = []
        for side in (0, 1):
            ws = [w for w in self.wl.writes if w.phase == name and w.side == side]
            st = [w.status for w in ws]
            n200, n503, none = st.count(200), st.count(503), st.count(None)
            others = [s for s in st if s not in (200, 503, None)]
            print("# seed %d %s: side %d (%s): %d writes, %d acknowledged, %d 503, %d timeouts, "
                  "%d other statuses %s" % (self.seed, name, side, label[side], len(ws), n200,
                                            n503, none, len(others), sorted(set(others))),
                  flush=True)
            answered.append(len(ws) - none)
        self.ok(all(answered), "%s: writes through both sides were answered %s" % (name, answered))

    def settle(self, aors):
        """Ask until every node gives the same answers and they stayed the same for STABLE_S
        (longer than a range sync round, so the repair a heal starts has run), or AGREE_S passed.
        Returns the last answers, the AORs they disagree on and those that were still changing."""
        start = time.monotonic()
        base = base_at = None  # the agreed answers, and when they were first seen
        moving = list(aors)  # what changed when base was last replaced (all: not seen twice yet)
        while True:
            answers = self.queries.ask(aors)
            now = time.monotonic()
            bad = disagreeing(answers)
            if bad:
                base = None
            elif base is None or changed(base, answers):
                moving = list(aors) if base is None else changed(base, answers)
                base, base_at = answers, now
            elif now - base_at >= STABLE_S:
                return answers, [], [], now - start
            if now - start > AGREE_S:
                return answers, bad, [] if bad else moving, now - start
            time.sleep(2.0)

    def check_state(self, label):
        aors = sorted(self.wl.uris)
        answers, bad, moving, waited = self.settle(aors)
        self.ok(not bad, "%s: all nodes give the same contacts for all %d AORs (%d disagree)"
                % (label, len(aors), len(bad)),
                "\n".join(self.show_disagreement(aor, answers) for aor in bad[:5]))
        self.ok(not moving, "%s: the answers stay the same for %.0f s (settled after %.1f s; %d "
                "AORs still changing)" % (label, STABLE_S, waited, len(moving)), moving[:5])
        found = check(self.wl, answers)
        print("# seed %d %s: judged at +%.1f s" % (self.seed, label, self.rel(time.monotonic())),
              flush=True)
        new = set(found) - self.known
        self.known = set(found)
        counts = {k: sum(1 for f in found if f[0] == k) for k in ("lost", "undone", "unexplained")}
        fresh = {k: sum(1 for f in new if f[0] == k) for k in counts}
        # the kinds of each: a lost contact or a lost refresh (an older expiry); a removal of the
        # contact itself undone, or a `Contact: *` that (also) removed it
        stale = sum(1 for f in found if f[0] == "lost" and any(found[f][1].values()))
        star = sum(1 for f in found if f[0] == "undone" and
                   any(w is not None and w.effects == ALL for w, _ in found[f][0]))
        print("# seed %d %s: %d lost writes (%d new; %d of them refreshes), %d undone removals "
              "(%d new; %d of them by a Contact: *), %d unexplained (%d new), %d disagreeing AORs"
              % (self.seed, label, counts["lost"], fresh["lost"], stale, counts["undone"],
                 fresh["undone"], star, counts["unexplained"], fresh["unexplained"], len(bad)),
              flush=True)
        what = {"lost": "no acknowledged write lost",
                "undone": "no acknowledged removal undone",
                "unexplained": "no contact state that no write explains"}
        for kind, text in what.items():
            items = sorted(f for f in found if f[0] == kind)
            self.ok(not items, "%s: %s (%d contacts)" % (label, text, len(items)),
                    "\n".join(self.show(f, found[f]) for f in items[:SHOW]) +
                    ("\n... and %d more" % (len(items) - SHOW) if len(items) > SHOW else ""))

    def show_disagreement(self, aor, answers):
        parts = []
        for i, s in enumerate(answers[aor]):
            parts.append("n%d: %s" % (i, "no answer" if s is None else sorted(s) or "none"))
        return "%s: %s" % (aor, "; ".join(parts))

    def state(self, seen):
        if seen is None:
            return "absent"
        return "present, expiring at +%.0f..+%.0f s" % (self.rel(seen[0]), self.rel(seen[1]))

    def effect(self, event):
        w, e = event
        if w is None:
            return "absent (never written)"
        if e == 0:
            return "absent (w%d)" % w.no
        return "present, expiring at +%.0f..+%.0f s (w%d)" % (self.rel(w.sent + e),
                                                              self.rel(w.end + e), w.no)

    def show(self, key, found):
        kind, aor, uri = key
        allowed, seen = found
        lines = ["%s: %s <%s>" % (kind, aor, uri),
                 "  expected one of: " + "; ".join(self.effect(ev) for ev in allowed)]
        for i, s in sorted(seen.items()):
            lines.append("  seen at n%d: %s" % (i, self.state(s)))
        lines.append("  history:")
        for w, e in self.wl.history()[aor].get(uri, []):
            lines.append("    w%d %s, %s, sent +%.2f, ended +%.2f, n%d (side %d): %s -> %s"
                         % (w.no, w.phase, w.kind, self.rel(w.sent), self.rel(w.end), w.node,
                            w.side, "expires %d" % e if e else "remove",
                            w.status or "no answer"))
        return "\n".join(lines)

    def finish(self, failed):
        """Stop the nodes (each must exit 0); on failure keep their logs where they can be read."""
        if failed:
            keep = tempfile.mkdtemp(prefix="locus-partition-seed%d-" % self.seed)
            for i, n in enumerate(self.ring.nodes):
                with open(os.path.join(keep, "n%d.log" % i), "w") as f:
                    f.write(n.logs())
            print("# seed %d: the nodes' logs are kept in %s" % (self.seed, keep), flush=True)
        statuses = [n.stop() for n in self.ring.nodes]
        self.batch.close()
        if hasattr(self, "queries"):
            self.queries.batch.close()
        self.t.ok(all(s == 0 for s in statuses), "seed %d: every node exits 0 on SIGTERM (%.0f s "
                  "for the seed)" % (self.seed, time.monotonic() - self.t0), statuses)


def inner():
    t = Tap()
    prefix = os.environ["LOCUS_PT_PREFIX"]
    seeds = [int(s) for s in os.environ.get("LOCUS_PARTITION_SEEDS", "1,2").split(",") if s.strip()]
    logs_shown = [False]
    for seed in seeds:
        Seed(t, prefix, seed, logs_shown).run()
    return t.done()


if __name__ == "__main__":
    sys.exit(inner() if os.environ.get("LOCUS_PT_PREFIX") else outer())
