/* SPDX-License-Identifier: MIT */
/*
 * The binding store of one shard (dht_store.h): an index from key to its binding set, fixed pools
 * of AOR and binding records, a region for the variable bytes, and an expiry wheel, all reserved
 * at creation so the fast path never allocates and a full store answers LC_EFULL.
 *
 * How it works: the index is an open-addressing table of 32-bit slots with linear probing, sized
 * at start to a power of two that keeps the load at or below 3/4 even with every AOR record in
 * use. A slot holds the AOR record's index in its low bits and, in the bits above, a tag taken
 * from the id (mixed), so a probe compares key bytes only on a tag match; 0 is empty (record 0
 * never exists). The home slot comes from the mixed id's top bits, which the AOR record keeps
 * (h32), so deletion shifts the following cluster back (no tombstones: lookups never slow down
 * with churn). An AOR record (16 bytes) points to its key's block in the var region (the key's
 * 64-bit version, its length, its bytes) and to its first binding; a key's bindings form a
 * circular doubly linked list of binding records (64 bytes, one cache line) in first-added order.
 * A binding's strings (and an IPv6 source address) share one var-region block. Records name each other by 32-bit pool index, never by pointer; a record
 * finds its store through the owner pointer at the start of its 2 MiB pool chunk
 * (dht_pool_owner_of), which is how dht_aor_bindings and dht_binding_read work without a store
 * argument. Expiry is the wheel's (dht_wheel_internal.h): the binding record embeds the wheel
 * node, so add, remove and refresh move it in O(1), and dht_store_expire pops due bindings with a
 * step budget. Readers filter by time, so a binding past expiry but not yet reaped is never shown.
 */
#include "dht/dht_store.h"

#include <assert.h>
#include <limits.h>
#include <string.h>

#include "common/lc_alloc.h"
#include "common/lc_counter.h"
#include "common/lc_error.h"
#include "dht/dht_store_internal.h"
#include "dht/dht_sync.h"

/* Owner: created by control, then written only by the shard's worker; `st` is read by any thread. */
struct dht_store {
	struct dht_pool aors;
	struct dht_pool binds;
	struct dht_var var;
	uint32_t *index;      /* slot: (tag << idx_bits) | AOR index; 0 is empty */
	size_t index_bytes;   /* bytes mapped for the index */
	uint32_t index_mask;  /* slots - 1 */
	unsigned slot_bits;   /* log2(slots) */
	unsigned idx_bits;    /* bits of a slot that hold the AOR index */
	uint32_t idx_mask;    /* (1 << idx_bits) - 1 */
	uint64_t fixed_bytes; /* the store struct and the index: counted in bytes_used */
	uint64_t tombs;	      /* tombstone records held (the rest of binds.used are bindings) */
	struct dht_wheel wheel;
	struct {
		LC_CACHE_ALIGNED lc_counter_t aors;
		lc_counter_t bindings;
		lc_counter_t bytes_used;
		lc_counter_t bytes_reserved;
		lc_counter_t max_bindings;
		lc_counter_t expired;
		lc_counter_t full;
		lc_counter_t bytes_records;
		lc_counter_t bytes_var;
		lc_counter_t tombstones;
		lc_counter_t future;
		lc_counter_t bounds;
		lc_counter_t key_full;
	} st;
};

static const char empty_bytes[1] = "";

/* ---- records ---- */

static inline struct dht_aor *aor_at(const struct dht_store *s, uint32_t i)
{
	return dht_pool_at(&s->aors, i);
}

static inline struct dht_binding *bind_at(const struct dht_store *s, uint32_t i)
{
	return dht_pool_at(&s->binds, i);
}

static void stats_sync(struct dht_store *s)
{
	uint64_t records = (uint64_t)s->aors.used * sizeof(struct dht_aor) +
			   (uint64_t)s->binds.used * sizeof(struct dht_binding);
	uint64_t used = s->fixed_bytes + records + s->var.used_bytes;
	atomic_store_explicit(&s->st.aors, s->aors.used, memory_order_relaxed);
	atomic_store_explicit(&s->st.bindings, s->binds.used - s->tombs, memory_order_relaxed);
	atomic_store_explicit(&s->st.tombstones, s->tombs, memory_order_relaxed);
	atomic_store_explicit(&s->st.bytes_records, records, memory_order_relaxed);
	atomic_store_explicit(&s->st.bytes_var, s->var.used_bytes, memory_order_relaxed);
	atomic_store_explicit(&s->st.bytes_used, used, memory_order_relaxed);
}

/* ---- index ---- */

/* The id mixed into 64 bits: the top bits pick the home slot, the low 32 give the tag. Mixing
 * keeps the table even when a caller's ids have little entropy in the high half. */
static inline uint64_t id_mix(dht_id_t id)
{
	uint64_t hi = (uint64_t)(id >> 64), lo = (uint64_t)id;
	uint64_t x = hi ^ ((lo << 29) | (lo >> 35));
	x *= 0x9e3779b97f4a7c15ull;
	return x ^ (x >> 32);
}

static inline uint32_t home_of(const struct dht_store *s, uint32_t h32)
{
	return h32 >> (32 - s->slot_bits);
}

/* ---- key blocks (dht_store_internal.h: version, length, bytes) ---- */

static inline uint16_t key_block_len(const uint8_t *k)
{
	uint16_t klen;
	memcpy(&klen, k + DHT_KEY_BLOCK_LEN, sizeof(klen));
	return klen;
}

static inline uint64_t key_block_version(const uint8_t *k)
{
	uint64_t v;
	memcpy(&v, k + DHT_KEY_BLOCK_VERSION, sizeof(v));
	return v;
}

/* Fill key block @p kvar: version 0, then the key. */
static void key_block_write(struct dht_store *s, uint32_t kvar, const char *key, size_t len)
{
	uint8_t *k = dht_var_ptr(&s->var, kvar);
	uint64_t version = 0;
	uint16_t klen = (uint16_t)len;
	memcpy(k + DHT_KEY_BLOCK_VERSION, &version, sizeof(version));
	memcpy(k + DHT_KEY_BLOCK_LEN, &klen, sizeof(klen));
	if (len > 0) {
		memcpy(k + DHT_KEY_BLOCK_BYTES, key, len);
	}
}

