/* SPDX-License-Identifier: MIT */
/*
 * Who may sync what (dht/dht_sync.h, docs/overlay.md section 6.4): arc containment and
 * intersection checked against every point that can decide them (ends, wrap, whole ring) over
 * random arcs; a member's arcs in a one-hop view (owned, held, whole ring in a small ring) and in a
 * partial one (what the stretch of predecessor, self and successors tells, and the whole ring
 * beyond); members at their own address only; the digest rules of PULL, PUSH and HANDOFF in a
 * ring of six, each at its slack and one node past it, from strangers, from self, from a member
 * at another address; the arc a node takes transfer entries in; and the widened chain of a key.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dht/dht_ring.h"
#include "dht/dht_sync.h"
#include "dht/lsp_ovl.h"
#include "tests/prng.h"
#include "tests/tap.h"

static dht_id_t rnd_id(void)
{
	return (dht_id_t)rnd() << 64 | rnd();
}

/* ---- arcs --------------------------------------------------------------------------------- */

/* A random arc: anywhere, short, ending near 2^128, starting near 0, or the whole ring. */
static struct dht_sync_range rnd_arc(void)
{
	dht_id_t lo = rnd_id(), len = rnd_id();
	switch (below(6)) {
	case 0:
		len = 1 + below(1000);
		break;
	case 1:
		lo = ~(dht_id_t)0 - below(50);
		len = 1 + below(100);
		break;
	case 2:
		lo = below(50);
		break;
	case 3:
		len = 0; /* the whole ring */
		break;
	default:
		break;
	}
	return (struct dht_sync_range){lo, lo + len};
}

/* The points that decide containment and intersection of @p a and @p b: each end, one past and
 * one before it, 0 and 2^128 - 1, and a few random ones. */
static unsigned probes(const struct dht_sync_range *a, const struct dht_sync_range *b, dht_id_t *p)
{
	unsigned n = 0;
	const dht_id_t ends[4] = {a->lo, a->hi, b->lo, b->hi};
	for (unsigned i = 0; i < 4; i++) {
		p[n++] = ends[i] - 1;
		p[n++] = ends[i];
		p[n++] = ends[i] + 1;
	}
	p[n++] = 0;
	p[n++] = ~(dht_id_t)0;
	for (unsigned i = 0; i < 4; i++) {
		p[n++] = rnd_id();
	}
	return n;
}

static void test_arcs(void)
{
	unsigned bad_within = 0, bad_inter = 0, checked = 0, inside = 0, two = 0;
	for (unsigned trial = 0; trial < 200000; trial++) {
		struct dht_sync_range a = rnd_arc(), b = below(4) == 0 ? a : rnd_arc(), out[2];
		if (below(4) == 0 && a.lo != a.hi) {
			/* an arc inside another, or touching its ends */
			dht_id_t len = dht_dist(a.lo, a.hi);
			dht_id_t off = len > 1 ? (dht_id_t)rnd() % len : 0;
			b = (struct dht_sync_range){a.lo + off, a.lo + off + (len - off) / 2 + 1};
		}
		dht_id_t p[20];
		unsigned np = probes(&a, &b, p);
		/* b lies in a exactly when no point of b is outside a; these points decide it: b
		 * passes an end of a (a.lo, a.hi + 1) or lies wholly on one side (its own ends) */
		bool want = true;
		for (unsigned i = 0; i < np; i++) {
			want &= !(dht_sync_in_range(&b, p[i]) && !dht_sync_in_range(&a, p[i]));
		}
		bool got = dht_sync_range_within(&b, &a);
		bad_within += got != want;
		inside += got;
		unsigned n = dht_sync_range_intersect(&a, &b, out);
		two += n == 2;
		for (unsigned i = 0; i < np; i++) {
			bool in_both = dht_sync_in_range(&a, p[i]) && dht_sync_in_range(&b, p[i]);
			unsigned hits = 0;
			for (unsigned k = 0; k < n; k++) {
				hits += dht_sync_in_range(&out[k], p[i]);
			}
			bad_inter += hits != (in_both ? 1u : 0u); /* exactly one piece, or none */
			checked++;
		}
	}
	ok(bad_within == 0,
	   "dht_sync_range_within agrees with its deciding points (%u of 200000 "
	   "pairs inside, %u wrong)",
	   inside, bad_within);
	ok(bad_inter == 0 && two > 0,
	   "dht_sync_range_intersect: every probe is in exactly one piece when in both arcs, else "
	   "in none (%u probes, %u pairs of two pieces, %u wrong)",
	   checked, two, bad_inter);
	struct dht_sync_range whole = {5, 5}, part = {7, 9}, out[2];
	ok(dht_sync_range_within(&part, &whole) && !dht_sync_range_within(&whole, &part) &&
		   dht_sync_range_within(&whole, &whole),
	   "the whole ring holds every arc and lies in no smaller one");
	dht_id_t top = ~(dht_id_t)0;
	struct dht_sync_range wrap = {top - 10, 10}, head = {top - 10, top}, tail = {top, 10};
	ok(dht_sync_range_within(&head, &wrap) && dht_sync_range_within(&tail, &wrap) &&
		   !dht_sync_range_within(&wrap, &head),
	   "arcs across 2^128");
	struct dht_sync_range b1 = {100, 200}, a1 = {150, 120}; /* a1 wraps round past b1's ends */
	unsigned n = dht_sync_range_intersect(&a1, &b1, out);
	ok(n == 2 &&
		   ((out[0].lo == 100 && out[0].hi == 120 && out[1].lo == 150 &&
		     out[1].hi == 200) ||
		    (out[1].lo == 100 && out[1].hi == 120 && out[0].lo == 150 && out[0].hi == 200)),
	   "an arc that wraps round another shares two pieces with it");
	struct dht_sync_range c1 = {200, 300};
	is_int(dht_sync_range_intersect(&b1, &c1, out), 0, "adjacent arcs share nothing");
}

