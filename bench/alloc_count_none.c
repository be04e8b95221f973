/* SPDX-License-Identifier: MIT */
/*
 * The allocation counter for sanitizer builds, where ASan or MSan must own malloc: it counts
 * nothing and says so, and the benchmark prints the counts as unavailable.
 */
#include "bench/alloc_count.h"

bool bench_alloc_counting(void)
{
	return false;
}

struct bench_alloc_stats bench_alloc_snapshot(void)
{
	return (struct bench_alloc_stats){0};
}
