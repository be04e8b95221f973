/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's latency histogram: HDR-style log-linear buckets over nanoseconds, so that any
 * percentile it reports is within a fixed relative error of the exact one, whatever the spread of
 * the data, in a fixed 34 KiB per histogram and O(1) per recorded value. One thread records into
 * a histogram; any other thread may read it at the same time (the live progress line), because
 * every field is a single-writer relaxed atomic (common/lc_counter.h).
 *
 * How it works: with S = LB_HIST_SUB_BITS and M = 2^S, values below 2M have a bucket each. A
 * larger value v with its top bit at position b (2^b <= v < 2^(b+1)) falls in one of M buckets of
 * width 2^(b-S) that split [2^b, 2^(b+1)). A percentile is the midpoint of the bucket that holds
 * the value of that rank, clamped to the exact min and max; the value itself is at least
 * M * width, so the midpoint is off by at most width/2 <= value / 2M: a relative error of at most
 * LB_HIST_REL_ERROR (2^-(S+1), 0.39 % for S = 7). Values from 2^40 ns (18 minutes) on are counted
 * in the last bucket; min, max, count and sum stay exact.
 */
#pragma once

#include <stdint.h>

#include "common/lc_counter.h"

#define LB_HIST_SUB_BITS 7
#define LB_HIST_SUB (1u << LB_HIST_SUB_BITS)
#define LB_HIST_TOP_BITS 40 /* values up to 2^40 - 1 ns get their own bucket */
#define LB_HIST_NBUCKETS ((LB_HIST_TOP_BITS + 1 - LB_HIST_SUB_BITS) * LB_HIST_SUB)
#define LB_HIST_REL_ERROR (1.0 / (2.0 * LB_HIST_SUB))

/* Owner: one recording thread writes; any thread may read (relaxed). Zero-filled is empty, except
 * for min: use lb_hist_init(). */
struct lb_hist {
	lc_counter_t count;
	lc_counter_t sum;
	lc_counter_t min;
	lc_counter_t max;
	lc_counter_t bucket[LB_HIST_NBUCKETS];
};

/** Empty @p h (caller's storage). Context: any thread, before it is shared. */
void lb_hist_init(struct lb_hist *h);

/** Bucket index of @p v (exposed for the unit test). */
unsigned lb_hist_index(uint64_t v);

/** Lowest and highest value of bucket @p i. */
void lb_hist_bounds(unsigned i, uint64_t *lo, uint64_t *hi);

/** Record one value. Context: @p h's one writer thread. */
void lb_hist_record(struct lb_hist *h, uint64_t v);

/** Add @p src (borrowed, read relaxed while its writer may still record) into @p dst (which only
 * the caller writes). Context: any thread. */
void lb_hist_merge(struct lb_hist *dst, const struct lb_hist *src);

/**
 * The value at percentile @p pct (0..100) by nearest rank: the smallest value with at least
 * pct % of the values at or below it; pct 100 is the exact max, pct 0 the exact min. Within
 * LB_HIST_REL_ERROR of the exact value. 0 when empty. Context: any thread.
 */
uint64_t lb_hist_percentile(const struct lb_hist *h, double pct);

/** Count, mean, min and max (0 when empty). */
uint64_t lb_hist_count(const struct lb_hist *h);
double lb_hist_mean(const struct lb_hist *h);
uint64_t lb_hist_min(const struct lb_hist *h);
uint64_t lb_hist_max(const struct lb_hist *h);
