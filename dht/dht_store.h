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
 * Versions and removals (docs/overlay.md section 6): a key's set is a set of records, one per
 * binding identity (+sip.instance and reg-id when the binding has an instance, else its contact
 * URI's bytes), each with its own version (a hybrid logical clock value, dht_version_next) and
 * writer (the top half of the id of the node that made that version). A record is a live binding
 * or a tombstone: a removed binding (DHT_REC_REMOVED) or a removal of every binding of the key up
 * to its version (DHT_REC_CLEARED, REGISTER "Contact: *"). Tombstones are kept until their
 * expires_at_s (the writer sets it to when anything they beat would have expired), then reaped by
 * the wheel like bindings. Two copies of a key are merged record by record (dht_store_merge): the
 * greater (version, writer) of an identity wins, and a CLEARED record beats every record below it,
 * so merging is commutative, associative and idempotent, and nothing moves a record backwards.
 * The key's version is the highest version of any record it ever held (the owner's next version
 * starts above it).
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

/* What a record is (the values are LSP's REMOVED TLV, docs/lsp.md section 11). */
enum dht_rec_kind {
	DHT_REC_LIVE = 0,    /* a binding */
	DHT_REC_REMOVED = 1, /* a tombstone: the binding of this identity was removed */
	DHT_REC_CLEARED = 2, /* a tombstone: every record of the key below this one was removed */
};

/* One record (a binding or a tombstone), as written and as read back. */
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
	uint64_t version;	   /* this record's version (dht_version_next) */
	uint64_t writer;	   /* top half of the id of the node that wrote this version */
	uint8_t kind; /* enum dht_rec_kind; a tombstone's expires_at_s is when it goes */
};

/**
 * Whether two records name the same binding: equal +sip.instance and reg-id when @p a has an
 * instance, else neither has one and the contact URIs are byte-equal. CLEARED records name no
 * binding. Context: any thread.
 */
bool dht_binding_same_identity(const struct dht_binding_data *a, const struct dht_binding_data *b);

/** Whether (version, writer) @p a is above @p b: the order every merge follows. */
static inline bool dht_rec_newer(uint64_t va, uint64_t wa, uint64_t vb, uint64_t wb)
{
	return va > vb || (va == vb && wa > wb);
}

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
	/* added with per-record versions (issue 12) */
	uint64_t tombstones; /* REMOVED and CLEARED records held; `bindings` counts the live ones */
	uint64_t future;     /* merged records refused for a version beyond the clock bound */
	/* added with the merge bounds (issue 13) */
	uint64_t bounds;   /* merged records refused for an expiry or a registration time beyond
			    * struct dht_merge_bounds */
	uint64_t key_full; /* of `full`: a key already held DHT_STORE_KEY_RECORDS records */
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

/** The highest version any record of the key has had (the file comment). Context: the shard's
 * worker; fast path. */
uint64_t dht_aor_version(const struct dht_aor *a);

/**
 * The top 64 bits of the key's id (as given to dht_store_add, dht_store_clear or dht_store_merge), kept in the
 * key's record: range walks place a key on the ring and in its digest bucket without reading its
 * bytes. Context: the shard's worker.
 */
uint64_t dht_aor_id_hi(const struct dht_aor *a);

/** The key's share of its range digest: the XOR of dht_sync_rec_hash over its records, kept in
 * its record (dht/dht_sync.h). Context: the shard's worker. */
uint64_t dht_aor_sync_hash(const struct dht_aor *a);

/**
 * The bindings of @p a that are live at @p now_s (expires_at_s > now_s), in the order they were
 * first added, up to @p cap of them. O(bindings of the AOR).
 * @return how many were written to @p out (never more than @p cap).
 */
unsigned dht_aor_bindings(struct dht_aor *a, uint32_t now_s, struct dht_binding **out,
			  unsigned cap);

/**
 * The records of @p a, tombstones included, that are not past their expires_at_s at @p now_s, in
 * the order they were first added, up to @p cap of them: what replication sends.
 * @return how many were written to @p out.
 */
unsigned dht_aor_records(struct dht_aor *a, uint32_t now_s, struct dht_binding **out, unsigned cap);

/** Number of records held for @p a (tombstones and any past expiry not yet reaped included). */
unsigned dht_aor_count(const struct dht_aor *a);

/** Number of those that are bindings (not tombstones). */
unsigned dht_aor_live_count(const struct dht_aor *a);

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
 * Add a record (a binding, or a REMOVED tombstone) to the key, creating the key's set when it has
 * none. The key's version rises to @p d->version. The caller guarantees the key holds no record of
 * the same identity, live or tombstone (a key holds one record per identity; the registrar writes
 * an identity it holds no live binding of with dht_store_merge, which rewrites its tombstone).
 * @return LC_OK, LC_EFULL (a pool is exhausted; nothing changed), LC_ETOOLONG (key or fields
 *   longer than DHT_KEY_MAX / DHT_BINDING_VAR_MAX), LC_EINVAL (expires_at_s <= now is allowed and
 *   simply expires at the next dht_store_expire), LC_EINVAL (d->kind is DHT_REC_CLEARED: that
 *   is dht_store_clear).
 * Context: the shard's worker; fast path.
 */
LC_MUSTCHECK int dht_store_add(struct dht_store *s, dht_id_t id, const char *key, size_t len,
			       const struct dht_binding_data *d);

