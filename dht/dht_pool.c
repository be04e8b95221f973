/* SPDX-License-Identifier: MIT */
/*
 * Fixed-size record pools (see dht_pool_internal.h for the layout).
 */
#include "dht/dht_pool_internal.h"

#include <string.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"

int dht_pool_init(struct dht_pool *p, uint32_t rec_size, uint32_t cap, void *owner)
{
	memset(p, 0, sizeof(*p));
	uint32_t per_chunk = (uint32_t)(DHT_POOL_CHUNK / rec_size);
	/* every chunk gives up its first slot; one spare chunk absorbs the rounding */
	uint64_t slots = (uint64_t)cap + cap / (per_chunk - 1) + per_chunk;
	size_t bytes = (size_t)((slots * rec_size + DHT_POOL_CHUNK - 1) & ~(DHT_POOL_CHUNK - 1));
	p->map_size = bytes + DHT_POOL_CHUNK;
	p->map = lc_pool_map_huge(p->map_size);
	if (p->map == NULL) {
		p->map_size = 0;
		return LC_ENOMEM;
	}
	uintptr_t a = ((uintptr_t)p->map + DHT_POOL_CHUNK - 1) & ~(uintptr_t)(DHT_POOL_CHUNK - 1);
	p->base = (uint8_t *)a;
	p->owner = owner;
	p->rec_size = rec_size;
	p->chunk_mask = per_chunk - 1;
	p->cap = cap;
	p->bump = 0;
	p->free_head = DHT_POOL_NONE;
	return LC_OK;
}

void dht_pool_deinit(struct dht_pool *p)
{
	lc_pool_unmap(p->map, p->map_size);
	memset(p, 0, sizeof(*p));
}

size_t dht_pool_reserved(const struct dht_pool *p)
{
	return p->map_size;
}

uint32_t dht_pool_get(struct dht_pool *p)
{
	if (LC_UNLIKELY(p->used == p->cap)) {
		return DHT_POOL_NONE;
	}
	p->used++;
	uint32_t i = p->free_head;
	if (i != DHT_POOL_NONE) {
		memcpy(&p->free_head, dht_pool_at(p, i), sizeof(uint32_t));
		return i;
	}
	if (dht_pool_is_header(p, p->bump)) {
		/* first record of a fresh chunk: claim its owner slot now, so RSS follows use */
		*(void **)dht_pool_at(p, p->bump) = p->owner;
		p->bump++;
	}
	return p->bump++;
}

void dht_pool_put(struct dht_pool *p, uint32_t i)
{
	memcpy(dht_pool_at(p, i), &p->free_head, sizeof(uint32_t));
	p->free_head = i;
	p->used--;
}
