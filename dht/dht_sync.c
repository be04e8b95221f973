/* SPDX-License-Identifier: MIT */
/*
 * Range sync over a shard's store (see dht_sync.h for how the digests work): a record's digest
 * share, digest merge and diff, the ring-range test, and the step functions built on
 * dht_store_walk; and the rules of who may sync which range with a node, against its routing
 * table (docs/overlay.md section 6.4).
 */
#include "dht/dht_sync.h"

#include <string.h>

#include "dht/dht_ring.h"
#include "dht/lsp_ovl.h"

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

/* ---- who may sync what ---------------------------------------------------------------------- */

bool dht_sync_range_within(const struct dht_sync_range *a, const struct dht_sync_range *b)
{
	if (b->lo == b->hi) {
		return true;
	}
	if (a->lo == a->hi) {
		return false;
	}
	/* clockwise from b->lo, b is (0, lb] and a is (da, da + la]: inside when it ends by lb
	 * without passing b->lo (where the sum would wrap) */
	dht_id_t lb = dht_dist(b->lo, b->hi), la = dht_dist(a->lo, a->hi);
	dht_id_t da = dht_dist(b->lo, a->lo);
	return la <= lb && da <= lb - la;
}

unsigned dht_sync_range_intersect(const struct dht_sync_range *a, const struct dht_sync_range *b,
				  struct dht_sync_range out[2])
{
	if (a->lo == a->hi) {
		out[0] = *b;
		return 1;
	}
	if (b->lo == b->hi) {
		out[0] = *a;
		return 1;
	}
	/* clockwise from b->lo, b is (0, lb] and a is (da, ea]; a passes b->lo when ea < da, and is
	 * then (da, 2^128) and [0, ea], of which b->lo itself (0) is not in b */
	dht_id_t lb = dht_dist(b->lo, b->hi), da = dht_dist(b->lo, a->lo);
	dht_id_t ea = dht_dist(b->lo, a->hi);
	unsigned n = 0;
	if (ea > da) {
		if (da < lb) {
			out[n++] = (struct dht_sync_range){a->lo, b->lo + (ea < lb ? ea : lb)};
		}
		return n;
	}
	if (ea > 0) {
		out[n++] = (struct dht_sync_range){b->lo, b->lo + (ea < lb ? ea : lb)};
	}
	if (da < lb) {
		out[n++] = (struct dht_sync_range){a->lo, b->hi};
	}
	return n;
}

/* Index of the member of id @p id in the sorted one-hop view, or rt->nmembers. */
static unsigned member_index(const struct dht_route *rt, dht_id_t id)
{
	unsigned lo = 0, hi = rt->nmembers;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (rt->members[mid].id < id) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo < rt->nmembers && rt->members[lo].id == id ? lo : rt->nmembers;
}

const struct dht_peer *dht_sync_member(const struct dht_route *rt, dht_id_t id)
{
	if (rt->one_hop && rt->nmembers > 0) {
		unsigned i = member_index(rt, id);
		return i < rt->nmembers ? &rt->members[i] : NULL;
	}
	if (id == rt->self.id) {
		return &rt->self;
	}
	if (rt->has_pred && rt->pred.id == id) {
		return &rt->pred;
	}
	for (unsigned i = 0; i < rt->nsucc; i++) {
		if (rt->succ[i].id == id) {
			return &rt->succ[i];
		}
	}
	for (unsigned i = 0; i < rt->nfingers; i++) {
		if (rt->finger[i].id == id) {
			return &rt->finger[i];
		}
	}
	return NULL;
}

/*
 * Without the complete view a table knows one stretch of the ring: predecessor, self, successors
 * (position 0 is the predecessor when there is one). The node at position @p j (of @p n), or
 * NULL. A stretch that comes round to self or the predecessor again (a ring smaller than it) is
 * cut there.
 */
static const struct dht_peer *stretch_at(const struct dht_route *rt, unsigned j)
{
	unsigned p = rt->has_pred ? 1 : 0;
	if (j < p) {
		return &rt->pred;
	}
	if (j == p) {
		return &rt->self;
	}
	if (j - p - 1 >= rt->nsucc) {
		return NULL;
	}
	const struct dht_peer *s = &rt->succ[j - p - 1];
	return s->id == rt->self.id || (rt->has_pred && s->id == rt->pred.id) ? NULL : s;
}

bool dht_sync_arc(const struct dht_route *rt, dht_id_t x, unsigned k, struct dht_sync_range *out)
{
	*out = (struct dht_sync_range){x, x}; /* the whole ring, unless more is known */
	if (rt->one_hop && rt->nmembers > 0) {
		unsigned n = rt->nmembers, i = member_index(rt, x);
		if (i == n) {
			return false;
		}
		if (k < n) {
			out->lo = rt->members[(i + n - k) % n].id;
		}
		return true;
	}
	if (dht_sync_member(rt, x) == NULL) {
		return false;
	}
	const struct dht_peer *p;
	for (unsigned j = 0; (p = stretch_at(rt, j)) != NULL; j++) {
		if (p->id == x) {
			if (j >= k) {
				out->lo = stretch_at(rt, j - k)->id;
			}
			break;
		}
	}
	return true;
}

bool dht_sync_from_member(const struct dht_route *rt, const struct dht_peer *from)
{
	const struct dht_peer *m = dht_sync_member(rt, from->id);
	return m != NULL && m->id != rt->self.id && dht_addr_equal(&m->addr, &from->addr);
}

/* The replica count R of @p rt (at least 1). */
static unsigned replicas_of(const struct dht_route *rt)
{
	return rt->replicas > 0 ? rt->replicas : 1;
}

bool dht_sync_digest_allowed(const struct dht_route *rt, const struct dht_peer *from, unsigned mode,
			     const struct dht_sync_range *r)
{
	struct dht_sync_range theirs, ours;
	if (!dht_sync_from_member(rt, from)) {
		return false;
	}
	switch (mode) {
	case DHT_LSP_SYNC_PULL:
		return dht_sync_arc(rt, from->id, 1 + DHT_SYNC_SLACK, &theirs) &&
		       dht_sync_range_within(r, &theirs);
	case DHT_LSP_SYNC_PUSH:
		dht_sync_held(rt, &ours);
		return dht_sync_arc(rt, from->id, 1 + DHT_SYNC_SLACK, &theirs) &&
		       dht_sync_range_within(r, &theirs) && dht_sync_range_within(r, &ours);
	case DHT_LSP_SYNC_HANDOFF:
		return dht_sync_arc(rt, rt->self.id, 1 + DHT_SYNC_SLACK, &ours) &&
		       dht_sync_range_within(r, &ours);
	default:
		return false;
	}
}

void dht_sync_held(const struct dht_route *rt, struct dht_sync_range *out)
{
	if (!dht_sync_arc(rt, rt->self.id, replicas_of(rt) + DHT_SYNC_SLACK, out)) {
		*out = (struct dht_sync_range){rt->self.id, rt->self.id}; /* a table being built */
	}
}

bool dht_sync_in_chain(const struct dht_route *rt, dht_id_t key, dht_id_t id)
{
	/* a node is among the first k from the key's owner exactly when the key lies in the arc
	 * back to its k-th predecessor */
	struct dht_sync_range a;
	return dht_sync_arc(rt, id, replicas_of(rt) + DHT_SYNC_SLACK, &a) &&
	       dht_sync_in_range(&a, key);
}
