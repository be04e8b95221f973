/* SPDX-License-Identifier: MIT */
/*
 * The store's variable-bytes region: a TLSF allocator over 8-byte granules (see
 * dht_var_internal.h for how it works).
 */
#include "dht/dht_var_internal.h"

#include <string.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"

#define HDR_FREE 1u
#define HDR_PREV_FREE 2u
#define HDR_SIZE_SHIFT 2
#define MIN_BLOCK 2u /* granules: header, two links, footer */

static inline uint32_t *hdr(const struct dht_var *v, uint32_t g)
{
	return (uint32_t *)(v->base + (size_t)g * DHT_VAR_GRANULE);
}

static inline uint32_t bsize(const struct dht_var *v, uint32_t g)
{
	return *hdr(v, g) >> HDR_SIZE_SHIFT;
}

/* A free block's links and footer. */
static inline uint32_t *link_next(const struct dht_var *v, uint32_t g)
{
	return hdr(v, g) + 1;
}

static inline uint32_t *link_prev(const struct dht_var *v, uint32_t g)
{
	return hdr(v, g) + 2;
}

static inline uint32_t *footer(const struct dht_var *v, uint32_t g, uint32_t size)
{
	return hdr(v, g + size) - 1;
}

static inline unsigned msb(uint32_t x)
{
	return 31u - (unsigned)__builtin_clz(x);
}

static void mapping(uint32_t size, unsigned *fl, unsigned *sl)
{
	if (size < DHT_VAR_SL) {
		*fl = 0;
		*sl = size;
		return;
	}
	unsigned m = msb(size);
	*fl = m - DHT_VAR_SL_LOG2 + 1;
	*sl = (size >> (m - DHT_VAR_SL_LOG2)) - DHT_VAR_SL;
}

/* The smallest size of class (fl, sl). */
static uint64_t class_min(unsigned fl, unsigned sl)
{
	if (fl == 0) {
		return sl;
	}
	return (uint64_t)(DHT_VAR_SL + sl) << (fl - 1);
}

/* A size rounded up so that every block of its class fits it. */
static uint64_t round_search(uint64_t size)
{
	if (size < DHT_VAR_SL) {
		return size;
	}
	unsigned m = 63u - (unsigned)__builtin_clzll(size);
	return size + ((uint64_t)1 << (m - DHT_VAR_SL_LOG2)) - 1;
}

static void list_insert(struct dht_var *v, uint32_t g, uint32_t size)
{
	unsigned fl, sl;
	mapping(size, &fl, &sl);
	uint32_t first = v->head[fl][sl];
	*link_next(v, g) = first;
	*link_prev(v, g) = DHT_VAR_NONE;
	if (first != DHT_VAR_NONE) {
		*link_prev(v, first) = g;
	}
	v->head[fl][sl] = g;
	v->fl_map |= 1u << fl;
	v->sl_map[fl] |= 1u << sl;
}

static void list_remove(struct dht_var *v, uint32_t g, uint32_t size)
{
	unsigned fl, sl;
	mapping(size, &fl, &sl);
	uint32_t next = *link_next(v, g), prev = *link_prev(v, g);
	if (next != DHT_VAR_NONE) {
		*link_prev(v, next) = prev;
	}
	if (prev != DHT_VAR_NONE) {
		*link_next(v, prev) = next;
	} else {
		v->head[fl][sl] = next;
		if (next == DHT_VAR_NONE) {
			v->sl_map[fl] &= ~(1u << sl);
			if (v->sl_map[fl] == 0) {
				v->fl_map &= ~(1u << fl);
			}
		}
	}
}

/* Mark [g, g + size) free, with its footer, the next block's PREV_FREE bit, and list it. */
static void make_free(struct dht_var *v, uint32_t g, uint32_t size, uint32_t prev_free_bit)
{
	*hdr(v, g) = (size << HDR_SIZE_SHIFT) | HDR_FREE | prev_free_bit;
	*footer(v, g, size) = size;
	*hdr(v, g + size) |= HDR_PREV_FREE;
	list_insert(v, g, size);
}

int dht_var_init(struct dht_var *v, uint64_t bytes)
{
	memset(v, 0, sizeof(*v));
	for (unsigned fl = 0; fl < DHT_VAR_FL; fl++) {
		for (unsigned sl = 0; sl < DHT_VAR_SL; sl++) {
			v->head[fl][sl] = DHT_VAR_NONE;
		}
	}
	uint64_t usable = (bytes + DHT_VAR_GRANULE - 1) / DHT_VAR_GRANULE;
	if (usable < MIN_BLOCK) {
		usable = MIN_BLOCK;
	}
	uint64_t granules = usable + 2; /* the two sentinels */
	v->map_size = (size_t)(granules * DHT_VAR_GRANULE);
	v->base = lc_pool_map_huge(v->map_size);
	if (v->base == NULL) {
		v->map_size = 0;
		return LC_ENOMEM;
	}
	*hdr(v, 0) = 1u << HDR_SIZE_SHIFT;     /* allocated sentinel */
	*hdr(v, (uint32_t)(granules - 1)) = 0; /* allocated sentinel, size 0 */
	make_free(v, 1, (uint32_t)usable, 0);
	v->total_bytes = usable * DHT_VAR_GRANULE;
	return LC_OK;
}

