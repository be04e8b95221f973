/* SPDX-License-Identifier: MIT */
/*
 * Builders of LSP's overlay and replication messages (docs/lsp.md §11): one typed append per
 * overlay TLV, the ENTRY container, and the starts of requests and answers. They write through
 * the builder of lsp_build.c (same sticky error, same never-past-the-buffer promise) and refuse
 * exactly what lsp_ovl_parse.c refuses, so anything that builds also decodes.
 *
 * How it works: an ENTRY is opened by dht_lsp_entry_begin(), which writes the ENTRY header with
 * a zero length, KEY and VERSION, and puts the builder in the ENTRY state; in that state only
 * dht_lsp_put_record() may write (the builder's `inner` flag lets a container write its own
 * fields), and dht_lsp_entry_end() patches the length from how far the builder moved. Streaming
 * many entries into frames is mark, begin, records, end, and a rollback to the mark when the
 * frame turned out full (dht_lsp_build_full()): the frame is then exactly what it was before.
 */
#include <string.h>

#include "common/lc_error.h"
#include "dht/lsp.h"
#include "dht/lsp_internal.h"
#include "dht/lsp_ovl.h"

void dht_lsp_put_sender(struct dht_lsp_builder *b, const struct dht_lsp_node *n)
{
	lsp_put_node_tlv(b, DHT_LSP_T_SENDER, n);
}

void dht_lsp_put_predecessor(struct dht_lsp_builder *b, const struct dht_lsp_node *n)
{
	lsp_put_node_tlv(b, DHT_LSP_T_PREDECESSOR, n);
}

void dht_lsp_put_owner(struct dht_lsp_builder *b, const struct dht_lsp_node *n)
{
	lsp_put_node_tlv(b, DHT_LSP_T_OWNER, n);
}

void dht_lsp_put_peer(struct dht_lsp_builder *b, const struct dht_lsp_node *n)
{
	if (b->err != LC_OK) {
		return;
	}
	if (b->npeers == DHT_LSP_MAX_PEERS) {
		lsp_set_err(b, LC_ELSP_TOO_MANY_PEERS);
		return;
	}
	lsp_put_node_tlv(b, DHT_LSP_T_PEER, n);
	if (b->err == LC_OK) {
		b->npeers++;
	}
}

void dht_lsp_put_target(struct dht_lsp_builder *b, dht_id_t id)
{
	uint8_t *p = lsp_put_hdr(b, DHT_LSP_T_TARGET, LSP_NODE_ID_LEN);
	if (p != NULL) {
		lsp_wr_id(p, id);
	}
}

void dht_lsp_put_member(struct dht_lsp_builder *b, const struct dht_lsp_member *mb)
{
	if (b->err != LC_OK) {
		return;
	}
	size_t alen = dht_lsp_addr_len(&mb->addr);
	if (b->nmembers == DHT_LSP_MAX_MEMBERS) {
		lsp_set_err(b, LC_ELSP_TOO_MANY_MEMBERS);
		return;
	}
	if (mb->state != DHT_LSP_MEMBER_ALIVE && mb->state != DHT_LSP_MEMBER_DEAD) {
		lsp_set_err(b, LC_ELSP_MEMBER);
		return;
	}
	if (alen == 0) {
		lsp_set_err(b, LC_ELSP_SOURCE);
		return;
	}
	uint8_t *p = lsp_put_hdr(b, DHT_LSP_T_MEMBER, LSP_MEMBER_FIXED_LEN + alen);
	if (p == NULL) {
		return;
	}
	lsp_wr_id(p, mb->id);
	lsp_wr32(p + LSP_NODE_ID_LEN, mb->incarnation);
	p[LSP_NODE_ID_LEN + 4] = mb->state;
	dht_lsp_addr_encode(p + LSP_MEMBER_FIXED_LEN, &mb->addr);
	b->nmembers++;
}

void dht_lsp_put_view_digest(struct dht_lsp_builder *b, const struct dht_lsp_digest *d)
{
	uint8_t *p = lsp_put_hdr(b, DHT_LSP_T_VIEW_DIGEST, 12);
	if (p != NULL) {
		lsp_wr64(p, d->hash);
		lsp_wr32(p + 8, d->count);
	}
}

void dht_lsp_put_incarnation(struct dht_lsp_builder *b, uint32_t incarnation)
{
	dht_lsp_put_u32(b, DHT_LSP_T_INCARNATION, incarnation);
}