static inline bool key_equal(const struct dht_store *s, uint32_t ai, const char *key, size_t len)
{
	const uint8_t *k = dht_var_ptr(&s->var, aor_at(s, ai)->key);
	return key_block_len(k) == len &&
	       (len == 0 || memcmp(k + DHT_KEY_BLOCK_BYTES, key, len) == 0);
}

/* The key's AOR index, or 0 with *slot = where it would go. */
static uint32_t lookup(const struct dht_store *s, uint64_t m, const char *key, size_t len,
		       uint32_t *slot)
{
	uint32_t pos = home_of(s, (uint32_t)(m >> 32));
	uint32_t tag = (uint32_t)m << s->idx_bits;
	for (;;) {
		uint32_t v = s->index[pos];
		if (v == 0) {
			*slot = pos;
			return DHT_POOL_NONE;
		}
		if ((v & ~s->idx_mask) == tag && key_equal(s, v & s->idx_mask, key, len)) {
			*slot = pos;
			return v & s->idx_mask;
		}
		pos = (pos + 1) & s->index_mask;
	}
}

/* Delete AOR @p ai from the index, shifting the rest of its cluster back. */
static void index_delete(struct dht_store *s, uint32_t ai)
{
	uint32_t i = home_of(s, aor_at(s, ai)->h32);
	while ((s->index[i] & s->idx_mask) != ai) {
		i = (i + 1) & s->index_mask;
	}
	for (uint32_t j = (i + 1) & s->index_mask;; j = (j + 1) & s->index_mask) {
		uint32_t v = s->index[j];
		if (v == 0) {
			break;
		}
		uint32_t home = home_of(s, aor_at(s, v & s->idx_mask)->h32);
		/* v may fill the hole at i when i lies cyclically in [home, j) */
		if (((j - home) & s->index_mask) >= ((j - i) & s->index_mask)) {
			s->index[i] = v;
			i = j;
		}
	}
	s->index[i] = 0;
}

/* ---- record blocks: header (version, writer), strings, address ---- */

static void fields_of(const struct dht_binding_data *d, const struct dht_bytes *f[VF_N])
{
	f[VF_URI] = &d->uri;
	f[VF_CALL_ID] = &d->call_id;
	f[VF_INSTANCE] = &d->instance;
	f[VF_PATH] = &d->path;
	f[VF_ATTRS] = &d->attrs;
}

/* Whether the source address fits the record (bytes 4..15 zero, as IPv4 and "unknown" are). */
static bool addr_inline(const struct dht_addr *a)
{
	static const uint8_t zero[12];
	return memcmp(a->addr + 4, zero, sizeof(zero)) == 0;
}

/* The block length @p d needs (header, its strings, then 16 address bytes unless inline). */
static int block_len(const struct dht_binding_data *d, size_t *out)
{
	const struct dht_bytes *f[VF_N];
	fields_of(d, f);
	size_t total = 0;
	for (int i = 0; i < VF_N; i++) {
		total += f[i]->len;
	}
	if (total > DHT_BINDING_VAR_MAX) {
		return LC_ETOOLONG;
	}
	*out = DHT_REC_HDR + total + (addr_inline(&d->src) ? 0 : 16);
	return LC_OK;
}

static inline const uint8_t *block_of(const struct dht_store *s, const struct dht_binding *b)
{
	return dht_var_ptr(&s->var, b->var);
}

static inline uint64_t hdr_get(const struct dht_store *s, const struct dht_binding *b, unsigned off)
{
	uint64_t v;
	memcpy(&v, block_of(s, b) + off, sizeof(v));
	return v;
}

static inline void hdr_set(struct dht_store *s, struct dht_binding *b, uint64_t version,
			   uint64_t writer)
{
	uint8_t *p = dht_var_ptr(&s->var, b->var);
	memcpy(p + DHT_REC_HDR_VERSION, &version, sizeof(version));
	memcpy(p + DHT_REC_HDR_WRITER, &writer, sizeof(writer));
}

static inline unsigned rec_kind(const struct dht_binding *b)
{
	return (b->len[VF_URI] & DHT_LEN_CLEARED)   ? DHT_REC_CLEARED
	       : (b->len[VF_URI] & DHT_LEN_REMOVED) ? DHT_REC_REMOVED
						    : DHT_REC_LIVE;
}

static inline void set_kind(struct dht_binding *b, unsigned kind)
{
	uint16_t bits = kind == DHT_REC_CLEARED	  ? DHT_LEN_CLEARED
			: kind == DHT_REC_REMOVED ? DHT_LEN_REMOVED
						  : 0;
	b->len[VF_URI] = (uint16_t)((b->len[VF_URI] & ~(DHT_LEN_CLEARED | DHT_LEN_REMOVED)) | bits);
}

/* Field @p f of a stored record. */
static struct dht_bytes rec_field(const struct dht_store *s, const struct dht_binding *b, int f)
{
	const uint8_t *p = block_of(s, b) + DHT_REC_HDR;
	for (int i = 0; i < f; i++) {
		p += b->len[i] & DHT_LEN_MASK;
	}
	return (struct dht_bytes){.p = (const char *)p, .len = b->len[f] & DHT_LEN_MASK};
}

/* Copy @p d's header, strings and address into block @p var and set the lengths and kind. */
static void write_block(struct dht_store *s, struct dht_binding *b, uint32_t var,
			const struct dht_binding_data *d)
{
	const struct dht_bytes *f[VF_N];
	fields_of(d, f);
	b->var = var;
	hdr_set(s, b, d->version, d->writer);
	uint8_t *p = dht_var_ptr(&s->var, var) + DHT_REC_HDR;
	for (int i = 0; i < VF_N; i++) {
		b->len[i] = (uint16_t)f[i]->len;
		if (f[i]->len > 0) {
			memcpy(p, f[i]->p, f[i]->len);
			p += f[i]->len;
		}
	}
	if (!addr_inline(&d->src)) {
		memcpy(p, d->src.addr, 16);
		b->len[VF_ATTRS] |= DHT_LEN_ADDR16;
	}
	set_kind(b, d->kind);
}

