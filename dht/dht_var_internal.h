/* SPDX-License-Identifier: MIT */
/*
 * The binding store's variable bytes (keys, contact URIs, Call-IDs, +sip.instance, Path, LSP
 * attributes): one region reserved at start (lc_pool_map), carved into blocks by a two-level
 * segregated-fit allocator (TLSF, Masmano et al. 2004): O(1) allocate and free, free neighbours
 * merged at once, so any freed space serves any later size (no per-size-class pages to strand).
 *
 * How it works: the region is an array of 8-byte granules; a block is a run of granules whose
 * first 4 bytes are its header (size in granules, "this block is free", "the previous block is
 * free"). A caller gets the 4-byte-aligned bytes after the header, so an allocation costs its
 * length + 4 rounded up to 8. A free block also keeps its size in its last 4 bytes (the footer,
 * read by the next block to merge backwards) and two list links after the header, so the smallest
 * block is 2 granules. Free blocks sit in one list per size class: class (fl, sl) is the power of
 * two fl and one of its 32 linear steps sl (sizes under 32 granules get one exact list each), and
 * two bitmaps say which lists are non-empty. Allocating rounds the request up to the next class
 * boundary and takes the first block of the first non-empty class at or above it (two
 * find-first-set), so the block always fits; the rest of the block, if 2 granules or more, goes
 * back as a free block. Freeing merges with free neighbours through the header bits and footer.
 * Granule 0 and the last granule are permanently allocated sentinels, so offset 0 means "none"
 * and no merge runs off either end. The whole region starts as one free block; blocks are split
 * from it in address order, so the region's pages are touched only as they are used.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lc_compiler.h"

#define DHT_VAR_GRANULE 8u
#define DHT_VAR_NONE 0u
/* The largest region (the header keeps 30 bits of size in granules). */
#define DHT_VAR_MAX_BYTES (((uint64_t)1 << 30) * DHT_VAR_GRANULE - 2 * DHT_VAR_GRANULE)

#define DHT_VAR_SL_LOG2 5
#define DHT_VAR_SL (1u << DHT_VAR_SL_LOG2)
#define DHT_VAR_FL 26

/* Owner: the store's worker; created and freed by control. */
struct dht_var {
	uint8_t *base;	      /* granule g at base + g * 8 */
	size_t map_size;      /* bytes mapped */
	uint64_t used_bytes;  /* bytes in allocated blocks, headers and rounding included */
	uint64_t total_bytes; /* bytes in blocks that can be allocated */
	uint32_t fl_map;      /* bit fl: some sl list of fl is non-empty */
	uint32_t sl_map[DHT_VAR_FL];
	uint32_t head[DHT_VAR_FL][DHT_VAR_SL]; /* first free block of each class, or NONE */
};

/** Reserve a region with room for @p bytes (<= DHT_VAR_MAX_BYTES). @return LC_OK, LC_ENOMEM. */
LC_MUSTCHECK int dht_var_init(struct dht_var *v, uint64_t bytes);

/** Unmap the region (a zeroed or half-built one is fine). */
void dht_var_deinit(struct dht_var *v);

/** A block of at least @p len bytes; its offset, or DHT_VAR_NONE when nothing fits. O(1). */
uint32_t dht_var_alloc(struct dht_var *v, size_t len);

/** Return the block at @p off (from dht_var_alloc). O(1). */
void dht_var_free(struct dht_var *v, uint32_t off);

/** The bytes of the block at @p off. */
static inline uint8_t *dht_var_ptr(const struct dht_var *v, uint32_t off)
{
	return v->base + (size_t)off * DHT_VAR_GRANULE + 4;
}

/**
 * Whether @p n allocations whose lengths add up to at most @p len_total would all succeed now, in
 * any order and with any frees in between. Exact for one allocation; for more, conservative: it
 * asks for one free block big enough for all of them (checked by size class). O(1).
 */
bool dht_var_has_room(const struct dht_var *v, unsigned n, uint64_t len_total);
