/* SPDX-License-Identifier: MIT */
/*
 * The binding store of one shard: key (an AOR, or any URI an LSP client publishes) -> its set of
 * bindings (contacts). Protocol-neutral: it keeps what RFC 3261 §10.3 and LSP need and applies no
 * registrar rules of its own; dataplane/ decides (CSeq ordering, expiry limits, max contacts) and
 * calls the primitives below, which all run in O(1) (O(bindings of the AOR) where they say so).
 *
 * Ownership: one store per shard, created by control at start, then read and written only by
 * the shard's worker thread (no locks). Every byte comes from pools sized at creation from
 * dht_store_cfg, so a full store refuses with LC_EFULL (the registrar answers 503) and the fast
 * path never allocates. Time is an input (unix seconds); the store reads no clock. Expiry runs by
 * a timer wheel, never by scanning the table. The statistics may be read from another thread.
 *
 * Views: every struct dht_bytes a read returns points into the store and stays valid until the
 * next write to the same store.
 *
 * Versions (docs/overlay.md section 6): every key carries a 64-bit version, which the store keeps
 * but never sets by itself: a key created by dht_store_add has version 0, changing its bindings
 * leaves it alone, and it goes with the key. The owner sets it after each change
 * (dht_aor_set_version, dht_version_next in dht/dht_sync.h); a replica replaces a key's whole set
 * only by a higher version (dht_store_set_aor).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lc_compiler.h"
#include "dht/dht_key.h"

/* A byte string: borrowed by the store on input, pointing into the store on output. */
struct dht_bytes {
	const char *p;
	uint32_t len;
};

/* Where a binding came from (RFC 3261 §10.3: kept so the registrar can answer and audit). */
struct dht_addr {
	uint8_t family;	   /* AF_INET, AF_INET6, or 0 when unknown */
	uint8_t transport; /* opaque to the store (dataplane stores its own transport id) */
	uint16_t port;	   /* host byte order */
	uint8_t addr[16];  /* network byte order; IPv4 in the first 4 bytes */
};

/* Longest accepted key and the largest total of a binding's variable fields (uri, call_id,
 * instance, path, attrs); longer input is refused with LC_ETOOLONG. */
#define DHT_KEY_MAX 512
#define DHT_BINDING_VAR_MAX 8192

/* One binding, as written and as read back. */
struct dht_binding_data {
	struct dht_bytes uri;	   /* contact URI as received: what 200 OK and 302 give back */
	struct dht_bytes call_id;  /* Call-ID of the REGISTER (or LSP publish) that last wrote it */
	struct dht_bytes instance; /* +sip.instance value as written (RFC 5626); empty when none */
	struct dht_bytes path;	   /* Path values (RFC 3327), comma-joined; empty when none */
	struct dht_bytes attrs;	   /* opaque attributes of an LSP record; empty when none */
	uint32_t expires_at_s;	   /* absolute expiry, unix seconds */
	uint32_t registered_at_s;  /* when the binding was first created, unix seconds */
	uint32_t cseq;		   /* CSeq of the last write (RFC 3261 §10.3 step 7 ordering) */
	uint32_t reg_id;	   /* RFC 5626 reg-id, 0 when none */
	uint32_t txn_tag;	   /* opaque to the store; the registrar's retransmission tag */
	int16_t q;		   /* q in thousandths (0..1000), -1 when none */
	struct dht_addr src;	   /* source of the last write */
};

struct dht_store_cfg {
	uint32_t max_bindings; /* bindings this shard can hold (> 0) */
	uint32_t max_aors;     /* keys it can hold; 0 means max_bindings */
	/* bytes for keys and variable fields; 0 means max_bindings * DHT_STORE_DEFAULT_VAR_BYTES */
	uint64_t var_bytes;
};

/* The variable-bytes budget per binding when cfg.var_bytes is 0: enough for a real phone's
 * contact, Call-ID, +sip.instance and AOR. The pool is reserved, not touched, so only what is used
 * costs resident memory. */
#define DHT_STORE_DEFAULT_VAR_BYTES 384

struct dht_store;
struct dht_aor;	    /* one key and its binding set */
struct dht_binding; /* one binding */

/* Counters. Owner: the shard's worker writes; any thread may read (relaxed loads, see
 * dht_store_stats_get). */
