/* SPDX-License-Identifier: MIT */
/*
 * Building and tearing down a node's workers: pools, stores, the N x N rings between them, the
 * wake eventfds and the sockets. Runs on control before the workers start and after they stop.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <urcu/urcu-qsbr.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"
#include "dataplane/dp_worker_internal.h"

static void worker_free(struct dp_node *n, struct dp_worker *w)
{
	if (w == NULL) {
		return;
	}
	n->io->close(w->io_ctx);
	for (unsigned j = 0; j < DP_MAX_WORKERS; j++) {
		lc_ring_free(w->to[j]);
		lc_ring_free(w->back[j]);
	}
	/* frames emitted but never sent; tasks belong to control, which frees them */
	void *f;
	while (w->frames != NULL && lc_ring_dequeue_burst(w->frames, &f, 1) == 1) {
		lc_free(f);
	}
	lc_free(w->frame);
	for (unsigned k = 0; k < DP_LANES; k++) {
		lc_ring_free(w->lane[k].ring);
	}
	lc_ring_free(w->frames);
	if (w->wake_fd >= 0) {
		close(w->wake_fd);
	}
	dht_store_free(w->store);
	lc_free(w->replay);
	dp_pool_deinit(&w->pool);
	lc_free(w);
}

static int worker_new(struct dp_node *n, unsigned id, const struct dp_node_cfg *ncfg,
		      const struct dp_io_cfg *io_cfg)
{
	struct dp_worker *w = lc_alloc_aligned(LC_CACHE_LINE, sizeof(*w));
	if (w == NULL) {
		return LC_ENOMEM;
	}
	memset(w, 0, offsetof(struct dp_worker, skeleton));
	w->wake_fd = -1;
	w->id = id;
	w->node = n;
	w->cfg = &n->cfg;
	w->now_s = ncfg->now_s;
	n->w[id] = w;

	int ret = dp_pool_init(&w->pool, DP_POOL_SIZE, (uint8_t)id);
	if (ret != LC_OK) {
		return ret;
	}
	ret = dht_store_new(&w->store, &ncfg->store_cfg, ncfg->now_s);
	if (ret != LC_OK) {
		return ret;
	}
	if (n->cfg.secured) {
		w->replay = lc_calloc(DP_REPLAY_SLOTS, sizeof(*w->replay));
		if (w->replay == NULL) {
			return LC_ENOMEM;
		}
	}
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wake_fd < 0) {
		return -errno;
	}
	for (unsigned j = 0; j < ncfg->nworkers; j++) {
		if (j == id) {
			continue;
		}
		/* a ring as large as the pool can never be full of returns */
		ret = lc_ring_new(&w->to[j], DP_POOL_SIZE);
		if (ret == LC_OK) {
			ret = lc_ring_new(&w->back[j], DP_POOL_SIZE);
		}
		if (ret != LC_OK) {
			return ret;
		}
	}
	for (unsigned k = 0; k < DP_LANES && ret == LC_OK; k++) {
		ret = lc_ring_new(&w->lane[k].ring, DP_TASK_RING);
	}
	if (ret == LC_OK) {
		ret = lc_ring_new(&w->frames, DP_FRAME_RING);
	}
	if (ret != LC_OK) {
		return ret;
	}
	return n->io->open(&w->io_ctx, io_cfg, id);
}

int dp_node_new(struct dp_node **out, const struct dp_node_cfg *ncfg)
{
	if (ncfg->nworkers == 0 || ncfg->nworkers > DP_MAX_WORKERS) {
		return LC_EINVAL;
	}
	struct dp_node *n = lc_calloc(1, sizeof(*n));
	if (n == NULL) {
		return LC_ENOMEM;
	}
	n->cfg = *ncfg->cfg;
	n->io = ncfg->io;
	n->nworkers = ncfg->nworkers;
	struct dp_io_cfg io_cfg = ncfg->io_cfg;
	int ret = LC_OK;
	for (unsigned i = 0; i < n->nworkers; i++) {
		ret = worker_new(n, i, ncfg, &io_cfg);
		if (ret != LC_OK) {
			goto fail;
		}
		if (i == 0) {
			/* every later worker binds the port the first one got */
			for (int s = 0; s < DP_SOCK_COUNT_; s++) {
				ret = n->io->local_addr(n->w[0]->io_ctx, (enum dp_sock)s,
							&io_cfg.addr[s]);
				if (ret != LC_OK) {
					goto fail;
				}
			}
		}
	}
	*out = n;
	return LC_OK;
fail:
	dp_node_free(n);
	return ret;
}

void dp_node_free(struct dp_node *n)
{
	if (n == NULL) {
		return;
	}
	for (unsigned i = 0; i < DP_MAX_WORKERS; i++) {
		worker_free(n, n->w[i]);
	}
	dht_route_free(n->route); /* the workers are gone: no reader is left */
	dp_peers_free(n->peers);
	lc_free(n->held);
	lc_free(n);
}

void dp_node_set_route(struct dp_node *n, struct dht_route *rt)
{
	struct dht_route *old = rcu_xchg_pointer(&n->route, rt);
	if (old != NULL) {
		urcu_qsbr_synchronize_rcu();
		dht_route_free(old);
	}
}

void dp_node_set_peers(struct dp_node *n, struct dp_peers *peers)
{
	if (peers != NULL) {
		peers->gen =
			++n->peers_gen; /* workers holding datagrams look again (dp_member.c) */
	}
	struct dp_peers *old = rcu_xchg_pointer(&n->peers, peers);
	for (unsigned i = 0; i < n->nworkers; i++) {
		dp_worker_kick(
			n->w[i]); /* a worker may hold datagrams for the keys just published */
	}
	if (old != NULL) {
		urcu_qsbr_synchronize_rcu();
		dp_peers_free(old);
	}
}

void dp_node_take_wants(struct dp_node *n, void (*fn)(void *arg, const struct dp_addr *a),
			void *arg)
{
	for (unsigned i = 0; i < n->nworkers; i++) {
		dp_member_take_wants(n->w[i], fn, arg);
	}
}

unsigned dp_node_nworkers(const struct dp_node *n)
{
	return n->nworkers;
}

struct dp_worker *dp_node_worker(struct dp_node *n, unsigned i)
{
	return n->w[i];
}

int dp_node_local_addr(struct dp_node *n, enum dp_sock sock, struct sockaddr_storage *out)
{
	return n->io->local_addr(n->w[0]->io_ctx, sock, out);
}

void dp_node_stop(struct dp_node *n)
{
	atomic_store_explicit(&n->stop, true, memory_order_release);
	for (unsigned i = 0; i < n->nworkers; i++) {
		uint64_t one = 1;
		ssize_t r = write(n->w[i]->wake_fd, &one, sizeof(one));
		(void)r; /* the counter cannot overflow here; a failed wake only delays by a poll */
	}
}

const struct dp_stats *dp_worker_stats(const struct dp_worker *w)
{
	return &w->stats;
}

unsigned dp_worker_io_counters(const struct dp_worker *w, const char *const **names,
			       const lc_counter_t **values)
{
	const struct dp_io_ops *io = w->node->io;
	return io->counters != NULL ? io->counters(w->io_ctx, names, values) : 0;
}

const struct dht_store *dp_worker_store(const struct dp_worker *w)
{
	return w->store;
}
