/* SPDX-License-Identifier: MIT */
/*
 * The worker loop: the fast path of a node.
 *
 * How it works: each iteration reads the clock once, takes back the packets other workers have
 * finished with, receives a burst, and for each datagram asks the SIP or LSP side which shard
 * owns its key. A local key is handled at once; another shard's key is handed to that shard's
 * worker over an SPSC ring (the packet travels, nothing is copied), and that worker answers from
 * its own socket, which is bound to the same address. Then the worker handles what other workers
 * handed to it, sends every response in one burst, and lets the timer wheel reap a few expired
 * bindings. A worker with nothing to do sleeps in poll() on its sockets and an eventfd (unless
 * its backend would rather poll on a while, io->idle: the DPDK backend's spin, which then costs
 * no fence, no RCU offline/online and no system call); a producer that hands it work sees the
 * `sleeping` flag and writes the eventfd (the flag and the ring are ordered by a full fence on
 * both sides, so a wake-up is never lost).
 *
 * Coalescing (--rx-coalesce-us): at a moderate rate every request arrives alone, and a wake-up
 * (tens of microseconds in a virtual machine), a receive and a send are spent on each. With
 * US > 0, a worker whose iteration found work but not a full burst pauses US microseconds
 * before it polls again, offline for RCU and without the `sleeping` flag (so nobody kicks it):
 * the next poll finds everything that arrived meanwhile, and one wake-up, one receive and one
 * send serve all of it. The first request after a quiet spell is answered at once (the worker
 * sleeps on its sockets as before); those that follow wait up to US more. Like a NIC's
 * interrupt moderation (ethtool's rx-usecs), and off by default.
 *
 * It pauses only when a pause should gather two requests or more but less than a burst, judged
 * from the packets of the last DP_COALESCE_WINDOW_MS (dp_coalesce.h): below that rate a pause
 * would add a timer wake-up to each request instead of sharing one (a light load), and above it
 * the worker finds full bursts without pausing (a heavy one, or a closed loop, whose rate a
 * pause would cap at window / (pause + service time)). The first window after the start pauses never, and a pause
 * that gathered a full burst ends the pauses until the next window.
 *
 * Routing: the node's routing table is read once per iteration under RCU (liburcu QSBR): the
 * worker announces a quiescent state at the end of each iteration and goes offline while it
 * sleeps, so control can free a replaced table without ever making a worker wait.
 *
 * Stopping: after dp_node_stop() every worker keeps going until its sockets are empty, then
 * announces it is drained; it leaves when all workers are drained, its rings are empty and every
 * packet it lent is back, or after DRAIN_MAX_MS whatever happens.
 */
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <urcu/urcu-qsbr.h>

#include "common/lc_error.h"
#include "dataplane/dp_batch.h"
#include "dataplane/dp_coalesce.h"
#include "dataplane/dp_worker_internal.h"
#include "dht/lsp_batch.h"

#define IDLE_WAIT_MS 100
#define DRAIN_MAX_MS 2000

/* The wall clock, once per loop: seconds for expiry, milliseconds for key versions. */
static void read_clock(struct dp_worker *w)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts); /* fastpath-ok: once per loop, vDSO */
	w->now_s = (uint32_t)ts.tv_sec;
	w->now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* fastpath-ok: drain only */
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void tx_flush(struct dp_worker *w)
{
	if (w->ntx == 0) {
		return;
	}
	unsigned sent = w->node->io->tx_burst(w->io_ctx, w->tx, w->ntx);
	lc_counter_add(&w->stats.tx, sent);
	if (sent < w->ntx) {
		lc_counter_add(&w->stats.drop[DP_DROP_TX_FAILED], w->ntx - sent);
	}
	for (unsigned i = 0; i < w->ntx; i++) {
		dp_pool_put(&w->pool, w->tx[i]);
	}
	w->ntx = 0;
}

void dp_tx_send(struct dp_worker *w, struct dp_pkt *p)
{
	p->flags = 0;
	w->tx[w->ntx++] = p;
	if (w->ntx == DP_TX_MAX) {
		tx_flush(w);
	}
}

void dp_tx_push(struct dp_worker *w, struct dp_pkt *p)
{
	enum dp_member_tx_result r =
		!w->cfg->secured || p->sock != DP_SOCK_LSP ? DP_MEMBER_SEND : dp_member_tx(w, p);
	if (r == DP_MEMBER_DROP) {
		p->flags = 0;
		dp_pool_put(&w->pool, p);
	} else if (r == DP_MEMBER_SEND) {
		dp_tx_send(w, p);
	}
}

