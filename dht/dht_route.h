/* SPDX-License-Identifier: MIT */
/*
 * The routing table of a node (docs/overlay.md §3): who the node is, its predecessor, successor
 * list and fingers, and, while the overlay is small enough, the complete sorted membership view,
 * so that the owner and the replica set of any key are computed locally (one hop).
 *
 * A table is immutable once built. Control builds a new one from the Chord state machine
 * (dht_chord_route()), publishes it to the workers with RCU, and frees the old one after a grace
 * period; workers read one table per burst without locks. Everything a worker asks per packet
 * (dht_route_replicas, dht_route_next_hop) is a binary search or a short scan, with no allocation.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lc_compiler.h"
#include "dht/dht_key.h"
#include "dht/dht_store.h"

#define DHT_MAX_SUCCESSORS 32 /* --successors at most */
#define DHT_FINGERS 128	      /* one per bit of the id */
#define DHT_MAX_REPLICAS 16   /* --replicas at most */

/* dht_peer.flags */
#define DHT_PEER_SUSPECT 0x01u /* its link is down or it stopped answering: skip it if you can */

/* A node of the overlay: its id and its LSP address (UDP requests; TCP links, same port). */
struct dht_peer {
	dht_id_t id;
	struct dht_addr addr;
	uint8_t flags; /* DHT_PEER_* */
};

/* Owner: control builds it (dht_route_new + fill + dht_route_finish); then read-only, shared by
 * every worker until control frees it after an RCU grace period. */
struct dht_route {
	uint64_t version; /* grows with every table control publishes */
	struct dht_peer self;
	unsigned replicas; /* R: the owner and R-1 successors hold a key */
	bool has_pred;
	struct dht_peer pred;
	unsigned nsucc;
	struct dht_peer succ[DHT_MAX_SUCCESSORS]; /* closest first; never self */
	unsigned nfingers;
	struct dht_peer finger[DHT_FINGERS]; /* distinct, by distance from self; never self */
	bool one_hop;	    /* members[] is the whole live overlay: owners are computed locally */
	bool pulling;	    /* this node still pulls its range: its successor answers reads of it */
	bool joining;	    /* not in the ring yet: every request goes to succ[0], the bootstrap */
	bool settling;	    /* the ring changed lately (or this node pulls): a read this node
			     * misses may be held by the next node of the key's chain, which it
			     * then asks (docs/overlay.md §5) */
	bool solo;	    /* a ring of one by configuration (no --join, no member ever seen):
			     * it acknowledges writes alone; any other node needs the write quorum */
	unsigned ring_size; /* live nodes known (members when one_hop) */
	unsigned nmembers;  /* live members, self included, sorted by id (dht_route_finish) */
	unsigned self_index;
	unsigned cap;
	struct dht_peer members[];
};

/**
 * A table with room for @p cap members, zeroed; NULL when out of memory.
 * Context: control.
 */
struct dht_route *dht_route_new(unsigned cap);

/** Free a table (NULL is a no-op). Context: control, after a grace period. */
void dht_route_free(struct dht_route *rt);

/**
 * Sort the members, drop duplicate ids, and find self among them (added when missing). Call once
 * after filling the table and before publishing it. Context: control.
 */
void dht_route_finish(struct dht_route *rt);

/**
 * The replica set of @p key: its owner first, then the next distinct nodes clockwise, at most
 * min(replicas, @p cap) of them, as pointers into the table. With the complete view (one_hop)
 * this is exact for every key. Without it, it is known only for keys in (pred, self] (self owns
 * them; the rest are its successors) and (self, succ[0]] (its successor owns them); for others it
 * returns 0 and the request goes to dht_route_next_hop().
 * Context: any thread holding the table; fast path.
 */
unsigned dht_route_replicas(const struct dht_route *rt, dht_id_t key, const struct dht_peer **out,
			    unsigned cap);

/**
 * The position of self in the replica set of @p key: 0 owner, 1..R-1 replica, -1 neither (or
 * unknown without the complete view).
 */
int dht_route_position(const struct dht_route *rt, dht_id_t key);

/**
 * Where a request for @p key goes: self (handle it here), or the peer to forward it to. With the
 * complete view, the first member of the replica set that is not suspect (the owner when it
 * answers; else the replica that takes over); the owner when all are suspect. Without it: self
 * for (pred, self], the first live successor for (self, succ[0]], else the closest finger that
 * precedes the key (Chord), so a request takes O(log N) hops.
 * Context: any thread holding the table; fast path.
 */
const struct dht_peer *dht_route_next_hop(const struct dht_route *rt, dht_id_t key);

/** Whether @p id is a live member of the table (self included). Without the complete view:
 * self, the predecessor, a successor or a finger. */
bool dht_route_has_member(const struct dht_route *rt, dht_id_t id);

/** Whether @p p is the table's own node. */
static inline bool dht_route_is_self(const struct dht_route *rt, const struct dht_peer *p)
{
	return p->id == rt->self.id;
}

/**
 * The id of the node whose LSP address is @p a: XXH3-128 of "ip:port" ("[ip]:port" for IPv6)
 * with the overlay's seed (docs/overlay.md §1).
 */
dht_id_t dht_node_id_of(const struct dht_addr *a, uint64_t seed);

/** Write @p a as "ip:port" or "[ip]:port" into @p out (at least 48 bytes); returns out. */
char *dht_addr_format(const struct dht_addr *a, char *out, size_t cap);

/** Whether two addresses are the same node address (family, address bytes, port). */
bool dht_addr_equal(const struct dht_addr *a, const struct dht_addr *b);
