/* SPDX-License-Identifier: MIT */
/*
 * Resident memory as jemalloc accounts it (built when jemalloc is the allocator). Refreshing the
 * "epoch" makes jemalloc recompute its statistics before we read them.
 */
#include <jemalloc/jemalloc.h>

#include "common/lc_alloc.h"

size_t lc_alloc_resident_bytes(void)
{
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch);
	size_t resident = 0;
	size_t rsz = sizeof(resident);
	if (mallctl("epoch", &epoch, &sz, &epoch, sz) != 0 ||
	    mallctl("stats.resident", &resident, &rsz, NULL, 0) != 0) {
		return 0;
	}
	return resident;
}