void dp_tx_push_member(struct dp_worker *w, struct dp_pkt *p)
{
	p->flags = DP_PKT_TO_MEMBER;
	dp_batch_hold(w, p);
}

bool dp_write_stale(struct dp_worker *w, const struct dp_pkt *p)
{
	/* now_ms is coarse and read at the top of the iteration: a datagram that came after it
	 * looks younger than 0, never stale */
	if (p->rx_ms == 0 || w->now_ms <= p->rx_ms + DP_WRITE_MAX_WAIT_MS) {
		return false;
	}
	lc_counter_inc(&w->stats.drop[DP_DROP_STALE_WRITE]);
	return true;
}

void dp_worker_kick(struct dp_worker *target)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&target->sleeping, memory_order_relaxed)) {
		uint64_t one = 1;
		/* fastpath-ok: only when the target sleeps, i.e. it is idle */
		ssize_t r = write(target->wake_fd, &one, sizeof(one)); /* fastpath-ok: see above */
		(void)r; /* EAGAIN means the counter is already non-zero: it is awake */
	}
}

/* Give a packet back to its pool: ours directly, another worker's through its return ring. */
static void release(struct dp_worker *w, struct dp_pkt *p)
{
	if (p->owner == w->id) {
		dp_pool_put(&w->pool, p);
		return;
	}
	/* the ring holds as many slots as the owner's pool has packets: it cannot be full */
	(void)lc_ring_enqueue_burst(w->back[p->owner], (void *const *)&p, 1);
}

static void handle(struct dp_worker *w, struct dp_pkt *p)
{
	if (p->sock == DP_SOCK_SIP) {
		dp_sip_handle(w, p);
	} else {
		dp_lsp_handle(w, p);
	}
}

/*
 * Handle a burst of this shard's datagrams, classified already. The store's memory for their
 * keys is fetched first, a step of the lookup at a time for the whole burst (index slots, then
 * the AOR records they name, then keys and first bindings, then those bindings' blocks:
 * dht_store_prefetch_step), so that the four or five dependent cache misses of each key overlap
 * with the other keys' instead of each stalling the worker in turn. A burst of one or two gains
 * nothing from it and skips it.
 */
static void handle_burst(struct dp_worker *w, struct dp_pkt **pkts, unsigned n)
{
	if (n >= DP_PREFETCH_MIN) {
		for (unsigned step = 0; step < DP_PREFETCH_STEPS; step++) {
			for (unsigned i = 0; i < n; i++) {
				const struct dp_req *r = &pkts[i]->req;
				if (r->key_ok && r->fwd == NULL) {
					dht_store_prefetch_step(w->store, r->key.id, step);
				}
			}
		}
	}
	for (unsigned i = 0; i < n; i++) {
		handle(w, pkts[i]);
		release(w, pkts[i]);
	}
}

/* A burst being routed: this shard's datagrams, to handle together, and the workers handed
 * something (to wake). */
struct routing {
	struct dp_pkt *mine[DP_BURST];
	unsigned nmine;
	uint64_t handed;
};

/* Classify one datagram (or one message of a BATCH) and route it to the shard that owns its
 * key: ours waits in @p arg for handle_burst, another's is handed over. */
static void route_one(struct dp_worker *w, struct dp_pkt *p, void *arg)
{
	struct routing *r = arg;
	unsigned shard = p->sock == DP_SOCK_SIP ? dp_sip_classify(w, p) : dp_lsp_classify(w, p);
	if (shard == w->id) {
		r->mine[r->nmine++] = p;
		if (r->nmine == DP_BURST) { /* a burst of batches: handle in bursts */
			handle_burst(w, r->mine, r->nmine);
			r->nmine = 0;
		}
	} else if (lc_ring_enqueue_burst(w->to[shard], (void *const *)&p, 1) == 1) {
		lc_counter_inc(&w->stats.handoff_out);
		r->handed |= 1ull << shard;
	} else {
		lc_counter_inc(&w->stats.drop[DP_DROP_RING_FULL]);
		release(w, p);
	}
}

