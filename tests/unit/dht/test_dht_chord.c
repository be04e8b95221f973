/* SPDX-License-Identifier: MIT */
/*
 * The overlay's pure parts under test: ring arithmetic (properties, wrap-around), routing-table
 * queries against brute force, and the Chord + membership state machine driven by the
 * deterministic network simulator of chord_sim.h (joins, failures, leaves, loss, partitions,
 * fingers). The attacks on its trust rules are in test_dht_chord_attack.c.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dht/dht_chord.h"
#include "dht/dht_ring.h"
#include "dht/dht_route.h"
#include "tests/tap.h"
#include "tests/unit/dht/chord_sim.h"

/* ---- tests: ring arithmetic and routing tables ----------------------------------------------- */

static void test_ring(void)
{
	dht_id_t max = ~(dht_id_t)0;
	ok(dht_in_oc(5, 5, 5) && dht_in_oc(0, 5, 5) && dht_in_oc(max, 5, 5), "(a, a] is the ring");
	ok(!dht_in_oo(5, 5, 5) && dht_in_oo(6, 5, 5), "(a, a) is the ring but a");
	ok(dht_in_oc(0, max - 1, 1) && dht_in_oc(1, max - 1, 1) && dht_in_oc(max, max - 1, 1),
	   "(max-1, 1] wraps through 0");
	ok(!dht_in_oc(max - 1, max - 1, 1) && !dht_in_oc(2, max - 1, 1), "its ends are right");
	ok(!dht_in_oo(1, max - 1, 1) && dht_in_oo(0, max - 1, 1), "(max-1, 1) excludes 1");
	is_int((int)(dht_finger_start(max, 0) == 0), 1, "finger start wraps");
	/* properties on random points: exactly one of (a, b] and (b, a] holds x, unless x is an end */
	bool prop = true;
	for (int i = 0; i < 100000 && prop; i++) {
		dht_id_t a = rnd_id(), b = rnd_id(), x = rnd_id();
		if (i % 3 == 0) {
			x = a + (rnd() % 3) - 1; /* near the ends */
		} else if (i % 3 == 1) {
			x = b + (rnd() % 3) - 1;
		}
		if (a == b) {
			continue;
		}
		bool ab = dht_in_oc(x, a, b), ba = dht_in_oc(x, b, a);
		prop = (ab != ba) && (dht_in_oo(x, a, b) == (ab && x != b)) &&
		       (dht_in_oc(x, a, b) ==
			(dht_dist(a, x) != 0 && dht_dist(a, x) <= dht_dist(a, b)));
	}
	ok(prop, "(a, b] and (b, a] split the ring; (a, b) is (a, b] without b (100k points)");
}

/* The brute-force owner: the member with the smallest clockwise distance from key (distance 0
 * included). */
static unsigned brute_owner(const dht_id_t *ids, unsigned n, dht_id_t key)
{
	unsigned best = 0;
	for (unsigned i = 1; i < n; i++) {
		if (dht_dist(key, ids[i]) < dht_dist(key, ids[best])) {
			best = i;
		}
	}
	return best;
}

