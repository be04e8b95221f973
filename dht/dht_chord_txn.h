/* SPDX-License-Identifier: MIT */
/*
 * The requests the overlay state machine (dht_chord.c) has outstanding, so that it takes an
 * answer only for a request it sent, from the peer it sent it to, once (docs/overlay.md §4,
 * Trust). A request is remembered by (peer address, transaction id, type) until its answer came
 * (every page of it, for a view sent in pages) or it expired; the table is bounded: when it is
 * full the oldest request is forgotten (its answer, if it ever comes, is then dropped like a
 * stranger's, and the periodic timers send the request again).
 *
 * Pure: no clock (time is an argument), no allocation.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dht/dht_chord.h"

/* Requests remembered at once: a node sends some 20 a second (pings, stabilize, gossip, fingers),
 * and the requests others can make it send (a push-pull view request, a probe) are one
 * outstanding per peer, so this is many seconds of traffic. */
#define DHT_TXN_MAX 512

/* One outstanding request. */
struct dht_txn {
	uint64_t txn; /* 0: free */
	struct dht_addr to;
	uint64_t sent_ms;
	uint32_t members;   /* members its answers brought so far (a view's budget) */
	uint16_t next_page; /* the lowest page index still taken */
	uint16_t pages;	    /* the page count its first answer frame gave; 0 before */
	uint8_t type;
};

/* Owner: one dht_chord, in its own struct; control thread only. */
struct dht_txns {
	struct dht_txn t[DHT_TXN_MAX];
	uint64_t expiry_ms; /* a request unanswered for this long is forgotten */
};

/** An empty table whose requests expire after @p expiry_ms. Context: any (caller's storage). */
void dht_txns_init(struct dht_txns *t, uint64_t expiry_ms);

/**
 * Remember request @p type with @p txn (not 0) sent to @p to (borrowed) at @p now_ms; a full
 * table forgets its oldest request for it. Context: as the machine.
 */
void dht_txns_add(struct dht_txns *t, const struct dht_addr *to, uint8_t type, uint64_t txn,
		  uint64_t now_ms);

/**
 * Whether @p a (borrowed; an answer) answers an outstanding request: same transaction id and
 * type, from the address the request went to, not expired, and a page not taken yet (a view
 * answer's pages all give the same count, and come in increasing order; a lost page is skipped).
 * The request is forgotten with its last page. *@p budget is how many of the answer's members
 * may still be taken (@p max_members over all its pages together); they are counted as taken.
 * Context: as the machine.
 */
bool dht_txns_take(struct dht_txns *t, const struct dht_ovl *a, uint32_t max_members,
		   uint64_t now_ms, uint32_t *budget);

/** Whether a request of @p type to @p to (borrowed) is outstanding. */
bool dht_txns_has(const struct dht_txns *t, const struct dht_addr *to, uint8_t type,
		  uint64_t now_ms);
