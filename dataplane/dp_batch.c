/* SPDX-License-Identifier: MIT */
/*
 * Batching of datagrams between members (dp_batch.h). Sending: dp_batch_hold keeps up to
 * DP_BATCH_HOLD datagrams; dp_batch_flush groups them by destination in the order they were
 * held, packs each group into as few BATCH datagrams as --overlay-batch allows, and hands each
 * datagram to dp_tx_push (which tags it once on a secured node: one tag and one replay-window
 * slot a batch). Receiving: dp_batch_split copies each message into a packet of its own, so that
 * everything after it (classification, hand-off to another shard, answers) is what it would
 * have been for a datagram of one message.
 */
#include "dataplane/dp_batch.h"

#include <string.h>

#include "dataplane/dp_worker_internal.h"
#include "dht/lsp_batch.h"

/* Room for messages in a batch: its header, and the AUTH TLV dp_tx_push may add. */
static size_t batch_cap(const struct dp_worker *w)
{
	return w->cfg->batch_bytes - (w->cfg->secured ? DP_AUTH_LEN : 0);
}

void dp_batch_hold(struct dp_worker *w, struct dp_pkt *p)
{
	if (w->cfg->batch_bytes == 0 || p->len + DHT_LSP_HDR_LEN > batch_cap(w)) {
		dp_tx_push(w, p);
		return;
	}
	w->held[w->nheld++] = p;
	if (w->nheld == DP_BATCH_HOLD) {
		dp_batch_flush(w);
	}
}

/* Send @p n datagrams for one member, packed. */
static void send_group(struct dp_worker *w, struct dp_pkt **g, unsigned n)
{
	size_t cap = batch_cap(w);
	unsigned i = 0;
	while (i < n) {
		struct dp_pkt *b = n - i > 1 ? dp_pool_get(&w->pool) : NULL;
		if (b == NULL) {
			dp_tx_push(w, g[i++]); /* alone (or no buffer to pack into) */
			continue;
		}
		size_t len = dht_lsp_batch_begin((uint8_t *)b->data, cap, w->cfg->overlay_id);
		unsigned first = i;
		while (i < n &&
		       dht_lsp_batch_add((uint8_t *)b->data, &len, cap, g[i]->data, g[i]->len)) {
			i++;
		}
		if (i - first < 2) { /* only one fitted: it goes as it is */
			dp_pool_put(&w->pool, b);
			i = first + 1;
			dp_tx_push(w, g[first]);
			continue;
		}
		b->len = (uint32_t)len;
		b->sock = DP_SOCK_LSP;
		b->peer = g[first]->peer;
		b->flags = DP_PKT_TO_MEMBER;
		lc_counter_inc(&w->stats.batch_out);
		lc_counter_add(&w->stats.batched_out, i - first);
		for (unsigned k = first; k < i; k++) {
			g[k]->flags = 0; /* a pooled packet carries no flags (dp_tx_send's rule) */
			dp_pool_put(&w->pool, g[k]);
		}
		dp_tx_push(w, b);
	}
}

void dp_batch_flush(struct dp_worker *w)
{
	unsigned n = w->nheld;
	if (n == 0) {
		return;
	}
	w->nheld = 0;
	struct dp_pkt *g[DP_BATCH_HOLD];
	for (unsigned i = 0; i < n; i++) {
		if (w->held[i] == NULL) {
			continue; /* already in an earlier group */
		}
		unsigned ng = 0;
		for (unsigned j = i; j < n; j++) {
			if (w->held[j] != NULL &&
			    dp_addr_equal(&w->held[j]->peer, &w->held[i]->peer)) {
				g[ng++] = w->held[j];
				if (j != i) {
					w->held[j] = NULL;
				}
			}
		}
		w->held[i] = NULL;
		send_group(w, g, ng);
	}
}

unsigned dp_batch_split(struct dp_worker *w, const struct dp_pkt *batch,
			void (*fn)(struct dp_worker *w, struct dp_pkt *p, void *arg), void *arg)
{
	if (w->cfg->secured && !(batch->flags & DP_PKT_AUTHED)) {
		/* a member's BATCH is always tagged: this one is nobody's */
		lc_counter_inc(&w->stats.drop[DP_DROP_BATCH_UNTRUSTED]);
		return 0;
	}
	struct dht_lsp_batch_iter it;
	if (dht_lsp_batch_open(&it, batch->data, batch->len, w->cfg->overlay_id) != LC_OK) {
		lc_counter_inc(&w->stats.drop[DP_DROP_LSP_MALFORMED]);
		return 0;
	}
	lc_counter_inc(&w->stats.batch_in);
	unsigned n = 0;
	const uint8_t *m;
	size_t len;
	while (dht_lsp_batch_next(&it, &m, &len)) {
		/* keep room for the answers, as the receive loop does */
		struct dp_pkt *p = w->pool.nfree > DP_TX_MAX ? dp_pool_get(&w->pool) : NULL;
		if (p == NULL) {
			lc_counter_inc(&w->stats.drop[DP_DROP_NO_BUFFER]);
			return n; /* the rest is lost, as datagrams would be: clients retransmit */
		}
		memcpy(p->data, m, len);
		p->len = (uint32_t)len;
		p->sock = DP_SOCK_LSP;
		p->flags = batch->flags;
		p->peer = batch->peer;
		p->auth_id = batch->auth_id;
		p->rx_ms = batch->rx_ms;
		n++;
		fn(w, p, arg);
	}
	if (it.err != LC_OK) {
		lc_counter_inc(&w->stats.drop[DP_DROP_LSP_MALFORMED]);
	}
	return n;
}
