/* SPDX-License-Identifier: MIT */
/*
 * The log-linear latency histogram of lb_hist.h: bucket arithmetic, recording, merging and
 * percentiles. The "how it works" block and the error bound are in the header.
 */
#include <math.h>

#include "bench/lb_hist.h"

#define TOP_VALUE ((1ull << LB_HIST_TOP_BITS) - 1)

void lb_hist_init(struct lb_hist *h)
{
	atomic_store_explicit(&h->count, 0, memory_order_relaxed);
	atomic_store_explicit(&h->sum, 0, memory_order_relaxed);
	atomic_store_explicit(&h->min, UINT64_MAX, memory_order_relaxed);
	atomic_store_explicit(&h->max, 0, memory_order_relaxed);
	for (unsigned i = 0; i < LB_HIST_NBUCKETS; i++) {
		atomic_store_explicit(&h->bucket[i], 0, memory_order_relaxed);
	}
}

unsigned lb_hist_index(uint64_t v)
{
	if (v > TOP_VALUE) {
		v = TOP_VALUE;
	}
	if (v < 2 * LB_HIST_SUB) {
		return (unsigned)v;
	}
	unsigned top = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = top - LB_HIST_SUB_BITS;
	return (shift + 1) * LB_HIST_SUB + (unsigned)((v >> shift) - LB_HIST_SUB);
}

void lb_hist_bounds(unsigned i, uint64_t *lo, uint64_t *hi)
{
	if (i < 2 * LB_HIST_SUB) {
		*lo = *hi = i;
		return;
	}
	unsigned shift = i / LB_HIST_SUB - 1;
	uint64_t sub = i % LB_HIST_SUB + LB_HIST_SUB;
	*lo = sub << shift;
	*hi = *lo + (1ull << shift) - 1;
}

void lb_hist_record(struct lb_hist *h, uint64_t v)
{
	lc_counter_inc(&h->bucket[lb_hist_index(v)]);
	lc_counter_inc(&h->count);
	lc_counter_add(&h->sum, v);
	if (v < lc_counter_get(&h->min)) {
		atomic_store_explicit(&h->min, v, memory_order_relaxed);
	}
	if (v > lc_counter_get(&h->max)) {
		atomic_store_explicit(&h->max, v, memory_order_relaxed);
	}
}

void lb_hist_merge(struct lb_hist *dst, const struct lb_hist *src)
{
	for (unsigned i = 0; i < LB_HIST_NBUCKETS; i++) {
		uint64_t n = lc_counter_get(&src->bucket[i]);
		if (n != 0) {
			lc_counter_add(&dst->bucket[i], n);
		}
	}
	lc_counter_add(&dst->count, lc_counter_get(&src->count));
	lc_counter_add(&dst->sum, lc_counter_get(&src->sum));
	uint64_t mn = lc_counter_get(&src->min), mx = lc_counter_get(&src->max);
	if (mn < lc_counter_get(&dst->min)) {
		atomic_store_explicit(&dst->min, mn, memory_order_relaxed);
	}
	if (mx > lc_counter_get(&dst->max)) {
		atomic_store_explicit(&dst->max, mx, memory_order_relaxed);
	}
}

uint64_t lb_hist_percentile(const struct lb_hist *h, double pct)
{
	/* Sum the buckets rather than trusting count: a reader racing the writer may see a bucket
	 * bumped before count, and the rank must stay within what the buckets hold. */
	uint64_t total = 0;
	for (unsigned i = 0; i < LB_HIST_NBUCKETS; i++) {
		total += lc_counter_get(&h->bucket[i]);
	}
	if (total == 0) {
		return 0;
	}
	uint64_t mn = lc_counter_get(&h->min), mx = lc_counter_get(&h->max);
	if (pct <= 0.0) {
		return mn;
	}
	if (pct >= 100.0) {
		return mx;
	}
	uint64_t rank = (uint64_t)ceil(pct / 100.0 * (double)total);
	if (rank < 1) {
		rank = 1;
	}
	uint64_t seen = 0;
	for (unsigned i = 0; i < LB_HIST_NBUCKETS; i++) {
		seen += lc_counter_get(&h->bucket[i]);
		if (seen >= rank) {
			uint64_t lo, hi;
			lb_hist_bounds(i, &lo, &hi);
			uint64_t mid = lo + (hi - lo + 1) / 2; /* lo itself for one-value buckets */
			return mid < mn ? mn : mid > mx ? mx : mid;
		}
	}
	return mx;
}

uint64_t lb_hist_count(const struct lb_hist *h)
{
	return lc_counter_get(&h->count);
}

double lb_hist_mean(const struct lb_hist *h)
{
	uint64_t n = lc_counter_get(&h->count);
	return n ? (double)lc_counter_get(&h->sum) / (double)n : 0.0;
}

uint64_t lb_hist_min(const struct lb_hist *h)
{
	uint64_t n = lc_counter_get(&h->count);
	return n ? lc_counter_get(&h->min) : 0;
}

uint64_t lb_hist_max(const struct lb_hist *h)
{
	return lc_counter_get(&h->max);
}