/* Whether @p d's strings are byte-equal to @p b's and its address sits in the same place. */
static bool fields_equal(const struct dht_store *s, const struct dht_binding *b,
			 const struct dht_binding_data *d)
{
	if (((b->len[VF_ATTRS] & DHT_LEN_ADDR16) != 0) != !addr_inline(&d->src)) {
		return false;
	}
	const struct dht_bytes *f[VF_N];
	fields_of(d, f);
	const uint8_t *p = block_of(s, b) + DHT_REC_HDR;
	for (int i = 0; i < VF_N; i++) {
		uint32_t len = b->len[i] & DHT_LEN_MASK;
		if (f[i]->len != len || (len > 0 && memcmp(p, f[i]->p, len) != 0)) {
			return false;
		}
		p += len;
	}
	return true;
}

/* Everything but the strings and the wheel position. */
static void write_fixed(struct dht_binding *b, const struct dht_binding_data *d)
{
	b->registered_at_s = d->registered_at_s;
	b->cseq = d->cseq;
	b->reg_id = d->reg_id;
	b->txn_tag = d->txn_tag;
	b->q = d->q;
	b->family = d->src.family;
	b->transport = d->src.transport;
	b->port = d->src.port;
	memcpy(b->addr4, d->src.addr, 4);
}

/* ---- identity, and each record's share of the key's digest ---- */

