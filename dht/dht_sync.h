/* SPDX-License-Identifier: MIT */
/*
 * What replication and range sync need from a shard's store (docs/overlay.md sections 6 and 7):
 * the owner's next version of a key, bucket digests of ring ranges, and walks that a worker runs a
 * slice per loop to digest, emit and count the keys of a range. Pure: no clock, no I/O, no
 * allocation; a digest is the caller's memory.
 *
 * How it works: a range's keys fall in DHT_SYNC_BUCKETS buckets by dht_sync_bucket(id). A
 * bucket's digest is the XOR of its keys' shares and their count, where a key's share
 * (dht_aor_sync_hash) is the XOR of dht_sync_rec_hash over its records, tombstones included. XOR
 * makes it independent of the order keys and records are met in, so two stores holding the same
 * records agree bucket by bucket, however they were filled, and the digests of a node's shards
 * combine into the node's by XOR and sum (dht_sync_digest_merge). Two nodes compare a range by
 * its digests (dht_sync_digest_diff) and exchange only the keys of the buckets that differ
 * (dht_sync_emit_step), every record of them, which the receiver merges (dht_store_merge).
 *
 * The store keeps, in each key's record, the top half of its id and the key's share
 * (dht_aor_id_hi, dht_aor_sync_hash), updated with every change of the key's records, so
 * digesting and counting read the records in order and never a key's bytes: a few nanoseconds a
 * key. Only a key whose top half equals a range end's (about one in 2^64) has its id recomputed
 * from its bytes with dht_key_of(key, seed), and an emit reads the bytes it sends. So the store
 * must hold keys under the ids dht_key_of gives with that seed (the overlay's), as the dataplane
 * does. Each step is one dht_store_walk call that looks at a bounded number of records and at
 * most DHT_SYNC_STEP keys (an emit step: at most its cap), so its cost is bounded.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dht/dht_key.h"
#include "dht/dht_route.h"
#include "dht/dht_store.h"

/**
 * The version a node gives a record it writes: max(old + 1, now_ms << 12), where @p old is the
 * key's version (the highest it has seen, its own writes and every merged copy's). This is a
 * hybrid logical clock per key: versions follow the clock, so a new owner that never saw a key
 * (or a restarted one) still writes newer ones than the replicas hold as long as the nodes'
 * clocks roughly agree, and a write made after seeing another is always above it, whatever the
 * clocks say; the low 12 bits leave room for 4096 changes a millisecond, and a clock that steps
 * back never makes a version go back. Versions from clocks far ahead are refused where they are
 * merged (dht_version_bound), so no key ever comes near saturation at UINT64_MAX.
 * Context: any thread.
 */
static inline uint64_t dht_version_next(uint64_t old, uint64_t now_ms)
{
	uint64_t next = old == UINT64_MAX ? old : old + 1;
	uint64_t clock = now_ms << 12;
	return next > clock ? next : clock;
}

/* How far ahead of the receiver's clock a merged version may be (a peer's clock that jumped ahead
 * further writes versions that would win over every later write for as long: refused, counted). */
#define DHT_VERSION_AHEAD_MAX_MS 60000u

/** The highest version a node at @p now_ms takes from another (dht_merge_bounds.max_version):
 * never above DHT_VERSION_MAX, whatever the clock says. */
static inline uint64_t dht_version_bound(uint64_t now_ms)
{
	uint64_t ms = now_ms + DHT_VERSION_AHEAD_MAX_MS;
	if (ms < now_ms || ms > DHT_VERSION_MAX_MS) {
		ms = DHT_VERSION_MAX_MS;
	}
	return (ms << 12) | 0xfffu;
}

/**
 * What a node at @p now_s / @p now_ms with --max-expires @p max_expires_s takes from another
 * (dht_store_merge): versions up to dht_version_bound, expiries up to what it would write itself
 * (now + max_expires_s, as a REGISTER's expiry and a tombstone's keep time are at most that) and
 * registration times up to now, each plus DHT_CLOCK_SKEW_S for the other node's clock.
 * Context: any thread.
 */
static inline struct dht_merge_bounds dht_merge_bounds_at(uint32_t now_s, uint64_t now_ms,
							  uint32_t max_expires_s)
{
	uint64_t exp = (uint64_t)now_s + max_expires_s + DHT_CLOCK_SKEW_S;
	uint64_t reg = (uint64_t)now_s + DHT_CLOCK_SKEW_S;
	return (struct dht_merge_bounds){
		.now_s = now_s,
		.max_version = dht_version_bound(now_ms),
		.max_expires_at_s = exp > UINT32_MAX ? UINT32_MAX : (uint32_t)exp,
		.max_registered_at_s = reg > UINT32_MAX ? UINT32_MAX : (uint32_t)reg,
	};
}

/* Buckets per range digest (a power of two), and the bytes of a bucket set. */
#define DHT_SYNC_BUCKETS 4096u
#define DHT_SYNC_SET_BYTES (DHT_SYNC_BUCKETS / 8)

