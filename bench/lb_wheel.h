/* SPDX-License-Identifier: MIT */
/*
 * The timers of locus-bench's transactions (retransmission, timer A/E, and giving up, timer B/F):
 * a hashed timer wheel over ids 0..cap-1 (a thread's transaction slots), one timer per id, O(1)
 * to arm and disarm, so tens of thousands of transactions in flight cost nothing per loop.
 *
 * How it works: time is cut into ticks of 2^20 ns (about 1 ms) and the wheel has 1024 buckets,
 * bucket = tick mod 1024, each a doubly linked list through the per-id nodes. Expiring walks the
 * buckets from the last tick it saw up to now and pops the entries whose due time has come (to the
 * nanosecond: an entry due later in the current tick waits); an entry due more than one turn ahead
 * stays in its bucket and is passed over until its turn. An entry armed in the past fires at the
 * next expiry.
 */
#pragma once

#include <stdint.h>

#include "common/lc_compiler.h"

#define LB_WHEEL_TICK_SHIFT 20

struct lb_wheel;

/**
 * A wheel for ids below @p cap, with time starting at @p now_ns.
 * @return LC_OK or LC_ENOMEM. Context: the owning thread.
 */
LC_MUSTCHECK int lb_wheel_new(struct lb_wheel **out, uint32_t cap, uint64_t now_ns);

/** Free @p w (NULL is fine). */
void lb_wheel_free(struct lb_wheel *w);

/** Arm (or re-arm) the timer of @p id to fire at @p due_ns. */
void lb_wheel_arm(struct lb_wheel *w, uint32_t id, uint64_t due_ns);

/** Disarm the timer of @p id (no-op when not armed). */
void lb_wheel_disarm(struct lb_wheel *w, uint32_t id);

/**
 * Pop up to @p max timers due at @p now_ns into @p out (they are disarmed).
 * @return how many were popped; when it is @p max, call again.
 */
unsigned lb_wheel_expire(struct lb_wheel *w, uint64_t now_ns, uint32_t *out, unsigned max);
