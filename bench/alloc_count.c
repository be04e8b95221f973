/* SPDX-License-Identifier: MIT */
/*
 * Process-wide malloc replacement that counts calls (see alloc_count.h). It forwards to glibc's
 * __libc_malloc family rather than dlsym(RTLD_NEXT, "malloc"), because dlsym itself allocates and
 * the first malloc would recurse. memalign and friends are left to glibc: memory they return is
 * still glibc's, so our free may release it. The counters are plain integers: the benchmark is
 * single-threaded, and a locked increment would only slow down the allocator being measured.
 */
#include <stddef.h>
#include <stdlib.h>

#include "bench/alloc_count.h"

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);

static struct bench_alloc_stats stats;

void *malloc(size_t size)
{
	stats.allocs++;
	stats.bytes += size;
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	stats.allocs++;
	stats.bytes += n * size;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	stats.allocs++;
	stats.bytes += size;
	return __libc_realloc(p, size);
}

void free(void *p)
{
	if (p != NULL) {
		stats.frees++;
	}
	__libc_free(p);
}

bool bench_alloc_counting(void)
{
	return true;
}

struct bench_alloc_stats bench_alloc_snapshot(void)
{
	return stats;
}
