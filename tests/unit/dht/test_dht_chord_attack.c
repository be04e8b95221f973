/* SPDX-License-Identifier: MIT */
/*
 * Attacks on the overlay state machine's trust rules (docs/overlay.md §4, Trust). The driver
 * vouches for a message's sender and nothing else, so each test sends what a stranger or a lying
 * member could send under its own name, and checks that it changes nothing it may not:
 *
 * - answers: a forged JOIN answer (another transaction id, another sender, another type, pages
 *   replayed or out of their count), an unsolicited GET_PREDECESSOR answer;
 * - LEAVE: one that names other nodes in its successor list;
 * - deaths: gossip saying a live successor is dead (it stays until its own pings fail, then goes);
 *   "you are dead at 0xFFFFFFFF" (no wrap, no death), and a member that keeps saying "you are
 *   dead" at each new incarnation (raised at most once per T_gossip);
 * - size: a view of a million members offered in pages and in gossip; a full view still takes
 *   the neighbours Chord meets.
 *
 * Each attack is paired with the legitimate message it imitates, which must work, so that no test
 * passes merely because nothing gets through.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/lc_error.h"
#include "dht/dht_chord.h"
#include "dht/dht_ring.h"
#include "dht/dht_route.h"
#include "dht/lsp.h"
#include "tests/tap.h"
#include "tests/unit/dht/chord_sim.h"

/* ---- machines driven by hand ----------------------------------------------------------------- */

static struct dht_peer peer_at(uint32_t ip)
{
	struct dht_peer p = {.addr = {.family = AF_INET, .port = 7400}};
	uint32_t be = htonl(ip);
	memcpy(p.addr.addr, &be, 4);
	p.id = dht_node_id_of(&p.addr, SEED);
	return p;
}

/* The transaction id of the last request of @p type that @p c sent to @p to (0: none); the
 * machine's outbox is emptied. */
static uint64_t sent_txn(struct dht_chord *c, uint8_t type, const struct dht_addr *to)
{
	const struct dht_ovl *out;
	unsigned n = dht_chord_take(c, &out);
	uint64_t txn = 0;
	for (unsigned i = 0; i < n; i++) {
		if (out[i].type == type && !out[i].answer && dht_addr_equal(&out[i].to, to)) {
			txn = out[i].txn;
		}
	}
	return txn;
}

/* A message of @p type from @p from to @p to. */
static struct dht_ovl msg(uint8_t type, bool answer, uint64_t txn, const struct dht_peer *from,
			  const struct dht_peer *to)
{
	return (struct dht_ovl){.to = to->addr,
				.type = type,
				.answer = answer,
				.status = answer ? DHT_LSP_S_OK : 0,
				.txn = txn,
				.from = *from,
				.incarnation = 1};
}

static struct dht_chord_stats stats_of(struct dht_chord *c)
{
	struct dht_chord_stats st;
	dht_chord_stats(c, &st);
	return st;
}

static struct dht_chord *new_machine(const struct dht_peer *self, unsigned one_hop_max,
				     unsigned max_view)
{
	struct dht_chord_cfg cfg = {
		.incarnation = 1, .seed = rnd(), .one_hop_max = one_hop_max, .max_view = max_view};
	struct dht_chord *c = NULL;
	if (dht_chord_new(&c, &cfg, self, now) != LC_OK) {
		abort();
	}
	return c;
}

static struct dht_ovl_member alive_member(const struct dht_peer *p, uint32_t inc)
{
	return (struct dht_ovl_member){.peer = *p, .incarnation = inc, .state = DHT_MEMBER_ALIVE};
}

/* ---- answers --------------------------------------------------------------------------------- */

