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
	atomic_store_explicit(&s->st.bindings, s->binds.used, memory_order_relaxed);
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

/* ---- binding fields ---- */

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

/* The block length @p d needs (its strings, then 16 address bytes unless inline). */
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
	*out = total + (addr_inline(&d->src) ? 0 : 16);
	return LC_OK;
}

static const uint8_t *block_of(const struct dht_store *s, const struct dht_binding *b)
{
	return b->var != DHT_VAR_NONE ? dht_var_ptr(&s->var, b->var) : (const uint8_t *)empty_bytes;
}

/* Copy @p d's strings and address into block @p var and set the lengths. */
static void write_block(struct dht_store *s, struct dht_binding *b, uint32_t var,
			const struct dht_binding_data *d)
{
	const struct dht_bytes *f[VF_N];
	fields_of(d, f);
	uint8_t *p = var != DHT_VAR_NONE ? dht_var_ptr(&s->var, var) : NULL;
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
	b->var = var;
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
	const uint8_t *p = block_of(s, b);
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

/* The bytes of @p b's block in use: its strings, and 16 address bytes unless inline. */
static size_t binding_block_len(const struct dht_binding *b)
{
	size_t len = b->len[VF_ATTRS] & DHT_LEN_ADDR16 ? 16 : 0;
	for (int i = 0; i < VF_N; i++) {
		len += b->len[i] & DHT_LEN_MASK;
	}
	return len;
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
	s->index = lc_pool_map(s->index_bytes);
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

void dht_aor_set_version(struct dht_aor *a, dht_id_t id, uint64_t version)
{
	const struct dht_store *s = dht_pool_owner_of(a);
	assert(a->id_hi == (uint64_t)(id >> 64));
	memcpy(dht_var_ptr(&s->var, a->key) + DHT_KEY_BLOCK_VERSION, &version, sizeof(version));
	a->sync = dht_sync_hash(id, version);
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

unsigned dht_aor_bindings(struct dht_aor *a, uint32_t now_s, struct dht_binding **out, unsigned cap)
{
	const struct dht_store *s = dht_pool_owner_of(a);
	unsigned n = 0;
	uint32_t bi = a->head;
	for (uint32_t k = 0; k < a->count && n < cap; k++) {
		struct dht_binding *b = bind_at(s, bi);
		if (b->w.exp > now_s) {
			out[n++] = b;
		}
		bi = b->next;
	}
	return n;
}

void dht_binding_read(const struct dht_binding *b, struct dht_binding_data *out)
{
	const struct dht_store *s = dht_pool_owner_of(b);
	const uint8_t *p = block_of(s, b);
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
}

bool dht_store_has_room(const struct dht_store *s, unsigned nbindings, size_t var_bytes,
			size_t key_len)
{
	if (dht_pool_avail(&s->binds) < nbindings) {
		return false;
	}
	unsigned nalloc = nbindings;
	/* each binding may also carry 16 address bytes in its block */
	uint64_t total = (uint64_t)var_bytes + 16ull * nbindings;
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
 * version 0). */
static uint32_t aor_create(struct dht_store *s, dht_id_t id, uint64_t m, uint32_t slot,
			   uint32_t kvar)
{
	uint32_t ai = dht_pool_get(&s->aors);
	struct dht_aor *a = aor_at(s, ai);
	a->h32 = (uint32_t)(m >> 32);
	a->key = kvar;
	a->head = DHT_POOL_NONE;
	a->count = 0;
	a->id_hi = (uint64_t)(id >> 64);
	a->sync = dht_sync_hash(id, 0);
	s->index[slot] = ((uint32_t)m << s->idx_bits) | ai;
	return ai;
}

/* Append binding @p bi to the end of AOR @p ai's list. */
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

int dht_store_add(struct dht_store *s, dht_id_t id, const char *key, size_t len,
		  const struct dht_binding_data *d)
{
	size_t blen;
	if (len > DHT_KEY_MAX || block_len(d, &blen) != LC_OK) {
		return LC_ETOOLONG;
	}
	uint64_t m = id_mix(id);
	uint32_t slot;
	uint32_t ai = lookup(s, m, key, len, &slot);
	if (dht_pool_avail(&s->binds) == 0 ||
	    (ai == DHT_POOL_NONE && dht_pool_avail(&s->aors) == 0)) {
		return refuse_full(s);
	}
	uint32_t kvar = DHT_VAR_NONE, bvar = DHT_VAR_NONE;
	if (ai == DHT_POOL_NONE &&
	    (kvar = dht_var_alloc(&s->var, len + DHT_KEY_BLOCK_BYTES)) == DHT_VAR_NONE) {
		return refuse_full(s);
	}
	if (blen > 0 && (bvar = dht_var_alloc(&s->var, blen)) == DHT_VAR_NONE) {
		if (kvar != DHT_VAR_NONE) {
			dht_var_free(&s->var, kvar);
		}
		return refuse_full(s);
	}
	/* nothing can fail from here on */
	if (ai == DHT_POOL_NONE) {
		key_block_write(s, kvar, key, len);
		ai = aor_create(s, id, m, slot, kvar);
	}
	uint32_t bi = dht_pool_get(&s->binds);
	struct dht_binding *b = bind_at(s, bi);
	write_block(s, b, bvar, d);
	write_fixed(b, d);
	list_append(s, ai, bi);
	b->w.exp = d->expires_at_s;
	dht_wheel_add(&s->wheel, bi);
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

/* Everything but the strings, and the binding's place on the wheel. */
static void write_rest(struct dht_store *s, struct dht_binding *b, const struct dht_binding_data *d)
{
	write_fixed(b, d);
	if (b->w.exp != d->expires_at_s) {
		uint32_t bi = dht_pool_index(&s->binds, b);
		dht_wheel_del(&s->wheel, bi);
		b->w.exp = d->expires_at_s;
		dht_wheel_add(&s->wheel, bi);
	}
}

int dht_store_update(struct dht_store *s, struct dht_binding *b, const struct dht_binding_data *d)
{
	size_t blen;
	if (block_len(d, &blen) != LC_OK) {
		return LC_ETOOLONG;
	}
	if (!fields_equal(s, b, d)) {
		/* new block first: @p d may point into the old one, and a refusal changes nothing */
		uint32_t var = DHT_VAR_NONE;
		if (blen > 0 && (var = dht_var_alloc(&s->var, blen)) == DHT_VAR_NONE) {
			return refuse_full(s);
		}
		uint32_t old = b->var;
		write_block(s, b, var, d);
		if (old != DHT_VAR_NONE) {
			dht_var_free(&s->var, old);
		}
	} else {
		refresh_addr16(s, b, d, blen);
	}
	write_rest(s, b, d);
	stats_sync(s);
	return LC_OK;
}

/* Drop AOR @p ai, which has no bindings left. */
static void aor_drop(struct dht_store *s, uint32_t ai)
{
	struct dht_aor *a = aor_at(s, ai);
	index_delete(s, ai);
	dht_var_free(&s->var, a->key);
	a->count = 0;
	dht_pool_put(&s->aors, ai);
}

/* Free binding @p bi's block and record (already off the wheel and its AOR's list). */
static void binding_free(struct dht_store *s, uint32_t bi)
{
	struct dht_binding *b = bind_at(s, bi);
	if (b->var != DHT_VAR_NONE) {
		dht_var_free(&s->var, b->var);
	}
	dht_pool_put(&s->binds, bi);
}

/* Take binding @p bi off its AOR's list (the AOR stays, even with no binding left). */
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

/* Unlink binding @p bi (already off the wheel) from its AOR and free it; the AOR goes with its
 * last binding. */
static void binding_drop(struct dht_store *s, uint32_t bi)
{
	uint32_t ai = bind_at(s, bi)->aor;
	list_unlink(s, ai, bi);
	binding_free(s, bi);
	if (aor_at(s, ai)->count == 0) {
		aor_drop(s, ai);
	}
}

void dht_store_remove(struct dht_store *s, struct dht_binding *b)
{
	uint32_t bi = dht_pool_index(&s->binds, b);
	dht_wheel_del(&s->wheel, bi);
	binding_drop(s, bi);
	stats_sync(s);
}

void dht_store_remove_aor(struct dht_store *s, struct dht_aor *a)
{
	uint32_t ai = dht_pool_index(&s->aors, a);
	uint32_t bi = a->head;
	for (uint32_t k = a->count; k > 0; k--) {
		uint32_t next = bind_at(s, bi)->next;
		dht_wheel_del(&s->wheel, bi);
		binding_free(s, bi);
		bi = next;
	}
	aor_drop(s, ai);
	stats_sync(s);
}

/* ---- replacing a key's set (dht_store_set_aor) ---- */

/*
 * How it works: the new records that are still live are paired, in order, with the key's
 * bindings in list order (the owner lists its set in first-added order and the copy keeps that
 * order, so a replicated refresh pairs every record with its own binding). A record whose strings
 * equal its binding's refreshes it in place, with no var-region work (as dht_store_update does).
 * A record that differs from the next binding but equals one of the PAIR_LOOKAHEAD after it drops
 * the ones in between (the owner removed them). Otherwise the record rewrites the next binding:
 * in the binding's own block when the new strings need a block of the same size, else in a new
 * one. Records left over take new binding records; bindings left over are dropped.
 *
 * The pairing runs twice over the same input: set_plan takes every var block the new set needs
 * (chained through their first 4 bytes, in the order they will be used) and counts the binding
 * records to take; a refusal happens there, with everything given back. set_commit then applies,
 * and cannot fail. Both runs decide alike because a pairing step reads only bindings not yet
 * reached by the commit.
 */

#define PAIR_LOOKAHEAD 3

enum pair_kind { PAIR_SAME, PAIR_REWRITE, PAIR_FRESH };

/* Owner: one dht_store_set_aor call. */
struct pair_walk {
	const struct dht_binding_data *d;
	unsigned n;
	unsigned j; /* the next record of d to look at */
	uint32_t now_s;
	uint32_t old;  /* the next binding neither paired nor dropped */
	uint32_t left; /* bindings from `old` to the end of the list */
};

/* One record's pairing: drop ndrop bindings from `drop` on, then apply d as `kind` to bi. */
struct pair {
	const struct dht_binding_data *d;
	enum pair_kind kind;
	uint32_t drop;
	unsigned ndrop;
	uint32_t bi; /* the binding reused (SAME, REWRITE) */
	size_t blen; /* d's block length */
};

static bool pair_next(const struct dht_store *s, struct pair_walk *w, struct pair *p)
{
	while (w->j < w->n && w->d[w->j].expires_at_s <= w->now_s) {
		w->j++; /* it would expire at once: not stored */
	}
	if (w->j == w->n) {
		return false;
	}
	p->d = &w->d[w->j++];
	p->blen = 0;
	(void)block_len(p->d, &p->blen); /* checked by the caller */
	p->drop = w->old;
	p->ndrop = 0;
	p->kind = PAIR_FRESH;
	p->bi = DHT_POOL_NONE;
	if (w->left == 0) {
		return true;
	}
	p->kind = PAIR_REWRITE;
	p->bi = w->old;
	uint32_t bi = w->old;
	for (unsigned t = 0; t <= PAIR_LOOKAHEAD && t < w->left; t++) {
		if (fields_equal(s, bind_at(s, bi), p->d)) {
			p->kind = PAIR_SAME;
			p->bi = bi;
			p->ndrop = t;
			break;
		}
		bi = bind_at(s, bi)->next;
	}
	w->old = bind_at(s, p->bi)->next;
	w->left -= p->ndrop + 1;
	return true;
}

/* Bytes a block taken for @p len bytes holds: dht_var_internal.h, a block costs its length plus a
 * 4-byte header, rounded up to granules, and is at least 2 granules. */
static size_t block_capacity(size_t len)
{
	size_t g = LC_MAX((len + 4 + DHT_VAR_GRANULE - 1) / DHT_VAR_GRANULE, (size_t)2);
	return g * DHT_VAR_GRANULE - 4;
}

/* Whether rewriting @p b with @p blen bytes of strings needs a new block (else it keeps its own,
 * which then neither wastes nor lacks a byte). */
static bool rewrite_needs_block(const struct dht_binding *b, size_t blen)
{
	return blen > 0 && (b->var == DHT_VAR_NONE ||
			    block_capacity(binding_block_len(b)) != block_capacity(blen));
}

/* What a new set takes. Owner: one dht_store_set_aor call. */
struct set_plan {
	uint32_t kvar;	     /* the new key's block, or DHT_VAR_NONE when the key is held */
	uint32_t head, tail; /* blocks for the records, in the order set_commit uses them */
	unsigned fresh;	     /* binding records to take */
	unsigned dropped;    /* binding records given back before the first is taken */
};

static bool chain_push(struct dht_store *s, struct set_plan *pl, size_t len)
{
	uint32_t g = dht_var_alloc(&s->var, len), none = DHT_VAR_NONE;
	if (g == DHT_VAR_NONE) {
		return false;
	}
	memcpy(dht_var_ptr(&s->var, g), &none, sizeof(none)); /* len > 0: the block holds 12 */
	if (pl->head == DHT_VAR_NONE) {
		pl->head = g;
	} else {
		memcpy(dht_var_ptr(&s->var, pl->tail), &g, sizeof(g));
	}
	pl->tail = g;
	return true;
}

static uint32_t chain_pop(struct dht_store *s, struct set_plan *pl)
{
	uint32_t g = pl->head;
	memcpy(&pl->head, dht_var_ptr(&s->var, g), sizeof(pl->head));
	return g;
}

/* Take what the new set needs; LC_EFULL with everything given back when something is short. */
static int set_plan(struct dht_store *s, struct pair_walk w, size_t new_key_len, bool new_key,
		    struct set_plan *pl)
{
	*pl = (struct set_plan){DHT_VAR_NONE, DHT_VAR_NONE, DHT_VAR_NONE, 0, 0};
	if (new_key && (dht_pool_avail(&s->aors) == 0 ||
			(pl->kvar = dht_var_alloc(&s->var, new_key_len + DHT_KEY_BLOCK_BYTES)) ==
				DHT_VAR_NONE)) {
		return LC_EFULL;
	}
	struct pair p;
	while (pair_next(s, &w, &p)) {
		bool need = p.kind == PAIR_FRESH
				    ? p.blen > 0
				    : p.kind == PAIR_REWRITE &&
					      rewrite_needs_block(bind_at(s, p.bi), p.blen);
		/* every drop comes before the first fresh record, which waits for the list's end */
		pl->dropped += p.ndrop;
		pl->fresh += p.kind == PAIR_FRESH;
		if (need && !chain_push(s, pl, p.blen)) {
			goto fail;
		}
	}
	if (dht_pool_avail(&s->binds) + pl->dropped < pl->fresh) {
		goto fail;
	}
	return LC_OK;
fail:
	while (pl->head != DHT_VAR_NONE) {
		dht_var_free(&s->var, chain_pop(s, pl));
	}
	if (pl->kvar != DHT_VAR_NONE) {
		dht_var_free(&s->var, pl->kvar);
	}
	return LC_EFULL;
}

/* Drop binding @p bi of AOR @p ai, which keeps its record even when this was its last binding. */
static void set_drop(struct dht_store *s, uint32_t ai, uint32_t bi)
{
	dht_wheel_del(&s->wheel, bi);
	list_unlink(s, ai, bi);
	binding_free(s, bi);
}

/* Apply one pairing (its blocks were taken by set_plan). */
static void set_apply(struct dht_store *s, uint32_t ai, const struct pair *p, struct set_plan *pl)
{
	uint32_t bi = p->drop;
	for (unsigned k = 0; k < p->ndrop; k++) {
		uint32_t next = bind_at(s, bi)->next;
		set_drop(s, ai, bi);
		bi = next;
	}
	if (p->kind == PAIR_FRESH) {
		bi = dht_pool_get(&s->binds);
		struct dht_binding *b = bind_at(s, bi);
		write_block(s, b, p->blen > 0 ? chain_pop(s, pl) : DHT_VAR_NONE, p->d);
		write_fixed(b, p->d);
		list_append(s, ai, bi);
		b->w.exp = p->d->expires_at_s;
		dht_wheel_add(&s->wheel, bi);
		return;
	}
	struct dht_binding *b = bind_at(s, p->bi);
	if (p->kind == PAIR_SAME) {
		refresh_addr16(s, b, p->d, p->blen);
	} else if (p->blen > 0 && !rewrite_needs_block(b, p->blen)) {
		write_block(s, b, b->var, p->d); /* a block of the same size: its own */
	} else {
		uint32_t old = b->var;
		write_block(s, b, p->blen > 0 ? chain_pop(s, pl) : DHT_VAR_NONE, p->d);
		if (old != DHT_VAR_NONE) {
			dht_var_free(&s->var, old);
		}
	}
	write_rest(s, b, p->d);
}

static void set_commit(struct dht_store *s, uint32_t ai, struct pair_walk w, struct set_plan *pl)
{
	struct pair p;
	while (pair_next(s, &w, &p)) {
		set_apply(s, ai, &p, pl);
	}
	for (uint32_t bi = w.old; w.left > 0; w.left--) {
		uint32_t next = bind_at(s, bi)->next;
		set_drop(s, ai, bi);
		bi = next;
	}
}

#ifndef NDEBUG
/* Whether @p d has a string inside the store's var region (set_aor does not allow it). */
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

int dht_store_set_aor(struct dht_store *s, dht_id_t id, const char *key, size_t len,
		      uint64_t version, const struct dht_binding_data *d, unsigned n,
		      uint32_t now_s)
{
	if (len > DHT_KEY_MAX) {
		return LC_ETOOLONG;
	}
	unsigned live = 0;
	for (unsigned j = 0; j < n; j++) {
		size_t blen;
		if (block_len(&d[j], &blen) != LC_OK) {
			return LC_ETOOLONG;
		}
		assert(!data_in_store(s, &d[j]));
		live += d[j].expires_at_s > now_s;
	}
	uint64_t m = id_mix(id);
	uint32_t slot;
	uint32_t ai = lookup(s, m, key, len, &slot);
	struct dht_aor *a = ai != DHT_POOL_NONE ? aor_at(s, ai) : NULL;
	if (a != NULL && key_block_version(dht_var_ptr(&s->var, a->key)) >= version) {
		return LC_ESTALE;
	}
	if (live == 0) {
		if (a != NULL) {
			dht_store_remove_aor(s, a);
		}
		return LC_OK;
	}
	struct pair_walk w = {.d = d, .n = n, .now_s = now_s};
	if (a != NULL) {
		w.old = a->head;
		w.left = a->count;
	}
	/* the least the pool must give, before any work: each record beyond the bindings held */
	if (live > w.left && dht_pool_avail(&s->binds) < live - w.left) {
		return refuse_full(s);
	}
	struct set_plan pl;
	if (set_plan(s, w, len, a == NULL, &pl) != LC_OK) {
		return refuse_full(s);
	}
	if (a == NULL) {
		key_block_write(s, pl.kvar, key, len);
		ai = aor_create(s, id, m, slot, pl.kvar);
		a = aor_at(s, ai);
	}
	set_commit(s, ai, w, &pl);
	dht_aor_set_version(a, id, version);
	stats_sync(s);
	return LC_OK;
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
		binding_drop(s, bi);
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
}
