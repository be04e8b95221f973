/* SPDX-License-Identifier: MIT */
/*
 * A single-producer single-consumer ring of pointers, the only way one worker hands work to
 * another (STYLE.md section 1: per-worker SPSC rings). Bursts in and out, no locks, no syscalls.
 *
 * How it works: the producer owns `head`, the consumer owns `tail`; both count up forever and
 * wrap at 2^32, and a slot is `count & mask`. Each side keeps a private copy of the other side's
 * counter and reloads it (an acquire load of a line the other core writes) only when its copy
 * says the ring looks full or empty, so in steady state each burst touches the shared lines once.
 * The producer publishes slots with a release store of `head`; the consumer frees them with a
 * release store of `tail`. The two counters live on separate cache lines to avoid false sharing.
 */
#pragma once

#include <stdatomic.h>
#include <stdint.h>

#include "common/lc_compiler.h"

/* Owner: created by control; the producer thread writes head, the consumer thread writes tail. */
struct lc_ring {
	LC_CACHE_ALIGNED _Atomic uint32_t head; /* next slot the producer fills */
	uint32_t tail_cache;			/* producer's copy of tail */
	LC_CACHE_ALIGNED _Atomic uint32_t tail; /* next slot the consumer reads */
	uint32_t head_cache;			/* consumer's copy of head */
	LC_CACHE_ALIGNED uint32_t mask;		/* capacity - 1; capacity is a power of two */
	void *slot[];
};

/**
 * Allocate a ring of @p capacity slots (a power of two, 2 .. 2^30).
 * @return LC_OK, LC_EINVAL for a bad capacity, LC_ENOMEM.
 * Context: any thread, slow path.
 */
LC_MUSTCHECK int lc_ring_new(struct lc_ring **out, uint32_t capacity);

/** Free a ring (NULL is a no-op). Both ends must have stopped using it. */
void lc_ring_free(struct lc_ring *r);

/**
 * Enqueue up to @p n pointers; returns how many were taken (0 when full). The rest still belong
 * to the caller. Context: the ring's one producer thread; fast path.
 */
static inline unsigned lc_ring_enqueue_burst(struct lc_ring *r, void *const *obj, unsigned n)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t free_slots = r->mask + 1 - (head - r->tail_cache);
	if (free_slots < n) {
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		free_slots = r->mask + 1 - (head - r->tail_cache);
		if (free_slots < n) {
			n = free_slots;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		r->slot[(head + i) & r->mask] = obj[i];
	}
	atomic_store_explicit(&r->head, head + n, memory_order_release);
	return n;
}

/**
 * Dequeue up to @p n pointers into @p obj; returns how many. Context: the ring's one consumer
 * thread; fast path.
 */
static inline unsigned lc_ring_dequeue_burst(struct lc_ring *r, void **obj, unsigned n)
{
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t avail = r->head_cache - tail;
	if (avail < n) {
		r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
		avail = r->head_cache - tail;
		if (avail < n) {
			n = avail;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		obj[i] = r->slot[(tail + i) & r->mask];
	}
	atomic_store_explicit(&r->tail, tail + n, memory_order_release);
	return n;
}

/** Slots in use, as seen from any thread (a snapshot; for stats and tests). */
static inline uint32_t lc_ring_count(struct lc_ring *r)
{
	return atomic_load_explicit(&r->head, memory_order_acquire) -
	       atomic_load_explicit(&r->tail, memory_order_acquire);
}
