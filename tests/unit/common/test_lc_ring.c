/* SPDX-License-Identifier: MIT */
/*
 * The SPSC ring: capacity checks, burst semantics at full and empty, wraparound of the 32-bit
 * counters, and a two-thread run that checks every pointer arrives once and in order.
 */
#include <pthread.h>
#include <stdint.h>

#include "common/lc_error.h"
#include "common/lc_ring.h"
#include "tests/tap.h"

#define N_ITEMS 2000000u

static void *producer(void *arg)
{
	struct lc_ring *r = arg;
	uintptr_t next = 1;
	while (next <= N_ITEMS) {
		void *batch[7];
		unsigned n = 0;
		while (n < 7 && next + n <= N_ITEMS) {
			batch[n] = (void *)(next + n);
			n++;
		}
		next += lc_ring_enqueue_burst(r, batch, n);
	}
	return NULL;
}

int main(void)
{
	plan(13);
	struct lc_ring *r = NULL;
	is_int(lc_ring_new(&r, 3), LC_EINVAL, "capacity must be a power of two");
	is_int(lc_ring_new(&r, 1), LC_EINVAL, "capacity of one is refused");
	is_int(lc_ring_new(&r, 8), LC_OK, "ring of 8");

	void *in[10], *out[10];
	for (uintptr_t i = 0; i < 10; i++) {
		in[i] = (void *)(i + 100);
	}
	is_int(lc_ring_enqueue_burst(r, in, 10), 8, "a burst larger than the room takes what fits");
	is_int(lc_ring_enqueue_burst(r, in, 1), 0, "a full ring takes nothing");
	is_int(lc_ring_count(r), 8, "count is 8");
	is_int(lc_ring_dequeue_burst(r, out, 3), 3, "dequeue 3");
	ok(out[0] == in[0] && out[2] == in[2], "in order");
	is_int(lc_ring_dequeue_burst(r, out, 10), 5, "the rest");
	is_int(lc_ring_dequeue_burst(r, out, 10), 0, "empty ring gives nothing");

	/* Start the counters just before 2^32 so they wrap during the run. */
	r->head = r->tail = UINT32_MAX - 3;
	r->head_cache = r->tail_cache = UINT32_MAX - 3;
	lc_ring_free(r);
	is_int(lc_ring_new(&r, 64), LC_OK, "ring of 64");
	atomic_store(&r->head, UINT32_MAX - 20);
	atomic_store(&r->tail, UINT32_MAX - 20);
	r->head_cache = r->tail_cache = UINT32_MAX - 20;

	pthread_t t;
	pthread_create(&t, NULL, producer, r);
	uintptr_t want = 1;
	int bad = 0;
	while (want <= N_ITEMS) {
		unsigned n = lc_ring_dequeue_burst(r, out, 10);
		for (unsigned i = 0; i < n; i++) {
			bad += (uintptr_t)out[i] != want;
			want++;
		}
	}
	pthread_join(t, NULL);
	is_int(bad, 0, "two threads: %u pointers arrived once each, in order, across a wrap",
	       N_ITEMS);
	is_int(lc_ring_count(r), 0, "ring drained");
	lc_ring_free(r);
	return exit_status();
}
