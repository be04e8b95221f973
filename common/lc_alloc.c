/* SPDX-License-Identifier: MIT */
/*
 * Allocator wrapper: counts calls and failures; maps pools. How much memory is resident comes from
 * lc_alloc_je.c (jemalloc builds) or lc_alloc_libc.c (sanitizer builds), chosen by meson.
 */
#include "common/lc_alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>

static _Atomic uint64_t n_allocs, n_frees, n_failures;

static void *counted(void *p)
{
	atomic_fetch_add_explicit(p != NULL ? &n_allocs : &n_failures, 1, memory_order_relaxed);
	return p;
}

void *lc_alloc(size_t size)
{
	return counted(malloc(size));
}

void *lc_calloc(size_t n, size_t size)
{
	return counted(calloc(n, size));
}

void *lc_alloc_aligned(size_t align, size_t size)
{
	void *p = NULL;
	if (posix_memalign(&p, align, size) != 0) {
		p = NULL;
	}
	return counted(p);
}

void lc_free(void *p)
{
	if (p != NULL) {
		atomic_fetch_add_explicit(&n_frees, 1, memory_order_relaxed);
		free(p);
	}
}

void lc_alloc_stats_get(struct lc_alloc_stats *out)
{
	out->allocs = atomic_load_explicit(&n_allocs, memory_order_relaxed);
	out->frees = atomic_load_explicit(&n_frees, memory_order_relaxed);
	out->failures = atomic_load_explicit(&n_failures, memory_order_relaxed);
}

void *lc_pool_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		atomic_fetch_add_explicit(&n_failures, 1, memory_order_relaxed);
		return NULL;
	}
	return p;
}

void *lc_pool_map_huge(size_t size)
{
	void *p = lc_pool_map(size);
	if (p != NULL) {
		(void)madvise(p, size, MADV_HUGEPAGE); /* advice: without it, 4 KB pages */
	}
	return p;
}

void lc_pool_unmap(void *p, size_t size)
{
	if (p != NULL) {
		munmap(p, size);
	}
}
