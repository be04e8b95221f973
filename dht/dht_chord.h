/* SPDX-License-Identifier: MIT */
/*
 * The overlay protocol of one node as a pure state machine (docs/overlay.md §4): Chord's join,
 * stabilize, notify, successor-list exchange, fix fingers and check predecessor, plus a gossiped
 * membership view with incarnations (for one-hop routing and fast convergence) and failure
 * detection by ping timeouts.
 *
 * Pure: no I/O, no clock, no threads. Inputs are events with the current time in milliseconds
 * (dht_chord_on_msg, dht_chord_on_peer_down, dht_chord_tick, dht_chord_join, dht_chord_leave);
 * outputs are messages in an outbox (dht_chord_take), the time the machine next wants a tick
 * (dht_chord_next_ms), and a fresh routing table when the neighbourhood changed
 * (dht_chord_changed, dht_chord_route). control/ drives it over real TCP links; a simulator
 * drives thousands of instances over a virtual network with the same code.
 *
 * Messages here are in the machine's own terms (struct dht_ovl); dht/dht_chord_wire.c converts
 * them to and from LSP frames (docs/lsp.md §11).
 *
 * Trust (docs/overlay.md §4): the driver guarantees that a message's SENDER (dht_ovl.from) is the
 * node at the other end of the link it came over. Given that, the machine takes an answer only
 * for a request it sent to that peer and has not had answered; believes a LEAVE only of its
 * sender; believes a death only on its own evidence (a "dead" entry heard from others makes it
 * probe the node itself); refutes a claim of its own death only at its own incarnation, which
 * never wraps; and holds at most dht_chord_cfg.max_view entries whatever it is sent.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lc_compiler.h"
#include "dht/dht_route.h"

/* Member states, as on the wire (MEMBER TLV). */
enum dht_member_state { DHT_MEMBER_ALIVE = 1, DHT_MEMBER_DEAD = 2 };

/* One entry of a membership view on the wire. */
struct dht_ovl_member {
	struct dht_peer peer;
	uint32_t incarnation;
	uint8_t state; /* enum dht_member_state */
};

/* dht_ovl.flags, by message type */
#define DHT_OVL_F_FINAL 0x1u	 /* FIND_SUCCESSOR answer: peer[0] is the successor */
#define DHT_OVL_F_WANT_VIEW 0x1u /* MEMBERSHIP request: answer with your whole view */

/*
 * One overlay message (JOIN .. LEAVE of docs/lsp.md §3), decoded. Owner: whoever filled it; the
 * member array is borrowed (the decoder's or the outbox's).
 */
struct dht_ovl {
	struct dht_addr to; /* outbox only: where to send it */
	uint8_t type;	    /* enum dht_lsp_type */
	bool answer;
	uint16_t status; /* answers */
	uint64_t txn;
	struct dht_peer from; /* SENDER */
	uint32_t incarnation; /* NODE_PING, LEAVE, JOIN: the sender's */
	uint32_t flags;	      /* DHT_OVL_F_* */
	uint32_t ring_size;   /* JOIN answer */
	uint16_t page, pages; /* a view answer sent in pages: this is page `page` of `pages` (0
				 pages: the message is not paged, as one page of one) */
	dht_id_t target;      /* FIND_SUCCESSOR */
	bool has_pred;
	struct dht_peer pred;  /* GET_PREDECESSOR answer */
	uint64_t digest;       /* MEMBERSHIP: the sender's view digest ... */
	uint32_t digest_count; /* ... and its number of entries */
	unsigned npeers;
	struct dht_peer peers[DHT_MAX_SUCCESSORS]; /* successor lists, FIND_SUCCESSOR answer */
	unsigned nmembers;
	struct dht_ovl_member *members; /* JOIN answer, MEMBERSHIP */
};

/* Tunables (docs/overlay.md §8); zero fields take the defaults. */
struct dht_chord_cfg {
	unsigned successors; /* successor list length, default 8 */
	unsigned replicas;   /* R, default 3 */
	unsigned
		one_hop_max; /* complete view while the overlay has at most this many nodes: 4096 */
	unsigned max_view;   /* entries the view holds at most, dead ones included, whatever peers
			      send: the rest are dropped and counted (members_dropped); when full,
			      only nodes Chord meets (senders, neighbours' lists) displace a dead
			      or the farthest entry. Default 4 x one_hop_max, at least 1024; at
			      least one_hop_max and at most 2^24, else dht_chord_new fails */
	uint32_t t_stab_ms, t_ping_ms, t_fail_ms, t_gossip_ms, t_fix_ms, t_forget_ms, t_join_ms;
	uint32_t incarnation; /* start value; a restarted node must start above its last (time) */
	uint64_t seed;	      /* for the choice of gossip partners */
};

struct dht_chord;