static void test_route(void)
{
	bool all = true;
	for (int round = 0; round < 200 && all; round++) {
		unsigned n = 1 + (unsigned)(rnd() % 40);
		struct dht_route *rt = dht_route_new(n + 1);
		dht_id_t ids[64];
		for (unsigned i = 0; i < n; i++) {
			ids[i] = rnd_id();
			rt->members[rt->nmembers++] = (struct dht_peer){.id = ids[i]};
		}
		rt->self = rt->members[rnd() % n];
		rt->replicas = 3;
		rt->one_hop = true;
		dht_route_finish(rt);
		qsort(ids, n, sizeof(ids[0]), cmp_id);
		for (int q = 0; q < 200 && all; q++) {
			dht_id_t key = q % 4 == 0 ? ids[rnd() % n] : rnd_id();
			const struct dht_peer *set[DHT_MAX_REPLICAS];
			unsigned k = dht_route_replicas(rt, key, set, DHT_MAX_REPLICAS);
			unsigned o = brute_owner(ids, n, key);
			unsigned want = n < 3 ? n : 3;
			all = k == want;
			for (unsigned j = 0; j < k && all; j++) {
				all = set[j]->id == ids[(o + j) % n];
			}
			int pos = dht_route_position(rt, key);
			int want_pos = -1;
			for (unsigned j = 0; j < want; j++) {
				if (ids[(o + j) % n] == rt->self.id) {
					want_pos = (int)j;
				}
			}
			all = all && pos == want_pos;
		}
		dht_route_free(rt);
	}
	ok(all, "replica sets and positions match brute force (200 tables x 200 keys)");

	/* suspect owners are skipped by next_hop, and the owner is used when all are suspect */
	struct dht_route *rt = dht_route_new(8);
	for (unsigned i = 0; i < 5; i++) {
		rt->members[rt->nmembers++] = (struct dht_peer){.id = (dht_id_t)(i + 1) * 100};
	}
	rt->self = rt->members[0];
	rt->replicas = 3;
	rt->one_hop = true;
	dht_route_finish(rt);
	ok(dht_route_next_hop(rt, 250)->id == 300, "next hop of 250 is its owner 300");
	rt->members[2].flags |= DHT_PEER_SUSPECT;
	ok(dht_route_next_hop(rt, 250)->id == 400, "a suspect owner is skipped for its replica");
	rt->members[3].flags |= DHT_PEER_SUSPECT;
	rt->members[4].flags |= DHT_PEER_SUSPECT;
	ok(dht_route_next_hop(rt, 250)->id == 300, "all suspect: the owner");
	ok(dht_route_is_self(rt, dht_route_next_hop(rt, 50)), "keys up to self are self's");
	dht_route_free(rt);

	struct dht_addr a = {.family = AF_INET, .port = 7400, .addr = {127, 0, 0, 1}};
	char text[64];
	ok(strcmp(dht_addr_format(&a, text, sizeof(text)), "127.0.0.1:7400") == 0, "address text");
	ok(dht_node_id_of(&a, SEED) == dht_key_of("127.0.0.1:7400", 14, SEED),
	   "a node id is the key id of its address text");
}

/* ---- tests: the state machine ---------------------------------------------------------------- */

static void test_rings(void)
{
	static const unsigned sizes[] = {1, 2, 3, 8, 16, 64};
	for (unsigned s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		reset();
		unsigned n = sizes[s];
		start_node(0, 1, -1);
		for (unsigned i = 1; i < n; i++) {
			start_node(i, 1, 0); /* everyone at once, through node 0 */
		}
		uint64_t t = run_until_converged(60000);
		ok(t != UINT64_MAX, "a ring of %u nodes joining at once converges (%llu ms)", n,
		   (unsigned long long)t);
	}
}

static void test_bootstraps(void)
{
	reset();
	start_node(0, 1, -1);
	start_node(1, 1, 0);
	start_node(2, 1, 0);
	(void)run_until_converged(20000);
	/* 13 more, each through a random node of the first three, all at once */
	for (unsigned i = 3; i < 16; i++) {
		start_node(i, 1, (int)(rnd() % 3));
	}
	uint64_t t = run_until_converged(60000);
	ok(t != UINT64_MAX, "13 nodes joining through different bootstraps converge (%llu ms)",
	   (unsigned long long)t);
}

/* Run until every live node's view has the same digest (checked every 100 ms) or @p limit_ms;
 * the time it took, or UINT64_MAX. */
static uint64_t run_until_views_agree(uint64_t limit_ms)
{
	uint64_t start = now, digest = 0;
	while (now - start < limit_ms) {
		step();
		if ((now - start) % 100 == 0 && digests_agree(&digest)) {
			return now - start;
		}
	}
	return UINT64_MAX;
}

static void test_failures(void)
{
	build_ring(16);
	unsigned a = (unsigned)(rnd() % 16), b = (a + 1) % 16; /* two at once, maybe neighbours */
	stop_node(a);
	stop_node(b);
	uint64_t t = run_until_converged(60000);
	ok(t != UINT64_MAX, "16 nodes, 2 killed at once: the rest converge (%llu ms)",
	   (unsigned long long)t);
	t = run_until_views_agree(30000);
	ok(t != UINT64_MAX, "and their views agree, the dead entries included (%llu ms)",
	   (unsigned long long)t);

	/* the two come back at the same addresses with higher incarnations */
	start_node(a, 2, (int)((a + 5) % 16));
	start_node(b, 2, (int)((a + 5) % 16));
	t = run_until_converged(60000);
	ok(t != UINT64_MAX, "both restarted with the same addresses: converged again (%llu ms)",
	   (unsigned long long)t);

	/* a restart at an incarnation below the one the ring saw dead: the claims of its death
	 * are above its own incarnation, which only it raises, so it takes them for forgeries and
	 * keeps its incarnation; the ring takes it back once it forgot the dead entry (T_forget) */
	stop_node(a);
	(void)run_until_converged(60000);
	start_node(a, 1, (int)((a + 3) % 16));
	t = run_until_converged(120000);
	ok(t != UINT64_MAX && t > 30000,
	   "restarted below its dead incarnation: back once the ring forgot it (%llu ms)",
	   (unsigned long long)t);
	struct dht_chord_stats st;
	dht_chord_stats(nodes[a].c, &st);
	ok(st.refutations == 0 && st.incarnation == 1 && st.claims_refused > 0,
	   "it refuted nothing (incarnation %u, %llu claims refused)", st.incarnation,
	   (unsigned long long)st.claims_refused);
}

