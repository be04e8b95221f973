/* SPDX-License-Identifier: MIT */
/*
 * A worker's datagrams to and from the members of a secured overlay (issue 13,
 * docs/security.md §4): tagged on the way out when their destination is a member (dp_auth.h),
 * checked and stripped on the way in, and the asks for links a worker queues for control when
 * it lacks a member's key. A datagram that passed carries DP_PKT_AUTHED and its sender's node
 * id: only such datagrams may do what only a member may do (REPLICA_STORE and its
 * acknowledgement, a REPLY_TO, an answer to a forwarded request).
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dataplane/dp_pkt.h"

#define DP_WANTS 64	 /* asks for a link a worker may have queued for control */
#define DP_WANT_RECENT 8 /* addresses a worker remembers asking for (at most once a second) */
#define DP_PARKED 256	 /* datagrams a worker holds for members whose link is being opened */
#define DP_PARK_S 2	 /* how long one waits for its key before it is dropped */

/* What dp_member_tx did with a datagram. */
enum dp_member_tx_result {
	DP_MEMBER_SEND,	  /* send it (tagged when its destination is a member) */
	DP_MEMBER_DROP,	  /* do not send it (counted); the caller still owns it */
	DP_MEMBER_PARKED, /* held until the member's key arrives (dp_member_retry): owned here */
};

struct dp_worker;

/* Addresses a worker asks control to open a link to. Single producer (the worker), single
 * consumer (control): head is written by the worker, tail by control. */
struct dp_want_queue {
	_Atomic uint32_t head, tail;
	struct dp_addr addr[DP_WANTS];
};

/**
 * Check and strip the AUTH TLV of a datagram received on the LSP socket of a secured node: sets
 * DP_PKT_AUTHED and the sender's id when a member's tag passed. A datagram without an AUTH TLV
 * passes unauthenticated (a client's).
 * @return false when the datagram must be dropped (a bad tag, an unknown peer or epoch, too old,
 *   a replay; counted).
 * Context: the worker that received it, RCU online (reads the key table); fast path.
 */
bool dp_member_rx(struct dp_worker *w, struct dp_pkt *p);

/**
 * Tag a datagram about to leave the LSP socket of a secured node when its destination is a
 * member with a key. A datagram marked DP_PKT_TO_MEMBER whose destination has no key yet (its
 * link is being opened: a member that just joined) is parked for up to DP_PARK_S while control
 * is asked for the link, instead of costing the client a retransmission; when the parking is
 * full it is dropped (counted as auth_park_full).
 * Context: the worker, RCU online; fast path.
 */
enum dp_member_tx_result dp_member_tx(struct dp_worker *w, struct dp_pkt *p);

/**
 * Send the parked datagrams whose member's key has arrived, drop those that waited DP_PARK_S
 * (counted as auth_no_key), and ask control again, once a second, for the links of the others.
 * Looks only when a new key table was published or a second passed. Context: the worker, RCU
 * online, once per loop (one branch when nothing is parked, a compare when nothing changed).
 */
void dp_member_retry(struct dp_worker *w);

/**
 * Take the addresses the worker asked links for: @p fn is called once per address.
 * Context: control.
 */
void dp_member_take_wants(struct dp_worker *w, void (*fn)(void *arg, const struct dp_addr *a),
			  void *arg);

/**
 * Whether @p in came from a node of the overlay: on a secured node, its tag said so
 * (DP_PKT_AUTHED); otherwise its source address hashes to a member's id. Only then is a
 * request's REPLY_TO honoured, so that nobody can aim answers at a third party.
 * Context: the worker, inside a burst (w->rt held).
 */
bool dp_member_sent(const struct dp_worker *w, const struct dp_pkt *in);
