/* SPDX-License-Identifier: MIT */
/*
 * The one allocator entry point of locus (STYLE.md section 3). It sits on the process's malloc,
 * which is jemalloc in a normal build (linked by meson when -Djemalloc=enabled) and glibc's in
 * sanitizer builds. Keeping every call here keeps the allocation statistics in one place: locusctl
 * stats and the benchmarks read them. Never called on the fast path; workers use per-shard pools.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/** Like malloc/calloc/free. Context: any thread, slow path. */
void *lc_alloc(size_t size);
void *lc_calloc(size_t n, size_t size);
void *lc_alloc_aligned(size_t align, size_t size); /* freed with lc_free */
void lc_free(void *p);

/* Counters since start (relaxed snapshots). */
struct lc_alloc_stats {
	uint64_t allocs;
	uint64_t frees;
	uint64_t failures;
};

void lc_alloc_stats_get(struct lc_alloc_stats *out);

/** Bytes the allocator has mapped and holds resident (jemalloc's stats.resident), 0 if unknown. */
size_t lc_alloc_resident_bytes(void);

/**
 * Reserve @p size bytes of address space for a pool, zero-filled, backed by memory only as it is
 * first touched (mmap with MAP_NORESERVE), so a pool sized for --max-bindings costs RSS only for
 * what is used. Freed with lc_pool_unmap. Returns NULL on failure. Context: slow path.
 */
void *lc_pool_map(size_t size);

/**
 * lc_pool_map for memory read at random, such as a store's index: also asks for transparent huge
 * pages (Debian's default gives them only on request), so that a lookup in a large store misses
 * the TLB less. Memory is then touched 2 MB at a time. Context: slow path.
 */
void *lc_pool_map_huge(size_t size);
void lc_pool_unmap(void *p, size_t size);
