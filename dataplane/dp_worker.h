/* SPDX-License-Identifier: MIT */
/*
 * A node's workers, as control sees them: build them (pools, stores, rings, sockets), run each
 * on its own thread, ask them to stop, read their counters, free them. Everything a worker
 * touches per packet is inside its own struct dp_worker (dp_worker_internal.h).
 */
#pragma once

#include <stdint.h>
#include <sys/socket.h>

#include "common/lc_compiler.h"
#include "dataplane/dp_cfg.h"
#include "dataplane/dp_io.h"
#include "dataplane/dp_stats.h"
#include "dht/dht_route.h"
#include "dht/dht_store.h"

#define DP_MAX_WORKERS 64

struct dp_node;
struct dp_worker;

/* What dp_node_new needs. Borrowed for the call; the node copies what it keeps. */
struct dp_node_cfg {
	const struct dp_cfg *cfg;
	const struct dp_io_ops *io;
	struct dp_io_cfg io_cfg;
	unsigned nworkers;		/* 1 .. DP_MAX_WORKERS */
	struct dht_store_cfg store_cfg; /* per shard */
	uint32_t now_s;
};

/**
 * Build the workers: each gets its packet pool, its shard's store, its rings to every other
 * worker, and its sockets (the first worker binds first, so a port of 0 becomes one real port
 * that the others share).
 * @return LC_OK, LC_EINVAL, LC_ENOMEM, or a negative errno from the io backend (e.g. -EADDRINUSE).
 * Context: control, at start.
 */
LC_MUSTCHECK int dp_node_new(struct dp_node **out, const struct dp_node_cfg *ncfg);

/** Stop (if running) and free everything (NULL is a no-op). Context: control, threads joined. */
void dp_node_free(struct dp_node *n);

unsigned dp_node_nworkers(const struct dp_node *n);
struct dp_worker *dp_node_worker(struct dp_node *n, unsigned i);

/** The bound address of the node's SIP or LSP socket. */
int dp_node_local_addr(struct dp_node *n, enum dp_sock sock, struct sockaddr_storage *out);

/**
 * A worker's thread body: runs the burst loop until dp_node_stop(), then drains (answers what it
 * has received, hands back every borrowed packet) and returns NULL.
 * Context: the worker's own thread.
 */
void *dp_worker_main(void *worker);

/**
 * Run one iteration of a worker's loop on the calling thread, exactly as dp_worker_main does
 * when busy: take back returned packets, handle what other workers handed over, receive one
 * burst, answer it, send the answers, reap a few expired bindings, run a task slice, announce a
 * quiescent state. It never sleeps. For harnesses that drive a worker themselves to measure the
 * per-packet pipeline with nothing else on the core (bench/bench_pipeline.c).
 * @return how many packets it saw (0: nothing to do).
 * Context: the only thread running this worker (never while dp_worker_main runs it), registered
 * with urcu QSBR and online; fast path.
 */
unsigned dp_worker_step(struct dp_worker *w);

/**
 * Publish a new routing table (ownership passes to the node): workers see it from their next
 * iteration; the table it replaces is freed after an RCU grace period (this call waits for it,
 * which takes at most one worker iteration). Context: control (never a worker).
 */
void dp_node_set_route(struct dp_node *n, struct dht_route *rt);

/**
 * Publish a new datagram key table (takes ownership; NULL: none) and free the old one after a
 * grace period (waits for it: control only, never under a lock). Context: control.
 */
struct dp_peers;
void dp_node_set_peers(struct dp_node *n, struct dp_peers *peers);

/**
 * Hand every address a worker asked a link for (a member it has no key for) to @p fn.
 * Context: control.
 */
struct dp_addr;
void dp_node_take_wants(struct dp_node *n, void (*fn)(void *arg, const struct dp_addr *a),
			void *arg);

/** Ask every worker to stop and wake the sleeping ones. Context: control (or a signal path). */
void dp_node_stop(struct dp_node *n);

/** A worker's counters and store, for stats. Context: any thread (reads are relaxed). */
const struct dp_stats *dp_worker_stats(const struct dp_worker *w);
const struct dht_store *dp_worker_store(const struct dp_worker *w);

/** The io backend's own counters of a worker's queue (dp_io_ops.counters): @return how many
 * (0: the backend keeps none). Context: any thread (reads are relaxed). */
unsigned dp_worker_io_counters(const struct dp_worker *w, const char *const **names,
			       const lc_counter_t **values);
