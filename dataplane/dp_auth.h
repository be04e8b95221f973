/* SPDX-License-Identifier: MIT */
/*
 * Authenticated datagrams between the members of a secured overlay (issue 13, docs/lsp.md §4.8,
 * docs/security.md §4): every LSP datagram a worker sends to a member carries an AUTH TLV, last
 * in the body, with the sending link's epoch, the send time, a sequence number and a 16-byte tag
 * (dp_mac, SipHash-2-4) over everything before the tag, under the key exported from a TLS link
 * between the two nodes (dp_peers.h). A receiver checks the tag with the key its table holds for
 * the datagram's source address and that epoch, refuses what is older than DP_AUTH_MAX_AGE_S or
 * seen before (a window of sequence numbers per link and sending worker), and strips the TLV, so
 * the parsers see the message as it was built. A datagram that passed carries DP_PKT_AUTHED and
 * its sender's node id: only such datagrams may do what only a member may do (REPLICA_STORE and
 * its acknowledgement, a REPLY_TO, an answer to a forwarded request).
 *
 * The sequence number's top byte is the sending worker (its lane), the other 56 bits count that
 * worker's datagrams to all peers: no state per peer on the sending side, and a lane's numbers
 * to one receiver only grow. SO_REUSEPORT and RSS hash a datagram's four-tuple, so one
 * receiving worker sees all of one pair's datagrams and keeps their window; another worker seeing
 * a copy would keep its own window, and the time bound limits what that could let through.
 *
 * A worker that must send to a member it has no key for (no link yet, or it closed) drops the
 * datagram (the client's retransmission recovers it) and asks control for a link to that address
 * (dp_auth_want); so does a receiver that gets a tag under an epoch it does not know. Control
 * drains the asks (dp_node_take_wants) and opens the links, whose keys come in the next table.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dataplane/dp_pkt.h"

#define DP_AUTH_TLV 0x8140u   /* AUTH: the M bit and code 0x140 (docs/lsp.md §4.3) */
#define DP_AUTH_VALUE_LEN 32u /* u32 epoch, u32 time_s, u64 seq, 16-byte tag */
#define DP_AUTH_LEN (4u + DP_AUTH_VALUE_LEN)
#define DP_AUTH_MAX_AGE_S 60 /* send time this far from the receiver's clock: refused */
#define DP_REPLAY_WINDOW 256 /* sequence numbers a window remembers behind its highest */
#define DP_REPLAY_SLOTS 4096 /* windows per worker: a power of two */
#define DP_REPLAY_PROBE 8    /* slots a lookup probes */
#define DP_REPLAY_IDLE_S 180 /* a window unused this long may be reused (> 2 max ages) */
#define DP_WANTS 64	     /* asks for a link a worker may have queued for control */

struct dp_worker;

/* One link's and lane's window of sequence numbers. Owner: the worker. */
struct dp_replay_slot {
	uint32_t epoch;
	uint32_t last_s; /* when it last accepted a datagram; 0: free */
	uint8_t lane;
	uint64_t top;			      /* highest counter accepted */
	uint64_t seen[DP_REPLAY_WINDOW / 64]; /* bit i: counter top - i was accepted */
};

/* Addresses a worker asks control to open a link to. Single producer (the worker), single
 * consumer (control): head is written by the worker, tail by control. */
struct dp_want_queue {
	_Atomic uint32_t head, tail;
	struct dp_addr addr[DP_WANTS];
};

/**
 * Check and strip the AUTH TLV of a datagram received on the LSP socket of a secured node: sets
 * or clears DP_PKT_AUTHED (and the sender's id). A datagram without an AUTH TLV passes
 * unauthenticated (a client's).
 * @return false when the datagram must be dropped (a bad tag, an unknown peer or epoch, too old,
 *   a replay; counted).
 * Context: the worker that received it, RCU online (reads the key table); fast path.
 */
bool dp_auth_rx(struct dp_worker *w, struct dp_pkt *p);

/**
 * Tag a datagram about to leave the LSP socket of a secured node when its destination is a
 * member with a key. A datagram marked DP_PKT_TO_MEMBER whose destination has no key is refused
 * (and control is asked for a link).
 * @return false when it must not be sent (counted); the caller still owns it.
 * Context: the worker, RCU online; fast path.
 */
bool dp_auth_tx(struct dp_worker *w, struct dp_pkt *p);

/**
 * Take the addresses workers asked links for: @p fn is called once per address.
 * Context: control.
 */
void dp_auth_take_wants(struct dp_worker *w, void (*fn)(void *arg, const struct dp_addr *a),
			void *arg);
