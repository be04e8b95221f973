/* SPDX-License-Identifier: MIT */
/*
 * Worker tasks (docs/overlay.md §7): the slow-path work on a shard's store that control asks of
 * its worker, because only the worker may touch its store. Control posts a task to every worker
 * (one task struct shared by all, with a count of workers still busy with it); each worker runs
 * it a bounded slice per loop iteration, between bursts, so packets keep flowing; the last worker
 * to finish drops the count to zero and control collects the result.
 *
 *   DIGEST  the bucket digest of a ring range over the shard (merged by control over shards)
 *   COUNT   keys and bindings in ranges (owned / replica counts for locusctl ring)
 *   EMIT    RANGE_TRANSFER frames of the keys in a range and bucket set, handed to control on
 *           the worker's frame ring (a full ring pauses the walk: back-pressure from the link)
 *   APPLY   merge the entries of a RANGE_TRANSFER frame that belong to the shard and lie in
 *           the task's ranges (what control found the transfer may bring: the others are refused)
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/dp_worker.h"
#include "dht/dht_sync.h"
#include "dht/lsp_ovl.h"

#define DP_TASK_MAX_RANGES 8

enum dp_task_kind { DP_TASK_DIGEST, DP_TASK_COUNT, DP_TASK_EMIT, DP_TASK_APPLY };

/* A RANGE_TRANSFER frame built by a worker (EMIT). Owner: the worker until it is on the frame
 * ring, then control, which frees it with lc_free. */
struct dp_frame {
	const struct dp_task *task; /* the EMIT it belongs to */
	size_t len;
	uint8_t data[DHT_LSP_MAX_MSG];
};

/*
 * Owner: control allocates and fills it, posts it to every worker, and frees it once `pending`
 * is 0 (and, for EMIT, every frame of it is taken). Workers write only their own result slot and
 * `pending`.
 */
struct dp_task {
	enum dp_task_kind kind;
	_Atomic unsigned pending; /* workers that have not finished it */
	unsigned nranges;
	struct dht_sync_range range[DP_TASK_MAX_RANGES];
	bool all_buckets; /* EMIT: every bucket, else those in `buckets` */
	uint8_t buckets[DHT_SYNC_SET_BYTES];
	/* DIGEST: one digest per range per worker, [worker * nranges + range] */
	struct dht_sync_digest *digest;
	/* COUNT: one count per range per worker, [worker * nranges + range] */
	struct dht_sync_count *count;
	/* EMIT: what the frames say (mode MERGE, txn, sender) */
	uint8_t mode;
	uint64_t txn;
	struct dht_lsp_node self;
	_Atomic uint64_t emitted; /* entries emitted, over all workers */
	_Atomic unsigned frames;  /* frames handed to control, over all workers */
	/* APPLY: the frame (owned by the task); only its entries in range[0..nranges) are merged */
	uint8_t *frame;
	size_t frame_len;
	_Atomic uint64_t applied; /* entries that changed something (newer records), all workers */
	_Atomic uint64_t refused; /* entries outside every range: not merged, all workers */
};

/**
 * Post @p t to every worker (t->pending is set to the number of workers first).
 * @return false when a worker's task ring is full (nothing was posted).
 * Context: control.
 */
bool dp_task_post(struct dp_node *n, struct dp_task *t);

/** Whether every worker finished @p t. Context: control. */
static inline bool dp_task_done(const struct dp_task *t)
{
	return atomic_load_explicit(&t->pending, memory_order_acquire) == 0;
}

/**
 * Take one frame a worker emitted (any worker, round robin), or NULL. Context: control.
 */
struct dp_frame *dp_task_take_frame(struct dp_node *n);

/**
 * Give a frame back that could not be sent yet: it is offered again first by the next
 * dp_task_take_frame. At most one frame can be held back. Context: control.
 */
void dp_task_hold_frame(struct dp_node *n, struct dp_frame *f);