void dht_lsp_put_ring_size(struct dht_lsp_builder *b, uint32_t nodes)
{
	dht_lsp_put_u32(b, DHT_LSP_T_RING_SIZE, nodes);
}

void dht_lsp_put_flags(struct dht_lsp_builder *b, uint32_t flags)
{
	dht_lsp_put_u32(b, DHT_LSP_T_FLAGS, flags);
}

void dht_lsp_put_orig_txn(struct dht_lsp_builder *b, uint64_t txn_id)
{
	dht_lsp_put_u64(b, DHT_LSP_T_ORIG_TXN, txn_id);
}

static void put_u8(struct dht_lsp_builder *b, uint16_t type, unsigned v)
{
	if (v > UINT8_MAX) {
		lsp_set_err(b, LC_EINVAL);
		return;
	}
	uint8_t *p = lsp_put_hdr(b, type, 1);
	if (p != NULL) {
		p[0] = (uint8_t)v;
	}
}

void dht_lsp_put_orig_type(struct dht_lsp_builder *b, unsigned type)
{
	put_u8(b, DHT_LSP_T_ORIG_TYPE, type);
}

void dht_lsp_put_sync_mode(struct dht_lsp_builder *b, unsigned mode)
{
	if (mode != DHT_LSP_SYNC_PULL && mode != DHT_LSP_SYNC_PUSH && mode != DHT_LSP_SYNC_MERGE &&
	    mode != DHT_LSP_SYNC_HANDOFF) {
		lsp_set_err(b, LC_ELSP_SYNC_MODE);
		return;
	}
	put_u8(b, DHT_LSP_T_SYNC_MODE, mode);
}

void dht_lsp_put_range(struct dht_lsp_builder *b, const struct dht_lsp_range *r)
{
	uint8_t *p = lsp_put_hdr(b, DHT_LSP_T_RANGE, 2 * LSP_NODE_ID_LEN);
	if (p != NULL) {
		lsp_wr_id(p, r->lo);
		lsp_wr_id(p + LSP_NODE_ID_LEN, r->hi);
	}
}

void dht_lsp_put_chain(struct dht_lsp_builder *b, const struct dht_lsp_chain *c)
{
	if (c->position < 1 || c->position >= c->replicas || c->quorum < 1 ||
	    c->quorum > c->replicas) {
		lsp_set_err(b, LC_ELSP_CHAIN);
		return;
	}
	uint8_t *p = lsp_put_hdr(b, DHT_LSP_T_CHAIN, 3);
	if (p != NULL) {
		p[0] = c->position;
		p[1] = c->quorum;
		p[2] = c->replicas;
	}
}

void dht_lsp_put_page(struct dht_lsp_builder *b, const struct dht_lsp_page *pg)
{
	if (pg->count < 1 || pg->index >= pg->count) {
		lsp_set_err(b, LC_ELSP_PAGE);
		return;
	}
	uint8_t *p = lsp_put_hdr(b, DHT_LSP_T_PAGE, 4);
	if (p != NULL) {
		lsp_wr16(p, pg->index);
		lsp_wr16(p + 2, pg->count);
	}
}

void dht_lsp_put_node_stats(struct dht_lsp_builder *b, const struct dht_lsp_node_stats *s)
{
	uint8_t *p = lsp_put_hdr(b, DHT_LSP_T_NODE_STATS, DHT_LSP_NODE_STATS_LEN);
	if (p == NULL) {
		return;
	}
	lsp_wr32(p, s->fingers);
	lsp_wr32(p + 4, s->uptime_s);
	p[8] = s->flags;
	p[9] = p[10] = p[11] = 0;
	lsp_wr64(p + 12, s->owned_keys);
	lsp_wr64(p + 20, s->owned_bindings);
	lsp_wr64(p + 28, s->replica_keys);
	lsp_wr64(p + 36, s->replica_bindings);
}

void dht_lsp_put_buckets(struct dht_lsp_builder *b, const struct dht_lsp_bucket *v, unsigned n)
{
	uint8_t *p = lsp_put_buckets_hdr(b, n);
	if (p == NULL) {
		return;
	}
	for (unsigned i = 0; i < n; i++, p += 12) {
		lsp_wr64(p, v[i].hash);
		lsp_wr32(p + 8, v[i].keys);
	}
}