/* Route each received datagram to the shard that owns its key (a BATCH's messages one by one),
 * then handle ours. Returns the bitmask of workers that were handed something (to wake). */
static uint64_t dispatch(struct dp_worker *w, struct dp_pkt **pkts, unsigned n)
{
	struct routing r = {.nmine = 0, .handed = 0};
	for (unsigned i = 0; i < n; i++) {
		struct dp_pkt *p = pkts[i];
		lc_counter_inc(&w->stats.rx[p->sock]);
		p->flags = 0;
		if (w->cfg->secured && p->sock == DP_SOCK_LSP && !dp_member_rx(w, p)) {
			release(w, p); /* a member's tag that failed: counted, never handled */
			continue;
		}
		if (p->sock == DP_SOCK_LSP && dht_lsp_is_batch(p->data, p->len)) {
			dp_batch_split(w, p, route_one, &r);
			release(w, p);
			continue;
		}
		route_one(w, p, &r);
	}
	handle_burst(w, r.mine, r.nmine);
	return r.handed;
}

/* Handle what other workers handed to us and take back what they return. Returns the number of
 * packets seen, and sets *returned_to with the workers whose packets went back. */
static unsigned drain_rings(struct dp_worker *w, uint64_t *returned_to)
{
	unsigned seen = 0;
	struct dp_pkt *pkts[DP_BURST];
	for (unsigned j = 0; j < w->node->nworkers; j++) {
		if (j == w->id) {
			continue;
		}
		struct dp_worker *o = w->node->w[j];
		unsigned n = lc_ring_dequeue_burst(o->back[w->id], (void **)pkts, DP_BURST);
		for (unsigned i = 0; i < n; i++) {
			dp_pool_put(&w->pool, pkts[i]);
		}
		/* their parse, key and route came with them (pkt->msg, pkt->req) */
		n = lc_ring_dequeue_burst(o->to[w->id], (void **)pkts, DP_BURST);
		lc_counter_add(&w->stats.handoff_in, n);
		handle_burst(w, pkts, n);
		if (n > 0) {
			*returned_to |= 1ull << j;
		}
		seen += n;
	}
	return seen;
}

/* Nothing to do but wait: no task slice pending, nothing handed to us or returned. */
static bool rings_empty(struct dp_worker *w)
{
	if (dp_task_pending(w)) {
		return false;
	}
	for (unsigned j = 0; j < w->node->nworkers; j++) {
		if (j != w->id && (lc_ring_count(w->node->w[j]->to[w->id]) > 0 ||
				   lc_ring_count(w->node->w[j]->back[w->id]) > 0)) {
			return false;
		}
	}
	return true;
}

static void wake_all(struct dp_worker *w, uint64_t mask)
{
	for (unsigned j = 0; mask != 0; j++, mask >>= 1) {
		if (mask & 1) {
			dp_worker_kick(w->node->w[j]);
		}
	}
}

