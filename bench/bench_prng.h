/* SPDX-License-Identifier: MIT */
/*
 * The benchmarks' random numbers: splitmix64 (Steele, Lea and Flood, 2014), seeded explicitly so
 * that a seed names one corpus on every machine and libc. rand() is avoided on purpose: its
 * sequence differs between C libraries, and results recorded on one box must be reproducible on
 * another.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Owner: one generator; not shared between threads. */
struct bench_prng {
	uint64_t s;
};

static inline uint64_t bench_prng_next(struct bench_prng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); the modulo bias is below 2^-40 for the small n used here. */
static inline uint32_t bench_prng_below(struct bench_prng *r, uint32_t n)
{
	return (uint32_t)(bench_prng_next(r) % n);
}

/* Uniform in [lo, hi]. */
static inline uint32_t bench_prng_range(struct bench_prng *r, uint32_t lo, uint32_t hi)
{
	return lo + bench_prng_below(r, hi - lo + 1);
}

/* True with probability pct/100. */
static inline bool bench_prng_chance(struct bench_prng *r, uint32_t pct)
{
	return bench_prng_below(r, 100) < pct;
}