/* A joining node J asks B; a stranger S answers in B's stead, then B's answer is replayed. */
static void test_join_answers(void)
{
	now = 1000;
	struct dht_peer j = peer_at(0x0a000101), b = peer_at(0x0a000102), s = peer_at(0x0a090909);
	struct dht_peer x = peer_at(0x0a000103), y = peer_at(0x0a000104), z = peer_at(0x0a000105);
	struct dht_chord *c = new_machine(&j, 0, 0);
	dht_chord_join(c, &b.addr, now);
	uint64_t txn = sent_txn(c, DHT_LSP_JOIN, &b.addr);

	struct dht_ovl_member capture[2] = {alive_member(&s, 1), alive_member(&x, 1)};
	struct dht_ovl a = msg(DHT_LSP_JOIN, true, txn + 1, &s, &j);
	a.members = capture;
	a.nmembers = 2;
	dht_chord_on_msg(c, &a, now); /* S, another transaction id */
	a.txn = txn;
	dht_chord_on_msg(c, &a, now); /* S, the right id: S is not whom J asked */
	a.from = b;
	a.type = DHT_LSP_MEMBERSHIP;
	dht_chord_on_msg(c, &a, now); /* B, the right id, another type */
	struct dht_chord_stats st = stats_of(c);
	ok(!st.joined && st.view_alive == 1 && st.answers_unsolicited == 3,
	   "a JOIN answered by a stranger, with another txn id or another type: not joined, view "
	   "of %u, %llu dropped",
	   st.view_alive, (unsigned long long)st.answers_unsolicited);

	/* B's answer in two pages, the first also saying Z is dead */
	struct dht_ovl_member page0[3] = {alive_member(&b, 1),
					  alive_member(&x, 1),
					  {.peer = z, .incarnation = 1, .state = DHT_MEMBER_DEAD}};
	struct dht_ovl_member page1[1] = {alive_member(&y, 1)};
	a = msg(DHT_LSP_JOIN, true, txn, &b, &j);
	a.ring_size = 3;
	a.pages = 2;
	a.members = page0;
	a.nmembers = 3;
	dht_chord_on_msg(c, &a, now);
	st = stats_of(c);
	ok(st.joined && st.view_alive == 3 && st.view_dead == 0,
	   "B's answer, page 1 of 2: joined, view of %u live (Z's death not taken: %u dead)",
	   st.view_alive, st.view_dead);
	dht_chord_on_msg(c, &a, now); /* page 0 again */
	a.page = 1;
	a.pages = 3;
	a.members = page1;
	a.nmembers = 1;
	dht_chord_on_msg(c, &a, now); /* page 1 of another count */
	st = stats_of(c);
	ok(st.view_alive == 3 && st.answers_unsolicited == 5,
	   "page 0 again, page 1 of 3: dropped (%llu)", (unsigned long long)st.answers_unsolicited);
	a.pages = 2;
	dht_chord_on_msg(c, &a, now);
	dht_chord_on_msg(c, &a, now); /* the last page again: the transaction is over */
	st = stats_of(c);
	ok(st.view_alive == 4 && st.answers_unsolicited == 6,
	   "page 1 of 2 taken (view of %u), then replayed: dropped (%llu)", st.view_alive,
	   (unsigned long long)st.answers_unsolicited);
	dht_chord_free(c);
}

/* The id just after @p id: a node there would be its successor. */
static struct dht_peer just_after(dht_id_t id, uint32_t ip)
{
	struct dht_peer p = peer_at(ip);
	p.id = id + 1;
	return p;
}

static dht_id_t succ_of(struct dht_chord *c)
{
	struct dht_route *rt = dht_chord_route(c);
	dht_id_t s = rt->nsucc > 0 ? rt->succ[0].id : 0;
	dht_route_free(rt);
	return s;
}

/* A joined node's successor answers a GET_PREDECESSOR never asked (a forged predecessor that
 * would become its successor), then the one asked, from another node and from the successor. */