static void sleep_idle(struct dp_worker *w, int timeout_ms)
{
	atomic_store_explicit(&w->sleeping, true, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	bool woken = false;
	if (rings_empty(w) && !atomic_load_explicit(&w->node->stop, memory_order_acquire)) {
		/* a sleeping reader must not hold up control's grace periods */
		urcu_qsbr_thread_offline();
		woken = w->node->io->wait(w->io_ctx, w->wake_fd, timeout_ms);
		urcu_qsbr_thread_online();
	}
	atomic_store_explicit(&w->sleeping, false, memory_order_relaxed);
	if (woken) { /* a kick that came while we did not wait shows up at the next wait */
		uint64_t v;
		ssize_t r = read(w->wake_fd, &v, sizeof(v)); /* fastpath-ok: idle path */
		(void)r;
	}
}

/* One iteration; returns how many packets it saw. */
static unsigned iterate(struct dp_worker *w)
{
	read_clock(w);
	w->rt = rcu_dereference(w->node->route); /* one table for the whole iteration */
	w->peers = rcu_dereference(w->node->peers);
	dp_member_retry(w); /* parked datagrams whose member's key arrived */
	uint64_t wake_mask = 0;
	unsigned seen = drain_rings(w, &wake_mask);

	struct dp_pkt *pkts[DP_BURST];
	unsigned want = 0;
	/* keep room for the responses of this burst and of what other workers hand us */
	while (want < DP_BURST && w->pool.nfree > DP_TX_MAX + DP_BURST) {
		pkts[want] = dp_pool_get(&w->pool);
		pkts[want++]->rx_ms = 0; /* a backend that cannot tell arrival times leaves it 0 */
	}
	unsigned n = want > 0 ? w->node->io->rx_burst(w->io_ctx, pkts, want) : 0;
	for (unsigned i = n; i < want; i++) {
		dp_pool_put(&w->pool, pkts[i]);
	}
	if (n > 0) {
		wake_mask |= dispatch(w, pkts, n);
	}
	dp_batch_flush(w); /* every pass ends with nothing held: none is held across a sleep */
	tx_flush(w);
	wake_all(w, wake_mask);
	unsigned reaped = dht_store_expire(w->store, w->now_s, DP_EXPIRE_BUDGET);
	if (reaped > 0) {
		lc_counter_add(&w->stats.expired, reaped);
	}
	seen += dp_task_step(w); /* slow-path work on the store, a slice at a time */
	w->rt = NULL;
	w->peers = NULL;
	urcu_qsbr_quiescent_state(); /* the table of this iteration may now be freed */
	return seen + n;
}

/*
 * --rx-coalesce-us (Coalescing above): whether to pause after an iteration that saw @p seen
 * packets; the decision of the window that ended last, taken from its rate.
 */
static bool coalesce_worth(struct dp_worker *w, unsigned seen, bool after_pause)
{
	w->co_pkts += seen;
	uint64_t window_ms = w->now_ms - w->co_since_ms;
	if (window_ms >= DP_COALESCE_WINDOW_MS) {
		w->co_worth =
			dp_coalesce_worth(w->co_pkts, window_ms, w->cfg->rx_coalesce_us, DP_BURST);
		w->co_pkts = 0;
		w->co_since_ms = w->now_ms;
	}
	if (after_pause && seen >= DP_BURST) {
		/* the pause gathered a burst or more: the rate needs no pause. Until the next
		 * window, whose rate, measured without pauses, decides again: a closed loop that the
		 * pauses slowed below a burst a pause would otherwise stay slowed (bench/compare) */
		w->co_worth = false;
	}
	return w->co_worth && seen < DP_BURST;
}

/* A pause the kernel ends by its timer alone. */
static void coalesce(struct dp_worker *w)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)w->cfg->rx_coalesce_us * 1000};
	lc_counter_inc(&w->stats.coalesce_waits);
	w->co_paused = true;
	urcu_qsbr_thread_offline();
	clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL); /* fastpath-ok: a pause, by request */
	urcu_qsbr_thread_online();
}

unsigned dp_worker_step(struct dp_worker *w)
{
	return iterate(w);
}

void *dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp_node *node = w->node;
	urcu_qsbr_register_thread();
	while (!atomic_load_explicit(&node->stop, memory_order_acquire)) {
		unsigned seen = iterate(w);
		bool after_pause = w->co_paused;
		w->co_paused = false;
		if (seen > 0) {
			if (w->cfg->rx_coalesce_us > 0 && coalesce_worth(w, seen, after_pause)) {
				coalesce(w);
			}
			continue;
		}
		/* idle: reap in bigger steps, and sleep only when nothing is left to reap */
		unsigned reaped = dht_store_expire(w->store, w->now_s, DP_EXPIRE_BUDGET_IDLE);
		lc_counter_add(&w->stats.expired, reaped);
		if (reaped < DP_EXPIRE_BUDGET_IDLE &&
		    (node->io->idle == NULL || !node->io->idle(w->io_ctx))) {
			sleep_idle(w, IDLE_WAIT_MS);
		}
	}

	/* Drain: answer what is queued, take back what we lent, then leave together. */
	uint64_t deadline = now_ms() + DRAIN_MAX_MS;
	bool drained = false;
	while (now_ms() < deadline) {
		unsigned seen = iterate(w);
		if (!drained && seen == 0) {
			drained = true;
			atomic_fetch_add_explicit(&node->ndrained, 1, memory_order_acq_rel);
		}
		if (drained &&
		    atomic_load_explicit(&node->ndrained, memory_order_acquire) >= node->nworkers &&
		    rings_empty(w) && w->pool.nfree == w->pool.size) {
			break;
		}
		if (seen == 0) {
			usleep(1000); /* fastpath-ok: draining at shutdown */
		}
	}
	urcu_qsbr_unregister_thread();
	return NULL;
}
