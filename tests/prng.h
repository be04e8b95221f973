/* SPDX-License-Identifier: MIT */
/*
 * The tests' pseudo-random numbers: splitmix64 over a state the test sets (rng_s = its seed), so
 * a run checks the same inputs on every libc and a failure repeats with its seed. One state per
 * test program; header-only, like tap.h.
 */
#pragma once

#include <stdint.h>

static uint64_t rng_s;

static inline uint64_t rnd(void)
{
	uint64_t z = (rng_s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A number below @p n (> 0); the modulo's bias is far below what a test can see. */
static inline uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}