static void test_predecessor_answers(void)
{
	now = 1000;
	struct dht_peer j = peer_at(0x0a000201), b = peer_at(0x0a000202), o = peer_at(0x0a000203);
	struct dht_chord *c = new_machine(&j, 0, 0);
	dht_chord_join(c, &b.addr, now);
	uint64_t txn = sent_txn(c, DHT_LSP_JOIN, &b.addr);
	struct dht_ovl_member view[2] = {alive_member(&b, 1), alive_member(&o, 1)};
	struct dht_ovl a = msg(DHT_LSP_JOIN, true, txn, &b, &j);
	a.members = view;
	a.nmembers = 2;
	dht_chord_on_msg(c, &a, now);
	dht_id_t succ = succ_of(c);
	const struct dht_peer *sp = succ == b.id ? &b : &o, *other = succ == b.id ? &o : &b;
	struct dht_peer p = just_after(j.id, 0x0a000209);

	struct dht_ovl g = msg(DHT_LSP_GET_PREDECESSOR, true, 0x1234, sp, &j);
	g.has_pred = true;
	g.pred = p;
	dht_chord_on_msg(c, &g, now);
	struct dht_chord_stats st = stats_of(c);
	ok(succ_of(c) == succ && st.view_alive == 3 && st.answers_unsolicited == 1,
	   "an unsolicited GET_PREDECESSOR answer from the successor: nothing adopted (view of "
	   "%u)",
	   st.view_alive);

	now += 1000; /* stabilize is due */
	dht_chord_tick(c, now);
	g.txn = sent_txn(c, DHT_LSP_GET_PREDECESSOR, &sp->addr);
	g.from = *other;
	dht_chord_on_msg(c, &g, now); /* asked of the successor, answered by the other */
	st = stats_of(c);
	ok(g.txn != 0 && succ_of(c) == succ && st.answers_unsolicited == 2,
	   "the txn id asked of the successor, answered by another member: dropped");
	g.from = *sp;
	dht_chord_on_msg(c, &g, now);
	ok(succ_of(c) == p.id, "answered by the successor: its predecessor is adopted");
	dht_chord_on_msg(c, &g, now);
	st = stats_of(c);
	ok(st.answers_unsolicited == 3, "the same answer again: dropped (%llu)",
	   (unsigned long long)st.answers_unsolicited);
	dht_chord_free(c);
}

/* ---- LEAVE ----------------------------------------------------------------------------------- */

static bool route_has(unsigned at, const struct dht_peer *p)
{
	refresh_route(at);
	const struct dht_route *rt = nodes[at].rt;
	for (unsigned i = 0; i < rt->nmembers; i++) {
		if (rt->members[i].id == p->id) {
			return dht_addr_equal(&rt->members[i].addr, &p->addr);
		}
	}
	return false;
}

/* Node 4 sends node 0 a LEAVE whose successor list names node 1, and node 2's id at node 4's own
 * address: only node 4 goes, and nobody's address changes. */
static void test_leave_third(void)
{
	build_ring(5);
	struct dht_ovl l = msg(DHT_LSP_LEAVE, false, 77, &nodes[4].self, &nodes[0].self);
	l.peers[0] = nodes[1].self;
	l.peers[1] = (struct dht_peer){.id = nodes[2].self.id, .addr = nodes[4].self.addr};
	l.npeers = 2;
	inject(0, &l);
	bool kept = route_has(0, &nodes[1].self) && route_has(0, &nodes[2].self) &&
		    route_has(0, &nodes[3].self);
	ok(kept && !route_has(0, &nodes[4].self),
	   "a LEAVE naming others in its successor list: only its sender leaves the view, the "
	   "others keep their addresses");
	struct dht_chord_stats st = stats_of(nodes[0].c);
	uint64_t t = run_until_converged(10000);
	ok(st.deaths_declared == 0 && t != UINT64_MAX,
	   "node 4, which did not really leave, is back (%llu ms)", (unsigned long long)t);
}

/* ---- deaths ---------------------------------------------------------------------------------- */

static unsigned index_of(dht_id_t id)
{
	for (unsigned i = 0; i < nnodes; i++) {
		if (nodes[i].self.id == id) {
			return i;
		}
	}
	abort();
}

/* MEMBERSHIP gossip from node @p liar to node @p to: @p who is dead at @p inc. */
static void claim_dead(unsigned liar, unsigned to, const struct dht_peer *who, uint32_t inc)
{
	struct dht_ovl_member e = {.peer = *who, .incarnation = inc, .state = DHT_MEMBER_DEAD};
	struct dht_ovl g =
		msg(DHT_LSP_MEMBERSHIP, false, rnd() | 1, &nodes[liar].self, &nodes[to].self);
	g.members = &e;
	g.nmembers = 1;
	inject(to, &g);
}