static void test_leave(void)
{
	build_ring(16);
	for (unsigned k = 0; k < 3; k++) {
		unsigned i = 3 + 4 * k;
		dht_chord_leave(nodes[i].c, now);
		collect(i);
	}
	run_for(200); /* the LEAVE messages are on their way */
	for (unsigned k = 0; k < 3; k++) {
		stop_node(3 + 4 * k);
	}
	uint64_t t = run_until_converged(60000);
	ok(t != UINT64_MAX && t <= 1000,
	   "3 nodes leave gracefully: the rest converge without waiting for timeouts (%llu ms)",
	   (unsigned long long)t);
}

static void test_loss(void)
{
	reset();
	loss_pct = 10;
	start_node(0, 1, -1);
	for (unsigned i = 1; i < 16; i++) {
		start_node(i, 1, (int)(rnd() % i));
	}
	uint64_t t = run_until_converged(120000);
	ok(t != UINT64_MAX, "16 nodes with 10%% of messages lost converge (%llu ms)",
	   (unsigned long long)t);
	/* a false suspicion under loss heals (refutation): run on, then converge again */
	run_for(30000);
	t = run_until_converged(30000);
	ok(t != UINT64_MAX, "after 30 s more of 10%% loss, converged again (%llu ms)",
	   (unsigned long long)t);
}

/* Every node declares every other dead (all messages lost for longer than T_fail, as when the
 * nodes were too busy to answer): once messages flow again the ring must form again by itself,
 * although nobody has a live neighbour left to talk to. */
static void test_partition(void)
{
	static const unsigned sizes[] = {2, 3, 8};
	for (unsigned k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		unsigned n = sizes[k];
		build_ring(n);
		loss_pct = 100;
		run_for(5000);
		unsigned alone = 0;
		for (unsigned i = 0; i < n; i++) {
			refresh_route(i);
			alone += nodes[i].rt != NULL && nodes[i].rt->nsucc == 0;
		}
		loss_pct = 0;
		uint64_t t = run_until_converged(30000);
		uint64_t agree = run_until_views_agree(30000);
		ok(alone == n && t != UINT64_MAX && agree != UINT64_MAX,
		   "%u nodes that all declared each other dead form the ring again (%u alone; %llu "
		   "ms), views agree (%llu ms more)",
		   n, alone, (unsigned long long)t, (unsigned long long)agree);
	}
	/* longer than T_forget: the dead entries are gone, a node knows only its bootstrap */
	build_ring(3);
	loss_pct = 100;
	run_for(70000);
	loss_pct = 0;
	uint64_t t = run_until_converged(30000);
	ok(t != UINT64_MAX, "3 nodes apart for longer than T_forget form the ring again (%llu ms)",
	   (unsigned long long)t);
}

/* Two sides apart for longer than T_fail each see only themselves; healed, the ring forms again
 * and every view agrees: those that came back refuted, none believed a death of a live node. */
static void test_split(void)
{
	build_ring(8);
	for (unsigned i = 0; i < 8; i++) {
		side[i] = i % 3 == 0; /* nodes 0, 3, 6 apart from the other five */
	}
	split = true;
	run_for(15000);
	bool apart = true;
	for (unsigned i = 0; i < 8; i++) {
		refresh_route(i);
		apart = apart && nodes[i].rt->nmembers == (side[i] ? 3u : 5u);
	}
	split = false;
	uint64_t t = run_until_converged(30000);
	uint64_t agree = run_until_views_agree(30000);
	ok(apart && t != UINT64_MAX && agree != UINT64_MAX,
	   "a 3|5 split for 15 s: each side alone (%s); healed, converged (%llu ms), views agree "
	   "(%llu ms more)",
	   apart ? "yes" : "no", (unsigned long long)t, (unsigned long long)agree);
}

