/* SPDX-License-Identifier: MIT */
/*
 * The overlay state machine's test network (chord_sim.c), shared by the convergence tests
 * (test_dht_chord.c) and the attacks on its trust rules (test_dht_chord_attack.c): node i is a
 * dht_chord at 10.0.0.i+1:7400, messages arrive 1-20 ms after they were sent, time moves in
 * 10 ms steps. Single-threaded; every function works on the globals below.
 *
 * Convergence means: every live node's successor and predecessor are the true ones among the live
 * nodes, and (in one-hop mode) its routing table's members are exactly the live nodes.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dht/dht_chord.h"
#include "dht/dht_route.h"

#define SEED 0x70e77dba5136e2eaull
#define MAX_NODES 256
#define STEP_MS 10

/* One simulated node. Owner: the simulator. */
struct node {
	bool up;
	struct dht_peer self;
	struct dht_chord *c;
	struct dht_route *rt; /* its last routing table (refreshed every step) */
};

extern struct node nodes[MAX_NODES];
extern unsigned nnodes;
extern uint64_t now;	      /* virtual time, ms */
extern unsigned loss_pct;     /* of messages dropped */
extern int mute;	      /* a node whose messages are all dropped; -1: none */
extern unsigned sim_max_view; /* dht_chord_cfg.max_view of nodes started from now on */
extern bool split;	      /* a partition: messages between nodes of different sides lost */
extern unsigned char side[MAX_NODES];

/** Deterministic randomness (a fixed seed: every run is the same). */
uint64_t rnd(void);
dht_id_t rnd_id(void);

/** Node @p i's address, and the node at @p a (-1: none). */
struct dht_addr addr_of(unsigned i);
int node_of(const struct dht_addr *a);

/** Put what node @p from sent on the network. */
void collect(unsigned from);

/** Start node @p i at @p incarnation, joining through node @p bootstrap (-1: a ring of its own). */
void start_node(unsigned i, uint32_t incarnation, int bootstrap);
void stop_node(unsigned i);
void refresh_route(unsigned i);

/** Advance virtual time by one step: deliver what is due, run due timers. */
void step(void);
void run_for(uint64_t ms);

/** Stop every node, empty the network, time back to 1000 ms, no loss, no mute. */
void reset(void);

int cmp_id(const void *a, const void *b);

/** Whether every live node's table is right; *why says what is wrong first. */
bool converged(const char **why);

/** Run until converged (checked every 100 ms) or @p limit_ms; the time it took, or UINT64_MAX. */
uint64_t run_until_converged(uint64_t limit_ms);

/** reset(), then a converged ring of @p n nodes at incarnation 1, each joining a random earlier one. */
void build_ring(unsigned n);

/** Hand node @p to message @p m (borrowed) now, as if it came over a link from m->from. */
void inject(unsigned to, const struct dht_ovl *m);

/** Whether every live node's view has the same digest; *digest is the last one seen. */
bool digests_agree(uint64_t *digest);

/** reset() and free the network. */
void sim_free(void);
