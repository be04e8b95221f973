/* SPDX-License-Identifier: MIT */
/*
 * Heap allocation counting for the benchmarks. alloc_count.c replaces malloc, calloc, realloc and
 * free for the whole process (glibc supports replacing them, and shared libraries such as
 * libosip2 then call ours), forwarding to glibc's __libc_* entry points and counting each call.
 * A benchmark reads the counters before and after a pass and divides by the messages parsed.
 * Sanitizer builds get alloc_count_none.c instead: ASan must own malloc, so the counts are
 * reported as unavailable there.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Owner: the caller; a copy of the process-wide counters at one moment. */
struct bench_alloc_stats {
	uint64_t allocs; /* malloc + calloc + realloc calls */
	uint64_t frees;	 /* free calls with a non-NULL pointer */
	uint64_t bytes;	 /* bytes requested by those allocations */
};

/** Whether this build counts allocations (false under sanitizers). */
bool bench_alloc_counting(void);

/** The counters now. Context: the benchmark's single thread. */
struct bench_alloc_stats bench_alloc_snapshot(void);
