/* SPDX-License-Identifier: MIT */
/*
 * Allocation of SPSC rings; the burst operations are inline in lc_ring.h.
 */
#include "common/lc_ring.h"

#include <string.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"

int lc_ring_new(struct lc_ring **out, uint32_t capacity)
{
	if (capacity < 2 || capacity > (1u << 30) || (capacity & (capacity - 1)) != 0) {
		return LC_EINVAL;
	}
	struct lc_ring *r = lc_alloc_aligned(LC_CACHE_LINE, sizeof(*r) + capacity * sizeof(void *));
	if (r == NULL) {
		return LC_ENOMEM;
	}
	memset(r, 0, sizeof(*r));
	r->mask = capacity - 1;
	*out = r;
	return LC_OK;
}

void lc_ring_free(struct lc_ring *r)
{
	lc_free(r);
}
