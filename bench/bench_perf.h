/* SPDX-License-Identifier: MIT */
/*
 * Hardware counters around a measured loop: instructions and cache misses of the calling thread
 * (perf_event_open). Virtual machines often expose no PMU (Firecracker does not): then opening
 * fails, and the benchmark must print why instead of a figure, never a made-up number.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum bench_perf_counter { BENCH_PERF_INSTRUCTIONS, BENCH_PERF_CACHE_MISSES, BENCH_PERF_N };

/* Owner: the thread that opened it (the counters count that thread only). */
struct bench_perf {
	int fd[BENCH_PERF_N];	    /* -1: unavailable */
	char why[BENCH_PERF_N][96]; /* "unavailable: <errno text>" when fd is -1 */
};

/** Open the counters of the calling thread, counting from now. Context: benchmark setup. */
void bench_perf_open(struct bench_perf *p);

/** Read counter @p c into @p v; false when it is unavailable. */
bool bench_perf_read(const struct bench_perf *p, enum bench_perf_counter c, uint64_t *v);

/** Close them (an unopened or closed one is a no-op). */
void bench_perf_close(struct bench_perf *p);
