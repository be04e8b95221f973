/* SPDX-License-Identifier: MIT */
/*
 * The datagram keys of a secured node (issue 13, docs/security.md §4): for every member this
 * node has an authenticated TLS link with, its LSP address, its node id, and the keys exported
 * from each such link (one key per direction, named by the link's epoch). Control builds a table
 * whenever a link comes up or goes down or the view changes, and publishes it to the workers with
 * RCU beside the routing table (dp_node_set_peers); workers look a datagram's peer up by address
 * to tag what they send to a member and to check what a member sent (dataplane/dp_auth.c).
 *
 * Why a key per link and not per pair: a link's keys come from its own TLS session
 * (SSL_export_keying_material), so both ends hold them with no message of their own, and a new
 * link (a restart, a reconnect) brings fresh keys without any protocol. A pair may have several
 * links at once (each side's outgoing control link, and bulk links): the receiver accepts any
 * of them (by epoch), the sender uses the newest.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/lc_compiler.h"
#include "dataplane/dp_pkt.h"
#include "dht/dht_key.h"

#define DP_PEER_KEYS 4	   /* links per peer whose keys are kept (newest first) */
#define DP_PEER_KEY_LEN 16 /* bytes per direction (dp_mac's key) */

/* The keys of one link, as this node uses them. */
struct dp_peer_key {
	uint32_t epoch;		       /* names the link: the receiver finds the key by it */
	uint8_t send[DP_PEER_KEY_LEN]; /* tags what this node sends to the peer */
	uint8_t recv[DP_PEER_KEY_LEN]; /* checks what the peer sends to this node */
};

/* One member. Owner: its table. */
struct dp_peer {
	struct dp_addr addr; /* its LSP address (what datagrams come from and go to) */
	dht_id_t id;
	unsigned nkeys;
	struct dp_peer_key keys[DP_PEER_KEYS]; /* keys[0] is the newest link's */
};

/* Owner: control builds it, then publishes it; immutable once published; workers read it under
 * RCU (QSBR); freed by control after a grace period (dp_node_set_peers). */
struct dp_peers {
	uint32_t n, cap;
	uint64_t gen;	      /* set when published (dp_node_set_peers): grows with every table */
	uint32_t mask;	      /* slots - 1 */
	uint32_t *slot;	      /* open addressing by address hash: index + 1, 0 empty */
	struct dp_peer *peer; /* n of cap used */
};

/**
 * An empty table with room for @p cap peers. @return NULL when out of memory.
 * Context: control.
 */
struct dp_peers *dp_peers_new(uint32_t cap);

/** Free. NULL is a no-op. Context: control, once no worker can read it. */
void dp_peers_free(struct dp_peers *t);

/**
 * Add one link's keys for the member at @p addr of id @p id (a peer already in the table gets
 * one more key, up to DP_PEER_KEYS; add the newest links first). A peer whose id differs from
 * the one the table has at that address is refused.
 * @return LC_OK, LC_EFULL (cap peers already), LC_EINVAL (another id at @p addr).
 * Context: control, before the table is published.
 */
LC_MUSTCHECK int dp_peers_add(struct dp_peers *t, const struct dp_addr *addr, dht_id_t id,
			      const struct dp_peer_key *key);

/**
 * The member at @p addr, or NULL.
 * Context: any reader (a worker under RCU, or control on its own tables); fast path.
 */
const struct dp_peer *dp_peers_find(const struct dp_peers *t, const struct dp_addr *addr);

/** The key of @p p named @p epoch, or NULL. Context: as dp_peers_find. */
const struct dp_peer_key *dp_peer_key_of(const struct dp_peer *p, uint32_t epoch);