static void test_gossip_dead_successor(void)
{
	build_ring(8);
	unsigned s = index_of(nodes[0].rt->succ[0].id);
	unsigned liar = s == 5 ? 6 : 5;
	uint32_t inc = stats_of(nodes[s].c).incarnation;
	claim_dead(liar, 0, &nodes[s].self, inc);
	claim_dead(liar, 0, &nodes[s].self, inc + 7);
	refresh_route(0);
	bool kept_now = nodes[0].rt->succ[0].id == nodes[s].self.id;
	run_for(5000);
	struct dht_chord_stats st = stats_of(nodes[0].c);
	const char *why = "";
	bool conv = converged(&why);
	ok(kept_now && nodes[0].rt->succ[0].id == nodes[s].self.id && st.death_claims == 2 &&
		   st.deaths_declared == 0 && conv,
	   "gossip says a live successor is dead (at its incarnation and above): it stays, is "
	   "probed, and answers (%s)",
	   why);

	claim_dead(liar, 0, &nodes[s].self, inc);
	mute = (int)s; /* from now on it does not answer */
	run_for(1000);
	refresh_route(0);
	bool still = nodes[0].rt->succ[0].id == nodes[s].self.id;
	run_for(3000);
	st = stats_of(nodes[0].c);
	ok(still && nodes[0].rt->succ[0].id != nodes[s].self.id && st.deaths_declared == 1,
	   "said dead again and silent from then on: still there 1 s later, gone when its own "
	   "pings failed (T_fail)");
	mute = -1;
}

static void test_dead_at_max(void)
{
	build_ring(4);
	start_node(4, UINT32_MAX, 0);
	start_node(5, UINT32_MAX - 1, 0);
	(void)run_until_converged(30000);
	claim_dead(2, 1, &nodes[1].self, UINT32_MAX); /* above its incarnation (1): forged */
	claim_dead(2, 0, &nodes[1].self, UINT32_MAX);
	claim_dead(2, 4, &nodes[4].self, UINT32_MAX); /* its own: it cannot rise without wrapping */
	claim_dead(2, 0, &nodes[4].self, UINT32_MAX);
	claim_dead(2, 5, &nodes[5].self, UINT32_MAX - 1); /* its own, one below: refuted */
	claim_dead(2, 5, &nodes[5].self, UINT32_MAX);	  /* then at the top: not */
	struct dht_chord_stats s1 = stats_of(nodes[1].c), s4 = stats_of(nodes[4].c),
			       s5 = stats_of(nodes[5].c);
	ok(s1.incarnation == 1 && s1.refutations == 0 && s1.claims_refused == 1,
	   "\"you are dead at 0xFFFFFFFF\" to a node at 1: ignored, counted (incarnation %u)",
	   s1.incarnation);
	ok(s4.incarnation == UINT32_MAX && s4.refutations == 0 && s4.claims_refused == 1,
	   "to a node at 0xFFFFFFFF: no wrap (incarnation %#x)", s4.incarnation);
	ok(s5.incarnation == UINT32_MAX && s5.refutations == 1 && s5.claims_refused == 1,
	   "to a node at 0xFFFFFFFE: refuted once to 0xFFFFFFFF, then no wrap (%#x)",
	   s5.incarnation);
	bool all = route_has(0, &nodes[1].self) && route_has(0, &nodes[4].self);
	run_for(5000);
	const char *why = "";
	bool conv = converged(&why);
	ok(all && conv && stats_of(nodes[0].c).deaths_declared == 0,
	   "and the node told they were dead keeps them (%s)", why);
}

/* A member answers every refutation with "dead" at the new incarnation, 200 times in 2 s. */
static void test_refutation_rate(void)
{
	build_ring(3);
	uint32_t before = stats_of(nodes[1].c).incarnation;
	for (unsigned k = 0; k < 200; k++) {
		claim_dead(2, 1, &nodes[1].self, stats_of(nodes[1].c).incarnation);
		step();
	}
	uint32_t after = stats_of(nodes[1].c).incarnation;
	ok(after > before && after - before <= 3,
	   "200 claims at its own incarnation in 2 s: raised %u times (at most once per T_gossip)",
	   after - before);
	(void)run_until_converged(10000);
}

/* ---- size ------------------------------------------------------------------------------------ */

