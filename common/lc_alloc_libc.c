/* SPDX-License-Identifier: MIT */
/*
 * Resident memory when glibc's malloc is the allocator (sanitizer builds): glibc has no cheap
 * equivalent of jemalloc's stats.resident, so callers fall back to the process RSS.
 */
#include "common/lc_alloc.h"

size_t lc_alloc_resident_bytes(void)
{
	return 0;
}