struct dht_store_stats {
	uint64_t aors;		 /* keys held */
	uint64_t bindings;	 /* bindings held (some may be past expiry, awaiting the wheel) */
	uint64_t bytes_used;	 /* the store's own accounting: records, index, keys, strings */
	uint64_t bytes_reserved; /* address space reserved for the pools */
	uint64_t max_bindings;
	uint64_t expired; /* bindings removed by dht_store_expire, since start */
	uint64_t full;	  /* writes refused with LC_EFULL, since start */
	/* bytes_used broken down (added after the first contract; they sum to bytes_used) */
	uint64_t bytes_index;	/* the key index and the store's own struct (fixed at creation) */
	uint64_t bytes_records; /* AOR and binding records in use */
	uint64_t bytes_var;	/* var-region blocks in use: keys and strings, headers, rounding */
};

/**
 * Create a shard's store with pools sized by @p cfg.
 * @param now_s  the current time; the timer wheel starts here.
 * @return LC_OK, LC_EINVAL (bad cfg), LC_ENOMEM.
 * Context: control thread, slow path.
 */
LC_MUSTCHECK int dht_store_new(struct dht_store **out, const struct dht_store_cfg *cfg,
			       uint32_t now_s);

/** Free a store and everything in it (NULL is a no-op). Context: control, after the worker stopped. */
void dht_store_free(struct dht_store *s);

/**
 * The key's binding set, or NULL. A key matches only when both @p id and the bytes agree, so two
 * keys whose ids collide stay apart (tests force that by passing the same id).
 * Context: the shard's worker; fast path.
 */
struct dht_aor *dht_store_find(struct dht_store *s, dht_id_t id, const char *key, size_t len);

/** The key's bytes. */
struct dht_bytes dht_aor_key(const struct dht_aor *a);

/** The key's version (0 until set). Context: the shard's worker; fast path. */
uint64_t dht_aor_version(const struct dht_aor *a);

/**
 * Set the key's version. It stays while the key has bindings, whatever happens to them.
 * @param id  the key's id, as given to dht_store_add or dht_store_set_aor (the store keeps the
 *   key's share of its range digest, dht_aor_sync_hash, which depends on both).
 * Context: the shard's worker; fast path.
 */
void dht_aor_set_version(struct dht_aor *a, dht_id_t id, uint64_t version);

/**
 * The top 64 bits of the key's id (as given to dht_store_add or dht_store_set_aor), kept in the
 * key's record: range walks place a key on the ring and in its digest bucket without reading its
 * bytes. Context: the shard's worker.
 */
uint64_t dht_aor_id_hi(const struct dht_aor *a);

/** dht_sync_hash(id, version) of the key, kept in its record (dht/dht_sync.h). Context: the
 * shard's worker. */
uint64_t dht_aor_sync_hash(const struct dht_aor *a);

/**
 * The bindings of @p a that are live at @p now_s (expires_at_s > now_s), in the order they were
 * first added, up to @p cap of them. O(bindings of the AOR).
 * @return how many were written to @p out (never more than @p cap).
 */
unsigned dht_aor_bindings(struct dht_aor *a, uint32_t now_s, struct dht_binding **out,
			  unsigned cap);

/** Number of bindings held for @p a, including any past expiry that the wheel has not reaped. */
unsigned dht_aor_count(const struct dht_aor *a);

/** Read a binding; the views point into the store (see the file comment). */
void dht_binding_read(const struct dht_binding *b, struct dht_binding_data *out);

/**
 * Whether adding @p nbindings bindings with @p var_bytes variable bytes in total (plus one new key
 * of @p key_len bytes when @p key_len > 0; the store adds the key's length and version) would fit
 * now. The registrar asks before it changes
 * anything, so a REGISTER is applied in full or not at all.
 */
bool dht_store_has_room(const struct dht_store *s, unsigned nbindings, size_t var_bytes,
			size_t key_len);

/**
 * Add a binding to the key, creating the key's set when it has none.
 * @return LC_OK, LC_EFULL (a pool is exhausted; nothing changed), LC_ETOOLONG (key or fields
 *   longer than DHT_KEY_MAX / DHT_BINDING_VAR_MAX), LC_EINVAL (expires_at_s <= now is allowed and
 *   simply expires at the next dht_store_expire; no other input is invalid).
 * Context: the shard's worker; fast path.
 */
LC_MUSTCHECK int dht_store_add(struct dht_store *s, dht_id_t id, const char *key, size_t len,
			       const struct dht_binding_data *d);