/* Keys a step function looks at per call, at most. */
#define DHT_SYNC_STEP 64u

/**
 * The bucket of @p id: bits 64..75. Not the top bits: a node's range is a short arc, inside which
 * the top bits are nearly constant, so every key of the range would share a few buckets. Bits
 * below the top are uniform inside any arc much longer than 2^76 (a ring of 2^40 nodes still has
 * arcs of about 2^88), so a range's keys spread evenly over all buckets. Not the low 64 bits
 * either: they pick the key's shard (dht_shard_of), so with a power-of-two number of shards a
 * shard's keys would fill only some buckets. Context: any thread.
 */
static inline uint32_t dht_sync_bucket(dht_id_t id)
{
	return (uint32_t)(id >> 64) & (DHT_SYNC_BUCKETS - 1);
}

/** Whether bucket @p b is in @p set (bit b % 8 of byte b / 8, least significant bit first). */
static inline bool dht_sync_set_has(const uint8_t *set, uint32_t b)
{
	return (set[b / 8] >> (b % 8)) & 1u;
}

/** Put bucket @p b in @p set. */
static inline void dht_sync_set_add(uint8_t *set, uint32_t b)
{
	set[b / 8] = (uint8_t)(set[b / 8] | (1u << (b % 8)));
}

/**
 * A record's share of its key's digest share (dht_aor_sync_hash is the XOR over the key's
 * records): a mix of the key id's top half, the record's version, writer and kind, and a hash of
 * its identity, so two copies of a key agree exactly when they hold the same records at the same
 * versions. The same on every node (arithmetic only, no byte order). Context: any thread.
 */
uint64_t dht_sync_rec_hash(uint64_t id_hi, uint64_t version, uint64_t writer, unsigned kind,
			   uint64_t identity);

/* The digest of a range. Owner: whoever fills it (a worker for its shard, control to merge);
 * 48 KiB, so not on a worker's stack. */
struct dht_sync_digest {
	uint64_t x[DHT_SYNC_BUCKETS]; /* XOR of the bucket's keys' shares (dht_aor_sync_hash) */
	uint32_t n[DHT_SYNC_BUCKETS]; /* keys in the bucket */
};

/** Empty @p d. Context: any thread. */
void dht_sync_digest_init(struct dht_sync_digest *d);

/** Add @p from into @p into (XOR and sum): the digest of both key sets. Context: any thread. */
void dht_sync_digest_merge(struct dht_sync_digest *into, const struct dht_sync_digest *from);

/**
 * Which buckets differ between @p a and @p b (in hash or count).
 * @param set  written whole: bit i (byte i / 8, bit i % 8, least significant first) is set when
 *   bucket i differs.
 * @return how many buckets differ. Context: any thread.
 */
unsigned dht_sync_digest_diff(const struct dht_sync_digest *a, const struct dht_sync_digest *b,
			      uint8_t set[DHT_SYNC_SET_BYTES]);

/* A ring range: the arc (lo, hi] mod 2^128, clockwise from lo (excluded) to hi (included);
 * lo == hi is the whole ring (docs/overlay.md section 1). */
struct dht_sync_range {
	dht_id_t lo;
	dht_id_t hi;
};

/** Whether @p id lies in @p r. Context: any thread. */
bool dht_sync_in_range(const struct dht_sync_range *r, dht_id_t id);

/**
 * One slice of digesting a shard: the keys of the next walk step (start with *@p cursor = 0, done
 * when it is DHT_STORE_WALK_END) are added to out[i] for every ranges[i] that holds their id (a
 * key in several ranges counts in each; a key in none is skipped). Fill a digest from
 * dht_sync_digest_init over one whole walk; keys written meanwhile may or may not be counted,
 * which the next digest exchange repairs.
 * @param seed  the overlay's seed (ids are dht_key_of(key, seed)).
 * @param out   borrowed: @p nranges digests.
 * @return keys looked at in this call (at most DHT_SYNC_STEP; 0 does not mean the end).
 * Context: the shard's worker.
 */
unsigned dht_sync_digest_step(struct dht_store *s, uint64_t seed, uint64_t *cursor,
			      const struct dht_sync_range *ranges, unsigned nranges,
			      struct dht_sync_digest *const out[]);

/**
 * One slice of enumerating the keys in @p range whose bucket is in @p buckets (NULL: every
 * bucket), to emit them as RANGE_TRANSFER entries: the caller reads each key with dht_aor_key,
 * dht_aor_version, dht_aor_records and dht_binding_read, and sends the records read, tombstones
 * included (a key may hold tombstones only), so that the receiver's merge repairs removals too.
 * The walk stops right after the @p cap-th key it looks at, so a caller that can emit only a few
 * entries now passes a small @p cap and loses nothing; every key held throughout the walk is
 * returned exactly once.
 * @param out  written: up to @p cap handles, valid until the next write to the store.
 * @param ids  NULL, or written: the id of each key in @p out.
 * @return how many keys were written (0 does not mean the end; *@p cursor says).
 * Context: the shard's worker.
 */
