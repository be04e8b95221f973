/* SPDX-License-Identifier: MIT */
/*
 * The AUTH TLV of datagrams between members of a secured overlay (issue 13, docs/lsp.md §4.8,
 * docs/security.md §4), pure: tag a built message, check and strip a received one, and the
 * replay windows. No worker state, so it is unit-tested and fuzzed alone; the worker's side
 * (which datagrams, counters, asking control for links) is dataplane/dp_member.c.
 *
 * A datagram a member sends another ends with AUTH (type 0x8140, 32 bytes): the epoch of the
 * link whose keys tag it, the send time (unix s), a sequence number, and a 16-byte tag (dp_mac,
 * SipHash-2-4, nonce = the sequence number) over every byte of the message before the tag, the
 * header and its body length included. The receiver checks the tag with the key its table holds
 * for the datagram's source address and that epoch, refuses a send time more than
 * DP_AUTH_MAX_AGE_S from its clock, refuses a sequence number its window saw, and cuts the TLV
 * off (body length lowered), so the parsers see the message as it was built.
 *
 * The sequence number's top byte is the sending worker (its lane), the low 56 bits count that
 * worker's datagrams to all peers: no state per peer on the sending side, and a lane's numbers to
 * one receiver only grow. Windows are kept per (epoch, lane) by the receiving worker: SO_REUSEPORT
 * and RSS hash a datagram's four-tuple, so one worker sees all of a pair's datagrams.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/lc_compiler.h"
#include "dataplane/dp_mac.h"
#include "dataplane/dp_peers.h"

#define DP_AUTH_TLV 0x8140u   /* AUTH: the M bit and code 0x140 (docs/lsp.md §4.3) */
#define DP_AUTH_VALUE_LEN 32u /* u32 epoch, u32 time_s, u64 seq, 16-byte tag */
#define DP_AUTH_LEN (4u + DP_AUTH_VALUE_LEN)
#define DP_AUTH_MAX_AGE_S 60 /* send time this far from the receiver's clock: refused */
#define DP_REPLAY_WINDOW 256 /* sequence numbers a window remembers behind its highest */
#define DP_REPLAY_SLOTS 4096 /* windows per worker: a power of two */
#define DP_REPLAY_PROBE 8    /* slots a lookup probes */
#define DP_REPLAY_IDLE_S 180 /* a window unused this long may be reused (> 2 max ages) */
#define DP_AUTH_LANES 64     /* sending workers (lanes); a higher lane is refused */

/* One link's and lane's window of sequence numbers. Owner: one worker (an array of
 * DP_REPLAY_SLOTS, zeroed at start). */
struct dp_replay_slot {
	uint32_t epoch;
	uint32_t last_s; /* when it last accepted a datagram; 0: free */
	uint8_t lane;
	uint64_t top;			      /* highest counter accepted */
	uint64_t seen[DP_REPLAY_WINDOW / 64]; /* bit i: counter top - i was accepted */
};

/* What dp_auth_open found. */
enum dp_auth_verdict {
	DP_AUTH_NONE,	 /* no AUTH TLV: a client's datagram, with no member's rights */
	DP_AUTH_OK,	 /* a member's tag passed; the TLV is cut off */
	DP_AUTH_UNKNOWN, /* a tag from an address or under an epoch the table does not have */
	DP_AUTH_BAD,	 /* the tag does not verify */
	DP_AUTH_REPLAY,	 /* verified, but too old, or its sequence number was seen */
	DP_AUTH_FULL,	 /* verified, but no window could be had: refused, not let through */
};

/**
 * Append AUTH to the message @p data[0..*len) (a whole LSP message: header and body) and tag it.
 * @param cap   bytes available at @p data; the message may not grow beyond DHT_LSP_MAX_MSG.
 * @return LC_OK (*len grew by DP_AUTH_LEN), LC_ETOOLONG (no room), LC_EMALFORMED (not a whole
 *   LSP message).
 * Context: a worker (or a test); fast path.
 */
LC_MUSTCHECK int dp_auth_seal(const struct dp_peer_key *k, uint64_t seq, uint32_t now_s,
			      uint8_t *data, uint32_t *len, uint32_t cap);

/**
 * Check and strip the AUTH TLV of the received message @p data[0..*len) from @p src.
 * @param replay  the worker's DP_REPLAY_SLOTS windows (updated only for a verified tag).
 * @param from    set to the member on DP_AUTH_OK, and on DP_AUTH_UNKNOWN when the address is a
 *                member's (its epoch was unknown), else NULL.
 * Context: a worker, RCU online when @p peers is published (or a test); fast path.
 */
enum dp_auth_verdict dp_auth_open(const struct dp_peers *peers, struct dp_replay_slot *replay,
				  uint32_t now_s, const struct dp_addr *src, uint8_t *data,
				  uint32_t *len, const struct dp_peer **from);