static bool bytes_eq(struct dht_bytes a, struct dht_bytes b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool dht_binding_same_identity(const struct dht_binding_data *a, const struct dht_binding_data *b)
{
	if (a->kind == DHT_REC_CLEARED || b->kind == DHT_REC_CLEARED) {
		return false;
	}
	if (a->instance.len > 0 || b->instance.len > 0) {
		return a->reg_id == b->reg_id && bytes_eq(a->instance, b->instance);
	}
	return bytes_eq(a->uri, b->uri);
}

/* Whether stored record @p b names the binding @p d names (dht_binding_same_identity). */
static bool rec_matches(const struct dht_store *s, const struct dht_binding *b,
			const struct dht_binding_data *d)
{
	if (rec_kind(b) == DHT_REC_CLEARED) {
		return false;
	}
	struct dht_bytes inst = rec_field(s, b, VF_INSTANCE);
	if (inst.len > 0 || d->instance.len > 0) {
		return b->reg_id == d->reg_id && bytes_eq(inst, d->instance);
	}
	return bytes_eq(rec_field(s, b, VF_URI), d->uri);
}

static uint64_t identity_hash(struct dht_bytes uri, struct dht_bytes instance, uint32_t reg_id)
{
	if (instance.len > 0) {
		return dht_hash64(instance.p, instance.len, (1ull << 32) | reg_id);
	}
	return dht_hash64(uri.p, uri.len, 0);
}

/* The hash of record @p b's identity (0 for a CLEARED record, which names no binding). A write
 * that keeps the identity (a refresh, a removal) hashes it once for both rec_out and rec_in. */
static uint64_t rec_ident(const struct dht_store *s, const struct dht_binding *b)
{
	if (rec_kind(b) == DHT_REC_CLEARED) {
		return 0;
	}
	return identity_hash(rec_field(s, b, VF_URI), rec_field(s, b, VF_INSTANCE), b->reg_id);
}

static uint64_t rec_hash(const struct dht_store *s, const struct dht_aor *a,
			 const struct dht_binding *b, uint64_t ident)
{
	return dht_sync_rec_hash(a->id_hi, hdr_get(s, b, DHT_REC_HDR_VERSION),
				 hdr_get(s, b, DHT_REC_HDR_WRITER), rec_kind(b), ident);
}

/* Record @p b (just written; @p ident its rec_ident) counts in its key: digest share, tombstones,
 * the key's version. */
static void rec_in(struct dht_store *s, struct dht_aor *a, const struct dht_binding *b,
		   uint64_t ident)
{
	a->sync ^= rec_hash(s, a, b, ident);
	if (rec_kind(b) != DHT_REC_LIVE) {
		a->tombs++;
		s->tombs++;
	}
	uint64_t v = hdr_get(s, b, DHT_REC_HDR_VERSION);
	uint8_t *k = dht_var_ptr(&s->var, a->key);
	if (v > key_block_version(k)) {
		memcpy(k + DHT_KEY_BLOCK_VERSION, &v, sizeof(v));
	}
}

/* Record @p b (about to change or go; @p ident its rec_ident) no longer counts in its key. */
static void rec_out(struct dht_store *s, struct dht_aor *a, const struct dht_binding *b,
		    uint64_t ident)
{
	a->sync ^= rec_hash(s, a, b, ident);
	if (rec_kind(b) != DHT_REC_LIVE) {
		a->tombs--;
		s->tombs--;
	}
}

/* ---- create and free ---- */

static int check_cfg(const struct dht_store_cfg *cfg, uint32_t *aors, uint64_t *var_bytes)
{
	if (cfg == NULL || cfg->max_bindings == 0 || cfg->max_bindings > DHT_STORE_MAX_RECORDS ||
	    cfg->max_aors > DHT_STORE_MAX_RECORDS || cfg->var_bytes > DHT_VAR_MAX_BYTES) {
		return LC_EINVAL;
	}
	/* a key lives only while it has a binding, so more keys than bindings are never used */
	*aors = cfg->max_aors == 0 ? cfg->max_bindings : LC_MIN(cfg->max_aors, cfg->max_bindings);
	*var_bytes = cfg->var_bytes;
	if (*var_bytes == 0) {
		*var_bytes = (uint64_t)cfg->max_bindings * DHT_STORE_DEFAULT_VAR_BYTES;
		*var_bytes = LC_MIN(*var_bytes, DHT_VAR_MAX_BYTES);
	}
	return LC_OK;
}

static int index_init(struct dht_store *s, uint32_t aors)
{
	uint64_t want = (uint64_t)aors * 4 / 3 + 1;
	s->slot_bits = 3;
	while (((uint64_t)1 << s->slot_bits) < want) {
		s->slot_bits++;
	}
	s->index_mask = (uint32_t)((1ull << s->slot_bits) - 1);
	s->index_bytes = ((size_t)1 << s->slot_bits) * sizeof(uint32_t);
	s->index = lc_pool_map_huge(s->index_bytes);
	if (s->index == NULL) {
		s->index_bytes = 0;
		return LC_ENOMEM;
	}
	/* the largest index the AOR pool can hand out, chunk owner slots included */
	uint64_t max_idx = (uint64_t)aors + aors / s->aors.chunk_mask + s->aors.chunk_mask + 2;
	s->idx_bits = 64u - (unsigned)__builtin_clzll(max_idx);
	s->idx_mask = (uint32_t)((1ull << s->idx_bits) - 1);
	return LC_OK;
}

int dht_store_new(struct dht_store **out, const struct dht_store_cfg *cfg, uint32_t now_s)
{
	uint32_t aors;
	uint64_t var_bytes;
	int ret = check_cfg(cfg, &aors, &var_bytes);
	if (ret != LC_OK) {
		return ret;
	}
	ret = LC_ENOMEM;
	struct dht_store *s = lc_alloc_aligned(LC_CACHE_LINE, sizeof(*s));
	if (s == NULL) {
		return LC_ENOMEM;
	}
	memset(s, 0, sizeof(*s));
	if ((ret = dht_pool_init(&s->aors, sizeof(struct dht_aor), aors, s)) != LC_OK ||
	    (ret = dht_pool_init(&s->binds, sizeof(struct dht_binding), cfg->max_bindings, s)) !=
		    LC_OK ||
	    (ret = dht_var_init(&s->var, var_bytes)) != LC_OK ||
	    (ret = index_init(s, aors)) != LC_OK) {
		goto fail;
	}
	dht_wheel_init(&s->wheel, (uint8_t *)s->binds.base + offsetof(struct dht_binding, w),
		       sizeof(struct dht_binding), now_s);
	s->fixed_bytes = sizeof(*s) + s->index_bytes;
	uint64_t reserved = sizeof(*s) + s->index_bytes + dht_pool_reserved(&s->aors) +
			    dht_pool_reserved(&s->binds) + s->var.map_size;
	lc_counter_add(&s->st.bytes_reserved, reserved);
	lc_counter_add(&s->st.max_bindings, cfg->max_bindings);
	stats_sync(s);
	*out = s;
	return LC_OK;
fail:
	dht_store_free(s);
	return ret;
}

void dht_store_free(struct dht_store *s)
{
	if (s == NULL) {
		return;
	}
	lc_pool_unmap(s->index, s->index_bytes);
	dht_var_deinit(&s->var);
	dht_pool_deinit(&s->binds);
	dht_pool_deinit(&s->aors);
	lc_free(s);
}

/* ---- reads ---- */

void dht_store_prefetch(const struct dht_store *s, dht_id_t id)
{
	__builtin_prefetch(&s->index[home_of(s, (uint32_t)(id_mix(id) >> 32))]);
}

/* The AOR record the index names for @p id at its home slot or the next few (by the tag alone,
 * without comparing keys: a guess for prefetching), or NULL. */
static const struct dht_aor *aor_guess(const struct dht_store *s, dht_id_t id)
{
	uint64_t m = id_mix(id);
	uint32_t pos = home_of(s, (uint32_t)(m >> 32));
	uint32_t tag = (uint32_t)m << s->idx_bits;
	for (unsigned i = 0; i < 4; i++, pos = (pos + 1) & s->index_mask) {
		uint32_t v = s->index[pos];
		if (v == 0) {
			return NULL;
		}
		if ((v & ~s->idx_mask) == tag) {
			return aor_at(s, v & s->idx_mask);
		}
	}
	return NULL;
}

void dht_store_prefetch_step(const struct dht_store *s, dht_id_t id, unsigned step)
{
	if (step == 0) {
		dht_store_prefetch(s, id);
		return;
	}
	const struct dht_aor *a = aor_guess(s, id);
	if (a == NULL) {
		return;
	}
	if (step == 1) {
		__builtin_prefetch(a);
		return;
	}
	__builtin_prefetch(dht_var_ptr(&s->var, a->key));
	if (a->count > 0) {
		const struct dht_binding *b = bind_at(s, a->head);
		__builtin_prefetch(b);
		if (step >= 3) {
			__builtin_prefetch(dht_var_ptr(&s->var, b->var));
		}
	}
}

struct dht_aor *dht_store_find(struct dht_store *s, dht_id_t id, const char *key, size_t len)
{
	if (LC_UNLIKELY(len > DHT_KEY_MAX)) {
		return NULL;
	}
	uint32_t slot;
	uint32_t ai = lookup(s, id_mix(id), key, len, &slot);
	return ai != DHT_POOL_NONE ? aor_at(s, ai) : NULL;
}

struct dht_bytes dht_aor_key(const struct dht_aor *a)
{
	const struct dht_store *s = dht_pool_owner_of(a);
	const uint8_t *k = dht_var_ptr(&s->var, a->key);
	return (struct dht_bytes){.p = (const char *)k + DHT_KEY_BLOCK_BYTES,
				  .len = key_block_len(k)};
}

uint64_t dht_aor_version(const struct dht_aor *a)
{
	const struct dht_store *s = dht_pool_owner_of(a);
	return key_block_version(dht_var_ptr(&s->var, a->key));
}

uint64_t dht_aor_id_hi(const struct dht_aor *a)
{
	return a->id_hi;
}

uint64_t dht_aor_sync_hash(const struct dht_aor *a)
{
	return a->sync;
}

unsigned dht_aor_count(const struct dht_aor *a)
{
	return a->count;
}

unsigned dht_aor_live_count(const struct dht_aor *a)
{
	return (unsigned)a->count - a->tombs;
}

/* The records of @p a not past expiry; tombstones only when @p tombs. */
static unsigned records_of(struct dht_aor *a, uint32_t now_s, bool tombs, struct dht_binding **out,
			   unsigned cap)
{
	const struct dht_store *s = dht_pool_owner_of(a);
	unsigned n = 0;
	uint32_t bi = a->head;
	for (uint32_t k = 0; k < a->count && n < cap; k++) {
		struct dht_binding *b = bind_at(s, bi);
		if (b->w.exp > now_s && (tombs || rec_kind(b) == DHT_REC_LIVE)) {
			out[n++] = b;
		}
		bi = b->next;
	}
	return n;
}

unsigned dht_aor_bindings(struct dht_aor *a, uint32_t now_s, struct dht_binding **out, unsigned cap)
{
	return records_of(a, now_s, false, out, cap);
}

unsigned dht_aor_records(struct dht_aor *a, uint32_t now_s, struct dht_binding **out, unsigned cap)
{
	return records_of(a, now_s, true, out, cap);
}

void dht_binding_read(const struct dht_binding *b, struct dht_binding_data *out)
{
	const struct dht_store *s = dht_pool_owner_of(b);
	const uint8_t *p = block_of(s, b) + DHT_REC_HDR;
	struct dht_bytes *f[VF_N] = {&out->uri, &out->call_id, &out->instance, &out->path,
				     &out->attrs};
	for (int i = 0; i < VF_N; i++) {
		uint32_t len = b->len[i] & DHT_LEN_MASK;
		*f[i] = (struct dht_bytes){.p = len > 0 ? (const char *)p : empty_bytes,
					   .len = len};
		p += len;
	}
	out->expires_at_s = b->w.exp;
	out->registered_at_s = b->registered_at_s;
	out->cseq = b->cseq;
	out->reg_id = b->reg_id;
	out->txn_tag = b->txn_tag;
	out->q = b->q;
	out->src.family = b->family;
	out->src.transport = b->transport;
	out->src.port = b->port;
	memset(out->src.addr, 0, sizeof(out->src.addr));
	memcpy(out->src.addr, b->len[VF_ATTRS] & DHT_LEN_ADDR16 ? p : b->addr4,
	       b->len[VF_ATTRS] & DHT_LEN_ADDR16 ? 16 : 4);
	out->version = hdr_get(s, b, DHT_REC_HDR_VERSION);
	out->writer = hdr_get(s, b, DHT_REC_HDR_WRITER);
	out->kind = (uint8_t)rec_kind(b);
}

bool dht_store_has_room(const struct dht_store *s, unsigned nbindings, size_t var_bytes,
			size_t key_len)
{
	if (dht_pool_avail(&s->binds) < nbindings) {
		return false;
	}
	unsigned nalloc = nbindings;
	/* each record's block has its header, and may also carry 16 address bytes */
	uint64_t total = (uint64_t)var_bytes + (16ull + DHT_REC_HDR) * nbindings;
	if (key_len > 0) {
		if (dht_pool_avail(&s->aors) == 0) {
			return false;
		}
		nalloc++;
		total += key_len + DHT_KEY_BLOCK_BYTES;
	}
	return dht_var_has_room(&s->var, nalloc, total);
}

/* ---- writes ---- */

static int refuse_full(struct dht_store *s)
{
	lc_counter_inc(&s->st.full);
	return LC_EFULL;
}

/* A new AOR record for key @p id, in index slot @p slot (key block @p kvar already written, at
 * version 0), with no records yet. */
static uint32_t aor_create(struct dht_store *s, dht_id_t id, uint64_t m, uint32_t slot,
			   uint32_t kvar)
{
	uint32_t ai = dht_pool_get(&s->aors);
	struct dht_aor *a = aor_at(s, ai);
	a->h32 = (uint32_t)(m >> 32);
	a->key = kvar;
	a->head = DHT_POOL_NONE;
	a->count = 0;
	a->tombs = 0;
	a->id_hi = (uint64_t)(id >> 64);
	a->sync = 0;
	s->index[slot] = ((uint32_t)m << s->idx_bits) | ai;
	return ai;
}

/* Append record @p bi to the end of AOR @p ai's list. */
static void list_append(struct dht_store *s, uint32_t ai, uint32_t bi)
{
	struct dht_aor *a = aor_at(s, ai);
	struct dht_binding *b = bind_at(s, bi);
	b->aor = ai;
	if (a->count++ == 0) {
		a->head = b->next = b->prev = bi;
		return;
	}
	struct dht_binding *first = bind_at(s, a->head);
	b->next = a->head;
	b->prev = first->prev;
	bind_at(s, first->prev)->next = bi;
	first->prev = bi;
}

/* Add record @p d (its lengths checked) to key *@p ai, creating the key in index slot @p slot
 * when *@p ai is DHT_POOL_NONE. LC_EFULL (uncounted) with nothing changed when short of room. */
static int rec_add(struct dht_store *s, dht_id_t id, uint64_t m, uint32_t slot, const char *key,
		   size_t len, uint32_t *ai, const struct dht_binding_data *d)
{
	size_t blen = 0;
	(void)block_len(d, &blen);
	if (*ai != DHT_POOL_NONE && aor_at(s, *ai)->count >= DHT_STORE_KEY_RECORDS) {
		lc_counter_inc(&s->st.key_full);
		return LC_EFULL;
	}
	if (dht_pool_avail(&s->binds) == 0 ||
	    (*ai == DHT_POOL_NONE && dht_pool_avail(&s->aors) == 0)) {
		return LC_EFULL;
	}
	uint32_t kvar = DHT_VAR_NONE;
	if (*ai == DHT_POOL_NONE &&
	    (kvar = dht_var_alloc(&s->var, len + DHT_KEY_BLOCK_BYTES)) == DHT_VAR_NONE) {
		return LC_EFULL;
	}
	uint32_t bvar = dht_var_alloc(&s->var, blen);
	if (bvar == DHT_VAR_NONE) {
		if (kvar != DHT_VAR_NONE) {
			dht_var_free(&s->var, kvar);
		}
		return LC_EFULL;
	}
	/* nothing can fail from here on */
	if (*ai == DHT_POOL_NONE) {
		key_block_write(s, kvar, key, len);
		*ai = aor_create(s, id, m, slot, kvar);
	}
	uint32_t bi = dht_pool_get(&s->binds);
	struct dht_binding *b = bind_at(s, bi);
	write_block(s, b, bvar, d);
	write_fixed(b, d);
	list_append(s, *ai, bi);
	b->w.exp = d->expires_at_s;
	dht_wheel_add(&s->wheel, bi);
	rec_in(s, aor_at(s, *ai), b, rec_ident(s, b));
	return LC_OK;
}

int dht_store_add(struct dht_store *s, dht_id_t id, const char *key, size_t len,
		  const struct dht_binding_data *d)
{
	size_t blen;
	if (d->kind == DHT_REC_CLEARED) {
		return LC_EINVAL;
	}
	if (len > DHT_KEY_MAX || block_len(d, &blen) != LC_OK) {
		return LC_ETOOLONG;
	}
	uint64_t m = id_mix(id);
	uint32_t slot;
	uint32_t ai = lookup(s, m, key, len, &slot);
	if (rec_add(s, id, m, slot, key, len, &ai, d) != LC_OK) {
		return refuse_full(s);
	}
	stats_sync(s);
	return LC_OK;
}

/* A plain refresh (the strings are equal): only the address bytes may differ, rewritten in place. */
static void refresh_addr16(struct dht_store *s, struct dht_binding *b,
			   const struct dht_binding_data *d, size_t blen)
{
	if (b->len[VF_ATTRS] & DHT_LEN_ADDR16) {
		memcpy(dht_var_ptr(&s->var, b->var) + blen - 16, d->src.addr, 16);
	}
}

/* Move record @p b to expiry @p exp on the wheel. */
static void wheel_move(struct dht_store *s, struct dht_binding *b, uint32_t exp)
{
	if (b->w.exp != exp) {
		uint32_t bi = dht_pool_index(&s->binds, b);
		dht_wheel_del(&s->wheel, bi);
		b->w.exp = exp;
		dht_wheel_add(&s->wheel, bi);
	}
}

/* Overwrite record @p b with @p d (its lengths checked; @p d may point into b's block). A plain
 * refresh does no var-region work; changed strings take a new block before the old one goes, so
 * LC_EFULL (uncounted) changes nothing. */
static int rec_rewrite(struct dht_store *s, struct dht_binding *b, const struct dht_binding_data *d)
{
	size_t blen = 0;
	(void)block_len(d, &blen);
	struct dht_aor *a = aor_at(s, b->aor);
	uint64_t ident;
	if (!fields_equal(s, b, d)) {
		uint32_t var = dht_var_alloc(&s->var, blen);
		if (var == DHT_VAR_NONE) {
			return LC_EFULL;
		}
		rec_out(s, a, b, rec_ident(s, b));
		uint32_t old = b->var;
		write_block(s, b, var, d);
		dht_var_free(&s->var, old);
		ident = rec_ident(s, b);
	} else {
		/* the same strings: the same identity (neither record is CLEARED) */
		ident = rec_ident(s, b);
		rec_out(s, a, b, ident);
		hdr_set(s, b, d->version, d->writer);
		set_kind(b, d->kind);
		refresh_addr16(s, b, d, blen);
	}
	write_fixed(b, d);
	wheel_move(s, b, d->expires_at_s);
	rec_in(s, a, b, ident);
	return LC_OK;
}

int dht_store_update(struct dht_store *s, struct dht_binding *b, const struct dht_binding_data *d)
{
	size_t blen;
	if (d->kind == DHT_REC_CLEARED) {
		return LC_EINVAL;
	}
	if (block_len(d, &blen) != LC_OK) {
		return LC_ETOOLONG;
	}
	if (rec_rewrite(s, b, d) != LC_OK) {
		return refuse_full(s);
	}
	stats_sync(s);
	return LC_OK;
}

void dht_store_tombstone(struct dht_store *s, struct dht_binding *b, uint64_t version,
			 uint64_t writer, uint32_t keep_until_s)
{
	struct dht_aor *a = aor_at(s, b->aor);
	assert(rec_kind(b) != DHT_REC_CLEARED); /* a binding (or a tombstone renewed) */
	uint64_t ident = rec_ident(s, b);	/* the same identity before and after */
	rec_out(s, a, b, ident);
	hdr_set(s, b, version, writer);
	set_kind(b, DHT_REC_REMOVED);
	wheel_move(s, b, keep_until_s);
	rec_in(s, a, b, ident);
	stats_sync(s);
}

/* Drop AOR @p ai, which has no records left. */
static void aor_drop(struct dht_store *s, uint32_t ai)
{
	struct dht_aor *a = aor_at(s, ai);
	index_delete(s, ai);
	dht_var_free(&s->var, a->key);
	a->count = 0;
	dht_pool_put(&s->aors, ai);
}

/* Take record @p bi off its AOR's list (the AOR stays, even with no record left). */
static void list_unlink(struct dht_store *s, uint32_t ai, uint32_t bi)
{
	struct dht_aor *a = aor_at(s, ai);
	struct dht_binding *b = bind_at(s, bi);
	if (--a->count == 0) {
		a->head = DHT_POOL_NONE;
		return;
	}
	bind_at(s, b->prev)->next = b->next;
	bind_at(s, b->next)->prev = b->prev;
	if (a->head == bi) {
		a->head = b->next;
	}
}

/* Forget record @p bi (already off the wheel): out of its key's digest and list, block and record
 * freed; the key goes with its last record unless @p keep_key. */
static void rec_drop(struct dht_store *s, uint32_t bi, bool keep_key)
{
	struct dht_binding *b = bind_at(s, bi);
	uint32_t ai = b->aor;
	rec_out(s, aor_at(s, ai), b, rec_ident(s, b));
	list_unlink(s, ai, bi);
	dht_var_free(&s->var, b->var);
	dht_pool_put(&s->binds, bi);
	if (!keep_key && aor_at(s, ai)->count == 0) {
		aor_drop(s, ai);
	}
}

void dht_store_remove(struct dht_store *s, struct dht_binding *b)
{
	uint32_t bi = dht_pool_index(&s->binds, b);
	dht_wheel_del(&s->wheel, bi);
	rec_drop(s, bi, false);
	stats_sync(s);
}

void dht_store_remove_aor(struct dht_store *s, struct dht_aor *a)
{
	uint32_t ai = dht_pool_index(&s->aors, a);
	uint32_t bi = a->head;
	for (uint32_t k = a->count; k > 0; k--) {
		struct dht_binding *b = bind_at(s, bi);
		uint32_t next = b->next;
		dht_wheel_del(&s->wheel, bi);
		s->tombs -= rec_kind(b) != DHT_REC_LIVE;
		dht_var_free(&s->var, b->var);
		dht_pool_put(&s->binds, bi);
		bi = next;
	}
	aor_drop(s, ai);
	stats_sync(s);
}

/* ---- removing everything: the CLEARED record ---- */

/* The key's CLEARED record, or NULL. */
static struct dht_binding *floor_of(const struct dht_store *s, const struct dht_aor *a)
{
	uint32_t bi = a->head;
	for (uint32_t k = a->count; k > 0; k--) {
		struct dht_binding *b = bind_at(s, bi);
		if (rec_kind(b) == DHT_REC_CLEARED) {
			return b;
		}
		bi = b->next;
	}
	return NULL;
}

/* Forget every record of key @p ai at or below (@p v, @p w) but the first, which is returned for
 * reuse (NULL when none is). The key stays. */
static struct dht_binding *drop_below(struct dht_store *s, uint32_t ai, uint64_t v, uint64_t w)
{
	struct dht_aor *a = aor_at(s, ai);
	struct dht_binding *keep = NULL;
	uint32_t bi = a->head;
	for (uint32_t k = a->count; k > 0; k--) {
		struct dht_binding *b = bind_at(s, bi);
		uint32_t next = b->next;
		if (!dht_rec_newer(hdr_get(s, b, DHT_REC_HDR_VERSION),
				   hdr_get(s, b, DHT_REC_HDR_WRITER), v, w)) {
			if (keep == NULL) {
				keep = b;
			} else {
				dht_wheel_del(&s->wheel, bi);
				rec_drop(s, bi, true);
			}
		}
		bi = next;
	}
	return keep;
}

/* Make key *@p ai (created in @p slot when absent) hold a CLEARED record at @p c's version and
 * writer until its expires_at_s, and nothing below it. A record below is rewritten in place, so
 * that a key whose records all go needs no room; else LC_EFULL (uncounted) changes nothing. */
static int floor_set(struct dht_store *s, dht_id_t id, uint64_t m, uint32_t slot, const char *key,
		     size_t len, uint32_t *ai, const struct dht_binding_data *c)
{
	/* a CLEARED record keeps no strings: its block is only the header, which every block holds */
	const struct dht_binding_data d = {.version = c->version,
					   .writer = c->writer,
					   .kind = DHT_REC_CLEARED,
					   .expires_at_s = c->expires_at_s,
					   .registered_at_s = c->registered_at_s,
					   .q = -1};
	struct dht_binding *b =
		*ai != DHT_POOL_NONE ? drop_below(s, *ai, d.version, d.writer) : NULL;
	if (b == NULL) {
		return rec_add(s, id, m, slot, key, len, ai, &d);
	}
	struct dht_aor *a = aor_at(s, *ai);
	rec_out(s, a, b, rec_ident(s, b));
	write_block(s, b, b->var, &d);
	write_fixed(b, &d);
	wheel_move(s, b, d.expires_at_s);
	rec_in(s, a, b, 0);
	return LC_OK;
}

int dht_store_clear(struct dht_store *s, dht_id_t id, const char *key, size_t len, uint64_t version,
		    uint64_t writer, uint32_t keep_until_s)
{
	if (len > DHT_KEY_MAX) {
		return LC_ETOOLONG;
	}
	uint64_t m = id_mix(id);
	uint32_t slot;
	uint32_t ai = lookup(s, m, key, len, &slot);
	const struct dht_binding *fl = ai != DHT_POOL_NONE ? floor_of(s, aor_at(s, ai)) : NULL;
	if (fl != NULL && !dht_rec_newer(version, writer, hdr_get(s, fl, DHT_REC_HDR_VERSION),
					 hdr_get(s, fl, DHT_REC_HDR_WRITER))) {
		return LC_OK; /* a later removal of everything is held already */
	}
	const struct dht_binding_data c = {
		.version = version, .writer = writer, .expires_at_s = keep_until_s};
	if (floor_set(s, id, m, slot, key, len, &ai, &c) != LC_OK) {
		return refuse_full(s);
	}
	stats_sync(s);
	return LC_OK;
}

/* ---- merging a copy of a key (dht_store_merge) ---- */

/* The record of key @p a that names the binding @p d names, or NULL. */
static struct dht_binding *find_identity(const struct dht_store *s, const struct dht_aor *a,
					 const struct dht_binding_data *d)
{
	uint32_t bi = a->head;
	for (uint32_t k = a->count; k > 0; k--) {
		struct dht_binding *b = bind_at(s, bi);
		if (rec_matches(s, b, d)) {
			return b;
		}
		bi = b->next;
	}
	return NULL;
}

#ifndef NDEBUG
/* Whether @p d has a string inside the store's var region (merge does not allow it). */
static bool data_in_store(const struct dht_store *s, const struct dht_binding_data *d)
{
	const struct dht_bytes *f[VF_N];
	fields_of(d, f);
	for (int i = 0; i < VF_N; i++) {
		const uint8_t *p = (const uint8_t *)f[i]->p;
		if (f[i]->len > 0 && p >= s->var.base && p < s->var.base + s->var.map_size) {
			return true;
		}
	}
	return false;
}
#endif

/* Whether record @p d is within the bounds @p b (not from a clock far ahead, not kept for longer
 * than a REGISTER may ask). */
static bool rec_bounded(const struct dht_binding_data *d, const struct dht_merge_bounds *b)
{
	return d->version <= b->max_version && d->version <= DHT_VERSION_MAX &&
	       d->expires_at_s <= b->max_expires_at_s &&
	       d->registered_at_s <= b->max_registered_at_s;
}

/* Count the records of @p d beyond the bounds @p b; whether there were any. */
static bool count_unbounded(struct dht_store *s, const struct dht_binding_data *d, unsigned n,
			    const struct dht_merge_bounds *b)
{
	bool any = false;
	for (unsigned j = 0; j < n; j++) {
		if (rec_bounded(&d[j], b)) {
			continue;
		}
		any = true;
		if (d[j].version > b->max_version || d[j].version > DHT_VERSION_MAX) {
			lc_counter_inc(&s->st.future);
		} else {
			lc_counter_inc(&s->st.bounds);
		}
	}
	return any;
}

/* Whether record @p d is one to merge at all: live at b->now_s and within the bounds. */
static bool rec_takeable(const struct dht_binding_data *d, const struct dht_merge_bounds *b)
{
	return d->expires_at_s > b->now_s && rec_bounded(d, b);
}

/* The incoming CLEARED record that counts (the highest takeable one), or NULL. */
static const struct dht_binding_data *top_floor(const struct dht_binding_data *d, unsigned n,
						const struct dht_merge_bounds *b)
{
	const struct dht_binding_data *top = NULL;
	for (unsigned j = 0; j < n; j++) {
		if (d[j].kind == DHT_REC_CLEARED && rec_takeable(&d[j], b) &&
		    (top == NULL ||
		     dht_rec_newer(d[j].version, d[j].writer, top->version, top->writer))) {
			top = &d[j];
		}
	}
	return top;
}

/*
 * How it works: first the floor. The highest incoming CLEARED record, when it is above the key's
 * own, drops every record below it (one is rewritten into the new CLEARED record, so a full store
 * still takes a removal). Then each other incoming record, unless it is below the floor, expired
 * or beyond the bounds, is compared with the held record of its identity: absent, it is added;
 * below it, it replaces it (a plain refresh in place); else it is ignored. Each step is a join of
 * one element, so stopping at a refusal leaves a state that a later merge completes.
 */
int dht_store_merge(struct dht_store *s, dht_id_t id, const char *key, size_t len,
		    const struct dht_binding_data *d, unsigned n, const struct dht_merge_bounds *b)
{
	if (len > DHT_KEY_MAX) {
		return LC_ETOOLONG;
	}
	for (unsigned j = 0; j < n; j++) {
		size_t blen;
		if (block_len(&d[j], &blen) != LC_OK) {
			return LC_ETOOLONG;
		}
		assert(!data_in_store(s, &d[j]));
	}
	bool unbounded = count_unbounded(s, d, n, b);
	uint64_t m = id_mix(id);
	uint32_t slot;
	uint32_t ai = lookup(s, m, key, len, &slot);
	const struct dht_binding *fl = ai != DHT_POOL_NONE ? floor_of(s, aor_at(s, ai)) : NULL;
	uint64_t fv = fl != NULL ? hdr_get(s, fl, DHT_REC_HDR_VERSION) : 0;
	uint64_t fw = fl != NULL ? hdr_get(s, fl, DHT_REC_HDR_WRITER) : 0;
	bool have_floor = fl != NULL, changed = false;
	int ret = LC_OK;
	const struct dht_binding_data *top = top_floor(d, n, b);
	if (top != NULL && (!have_floor || dht_rec_newer(top->version, top->writer, fv, fw))) {
		if ((ret = floor_set(s, id, m, slot, key, len, &ai, top)) != LC_OK) {
			goto out;
		}
		fv = top->version;
		fw = top->writer;
		have_floor = changed = true;
	}
	for (unsigned j = 0; j < n; j++) {
		const struct dht_binding_data *r = &d[j];
		if (r->kind == DHT_REC_CLEARED || !rec_takeable(r, b) ||
		    (have_floor && !dht_rec_newer(r->version, r->writer, fv, fw))) {
			continue;
		}
		struct dht_binding *h =
			ai != DHT_POOL_NONE ? find_identity(s, aor_at(s, ai), r) : NULL;
		if (h == NULL) {
			ret = rec_add(s, id, m, slot, key, len, &ai, r);
		} else if (dht_rec_newer(r->version, r->writer, hdr_get(s, h, DHT_REC_HDR_VERSION),
					 hdr_get(s, h, DHT_REC_HDR_WRITER))) {
			ret = rec_rewrite(s, h, r);
		} else {
			continue;
		}
		if (ret != LC_OK) {
			break;
		}
		changed = true;
	}
out:
	stats_sync(s);
	if (ret == LC_EFULL) {
		return refuse_full(s);
	}
	if (ret == LC_OK && unbounded) {
		return LC_EFUTURE; /* the rest is merged; what was beyond the bounds is not held */
	}
	return ret != LC_OK ? ret : changed ? LC_OK : LC_ESTALE;
}

unsigned dht_store_expire(struct dht_store *s, uint32_t now_s, unsigned budget)
{
	/* wheel steps (cascades, jumps) are O(1) each; a few per reaped binding keep a call short */
	unsigned steps = budget > (UINT_MAX - 64) / 4 ? UINT_MAX : budget * 4 + 64;
	unsigned n = 0;
	while (n < budget) {
		uint32_t bi = dht_wheel_pop(&s->wheel, now_s, &steps);
		if (bi == 0) {
			break;
		}
		rec_drop(s, bi, false);
		n++;
	}
	if (n > 0) {
		lc_counter_add(&s->st.expired, n);
		stats_sync(s);
	}
	return n;
}

unsigned dht_store_walk(struct dht_store *s, uint64_t *cursor, struct dht_aor **out, unsigned cap)
{
	uint64_t i = *cursor, end = dht_pool_high_water(&s->aors);
	uint64_t limit = i + (uint64_t)cap * 4 + 1024; /* records looked at per call */
	unsigned n = 0;
	if (i == DHT_STORE_WALK_END) {
		return 0;
	}
	for (; i < end && i < limit && n < cap; i++) {
		if (dht_pool_is_header(&s->aors, (uint32_t)i)) {
			continue;
		}
		struct dht_aor *a = aor_at(s, (uint32_t)i);
		if (a->count > 0) {
			out[n++] = a;
		}
	}
	*cursor = i >= end ? DHT_STORE_WALK_END : i;
	return n;
}

void dht_store_stats_get(const struct dht_store *s, struct dht_store_stats *out)
{
	out->aors = lc_counter_get(&s->st.aors);
	out->bindings = lc_counter_get(&s->st.bindings);
	out->bytes_used = lc_counter_get(&s->st.bytes_used);
	out->bytes_reserved = lc_counter_get(&s->st.bytes_reserved);
	out->max_bindings = lc_counter_get(&s->st.max_bindings);
	out->expired = lc_counter_get(&s->st.expired);
	out->full = lc_counter_get(&s->st.full);
	out->bytes_index = s->fixed_bytes; /* set before the store is handed out, never changed */
	out->bytes_records = lc_counter_get(&s->st.bytes_records);
	out->bytes_var = lc_counter_get(&s->st.bytes_var);
	out->tombstones = lc_counter_get(&s->st.tombstones);
	out->future = lc_counter_get(&s->st.future);
	out->bounds = lc_counter_get(&s->st.bounds);
	out->key_full = lc_counter_get(&s->st.key_full);
}
