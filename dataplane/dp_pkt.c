/* SPDX-License-Identifier: MIT */
/*
 * The packet pool: one reserved region of DP_PKT_CAP-sized slots and a stack of free ones. The
 * region is mapped with MAP_NORESERVE, so a slot (64 KiB of data and the parse beside it) costs
 * resident memory only for the bytes a datagram and its parse actually wrote.
 */
#include "dataplane/dp_pkt.h"

#include "common/lc_alloc.h"
#include "common/lc_error.h"

int dp_pool_init(struct dp_pool *pool, uint32_t size, uint8_t owner)
{
	pool->size = size;
	pool->nfree = 0;
	pool->base = lc_pool_map((size_t)size * sizeof(struct dp_pkt));
	pool->free = lc_calloc(size, sizeof(*pool->free));
	if (pool->base == NULL || pool->free == NULL) {
		dp_pool_deinit(pool);
		return LC_ENOMEM;
	}
	for (uint32_t i = size; i-- > 0;) {
		pool->base[i].owner = owner;
		pool->free[pool->nfree++] = &pool->base[i];
	}
	return LC_OK;
}

void dp_pool_deinit(struct dp_pool *pool)
{
	if (pool->base != NULL) {
		lc_pool_unmap(pool->base, (size_t)pool->size * sizeof(struct dp_pkt));
	}
	lc_free(pool->free);
	pool->base = NULL;
	pool->free = NULL;
	pool->nfree = 0;
}
