/* SPDX-License-Identifier: MIT */
/*
 * A small deterministic network simulator for the overlay state machine (chord_sim.h): nodes are
 * dht_chord instances, messages are delivered after a random delay (optionally dropped), and
 * virtual time advances in 10 ms steps. A message to a dead node makes the sender's link fail,
 * as a refused TCP connect does in locusd.
 */
#include "tests/unit/dht/chord_sim.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/lc_error.h"
#include "dht/dht_ring.h"

/* ---- deterministic randomness ---------------------------------------------------------------- */

static uint64_t rng_state = 88172645463325252ull;
uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

dht_id_t rnd_id(void)
{
	return ((dht_id_t)rnd() << 64) | rnd();
}

/* ---- the simulated network ------------------------------------------------------------------- */

struct flight {
	uint64_t at_ms;
	struct dht_ovl m; /* members copied to the heap */
};

struct node nodes[MAX_NODES];
unsigned nnodes;
unsigned sim_max_view;
bool split;
unsigned char side[MAX_NODES];
static struct flight *net;
static unsigned nnet, capnet;
uint64_t now;
unsigned loss_pct; /* of messages dropped */
int mute = -1;	   /* a node whose messages are all dropped */

struct dht_addr addr_of(unsigned i)
{
	struct dht_addr a = {.family = AF_INET, .port = 7400};
	uint32_t ip = htonl(0x0a000000u + i + 1); /* 10.0.0.i+1 */
	memcpy(a.addr, &ip, 4);
	return a;
}

int node_of(const struct dht_addr *a)
{
	for (unsigned i = 0; i < nnodes; i++) {
		if (dht_addr_equal(&nodes[i].self.addr, a)) {
			return (int)i;
		}
	}
	return -1;
}

void collect(unsigned from)
{
	const struct dht_ovl *out;
	unsigned n = dht_chord_take(nodes[from].c, &out);
	for (unsigned i = 0; i < n; i++) {
		int to = node_of(&out[i].to);
		bool cut = split && to >= 0 && side[to] != side[from];
		if ((loss_pct && rnd() % 100 < loss_pct) || (int)from == mute || cut) {
			continue;
		}
		if (nnet == capnet) {
			capnet = capnet ? capnet * 2 : 1024;
			net = realloc(net, capnet * sizeof(*net));
		}
		struct flight *f = &net[nnet++];
		f->at_ms = now + 1 + rnd() % 20;
		f->m = out[i];
		if (out[i].nmembers > 0) {
			size_t sz = out[i].nmembers * sizeof(*out[i].members);
			f->m.members = malloc(sz);
			memcpy(f->m.members, out[i].members, sz);
		} else {
			f->m.members = NULL;
		}
	}
}

void start_node(unsigned i, uint32_t incarnation, int bootstrap)
{
	struct node *n = &nodes[i];
	n->self = (struct dht_peer){.addr = addr_of(i)};
	n->self.id = dht_node_id_of(&n->self.addr, SEED);
	struct dht_chord_cfg cfg = {
		.incarnation = incarnation, .seed = rnd(), .max_view = sim_max_view};
	if (getenv("CHORD_ONE_HOP_MAX") != NULL) {
		cfg.one_hop_max = (unsigned)atoi(getenv("CHORD_ONE_HOP_MAX"));
	}
	if (dht_chord_new(&n->c, &cfg, &n->self, now) != LC_OK) {
		abort();
	}
	n->up = true;
	if (bootstrap >= 0) {
		dht_chord_join(n->c, &nodes[bootstrap].self.addr, now);
	}
	collect(i);
	if (i >= nnodes) {
		nnodes = i + 1;
	}
}

void stop_node(unsigned i)
{
	struct node *n = &nodes[i];
	dht_chord_free(n->c);
	dht_route_free(n->rt);
	n->c = NULL;
	n->rt = NULL;
	n->up = false;
}

void refresh_route(unsigned i)
{
	if (dht_chord_changed(nodes[i].c)) {
		dht_route_free(nodes[i].rt);
		nodes[i].rt = dht_chord_route(nodes[i].c);
	}
}

