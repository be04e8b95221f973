/* SPDX-License-Identifier: MIT */
/*
 * Worker tasks (dp_task.h): posting and frame collection on control's side, and the slices a
 * worker runs between bursts.
 *
 * A worker has three lanes (dp_worker_internal.h), each with its own ring and current task:
 * SCAN (DIGEST, COUNT), EMIT and APPLY. A lane takes its next task when its current one is done,
 * so tasks of a lane run in the order control posted them. The lanes run beside
 * each other, a slice each per loop iteration, because a single queue made everything wait for
 * its head: an EMIT held up by a slow peer (its frames wait for room on that peer's link) kept
 * this node from applying what other nodes sent, which could hold those nodes' own emits up in
 * turn; and the digest of a sync round, or the COUNT an admin query waits for, queued behind
 * hundreds of APPLYs. An emit that waits for room on the frame ring makes no progress and does
 * not keep the worker awake: control kicks it when it takes a frame.
 *
 * Each slice looks at a bounded number of keys (DP_TASK_SLICE steps of the store walk), so a task
 * over a million keys never holds up the packets for more than a few microseconds at a time; when
 * no datagram arrived since the last slice, the worker has nothing else to do and a slice is
 * DP_TASK_IDLE_SLICES times longer (it still ends every few hundred microseconds).
 *
 * Not the fast path: EMIT allocates its frames (64 KiB each, freed by control once sent).
 */
#include "dataplane/dp_task.h"

#include <string.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"
#include "dataplane/dp_repl.h"
#include "dataplane/dp_worker_internal.h"

#define DP_TASK_SLICE 16      /* store-walk steps per loop iteration (each looks at <= 64 keys) */
#define DP_TASK_IDLE_SLICES 8 /* a slice is this many times longer when no packet came */
#define EMIT_BATCH 32

static enum dp_lane lane_of(enum dp_task_kind kind)
{
	switch (kind) {
	case DP_TASK_EMIT:
		return DP_LANE_EMIT;
	case DP_TASK_APPLY:
		return DP_LANE_APPLY;
	case DP_TASK_DIGEST:
	case DP_TASK_COUNT:
		break;
	}
	return DP_LANE_SCAN;
}

bool dp_task_post(struct dp_node *n, struct dp_task *t)
{
	enum dp_lane k = lane_of(t->kind);
	for (unsigned i = 0; i < n->nworkers; i++) {
		if (lc_ring_count(n->w[i]->lane[k].ring) >= DP_TASK_RING - 1) {
			return false;
		}
	}
	atomic_store_explicit(&t->pending, n->nworkers, memory_order_release);
	for (unsigned i = 0; i < n->nworkers; i++) {
		(void)lc_ring_enqueue_burst(n->w[i]->lane[k].ring, (void *const *)&t, 1);
		dp_worker_kick(n->w[i]);
	}
	return true;
}

struct dp_frame *dp_task_take_frame(struct dp_node *n)
{
	if (n->held != NULL) {
		struct dp_frame *f = n->held;
		n->held = NULL;
		return f;
	}
	for (unsigned k = 0; k < n->nworkers; k++) {
		unsigned i = (n->frame_rr + k) % n->nworkers;
		void *f;
		if (lc_ring_dequeue_burst(n->w[i]->frames, &f, 1) == 1) {
			n->frame_rr = i + 1;
			dp_worker_kick(n->w[i]); /* it may have paused on a full ring */
			return f;
		}
	}
	return NULL;
}

void dp_task_hold_frame(struct dp_node *n, struct dp_frame *f)
{
	n->held = f;
}

/* ---- worker side ----------------------------------------------------------------------------- */

static void finish(struct dp_worker *w, struct dp_task_lane *l)
{
	if (l == &w->lane[DP_LANE_EMIT] && w->frame != NULL && w->frame_entries == 0) {
		lc_free(w->frame); /* opened for a key that did not fit, or never used */
		w->frame = NULL;
	}
	atomic_fetch_sub_explicit(&l->task->pending, 1, memory_order_acq_rel);
	l->task = NULL;
}

static bool digest_step(struct dp_worker *w, struct dp_task *t, uint64_t *cursor, unsigned slice)
{
	struct dht_sync_digest *out[DP_TASK_MAX_RANGES];
	for (unsigned r = 0; r < t->nranges; r++) {
		out[r] = &t->digest[w->id * t->nranges + r];
	}
	for (unsigned i = 0; i < slice && *cursor != DHT_STORE_WALK_END; i++) {
		(void)dht_sync_digest_step(w->store, w->cfg->overlay_id, cursor, t->range,
					   t->nranges, out);
	}
	return *cursor == DHT_STORE_WALK_END;
}