unsigned dht_sync_emit_step(struct dht_store *s, uint64_t seed, uint64_t *cursor,
			    const struct dht_sync_range *range, const uint8_t *buckets,
			    struct dht_aor **out, dht_id_t *ids, unsigned cap);

/* What a range holds. Owner: the caller. */
struct dht_sync_count {
	uint64_t held;	   /* keys with any record, tombstones only included */
	uint64_t keys;	   /* keys with a binding */
	uint64_t bindings; /* dht_aor_live_count: expired ones not yet reaped included */
	uint64_t x;	   /* XOR of the keys' dht_aor_sync_hash: changes when any record does */
};

/**
 * One slice of counting keys and bindings per range (for `locusctl ring`: owned range vs replica
 * ranges): like dht_sync_digest_step, adding to counts[i] (zero them before the first call).
 * @return keys looked at in this call.
 * Context: the shard's worker.
 */
unsigned dht_sync_count_step(struct dht_store *s, uint64_t seed, uint64_t *cursor,
			     const struct dht_sync_range *ranges, unsigned nranges,
			     struct dht_sync_count *counts);

/* ---- Who may sync what (docs/overlay.md section 6.4) --------------------------------------- */

/*
 * The rules a node applies to range sync and replication messages, against its own view of the
 * ring (a routing table). Views disagree while the ring changes (a node joined or died and not
 * every node heard yet), so every rule is widened by DHT_SYNC_SLACK nodes: a node "owns" the
 * arc back to its (1 + slack)-th predecessor and "holds" the arc back to its (R + slack)-th, so a
 * message that one change ago (or one change ahead) was right is still taken. A message beyond
 * that is refused: the sender's next round (a pull 500 ms later, a push or a hand-off T_sync
 * later) asks again, by when the views agree; no copy is dropped by a refusal, so it delays a
 * repair and loses nothing.
 */
#define DHT_SYNC_SLACK 1u

/** Whether arc @p a lies inside arc @p b (lo == hi: the whole ring). Context: any thread. */
bool dht_sync_range_within(const struct dht_sync_range *a, const struct dht_sync_range *b);

/**
 * The arcs that @p a and @p b share: none, one, or two (when each of them wraps past an end of
 * the other), written to @p out in no particular order.
 * @return how many. Context: any thread.
 */
unsigned dht_sync_range_intersect(const struct dht_sync_range *a, const struct dht_sync_range *b,
				  struct dht_sync_range out[2]);

/**
 * The live member of @p rt with id @p id (self included), or NULL. Without the complete view:
 * self, the predecessor, a successor or a finger. Context: any thread holding the table.
 */
const struct dht_peer *dht_sync_member(const struct dht_route *rt, dht_id_t id);

/**
 * The arc (p, x] that ends at the live member @p x, p being the @p k-th live member before x in
 * @p rt: the keys x owns when k = 1, those it holds as owner or replica when k = R. The whole ring
 * when the view has at most k members, or (without the complete view, above --one-hop-max) when
 * the table does not know x's k-th predecessor: the rules then fall back to "any range", which is
 * as lenient as a node without the view can be.
 * @return false when @p x is not a live member of @p rt. Context: any thread holding the table.
 */
bool dht_sync_arc(const struct dht_route *rt, dht_id_t x, unsigned k, struct dht_sync_range *out);

/**
 * Whether @p from is a live member of @p rt other than its node, at the address the view has
 * for it (the id and the address come from the authenticated link or datagram).
 * Context: any thread holding the table.
 */
bool dht_sync_from_member(const struct dht_route *rt, const struct dht_peer *from);

/**
 * Whether the node of @p rt answers a RANGE_DIGEST of @p mode (DHT_LSP_SYNC_PULL, _PUSH,
 * _HANDOFF) over @p r from @p from, the authenticated sender: it must be a live member
 * (dht_sync_from_member), and
 *   PULL     r lies in what the sender owns (or is about to: its arc of 1 + slack nodes);
 *   PUSH     r lies in what the sender owns, and in what this node holds (R + slack);
 *   HANDOFF  r lies in what this node owns (1 + slack).
 * Context: any thread holding the table.
 */
bool dht_sync_digest_allowed(const struct dht_route *rt, const struct dht_peer *from, unsigned mode,
			     const struct dht_sync_range *r);

/**
 * The arc in which the node of @p rt takes entries of a transfer: what it holds as owner or
 * replica, widened by the slack (its arc of R + slack nodes). Context: any thread holding it.
 */
void dht_sync_held(const struct dht_route *rt, struct dht_sync_range *out);

/**
 * Whether the live member @p id is in the chain of @p key as @p rt has it, widened by the slack:
 * among the first R + DHT_SYNC_SLACK live members from the key's owner (docs/overlay.md 6.3).
 * Context: any thread holding the table; fast path (a binary search).
 */
bool dht_sync_in_chain(const struct dht_route *rt, dht_id_t key, dht_id_t id);