/* ---- tables ------------------------------------------------------------------------------- */

static struct dht_addr addr_of(unsigned i)
{
	struct dht_addr a = {.family = AF_INET, .port = 7400};
	a.addr[0] = 10;
	a.addr[3] = (uint8_t)(i + 1);
	return a;
}

/*
 * A table of the ring of nodes with ids @p ids (ascending), seen from node @p me, R = @p r:
 * with the complete view when @p one_hop, else predecessor and @p nsucc successors.
 */
static struct dht_route *table(const dht_id_t *ids, unsigned n, unsigned me, unsigned r,
			       bool one_hop, unsigned nsucc)
{
	struct dht_route *rt = dht_route_new(n);
	if (rt == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	rt->replicas = r;
	rt->self = (struct dht_peer){.id = ids[me], .addr = addr_of(me)};
	rt->has_pred = n > 1;
	rt->pred =
		(struct dht_peer){.id = ids[(me + n - 1) % n], .addr = addr_of((me + n - 1) % n)};
	for (unsigned j = 1; j <= nsucc && j < n; j++) {
		unsigned k = (me + j) % n;
		rt->succ[rt->nsucc++] = (struct dht_peer){.id = ids[k], .addr = addr_of(k)};
	}
	rt->one_hop = one_hop;
	if (one_hop) {
		for (unsigned i = 0; i < n; i++) {
			rt->members[rt->nmembers++] =
				(struct dht_peer){.id = ids[i], .addr = addr_of(i)};
		}
	}
	dht_route_finish(rt);
	return rt;
}

/* Ring of six: A=100 B=200 C=300 D=400 E=500 F=600; this node is C, R = 3. */
enum { A, B, C, D, E, F, SIX };
static const dht_id_t six[SIX] = {100, 200, 300, 400, 500, 600};

static struct dht_peer node(unsigned i)
{
	return (struct dht_peer){.id = six[i], .addr = addr_of(i)};
}

static bool arc_is(const struct dht_route *rt, unsigned who, unsigned k, dht_id_t lo, dht_id_t hi)
{
	struct dht_sync_range a;
	return dht_sync_arc(rt, six[who], k, &a) && a.lo == lo && a.hi == hi;
}

static void test_arc_and_members(void)
{
	struct dht_route *rt = table(six, SIX, C, 3, true, 8);
	ok(arc_is(rt, C, 1, 200, 300) && arc_is(rt, C, 2, 100, 300) && arc_is(rt, A, 1, 600, 100) &&
		   arc_is(rt, A, 4, 300, 100),
	   "one-hop view: a member's arc back to its k-th predecessor, across the wrap too");
	ok(arc_is(rt, D, 6, 400, 400) && arc_is(rt, D, 9, 400, 400),
	   "k at or above the ring's size: the whole ring");
	struct dht_sync_range x;
	ok(!dht_sync_arc(rt, 250, 1, &x) && dht_sync_member(rt, 250) == NULL,
	   "a node that is not a live member has no arc");
	struct dht_peer b = node(B), wrong = node(B), stranger = {.id = 250, .addr = addr_of(9)};
	wrong.addr.port = 7401;
	struct dht_peer self = node(C);
	ok(dht_sync_from_member(rt, &b) && !dht_sync_from_member(rt, &wrong) &&
		   !dht_sync_from_member(rt, &stranger) && !dht_sync_from_member(rt, &self),
	   "a sender is a member only at the address the view has for it, and never self");
	dht_route_free(rt);

	/* without the complete view: F (pred), A (self), B, C (successors) of the ring of six */
	rt = table(six, SIX, A, 3, false, 2);
	ok(arc_is(rt, A, 1, 600, 100) && arc_is(rt, C, 2, 100, 300) && arc_is(rt, C, 3, 600, 300),
	   "partial view: arcs as far back as the stretch of predecessor, self, successors goes");
	ok(arc_is(rt, A, 2, 100, 100) && arc_is(rt, F, 1, 600, 600),
	   "beyond it the whole ring (the rules fall back to any range)");
	ok(dht_sync_member(rt, six[D]) == NULL && !dht_sync_arc(rt, six[D], 1, &x),
	   "a node the partial table does not know is no member");
	dht_route_free(rt);

	/* a ring of three with R = 3: every node holds everything */
	rt = table(six, 3, A, 3, true, 8);
	struct dht_sync_range held;
	dht_sync_held(rt, &held);
	ok(held.lo == held.hi && arc_is(rt, B, 2, 300, 200),
	   "ring of three, R = 3: a node holds the whole ring, and owns (with slack) two thirds");
	dht_route_free(rt);
}

static bool digest_ok(const struct dht_route *rt, unsigned from, unsigned mode, dht_id_t lo,
		      dht_id_t hi)
{
	struct dht_peer p = node(from);
	struct dht_sync_range r = {lo, hi};
	return dht_sync_digest_allowed(rt, &p, mode, &r);
}

static void test_digest_rules(void)
{
	/* this node is C; R = 3, slack 1: C holds (E, C], owns (A, C] with the slack */
	struct dht_route *rt = table(six, SIX, C, 3, true, 8);
	const unsigned PULL = DHT_LSP_SYNC_PULL, PUSH = DHT_LSP_SYNC_PUSH;
	const unsigned HANDOFF = DHT_LSP_SYNC_HANDOFF;
	ok(digest_ok(rt, B, PULL, 100, 200) && digest_ok(rt, B, PULL, 150, 200) &&
		   digest_ok(rt, B, PULL, 600, 200),
	   "PULL: B may pull what it owns, and what it owns once A dies (the slack)");
	ok(!digest_ok(rt, B, PULL, 500, 200) && !digest_ok(rt, B, PULL, 200, 300) &&
		   !digest_ok(rt, B, PULL, 200, 200) && !digest_ok(rt, B, PULL, 100, 250),
	   "PULL refused: one node past the slack, C's range, the whole ring, beyond B");
	ok(digest_ok(rt, B, PUSH, 100, 200) && digest_ok(rt, A, PUSH, 600, 100) &&
		   digest_ok(rt, F, PUSH, 500, 600),
	   "PUSH: owners of the ranges C replicates, and F, whose third successor C is (slack)");
	ok(!digest_ok(rt, E, PUSH, 400, 500) && !digest_ok(rt, D, PUSH, 300, 400) &&
		   !digest_ok(rt, B, PUSH, 200, 300) && !digest_ok(rt, B, PUSH, 500, 200),
	   "PUSH refused: a range C does not hold, a range the sender does not own");
	ok(digest_ok(rt, E, HANDOFF, 200, 300) && digest_ok(rt, F, HANDOFF, 100, 300) &&
		   digest_ok(rt, A, HANDOFF, 250, 300),
	   "HANDOFF: anyone may give C what C owns (B's range too: the slack)");
	ok(!digest_ok(rt, E, HANDOFF, 600, 300) && !digest_ok(rt, E, HANDOFF, 300, 400) &&
		   !digest_ok(rt, E, HANDOFF, 300, 300),
	   "HANDOFF refused: past the slack, another's range, the whole ring");
	struct dht_peer stranger = {.id = 250, .addr = addr_of(9)}, self = node(C);
	struct dht_peer moved = node(B);
	moved.addr.port = 7500;
	struct dht_sync_range mine = {200, 300}, bs = {100, 200};
	ok(!dht_sync_digest_allowed(rt, &stranger, HANDOFF, &mine) &&
		   !dht_sync_digest_allowed(rt, &self, HANDOFF, &mine) &&
		   !dht_sync_digest_allowed(rt, &moved, PULL, &bs) &&
		   !digest_ok(rt, B, 3, 100, 200) &&
		   !digest_ok(rt, B, DHT_LSP_SYNC_MERGE, 100, 200),
	   "refused: a stranger, self, a member's id at another address, a mode no digest has");
	struct dht_sync_range held;
	dht_sync_held(rt, &held);
	ok(held.lo == 500 && held.hi == 300, "entries are taken in (E, C]: R + slack nodes back");
	dht_route_free(rt);
}

static void test_chain(void)
{
	struct dht_route *rt = table(six, SIX, C, 3, true, 8);
	/* key 150: owner B, chain B C D, and E with the slack */
	ok(dht_sync_in_chain(rt, 150, six[B]) && dht_sync_in_chain(rt, 150, six[C]) &&
		   dht_sync_in_chain(rt, 150, six[D]) && dht_sync_in_chain(rt, 150, six[E]),
	   "a key's chain: its owner, R - 1 successors, and one more (the slack)");
	ok(!dht_sync_in_chain(rt, 150, six[F]) && !dht_sync_in_chain(rt, 150, six[A]) &&
		   !dht_sync_in_chain(rt, 150, 250),
	   "not in it: the nodes after, the one before, a stranger");
	ok(dht_sync_in_chain(rt, 650, six[A]) && dht_sync_in_chain(rt, 650, six[D]) &&
		   !dht_sync_in_chain(rt, 650, six[E]) && dht_sync_in_chain(rt, 600, six[F]),
	   "across the wrap (key 650 is A's) and at a node's own id");
	dht_route_free(rt);
}

int main(void)
{
	rng_s = 0x13;
	plan(25);
	test_arcs();
	test_arc_and_members();
	test_digest_rules();
	test_chain();
	return exit_status();
}