/* A node whose Chord messages are lost but which is heard otherwise (range transfers: control
 * feeds them in with dht_chord_on_alive) is not declared dead; without that sign of life it is. */
static uint64_t deaths_after_mute(bool heard)
{
	build_ring(4);
	mute = 2;
	for (unsigned k = 0; k < 500; k++) {
		for (unsigned i = 0; heard && i < nnodes; i++) {
			if (i != (unsigned)mute) {
				dht_chord_on_alive(nodes[i].c, &nodes[mute].self, now);
			}
		}
		step();
	}
	uint64_t deaths = 0;
	for (unsigned i = 0; i < nnodes; i++) {
		struct dht_chord_stats st;
		dht_chord_stats(nodes[i].c, &st);
		deaths += i != (unsigned)mute ? st.deaths_declared : 0;
	}
	mute = -1;
	return deaths;
}

static void test_alive(void)
{
	uint64_t heard = deaths_after_mute(true), silent = deaths_after_mute(false);
	ok(heard == 0 && silent > 0,
	   "5 s without its pings: heard otherwise, no death (%llu); silent, declared dead (%llu)",
	   (unsigned long long)heard, (unsigned long long)silent);
}

/* Without the complete view: Chord fingers, and a lookup takes O(log N) hops. */
static void test_fingers(void)
{
	setenv("CHORD_ONE_HOP_MAX", "4", 1);
	build_ring(64);
	run_for(200000); /* let fix-fingers go round: 128 fingers, one per second */
	const char *why = "";
	bool conv = converged(&why);
	ok(conv, "64 nodes beyond one-hop (max 4) converge (%s)", why);
	unsigned worst = 0, total = 0, wrong = 0, lookups = 500;
	for (unsigned q = 0; q < lookups; q++) {
		dht_id_t key = rnd_id();
		unsigned at = (unsigned)(rnd() % 64), hops = 0;
		const struct dht_peer *next = dht_route_next_hop(nodes[at].rt, key);
		while (!dht_route_is_self(nodes[at].rt, next) && hops < 64) {
			at = (unsigned)node_of(&next->addr);
			hops++;
			next = dht_route_next_hop(nodes[at].rt, key);
		}
		/* the owner: the node whose predecessor precedes key */
		const struct dht_route *rt = nodes[at].rt;
		wrong += !(rt->has_pred && dht_in_oc(key, rt->pred.id, rt->self.id));
		worst = hops > worst ? hops : worst;
		total += hops;
	}
	ok(wrong == 0, "500 finger-routed lookups all end at the owner (%u wrong)", wrong);
	ok(worst <= 12, "at most 12 hops in a ring of 64 (worst %u, mean %.2f)", worst,
	   (double)total / lookups);
	/* the members a secured node may dial for a worker's datagram: the view's, even though a
	 * table beyond one hop lists none but itself (what control used to look in) */
	const struct node *n0 = &nodes[0];
	unsigned in_view = 0, addr_right = 0;
	for (unsigned i = 1; i < nnodes; i++) {
		const struct dht_peer *p = &nodes[i].rt->self;
		struct dht_addr a;
		in_view += dht_chord_is_member_at(n0->c, &p->addr);
		addr_right +=
			dht_chord_member_addr(n0->c, p->id, &a) && dht_addr_equal(&a, &p->addr);
	}
	struct dht_addr nowhere = n0->rt->self.addr, a;
	nowhere.port ^= 0xffff;
	ok(n0->rt->nmembers == 1 && in_view > 4 && in_view == addr_right &&
		   !dht_chord_is_member_at(n0->c, &n0->rt->self.addr) &&
		   !dht_chord_is_member_at(n0->c, &nowhere) &&
		   !dht_chord_member_addr(n0->c, n0->rt->self.id, &a),
	   "beyond one hop: members at %u view addresses (ids agree: %u), not self, not elsewhere",
	   in_view, addr_right);
	unsetenv("CHORD_ONE_HOP_MAX");
}

int main(void)
{
	plan(39);
	test_ring();
	test_route();
	test_rings();
	test_bootstraps();
	test_failures();
	test_leave();
	test_loss();
	test_partition();
	test_split();
	test_alive();
	test_fingers();
	sim_free();
	return tap_failed ? 1 : 0;
}
