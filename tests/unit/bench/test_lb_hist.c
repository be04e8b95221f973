/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's histogram (bench/lb_hist.c): bucket bounds hold their values, and every
 * percentile of several random data sets (uniform, log-uniform over six decades, a heavy tail,
 * two modes) is within the stated relative error LB_HIST_REL_ERROR of the exact nearest-rank
 * percentile of the sorted data. Merging two histograms equals recording into one.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench/bench_prng.h"
#include "bench/lb_hist.h"
#include "tests/tap.h"

#define N 200000

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t exact(const uint64_t *sorted, size_t n, double pct)
{
	if (pct <= 0) {
		return sorted[0];
	}
	size_t rank = (size_t)ceil(pct / 100.0 * (double)n);
	return sorted[(rank < 1 ? 1 : rank) - 1];
}

static double unit(struct bench_prng *r)
{
	return (double)(bench_prng_next(r) >> 11) / 9007199254740992.0;
}

static uint64_t draw(int kind, struct bench_prng *r)
{
	switch (kind) {
	case 0: /* uniform 0..10 ms */
		return bench_prng_next(r) % 10000000;
	case 1: /* log-uniform 100 ns .. 100 s */
		return (uint64_t)(100.0 * pow(10.0, 9.0 * unit(r)));
	case 2: /* Pareto tail from 20 us */
		return (uint64_t)(20000.0 / pow(1.0 - unit(r) * 0.999999, 1.0 / 1.2));
	default: /* two modes: 50 us and 5 ms */
		return (bench_prng_next(r) % 10 < 9 ? 50000 : 5000000) + bench_prng_next(r) % 1000;
	}
}

static void test_bounds(void)
{
	int bad = 0;
	unsigned prev = 0;
	for (uint64_t v = 0; v < (1ull << 39); v = v < 1000 ? v + 1 : v + v / 97 + 1) {
		unsigned i = lb_hist_index(v);
		uint64_t lo, hi;
		lb_hist_bounds(i, &lo, &hi);
		if (i >= LB_HIST_NBUCKETS || lo > v || hi < v || i < prev) {
			bad++;
		}
		prev = i;
	}
	ok(bad == 0, "every value lies in its bucket's bounds, indices rise with values");
	uint64_t lo, hi;
	lb_hist_bounds(lb_hist_index(200), &lo, &hi);
	ok(lo == 200 && hi == 200, "values below 2*2^S have a bucket each");
	is_int(lb_hist_index(UINT64_MAX), LB_HIST_NBUCKETS - 1,
	       "huge values go to the last bucket");
}

static void test_data(int kind, const char *name, uint64_t *v, struct lb_hist *h)
{
	struct bench_prng r = {0x5eed0000u + (uint64_t)kind};
	lb_hist_init(h);
	for (size_t i = 0; i < N; i++) {
		v[i] = draw(kind, &r);
		lb_hist_record(h, v[i]);
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	double worst = 0;
	for (int k = 0; k <= 1010; k++) { /* 0, 0.1, ..., 100, then 99.91 .. 100 by 0.01 */
		double pct = k <= 1000 ? k / 10.0 : 99.9 + (k - 1000) / 100.0;
		double e = (double)exact(v, N, pct);
		double got = (double)lb_hist_percentile(h, pct);
		double rel = e > 0 ? fabs(got - e) / e : fabs(got - e);
		worst = rel > worst ? rel : worst;
	}
	ok(worst <= LB_HIST_REL_ERROR,
	   "%s: worst relative error %.5f <= %.5f over 1011 percentiles", name, worst,
	   LB_HIST_REL_ERROR);
	is_int(lb_hist_count(h), N, "%s: count", name);
	is_int(lb_hist_max(h), v[N - 1], "%s: max exact", name);
	is_int(lb_hist_min(h), v[0], "%s: min exact", name);
}

int main(void)
{
	plan(3 + 4 * 4 + 4);
	test_bounds();
	uint64_t *v = malloc(N * sizeof(*v));
	struct lb_hist *h = malloc(sizeof(*h)), *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	if (!v || !h || !a || !b) {
		return 1;
	}
	test_data(0, "uniform", v, h);
	test_data(1, "log-uniform", v, h);
	test_data(2, "pareto", v, h);
	test_data(3, "bimodal", v, h);

	/* merging: the last data set split over two histograms */
	lb_hist_init(a);
	lb_hist_init(b);
	for (size_t i = 0; i < N; i++) {
		lb_hist_record(i % 3 ? a : b, v[i]);
	}
	lb_hist_merge(a, b);
	bool same = lb_hist_count(a) == lb_hist_count(h) && lb_hist_max(a) == lb_hist_max(h);
	for (double p = 0; p <= 100; p += 0.5) {
		same = same && lb_hist_percentile(a, p) == lb_hist_percentile(h, p);
	}
	ok(same, "merge of two halves gives the histogram of the whole");
	ok(fabs(lb_hist_mean(a) - lb_hist_mean(h)) < 1e-6, "mean of the merge");

	lb_hist_init(a);
	is_int(lb_hist_percentile(a, 99), 0, "an empty histogram answers 0");
	lb_hist_record(a, 12345);
	is_int(lb_hist_percentile(a, 50), 12345, "one value: every percentile is it");
	free(v);
	free(h);
	free(a);
	free(b);
	return exit_status();
}