/**
 * Overwrite record @p b with @p d (a refresh, or a new contact for the same instance; @p d names
 * the same identity, dht_binding_same_identity). The key's version rises to @p d->version. @p b may
 * move: handles to it and views into it are invalid afterwards. O(1); cheapest when the variable
 * fields are unchanged (a plain refresh).
 * @return LC_OK, LC_EFULL (nothing changed), LC_ETOOLONG.
 * Context: the shard's worker; fast path.
 */
LC_MUSTCHECK int dht_store_update(struct dht_store *s, struct dht_binding *b,
				  const struct dht_binding_data *d);

/**
 * Remove binding @p b the way every removal must (STYLE.md section 9): it becomes a REMOVED
 * tombstone of its identity at @p version by @p writer, kept until @p keep_until_s, so that an
 * older copy of it met later (a replica that missed the removal, the other side of a partition)
 * loses to it. In place: cannot fail. Context: the shard's worker; fast path.
 */
void dht_store_tombstone(struct dht_store *s, struct dht_binding *b, uint64_t version,
			 uint64_t writer, uint32_t keep_until_s);

/**
 * Remove every binding of the key (REGISTER "Contact: *"): the key keeps one CLEARED record at
 * @p version by @p writer until @p keep_until_s, which beats every record below it, here and in
 * every copy it is merged into. A key not held gets one too: the bindings it removes may be held
 * elsewhere.
 * @return LC_OK, LC_EFULL (a new key had no room; nothing changed), LC_ETOOLONG.
 * Context: the shard's worker; fast path.
 */
LC_MUSTCHECK int dht_store_clear(struct dht_store *s, dht_id_t id, const char *key, size_t len,
				 uint64_t version, uint64_t writer, uint32_t keep_until_s);

/** Forget one record without a trace (unit tests; the wheel's expiry does the same). The key's
 * set goes with its last record. Context: the shard's worker. */
void dht_store_remove(struct dht_store *s, struct dht_binding *b);

/** Forget a key and all its records without a trace: only for a key whose copy has been handed
 * to its owner, and in tests. Context: the shard's worker. */
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

/**
 * One step of a lookup's memory, fetched ahead for a burst of keys (MICA-style, each step reads
 * only what the one before fetched): step 0 the index slot (dht_store_prefetch), 1 the AOR
 * record the slot names, 2 its key block and first binding, 3 also that binding's block. Run a
 * step for every key of the burst before the next step, and the lookups after the last: the
 * dependent cache misses of the keys then overlap instead of queueing one behind another. The
 * record is found by the index's tag alone (a guess; the lookup compares keys). Never faults,
 * changes nothing.
 * Context: the shard's worker; fast path.
 */
void dht_store_prefetch_step(const struct dht_store *s, dht_id_t id, unsigned step);

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

/* The highest version any record may have, whatever a caller allows: a hybrid logical clock value
 * (dht_version_next) of 2^50 ms, 35,000 years after 1970, so that no version comes near
 * 2^64 - 1, above which a key could never be written again. */
#define DHT_VERSION_MAX_MS (1ull << 50)
#define DHT_VERSION_MAX ((DHT_VERSION_MAX_MS << 12) | 0xfffu)

/* How far ahead of this node's clock another node's may be: a merged record's expiry may be this
 * much beyond what this node would write itself, and its registration time this much ahead. */
#define DHT_CLOCK_SKEW_S 60u

/*
 * What a merged copy may hold (docs/overlay.md section 6.1): a copy comes from another node,
 * which must not be able to store records that win over every real write for years, or that
 * outlive what a REGISTER may ask. dht_merge_bounds_at (dht/dht_sync.h) fills it from the node's
 * clock and --max-expires. Owner: the caller (on its stack); borrowed by dht_store_merge.
 */
struct dht_merge_bounds {
	uint32_t now_s;		   /* records expired at it are not taken (dropped, not refused) */
	uint64_t max_version;	   /* higher versions are refused (stats.future); DHT_VERSION_MAX
				       * holds whatever this says */
	uint32_t max_expires_at_s; /* later expiries are refused (stats.bounds) */
	uint32_t max_registered_at_s; /* later registration times are refused (stats.bounds) */
};

/**
 * Merge a copy of a key's records into the key (docs/overlay.md section 6): what a replica does
 * with a REPLICA_STORE entry and every node with a RANGE_TRANSFER entry. Record by record, a
 * record replaces the held record of its identity only when its (version, writer) is above it
 * (dht_rec_newer), a CLEARED record above the held one removes every record at or below it, and
 * records at or below the key's CLEARED record are not taken. Records past their expires_at_s at
 * @p b->now_s are not taken; records beyond the bounds @p b are refused (a version above
 * b->max_version or DHT_VERSION_MAX: stats.future; an expiry or registration time beyond its
 * bound: stats.bounds), as are records past the per-key cap DHT_STORE_KEY_RECORDS (stats.full and
 * stats.key_full). So merging never moves a record backwards, and merging the same copy twice, or
 * two copies in either order, gives the same set.
 * @param key  borrowed, as @p d and its strings, which must not point into @p s.
 * @param b    borrowed.
 * @return LC_OK (something changed), LC_ESTALE (nothing was newer), LC_EFULL (a pool, the var
 *   region or the key's record cap is short: the records before the one refused are merged,
 *   which is a valid state), LC_EFUTURE (a record was beyond the bounds: the others are merged,
 *   that one is not held, so the copy must not be acknowledged as held), LC_ETOOLONG (a key or a
 *   record's fields are too long; nothing changed).
 * Context: the shard's worker.
 */
LC_MUSTCHECK int dht_store_merge(struct dht_store *s, dht_id_t id, const char *key, size_t len,
				 const struct dht_binding_data *d, unsigned n,
				 const struct dht_merge_bounds *b);