static bool count_step(struct dp_worker *w, struct dp_task *t, uint64_t *cursor, unsigned slice)
{
	for (unsigned i = 0; i < slice && *cursor != DHT_STORE_WALK_END; i++) {
		(void)dht_sync_count_step(w->store, w->cfg->overlay_id, cursor, t->range,
					  t->nranges, &t->count[w->id * t->nranges]);
	}
	return *cursor == DHT_STORE_WALK_END;
}

/* ---- EMIT ------------------------------------------------------------------------------------ */

static void frame_start(struct dp_worker *w, struct dp_task *t)
{
	struct dp_frame *f = w->frame;
	f->task = t;
	dht_lsp_build_init(&w->fb, f->data, sizeof(f->data));
	dht_lsp_ovl_request_start(&w->fb, DHT_LSP_RANGE_TRANSFER, t->txn, w->cfg->overlay_id,
				  &t->self);
	struct dht_lsp_range r = {t->range[0].lo, t->range[0].hi};
	dht_lsp_put_range(&w->fb, &r);
	dht_lsp_put_sync_mode(&w->fb, t->mode);
	w->frame_entries = 0;
}

/* Hand the frame being built to control; false when the ring is full (try again later). */
static bool frame_ship(struct dp_worker *w)
{
	if (w->frame == NULL) {
		return true;
	}
	if (w->frame_entries > 0 && w->frame->len == 0) {
		size_t len = 0;
		if (dht_lsp_build_finish(&w->fb, &len) != LC_OK) {
			w->frame_entries = 0; /* cannot happen: every entry was checked to fit */
			return true;
		}
		w->frame->len = len;
	}
	if (w->frame_entries == 0) {
		return true;
	}
	void *f = w->frame;
	struct dp_task *t = w->lane[DP_LANE_EMIT].task;
	/* counted before control can see it, so control never believes it sent them all early */
	atomic_fetch_add_explicit(&t->frames, 1, memory_order_release);
	if (lc_ring_enqueue_burst(w->frames, (void *const *)&f, 1) != 1) {
		atomic_fetch_sub_explicit(&t->frames, 1, memory_order_relaxed);
		w->emit_stalled = true;
		return false;
	}
	w->frame = NULL;
	w->frame_entries = 0;
	return true;
}

static bool frame_open(struct dp_worker *w, struct dp_task *t)
{
	if (w->frame == NULL) {
		w->frame = lc_alloc(sizeof(*w->frame));
		if (w->frame == NULL) {
			return false;
		}
		w->frame->len = 0;
		frame_start(w, t);
	}
	return true;
}

/* Append one key's entry; ships the frame and starts a new one when it is full. Returns false
 * when the frame ring is full (the key must be offered again). */
static bool emit_key(struct dp_worker *w, struct dp_task *t, struct dht_aor *a, dht_id_t id)
{
	if (!frame_open(w, t)) {
		return false;
	}
	/* The handle came from a walk step that may be several loop iterations old (the frame ring
	 * was full meanwhile, and the worker served packets and reaped expiries): its key may be
	 * gone, or its record reused by another key. Such a key is skipped; the next round of the
	 * range sync finds what this transfer lacks. */
	if (dht_aor_count(a) == 0 || dht_aor_id_hi(a) != (uint64_t)(id >> 64)) {
		return true;
	}
	struct dht_bytes key = dht_aor_key(a);
	struct dp_key k = {.id = id}; /* dht_sync_emit_step computed it from the key's bytes */
	if (key.len == 0 || key.len > sizeof(k.aor)) {
		return true;
	}
	memcpy(k.aor, key.p, key.len);
	k.len = (uint16_t)key.len;
	struct dp_bindings bs;
	dp_records_load(w, &k, &bs);
	if (bs.n == 0) {
		return true; /* every record expired, not yet reaped: nothing to send */
	}
	struct dht_lsp_mark mk;
	dht_lsp_build_mark(&w->fb, &mk);
	dp_repl_put_entry(&w->fb, &k, &bs, dht_aor_version(a));
	if (dht_lsp_build_full(&w->fb)) {
		dht_lsp_build_rollback(&w->fb, &mk);
		if (w->frame_entries == 0) {
			return true; /* an entry larger than a frame: skipped (the owner refuses those) */
		}
		if (!frame_ship(w)) {
			return false;
		}
		if (!frame_open(w, t)) {
			return false;
		}
		dp_repl_put_entry(&w->fb, &k, &bs, dht_aor_version(a));
		if (dht_lsp_build_full(&w->fb)) {
			dht_lsp_build_rollback(&w->fb, &mk);
			return true;
		}
	}
	w->frame_entries++;
	atomic_fetch_add_explicit(&t->emitted, 1, memory_order_relaxed);
	return true;
}