uint8_t *lsp_put_buckets_hdr(struct dht_lsp_builder *b, unsigned n)
{
	if (n == 0 || (n & (n - 1)) != 0 || n > DHT_LSP_MAX_BUCKETS) {
		lsp_set_err(b, LC_ELSP_BUCKETS);
		return NULL;
	}
	uint8_t *p = lsp_put_hdr(b, DHT_LSP_T_BUCKETS, 2 + 12 * (size_t)n);
	if (p == NULL) {
		return NULL;
	}
	lsp_wr16(p, (uint16_t)n);
	return p + 2;
}

void dht_lsp_put_bucket_set(struct dht_lsp_builder *b, const uint8_t *set)
{
	dht_lsp_put_tlv(b, DHT_LSP_T_BUCKET_SET, set, DHT_LSP_BUCKET_SET_LEN);
}

void dht_lsp_entry_begin(struct dht_lsp_builder *b, const void *key, size_t len, uint64_t version)
{
	if (b->err != LC_OK) {
		return;
	}
	if (b->state != LSP_ST_BODY) { /* no header yet, finished, or an entry already open */
		lsp_set_err(b, LC_ELSP_BUILD_STATE);
		return;
	}
	if (len < 1 || len > DHT_LSP_MAX_KEY) {
		lsp_set_err(b, LC_ELSP_KEY);
		return;
	}
	uint32_t at = b->len;
	if (lsp_put_hdr(b, DHT_LSP_T_ENTRY, 0) == NULL) {
		return;
	}
	b->entry_at = at;
	b->entry_records = 0;
	b->state = LSP_ST_ENTRY;
	b->inner = 1;
	dht_lsp_put_tlv(b, DHT_LSP_T_KEY, key, len);
	dht_lsp_put_u64(b, DHT_LSP_T_VERSION, version);
	b->inner = 0;
}

void dht_lsp_entry_end(struct dht_lsp_builder *b)
{
	if (b->err != LC_OK) {
		return;
	}
	if (b->state != LSP_ST_ENTRY) {
		lsp_set_err(b, LC_ELSP_BUILD_STATE);
		return;
	}
	uint32_t len = b->len - b->entry_at;
	if (len > DHT_LSP_MAX_ENTRY) {
		lsp_set_err(b, LC_ELSP_TOO_LONG);
		return;
	}
	lsp_wr16(b->buf + b->entry_at + 2, (uint16_t)(len - DHT_LSP_TLV_HDR_LEN));
	b->state = LSP_ST_BODY;
	b->nentries++;
}

void dht_lsp_ovl_request_start(struct dht_lsp_builder *b, unsigned type, uint64_t txn_id,
			       uint64_t overlay_id, const struct dht_lsp_node *self)
{
	if (type > UINT8_MAX) {
		lsp_set_err(b, LC_EINVAL);
		return;
	}
	struct dht_lsp_hdr h = {.type = (uint8_t)type,
				.hop_limit = DHT_LSP_HOP_LIMIT_OVERLAY,
				.txn_id = txn_id,
				.overlay_id = overlay_id};
	dht_lsp_build_hdr(b, &h);
	dht_lsp_put_sender(b, self);
}

void dht_lsp_ovl_answer_start(struct dht_lsp_builder *b, const struct dht_lsp_ovl_msg *req,
			      const struct dht_lsp_node *self, unsigned status)
{
	if (!req->hdr_ok) {
		lsp_set_err(b, LC_ELSP_BUILD_STATE);
		return;
	}
	struct dht_lsp_hdr h = req->hdr;
	h.flags = DHT_LSP_F_ANSWER;
	h.hop_limit = DHT_LSP_HOP_LIMIT_OVERLAY;
	dht_lsp_build_hdr(b, &h);
	dht_lsp_put_status(b, status);
	if (self != NULL) {
		dht_lsp_put_sender(b, self);
	}
}

int dht_lsp_ovl_answer_error(void *buf, size_t cap, const struct dht_lsp_ovl_msg *req,
			     const struct dht_lsp_node *self, size_t *len)
{
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, buf, cap);
	dht_lsp_ovl_answer_start(&b, req, self, dht_lsp_status_of(req->err));
	const char *text = lc_strerror(req->err);
	dht_lsp_put_reason(&b, text, strlen(text));
	struct dht_lsp_error_detail d = {req->err, req->err_tlv, req->err_off};
	dht_lsp_put_error_detail(&b, &d);
	return dht_lsp_build_finish(&b, len);
}
