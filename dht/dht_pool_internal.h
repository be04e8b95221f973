/* SPDX-License-Identifier: MIT */
/*
 * Fixed-size record pools for the binding store: AOR records and binding records, each handed out
 * by a 32-bit index, reserved whole at start (lc_pool_map) and touched only as records are used.
 *
 * How it works: the pool is one mapping aligned to DHT_POOL_CHUNK (2 MiB). Record i lives at
 * base + i * rec_size. The first record slot of every 2 MiB chunk is not a record: it holds a
 * pointer to the pool's owner (the store), so a record's address alone leads back to its store
 * (dht_pool_owner_of) without a pointer in every record. Indices whose low bits are zero are
 * therefore never handed out, which also makes 0 a free "none" value. Records come from a free
 * list (linked through the record's first 4 bytes) and, when it is empty, from a bump index that
 * only moves forward, so untouched chunks cost no resident memory.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/lc_compiler.h"

#define DHT_POOL_CHUNK ((size_t)2 << 20)
#define DHT_POOL_NONE 0u

/* Owner: the store's worker; created and freed by control. */
struct dht_pool {
	uint8_t *base;	     /* chunk-aligned; record i at base + i * rec_size */
	void *map;	     /* what lc_pool_map returned, for lc_pool_unmap */
	size_t map_size;     /* bytes mapped */
	void *owner;	     /* written into each chunk's first slot */
	uint32_t rec_size;   /* a power of two, >= sizeof(void *), <= DHT_POOL_CHUNK */
	uint32_t chunk_mask; /* records per chunk - 1 */
	uint32_t cap;	     /* records that may be in use at once */
	uint32_t used;	     /* records in use */
	uint32_t bump;	     /* next never-used index */
	uint32_t free_head;  /* first free record, DHT_POOL_NONE when none */
};

/** Reserve a pool of @p cap records of @p rec_size bytes. @return LC_OK, LC_ENOMEM. */
LC_MUSTCHECK int dht_pool_init(struct dht_pool *p, uint32_t rec_size, uint32_t cap, void *owner);

/** Unmap the pool (a zeroed or half-built pool is fine). */
void dht_pool_deinit(struct dht_pool *p);

/** Bytes of address space the pool reserves. */
size_t dht_pool_reserved(const struct dht_pool *p);

/** A record's address. */
static inline void *dht_pool_at(const struct dht_pool *p, uint32_t i)
{
	return p->base + (size_t)i * p->rec_size;
}

/** A record's index from its address. */
static inline uint32_t dht_pool_index(const struct dht_pool *p, const void *rec)
{
	return (uint32_t)(((const uint8_t *)rec - p->base) / p->rec_size);
}

/** The owner of the pool that holds record @p rec (any record handed out by dht_pool_get). */
static inline void *dht_pool_owner_of(const void *rec)
{
	return *(void *const *)((uintptr_t)rec & ~(uintptr_t)(DHT_POOL_CHUNK - 1));
}

/** Records still available. */
static inline uint32_t dht_pool_avail(const struct dht_pool *p)
{
	return p->cap - p->used;
}

/** One more record, or DHT_POOL_NONE when the pool is exhausted. O(1). */
uint32_t dht_pool_get(struct dht_pool *p);

/** Return record @p i. O(1). The record's first 4 bytes become the free-list link. */
void dht_pool_put(struct dht_pool *p, uint32_t i);

/** The bump index: every record ever handed out has an index below it (for walks). */
static inline uint32_t dht_pool_high_water(const struct dht_pool *p)
{
	return p->bump;
}

/** Whether @p i is a chunk's owner slot rather than a record. */
static inline int dht_pool_is_header(const struct dht_pool *p, uint32_t i)
{
	return (i & p->chunk_mask) == 0;
}