static struct dht_ovl_member page[1024];

static void fill_page(uint32_t base)
{
	for (unsigned i = 0; i < 1024; i++) {
		struct dht_peer p = peer_at(base + i);
		p.id = rnd_id();
		page[i] = alive_member(&p, 1);
	}
}

static void test_million(void)
{
	now = 1000;
	struct dht_peer j = peer_at(0x0a000301), b = peer_at(0x0a000302);
	struct dht_chord *c =
		new_machine(&j, 0, 0); /* defaults: one_hop_max 4096, max_view 16384 */
	dht_chord_join(c, &b.addr, now);
	uint64_t txn = sent_txn(c, DHT_LSP_JOIN, &b.addr);
	struct dht_ovl a = msg(DHT_LSP_JOIN, true, txn, &b, &j);
	a.pages = 1000;
	a.members = page;
	a.nmembers = 1024;
	for (unsigned p = 0; p < 1000; p++) {
		fill_page(0x0b000000u + p * 1024);
		a.page = (uint16_t)p;
		dht_chord_on_msg(c, &a, now);
		(void)sent_txn(c, 0, &b.addr); /* empty the outbox */
	}
	struct dht_chord_stats st = stats_of(c);
	unsigned held = st.view_alive + st.view_dead;
	ok(st.joined && held <= 16384 && held >= 16000 && st.members_dropped >= 1024000 - 16384,
	   "a JOIN answer of 1024000 members in 1000 pages: view of %u (max 16384), %llu dropped",
	   held, (unsigned long long)st.members_dropped);

	struct dht_ovl g = msg(DHT_LSP_MEMBERSHIP, false, 0, &b, &j);
	g.members = page;
	g.nmembers = 1024;
	for (unsigned p = 0; p < 1000; p++) {
		fill_page(0x0c000000u + p * 1024);
		g.txn = rnd() | 1;
		dht_chord_on_msg(c, &g, now);
		(void)sent_txn(c, 0, &b.addr);
	}
	st = stats_of(c);
	held = st.view_alive + st.view_dead;
	ok(held <= 16384, "and 1000 MEMBERSHIP requests of 1024 new members: view of %u", held);
	dht_chord_free(c);
}

/* A full view (max_view 64, of gossip) still takes a node Chord meets next to it, displacing the
 * farthest entry; a node farther than every entry is dropped. */
static void test_full_view(void)
{
	now = 1000;
	struct dht_peer j = peer_at(0x0a000401), b = peer_at(0x0a000402);
	struct dht_chord *c = new_machine(&j, 16, 64);
	dht_chord_join(c, &b.addr, now);
	struct dht_ovl a = msg(DHT_LSP_JOIN, true, sent_txn(c, DHT_LSP_JOIN, &b.addr), &b, &j);
	fill_page(0x0d000000u);
	a.members = page;
	a.nmembers = 200;
	dht_chord_on_msg(c, &a, now);
	struct dht_chord_stats st = stats_of(c);
	ok(st.view_alive + st.view_dead == 64 && st.members_dropped >= 136,
	   "max_view 64, offered 200: holds %u", st.view_alive + st.view_dead);

	struct dht_peer near = just_after(j.id, 0x0a000409);
	struct dht_ovl n = msg(DHT_LSP_NOTIFY, false, 99, &near, &j);
	dht_chord_on_msg(c, &n, now);
	struct dht_peer far = peer_at(0x0a00040a);
	far.id = j.id + ((dht_id_t)1 << 127);
	n.from = far;
	dht_chord_on_msg(c, &n, now);
	struct dht_chord_stats st2 = stats_of(c);
	ok(succ_of(c) == near.id && st2.view_alive + st2.view_dead == 64 &&
		   st2.members_dropped == st.members_dropped + 1,
	   "full: the node next to it that speaks to it comes in, one farthest from it does not");
	dht_chord_free(c);
}

int main(void)
{
	plan(21);
	test_join_answers();
	test_predecessor_answers();
	test_leave_third();
	test_gossip_dead_successor();
	test_dead_at_max();
	test_refutation_rate();
	test_million();
	test_full_view();
	sim_free();
	return tap_failed ? 1 : 0;
}
