/* SPDX-License-Identifier: MIT */
/*
 * Encoding a decoded overlay message again, in the canonical order of docs/lsp.md §11.4: STATUS
 * and SENDER (who answers, who asks), then what a replication acknowledgement echoes (KEY,
 * REPLY_TO, ORIG_TXN, ORIG_TYPE, REPLY_CTX), the error details, the scalar parameters, the big
 * views (BUCKETS, BUCKET_SET), a node's statistics (NODE_STATS), and the repeated TLVs last
 * (PEERs, MEMBERs, ENTRYs), each entry as KEY, VERSION, RECORDs. The repeated TLVs are read back
 * through the iterators and written through the typed appends, so the result is canonical down
 * to the records. Used by the tests and the fuzz target (decode, encode, decode again gives the
 * same message) and by a node that relays a message it decoded, e.g. a replica passing a
 * REPLICA_STORE down the chain.
 */
#include <string.h>

#include "common/lc_error.h"
#include "dht/lsp.h"
#include "dht/lsp_internal.h"
#include "dht/lsp_ovl.h"

/* STATUS .. RETRY_AFTER: who, and what an answer echoes or explains. */
static void put_head(struct dht_lsp_builder *b, const struct dht_lsp_ovl_msg *m)
{
	uint32_t f = m->present;
	if (f & DHT_LSP_O_STATUS) {
		dht_lsp_put_status(b, m->status);
	}
	if (f & DHT_LSP_O_SENDER) {
		dht_lsp_put_sender(b, &m->sender);
	}
	if (f & DHT_LSP_O_KEY) {
		dht_lsp_put_key(b, m->key.p, m->key.len);
	}
	if (f & DHT_LSP_O_REPLY_TO) {
		dht_lsp_put_reply_to(b, &m->reply_to);
	}
	if (f & DHT_LSP_O_ORIG_TXN) {
		dht_lsp_put_orig_txn(b, m->orig_txn);
	}
	if (f & DHT_LSP_O_ORIG_TYPE) {
		dht_lsp_put_orig_type(b, m->orig_type);
	}
	if (f & DHT_LSP_O_REPLY_CTX) {
		dht_lsp_put_reply_ctx(b, m->reply_ctx.p, m->reply_ctx.len);
	}
	if (f & DHT_LSP_O_REASON) {
		dht_lsp_put_reason(b, m->reason.p, m->reason.len);
	}
	if (f & DHT_LSP_O_ERROR_DETAIL) {
		dht_lsp_put_error_detail(b, &m->detail);
	}
	if (f & DHT_LSP_O_RETRY_AFTER) {
		dht_lsp_put_u32(b, DHT_LSP_T_RETRY_AFTER, m->retry_after_s);
	}
}

/* TARGET .. NODE_STATS: the parameters. */
static void put_params(struct dht_lsp_builder *b, const struct dht_lsp_ovl_msg *m)
{
	uint32_t f = m->present;
	if (f & DHT_LSP_O_TARGET) {
		dht_lsp_put_target(b, m->target);
	}
	if (f & DHT_LSP_O_OWNER) {
		dht_lsp_put_owner(b, &m->owner);
	}
	if (f & DHT_LSP_O_CHAIN) {
		dht_lsp_put_chain(b, &m->chain);
	}
	if (f & DHT_LSP_O_RANGE) {
		dht_lsp_put_range(b, &m->range);
	}
	if (f & DHT_LSP_O_SYNC_MODE) {
		dht_lsp_put_sync_mode(b, m->sync_mode);
	}
	if (f & DHT_LSP_O_FLAGS) {
		dht_lsp_put_flags(b, m->flags);
	}
	if (f & DHT_LSP_O_INCARNATION) {
		dht_lsp_put_incarnation(b, m->incarnation);
	}
	if (f & DHT_LSP_O_RING_SIZE) {
		dht_lsp_put_ring_size(b, m->ring_size);
	}
	if (f & DHT_LSP_O_VIEW_DIGEST) {
		dht_lsp_put_view_digest(b, &m->digest);
	}
	if (f & DHT_LSP_O_PAGE) {
		dht_lsp_put_page(b, &m->page);
	}
	if (f & DHT_LSP_O_PREDECESSOR) {
		dht_lsp_put_predecessor(b, &m->predecessor);
	}
	if (f & DHT_LSP_O_BUCKETS) {
		/* the view is the wire form: copy it rather than decode 4096 buckets */
		uint8_t *p = lsp_put_buckets_hdr(b, m->buckets.n);
		if (p != NULL) {
			memcpy(p, m->buckets.p, 12 * (size_t)m->buckets.n);
		}
	}
	if (f & DHT_LSP_O_BUCKET_SET) {
		dht_lsp_put_bucket_set(b, m->bucket_set);
	}
	if (f & DHT_LSP_O_NODE_STATS) {
		dht_lsp_put_node_stats(b, &m->node_stats);
	}
}

/* PEERs, MEMBERs, ENTRYs with their RECORDs, from the buffer through the iterators. */
static void put_repeated(struct dht_lsp_builder *b, const struct dht_lsp_ovl_msg *m)
{
	struct dht_lsp_iter it = dht_lsp_ovl_peers(m);
	struct dht_lsp_node n;
	while (dht_lsp_ovl_next_peer(&it, &n)) {
		dht_lsp_put_peer(b, &n);
	}
	it = dht_lsp_ovl_members(m);
	struct dht_lsp_member mb;
	while (dht_lsp_ovl_next_member(&it, &mb)) {
		dht_lsp_put_member(b, &mb);
	}
	it = dht_lsp_ovl_entries(m);
	struct dht_lsp_entry e;
	struct dht_lsp_record r;
	while (dht_lsp_ovl_next_entry(&it, &e)) {
		dht_lsp_entry_begin(b, e.key.p, e.key.len, e.version);
		while (dht_lsp_ovl_next_record(&e.records, &r)) {
			dht_lsp_put_record(b, &r);
		}
		dht_lsp_entry_end(b);
	}
}

int dht_lsp_ovl_encode(const struct dht_lsp_ovl_msg *m, void *buf, size_t cap, size_t *len)
{
	if (m->err != LC_OK) {
		return LC_EINVAL; /* its repeated TLVs were not validated: nothing to iterate */
	}
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, buf, cap);
	dht_lsp_build_hdr(&b, &m->hdr);
	put_head(&b, m);
	put_params(&b, m);
	put_repeated(&b, m);
	return dht_lsp_build_finish(&b, len);
}