void dht_var_deinit(struct dht_var *v)
{
	lc_pool_unmap(v->base, v->map_size);
	memset(v, 0, sizeof(*v));
}

/* The first free block of a class at or above (fl, sl), or NONE. */
static uint32_t find_block(const struct dht_var *v, unsigned fl, unsigned sl)
{
	uint32_t sl_bits = sl < 32 ? v->sl_map[fl] & (~0u << sl) : 0;
	if (sl_bits == 0) {
		uint32_t fl_bits = fl + 1 < 32 ? v->fl_map & (~0u << (fl + 1)) : 0;
		if (fl_bits == 0) {
			return DHT_VAR_NONE;
		}
		fl = (unsigned)__builtin_ctz(fl_bits);
		sl_bits = v->sl_map[fl];
	}
	return v->head[fl][__builtin_ctz(sl_bits)];
}

uint32_t dht_var_alloc(struct dht_var *v, size_t len)
{
	uint64_t need = (len + 4 + DHT_VAR_GRANULE - 1) / DHT_VAR_GRANULE;
	if (need < MIN_BLOCK) {
		need = MIN_BLOCK;
	}
	uint64_t want = round_search(need);
	if (LC_UNLIKELY(want >= ((uint64_t)1 << 30))) {
		return DHT_VAR_NONE;
	}
	unsigned fl, sl;
	mapping((uint32_t)want, &fl, &sl);
	if (LC_UNLIKELY(fl >= DHT_VAR_FL)) {
		return DHT_VAR_NONE;
	}
	uint32_t g = find_block(v, fl, sl);
	if (g == DHT_VAR_NONE) {
		return DHT_VAR_NONE;
	}
	uint32_t size = bsize(v, g);
	list_remove(v, g, size);
	uint32_t prev_bit = *hdr(v, g) & HDR_PREV_FREE;
	uint32_t take = (uint32_t)need;
	if (size - take >= MIN_BLOCK) {
		make_free(v, g + take, size - take, 0);
	} else {
		take = size;
		*hdr(v, g + size) &= ~HDR_PREV_FREE;
	}
	*hdr(v, g) = (take << HDR_SIZE_SHIFT) | prev_bit;
	v->used_bytes += (uint64_t)take * DHT_VAR_GRANULE;
	return g;
}

void dht_var_free(struct dht_var *v, uint32_t g)
{
	uint32_t h = *hdr(v, g);
	uint32_t size = h >> HDR_SIZE_SHIFT;
	v->used_bytes -= (uint64_t)size * DHT_VAR_GRANULE;
	if (h & HDR_PREV_FREE) {
		uint32_t psize = *(hdr(v, g) - 1); /* the previous block's footer */
		g -= psize;
		list_remove(v, g, psize);
		size += psize;
	}
	uint32_t n = g + size;
	if (*hdr(v, n) & HDR_FREE) {
		uint32_t nsize = bsize(v, n);
		list_remove(v, n, nsize);
		size += nsize;
	}
	/* the block before a free block is never free: merges happen at once */
	make_free(v, g, size, 0);
}

bool dht_var_has_room(const struct dht_var *v, unsigned n, uint64_t len_total)
{
	if (n == 0) {
		return true;
	}
	if (v->fl_map == 0) {
		return false;
	}
	if (n == 1) {
		/* exact: the block dht_var_alloc would take exists */
		uint64_t g =
			LC_MAX((len_total + 4 + DHT_VAR_GRANULE - 1) / DHT_VAR_GRANULE, MIN_BLOCK);
		uint64_t want = round_search(g);
		unsigned fl, sl;
		if (want >= ((uint64_t)1 << 30)) {
			return false;
		}
		mapping((uint32_t)want, &fl, &sl);
		return fl < DHT_VAR_FL && find_block(v, fl, sl) != DHT_VAR_NONE;
	}
	/*
	 * Each allocation of s bytes takes ceil((s + 4) / 8) granules (at least 2), plus at most 1
	 * more when the leftover is too small to split off, and searches with its size rounded up
	 * by at most 1/32. If one free block B holds the sum of those worst cases, every allocation
	 * finds a block (B fits it), and if it is carved from B, what is left of B still holds the
	 * rest; frees only merge blocks, so they never shrink B.
	 */
	uint64_t g = (len_total + 4ull * n) / DHT_VAR_GRANULE + 2ull * n;
	uint64_t need = g + g / 32 + 2ull * n + 1;
	unsigned fl = 31u - (unsigned)__builtin_clz(v->fl_map);
	unsigned sl = 31u - (unsigned)__builtin_clz(v->sl_map[fl]);
	return class_min(fl, sl) >= need;
}