/* What dht_chord_stats reports (locusctl ring, admin JSON). */
struct dht_chord_stats {
	bool joined;
	uint32_t incarnation;
	unsigned view_alive, view_dead;
	uint64_t msgs_in, msgs_out, deaths_declared, refutations;
	uint64_t answers_unsolicited; /* answers dropped: no request of that type and txn id to
					 their sender outstanding (or that page already taken) */
	uint64_t death_claims;	      /* "dead" entries about live members: probed, not believed */
	uint64_t claims_refused;      /* claims of its own death it did not refute: above its
					 incarnation (forged), or at UINT32_MAX (cannot rise) */
	uint64_t members_dropped;     /* entries not taken: the view was full (max_view) */
	uint64_t view_digest;	      /* of the view (VIEW_DIGEST): equal views, equal digests */
	/* the ring's size its JOIN answer gave, itself included (0: it started the ring) */
	uint32_t joined_ring_size;
};

/**
 * A node alone in its ring (call dht_chord_join to join another).
 * @return LC_OK, LC_ENOMEM, LC_EINVAL (replicas or successors above their maximum, max_view
 *   below one_hop_max or above 2^24).
 * Context: control.
 */
LC_MUSTCHECK int dht_chord_new(struct dht_chord **out, const struct dht_chord_cfg *cfg,
			       const struct dht_peer *self, uint64_t now_ms);
void dht_chord_free(struct dht_chord *c);

/** Join the ring of the node at @p bootstrap: JOIN is sent (and resent until answered). */
void dht_chord_join(struct dht_chord *c, const struct dht_addr *bootstrap, uint64_t now_ms);

/**
 * Leave gracefully: LEAVE to every live member while the view is complete (each then hears it
 * from its subject), else to predecessor and successors; the machine then stays quiet.
 */
void dht_chord_leave(struct dht_chord *c, uint64_t now_ms);

/**
 * A message from a peer. @p m is borrowed. The caller guarantees that m->from is the node at the
 * other end of the link the message came over (the machine trusts it as the sender); everything
 * else in the message is the sender's claim. Context: control.
 */
void dht_chord_on_msg(struct dht_chord *c, const struct dht_ovl *m, uint64_t now_ms);

/**
 * A frame that is not one of the machine's own came from @p p (borrowed) over a link read as it
 * arrives: a range digest, a transfer's answer, a node-info request or answer (not a transfer's
 * data, which may have waited in buffers). It proves @p p alive as much as a ping answer does, so an
 * outstanding ping to it no longer counts towards T_fail. It revives no dead member and clears
 * no suspicion (those need the machine's own messages, which carry incarnations). Context:
 * control.
 */
void dht_chord_on_alive(struct dht_chord *c, const struct dht_peer *p, uint64_t now_ms);

/**
 * The link to the node at @p a failed (connect refused, reset): suspect it and ping it now; a
 * member that another node said was dead and that is being probed for it is declared dead now
 * (this failure is the machine's own evidence). Context: control.
 */
void dht_chord_on_peer_down(struct dht_chord *c, const struct dht_addr *a, uint64_t now_ms);

/** Run the timers that are due. */
void dht_chord_tick(struct dht_chord *c, uint64_t now_ms);

/** When the machine next wants dht_chord_tick. */
uint64_t dht_chord_next_ms(const struct dht_chord *c);

/**
 * Take the messages queued so far (valid until the next call into the machine); returns how
 * many. Their member arrays belong to the machine.
 */
unsigned dht_chord_take(struct dht_chord *c, const struct dht_ovl **out);

/** Whether the routing table changed since the last dht_chord_route (clears the mark). */
bool dht_chord_changed(struct dht_chord *c);

/** A new routing table from the current state (owner: the caller); NULL when out of memory. */
struct dht_route *dht_chord_route(const struct dht_chord *c);

void dht_chord_stats(const struct dht_chord *c, struct dht_chord_stats *out);

/**
 * Whether a node of id @p id may be the one at @p a: no entry of the view has that address, or
 * one has it with that id. The link layer asks before it sends to an authenticated peer (a
 * member whose address now answers with another node's certificate is not that member).
 * Context: control.
 */
bool dht_chord_addr_may_be(const struct dht_chord *c, const struct dht_addr *a, dht_id_t id);

/**
 * Whether a live member of the view other than this node is at @p a. In one-hop mode the view is
 * the whole live overlay; beyond it (finger mode) it is every member gossip brought, up to
 * max_view, which is more than the routing table's successors, fingers and predecessor (a
 * REPLY_TO's facing node is often none of those). Control asks before it dials an address a
 * worker wants a link to, so that no datagram can make it dial a stranger.
 * Context: control.
 */
bool dht_chord_is_member_at(const struct dht_chord *c, const struct dht_addr *a);

/**
 * The address the view gives the live member @p id (not this node) in @p out.
 * @return false when the view has no live member of that id.
 * Context: control.
 */
bool dht_chord_member_addr(const struct dht_chord *c, dht_id_t id, struct dht_addr *out);

/** Whether the view is the complete overlay (one-hop mode). */
bool dht_chord_one_hop(const struct dht_chord *c);