/**
 * Overwrite binding @p b with @p d (a refresh, or a new contact for the same instance). @p b may
 * move: handles to it and views into it are invalid afterwards. O(1); cheapest when the variable
 * fields are unchanged (a plain refresh).
 * @return LC_OK, LC_EFULL (nothing changed), LC_ETOOLONG.
 * Context: the shard's worker; fast path.
 */
LC_MUSTCHECK int dht_store_update(struct dht_store *s, struct dht_binding *b,
				  const struct dht_binding_data *d);

/** Remove one binding; the key's set goes with its last binding. Context: the shard's worker. */
void dht_store_remove(struct dht_store *s, struct dht_binding *b);

/** Remove a key and all its bindings. Context: the shard's worker. */
void dht_store_remove_aor(struct dht_store *s, struct dht_aor *a);

/**
 * Reap bindings whose expiry is at or before @p now_s, at most @p budget of them (the worker
 * calls this once per loop with a small budget, so expiry never stalls the fast path).
 * @return how many were removed.
 * Context: the shard's worker.
 */
unsigned dht_store_expire(struct dht_store *s, uint32_t now_s, unsigned budget);

/** Snapshot of the counters. Context: any thread. */
void dht_store_stats_get(const struct dht_store *s, struct dht_store_stats *out);

/* Additions after the first contract (the registrar's pipeline and range transfer need them). */

/**
 * Start fetching the index slot @p id hashes to, so that a dht_store_find for it a few items later
 * in the burst (STYLE.md section 4) does not wait on memory. Never faults, changes nothing.
 * Context: the shard's worker; fast path.
 */
void dht_store_prefetch(const struct dht_store *s, dht_id_t id);

/* The cursor value dht_store_walk leaves when every key has been visited. */
#define DHT_STORE_WALK_END UINT64_MAX

/**
 * Visit every key of the store, a few per call, for range transfer: start with *@p cursor = 0
 * and call until it is DHT_STORE_WALK_END. The order is stable (the keys' record order, not id
 * order; the caller gets a key's id again with dht_key_of). A key held from the first call to the
 * last is visited exactly once; one added or removed meanwhile may or may not be. Removing keys
 * while walking, those just returned included, never makes the walk skip or revisit another key:
 * a key's record never moves, and the cursor is a record position. Each call looks at a bounded
 * number of records, so it may return 0 keys before the end; it stops right after the @p cap-th
 * key, so a caller that takes fewer keys per call loses none.
 * @return how many keys were written to @p out (never more than @p cap); each is valid until the
 *   next write to the store, except that removing one key (dht_store_remove_aor) leaves the
 *   others valid.
 * Context: the shard's worker.
 */
unsigned dht_store_walk(struct dht_store *s, uint64_t *cursor, struct dht_aor **out, unsigned cap);

/**
 * Replace the whole binding set of a key at @p version, all or nothing: what a replica does with a
 * REPLICA_STORE or a RANGE_TRANSFER entry (docs/overlay.md section 6). Applied only when the key
 * is absent or holds an older version; the key then has exactly the records of @p d whose
 * expires_at_s is after @p now_s, in the order given, and version @p version. None left (n == 0,
 * or every record expired) removes the key. O(n + bindings held); a set equal to the one held but
 * for expiries, CSeqs and other fixed fields (a replicated refresh) is applied in place with no
 * var-region work, and a binding dropped from the middle of the set does not disturb the others.
 * A removed key leaves nothing behind (no tombstone): a set at an older version that arrives
 * after the removal applies, and range sync repairs it.
 * @param key  borrowed, as @p d and its strings, which must not point into @p s.
 * @return LC_OK (applied; also when the key was absent and nothing was left to store),
 *   LC_ESTALE (the key holds @p version or a newer one: nothing changed), LC_EFULL (a pool or the
 *   var region is short; nothing changed but the full counter), LC_ETOOLONG (the key or a record's
 *   fields are too long, as for dht_store_add; nothing changed).
 *   Room is counted against what the old set gives up: its binding records are reused, and so is
 *   a record's block when the new strings need one of the same size; other new blocks are taken
 *   before the old ones are given back.
 * Context: the shard's worker.
 */
LC_MUSTCHECK int dht_store_set_aor(struct dht_store *s, dht_id_t id, const char *key, size_t len,
				   uint64_t version, const struct dht_binding_data *d, unsigned n,
				   uint32_t now_s);