static bool emit_step(struct dp_worker *w, struct dp_task *t, uint64_t *cursor, unsigned slice)
{
	w->emit_stalled = false;
	if (w->frame != NULL && w->frame->len != 0 && !frame_ship(w)) {
		return false; /* a finished frame still waits for room on the ring */
	}
	for (unsigned i = 0; i < slice; i++) {
		while (w->emit_next < w->emit_n) {
			if (!emit_key(w, t, w->emit_batch[w->emit_next],
				      w->emit_ids[w->emit_next])) {
				return false;
			}
			w->emit_next++;
		}
		if (*cursor == DHT_STORE_WALK_END) {
			return frame_ship(w);
		}
		w->emit_n = dht_sync_emit_step(w->store, w->cfg->overlay_id, cursor, &t->range[0],
					       t->all_buckets ? NULL : t->buckets, w->emit_batch,
					       w->emit_ids, EMIT_BATCH);
		w->emit_next = 0;
	}
	return false;
}

/* ---- APPLY ----------------------------------------------------------------------------------- */

static bool apply_all(struct dp_worker *w, struct dp_task *t)
{
	struct dht_lsp_ovl_msg *m = &w->frame_msg;
	if (dht_lsp_ovl_parse(m, t->frame, t->frame_len) != LC_OK) {
		return true;
	}
	struct dht_lsp_iter it = dht_lsp_ovl_entries(m);
	struct dht_lsp_entry e;
	uint64_t applied = 0, refused = 0;
	while (dht_lsp_ovl_next_entry(&it, &e)) {
		dht_id_t id = dht_key_of(e.key.p, e.key.len, w->cfg->overlay_id);
		if (dht_shard_of(id, w->node->nworkers) != w->id) {
			continue;
		}
		bool inside = false;
		for (unsigned r = 0; r < t->nranges && !inside; r++) {
			inside = dht_sync_in_range(&t->range[r], id);
		}
		if (!inside) {
			refused++; /* docs/overlay.md 6.4: not the range's, or not this node's */
			continue;
		}
		applied += dp_repl_apply_entry(w, id, &e) == LC_OK;
	}
	atomic_fetch_add_explicit(&t->applied, applied, memory_order_relaxed);
	atomic_fetch_add_explicit(&t->refused, refused, memory_order_relaxed);
	return true;
}

/* A slice of lane @p l's task (taking the next when it has none). @return whether it progressed. */
static bool lane_step(struct dp_worker *w, struct dp_task_lane *l, unsigned slice)
{
	if (l->task == NULL) {
		void *t;
		if (lc_ring_dequeue_burst(l->ring, &t, 1) != 1) {
			return false;
		}
		l->task = t;
		l->cursor = 0;
		if (l == &w->lane[DP_LANE_EMIT]) {
			w->emit_n = w->emit_next = 0;
		}
	}
	struct dp_task *t = l->task;
	bool done = false;
	switch (t->kind) {
	case DP_TASK_DIGEST:
		done = digest_step(w, t, &l->cursor, slice);
		break;
	case DP_TASK_COUNT:
		done = count_step(w, t, &l->cursor, slice);
		break;
	case DP_TASK_EMIT:
		done = emit_step(w, t, &l->cursor, slice);
		break;
	case DP_TASK_APPLY:
		done = apply_all(w, t);
		break;
	}
	if (done) {
		finish(w, l);
	}
	return done || t->kind != DP_TASK_EMIT || !w->emit_stalled;
}

bool dp_task_step(struct dp_worker *w)
{
	/* no datagram since the last slice: the worker is otherwise idle, so run longer slices */
	uint64_t rx = lc_counter_get(&w->stats.rx[0]) + lc_counter_get(&w->stats.rx[1]);
	unsigned slice = rx == w->task_rx ? DP_TASK_SLICE * DP_TASK_IDLE_SLICES : DP_TASK_SLICE;
	w->task_rx = rx;
	bool progress = false;
	for (unsigned k = 0; k < DP_LANES; k++) {
		progress |= lane_step(w, &w->lane[k], slice);
	}
	return progress;
}

bool dp_task_pending(const struct dp_worker *w)
{
	for (unsigned k = 0; k < DP_LANES; k++) {
		const struct dp_task_lane *l = &w->lane[k];
		bool stalled = k == DP_LANE_EMIT && l->task != NULL && w->emit_stalled;
		if ((l->task != NULL && !stalled) || lc_ring_count(l->ring) > 0) {
			return true;
		}
	}
	return false;
}