/* Advance virtual time by one step: deliver what is due, run due timers. */
void step(void)
{
	now += STEP_MS;
	unsigned keep = 0;
	for (unsigned k = 0; k < nnet; k++) {
		struct flight f = net[k];
		if (f.at_ms > now) {
			net[keep++] = f;
			continue;
		}
		int to = node_of(&f.m.to);
		int from = node_of(&f.m.from.addr);
		if (to >= 0 && nodes[to].up) {
			dht_chord_on_msg(nodes[to].c, &f.m, now);
			collect((unsigned)to);
		} else if (from >= 0 && nodes[from].up) {
			dht_chord_on_peer_down(nodes[from].c, &f.m.to, now);
			collect((unsigned)from);
		}
		free(f.m.members);
	}
	nnet = keep;
	for (unsigned i = 0; i < nnodes; i++) {
		if (nodes[i].up && dht_chord_next_ms(nodes[i].c) <= now) {
			dht_chord_tick(nodes[i].c, now);
			collect(i);
		}
	}
	for (unsigned i = 0; i < nnodes; i++) {
		if (nodes[i].up) {
			refresh_route(i);
		}
	}
}

void reset(void)
{
	for (unsigned i = 0; i < nnodes; i++) {
		if (nodes[i].up) {
			stop_node(i);
		}
	}
	for (unsigned k = 0; k < nnet; k++) {
		free(net[k].m.members);
	}
	nnet = 0;
	nnodes = 0;
	now = 1000;
	loss_pct = 0;
	mute = -1;
	sim_max_view = 0;
	split = false;
	memset(side, 0, sizeof(side));
}

/* ---- convergence ----------------------------------------------------------------------------- */

int cmp_id(const void *a, const void *b)
{
	dht_id_t x = *(const dht_id_t *)a, y = *(const dht_id_t *)b;
	return x < y ? -1 : x > y;
}

/* Whether every live node's table is right; *why says what is wrong first. */
bool converged(const char **why)
{
	dht_id_t ids[MAX_NODES];
	unsigned n = 0;
	for (unsigned i = 0; i < nnodes; i++) {
		if (nodes[i].up) {
			ids[n++] = nodes[i].self.id;
		}
	}
	qsort(ids, n, sizeof(ids[0]), cmp_id);
	for (unsigned i = 0; i < nnodes; i++) {
		if (!nodes[i].up) {
			continue;
		}
		const struct dht_route *rt = nodes[i].rt;
		if (rt == NULL) {
			*why = "no table";
			return false;
		}
		unsigned k = 0;
		while (ids[k] != rt->self.id) {
			k++;
		}
		dht_id_t succ = ids[(k + 1) % n], pred = ids[(k + n - 1) % n];
		if (n == 1) {
			if (rt->nsucc != 0 || rt->has_pred) {
				*why = "alone but has neighbours";
				return false;
			}
			continue;
		}
		if (rt->nsucc == 0 || rt->succ[0].id != succ) {
			*why = "wrong successor";
			return false;
		}
		if (!rt->has_pred || rt->pred.id != pred) {
			*why = "wrong predecessor";
			return false;
		}
		unsigned want_succ = n - 1 < 8 ? n - 1 : 8;
		if (rt->nsucc != want_succ) {
			*why = "short successor list";
			return false;
		}
		if (rt->one_hop) {
			if (rt->nmembers != n) {
				*why = "incomplete view";
				return false;
			}
			for (unsigned j = 0; j < n; j++) {
				if (rt->members[j].id != ids[j]) {
					*why = "wrong view";
					return false;
				}
			}
		}
	}
	*why = "ok";
	return true;
}

/* Run until converged (checked every 100 ms of virtual time) or @p limit_ms; returns the time
 * it took, or UINT64_MAX. */
uint64_t run_until_converged(uint64_t limit_ms)
{
	uint64_t start = now;
	const char *why = "";
	while (now - start < limit_ms) {
		step();
		if ((now - start) % 100 == 0 && converged(&why)) {
			return now - start;
		}
	}
	(void)converged(&why);
	printf("# not converged after %llu ms: %s\n", (unsigned long long)limit_ms, why);
	return UINT64_MAX;
}

void run_for(uint64_t ms)
{
	uint64_t end = now + ms;
	while (now < end) {
		step();
	}
}

void build_ring(unsigned n)
{
	reset();
	start_node(0, 1, -1);
	for (unsigned i = 1; i < n; i++) {
		start_node(i, 1, (int)(rnd() % i));
	}
	(void)run_until_converged(60000);
}

void inject(unsigned to, const struct dht_ovl *m)
{
	dht_chord_on_msg(nodes[to].c, m, now);
	collect(to);
}

bool digests_agree(uint64_t *digest)
{
	bool first = true, same = true;
	for (unsigned i = 0; i < nnodes; i++) {
		if (!nodes[i].up) {
			continue;
		}
		struct dht_chord_stats st;
		dht_chord_stats(nodes[i].c, &st);
		same = same && (first || st.view_digest == *digest);
		*digest = st.view_digest;
		first = false;
	}
	return same;
}

void sim_free(void)
{
	reset();
	free(net);
	net = NULL;
	capnet = 0;
}
