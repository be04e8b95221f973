/* SPDX-License-Identifier: MIT */
/*
 * Single-writer statistics counters (STYLE.md section 4). A worker bumps its own counters with a
 * relaxed load and store, never a locked read-modify-write: it is the only writer, and control
 * only needs a value that is not torn, which aligned 64-bit relaxed atomics guarantee.
 */
#pragma once

#include <stdatomic.h>
#include <stdint.h>

typedef _Atomic uint64_t lc_counter_t;

/** Add @p n. Context: the counter's one writer thread. */
static inline void lc_counter_add(lc_counter_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline void lc_counter_inc(lc_counter_t *c)
{
	lc_counter_add(c, 1);
}

/** Read. Context: any thread. */
static inline uint64_t lc_counter_get(const lc_counter_t *c)
{
	return atomic_load_explicit((lc_counter_t *)c, memory_order_relaxed);
}
