/* SPDX-License-Identifier: MIT */
/*
 * Range sync over a shard's store (see dht_sync.h for how the digests work): a record's digest
 * share, digest merge and diff, the ring-range test, and the step functions built on
 * dht_store_walk.
 */
#include "dht/dht_sync.h"

#include <string.h>

#include "dht/dht_ring.h"

/* MurmurHash3's 64-bit finalizer: a bijection whose every output bit depends on every input bit. */
static inline uint64_t fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

uint64_t dht_sync_rec_hash(uint64_t id_hi, uint64_t version, uint64_t writer, unsigned kind,
			   uint64_t identity)
{
	uint64_t h = fmix64(id_hi ^ 0x6a09e667f3bcc909ull);
	h = fmix64(h ^ version);
	h = fmix64(h ^ writer);
	h = fmix64(h ^ identity ^ ((uint64_t)kind << 62));
	return h;
}

void dht_sync_digest_init(struct dht_sync_digest *d)
{
	memset(d, 0, sizeof(*d));
}

void dht_sync_digest_merge(struct dht_sync_digest *into, const struct dht_sync_digest *from)
{
	for (unsigned i = 0; i < DHT_SYNC_BUCKETS; i++) {
		into->x[i] ^= from->x[i];
		into->n[i] += from->n[i];
	}
}

unsigned dht_sync_digest_diff(const struct dht_sync_digest *a, const struct dht_sync_digest *b,
			      uint8_t set[DHT_SYNC_SET_BYTES])
{
	unsigned n = 0;
	memset(set, 0, DHT_SYNC_SET_BYTES);
	for (uint32_t i = 0; i < DHT_SYNC_BUCKETS; i++) {
		if (a->x[i] != b->x[i] || a->n[i] != b->n[i]) {
			dht_sync_set_add(set, i);
			n++;
		}
	}
	return n;
}

bool dht_sync_in_range(const struct dht_sync_range *r, dht_id_t id)
{
	return dht_in_oc(id, r->lo, r->hi);
}

/* A held key's id, from its bytes. */
static dht_id_t id_of(const struct dht_aor *a, uint64_t seed)
{
	struct dht_bytes k = dht_aor_key(a);
	return dht_key_of(k.p, k.len, seed);
}

/*
 * Whether the key of @p a lies in @p r, from the top half of its id, which its record keeps. When
 * that half differs from both ends' top halves, the bottom half cannot change the answer, so the
 * key's bytes are not read; only a key whose top half equals an end's (about one in 2^64) is
 * hashed again to decide.
 */
static bool key_in(const struct dht_aor *a, uint64_t seed, const struct dht_sync_range *r)
{
	uint64_t hi = dht_aor_id_hi(a);
	if (hi != (uint64_t)(r->lo >> 64) && hi != (uint64_t)(r->hi >> 64)) {
		return dht_in_oc((dht_id_t)hi << 64, r->lo, r->hi);
	}
	return dht_in_oc(id_of(a, seed), r->lo, r->hi);
}

/* The key's digest bucket: bits 64..75 of its id (dht_sync_bucket), the low bits of the top half. */
static uint32_t key_bucket(const struct dht_aor *a)
{
	return (uint32_t)dht_aor_id_hi(a) & (DHT_SYNC_BUCKETS - 1);
}

static bool selected(const struct dht_aor *a, uint64_t seed, const struct dht_sync_range *range,
		     const uint8_t *buckets)
{
	return (buckets == NULL || dht_sync_set_has(buckets, key_bucket(a))) &&
	       key_in(a, seed, range);
}

unsigned dht_sync_digest_step(struct dht_store *s, uint64_t seed, uint64_t *cursor,
			      const struct dht_sync_range *ranges, unsigned nranges,
			      struct dht_sync_digest *const out[])
{
	struct dht_aor *a[DHT_SYNC_STEP];
	unsigned n = dht_store_walk(s, cursor, a, DHT_SYNC_STEP);
	for (unsigned i = 0; i < n; i++) {
		/* bucket and share from the key's record alone (dht_aor_id_hi, dht_aor_sync_hash) */
		uint32_t b = key_bucket(a[i]);
		uint64_t h = dht_aor_sync_hash(a[i]);
		for (unsigned r = 0; r < nranges; r++) {
			if (key_in(a[i], seed, &ranges[r])) {
				out[r]->x[b] ^= h;
				out[r]->n[b]++;
			}
		}
	}
	return n;
}

unsigned dht_sync_emit_step(struct dht_store *s, uint64_t seed, uint64_t *cursor,
			    const struct dht_sync_range *range, const uint8_t *buckets,
			    struct dht_aor **out, dht_id_t *ids, unsigned cap)
{
	unsigned n = dht_store_walk(s, cursor, out, cap), kept = 0;
	for (unsigned i = 0; i < n; i++) {
		if (selected(out[i], seed, range, buckets)) {
			if (ids != NULL) {
				ids[kept] = id_of(out[i],
						  seed); /* its bytes are read to emit it anyway */
			}
			out[kept++] = out[i];
		}
	}
	return kept;
}

unsigned dht_sync_count_step(struct dht_store *s, uint64_t seed, uint64_t *cursor,
			     const struct dht_sync_range *ranges, unsigned nranges,
			     struct dht_sync_count *counts)
{
	struct dht_aor *a[DHT_SYNC_STEP];
	unsigned n = dht_store_walk(s, cursor, a, DHT_SYNC_STEP);
	for (unsigned i = 0; i < n; i++) {
		unsigned bindings = dht_aor_live_count(a[i]);
		for (unsigned r = 0; r < nranges; r++) {
			if (key_in(a[i], seed, &ranges[r])) {
				counts[r].held++;
				counts[r].x ^= dht_aor_sync_hash(a[i]);
				counts[r].keys += bindings > 0;
				counts[r].bindings += bindings;
			}
		}
	}
	return n;
}
