/* SPDX-License-Identifier: MIT */
/*
 * Field-by-field equality of two decoded LSP messages (views compared by content, not address),
 * client (struct dht_lsp_msg) and overlay (struct dht_lsp_ovl_msg, its repeated TLVs compared
 * item by item through the iterators), shared by the LSP fuzz target and the unit tests
 * (test_lsp.c, test_lsp_ovl.c): both decode, re-encode and decode again, and need the second
 * decode to say exactly what the first did.
 */
#pragma once

#include <stdbool.h>
#include <string.h>

#include "dht/lsp.h"
#include "dht/lsp_ovl.h"

static inline bool lsp_bytes_eq(struct dht_bytes a, struct dht_bytes b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static inline bool lsp_addr_eq(const struct dht_addr *a, const struct dht_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static inline bool lsp_record_eq(const struct dht_lsp_record *a, const struct dht_lsp_record *b)
{
	return a->present == b->present && lsp_bytes_eq(a->contact, b->contact) &&
	       lsp_bytes_eq(a->instance, b->instance) && lsp_bytes_eq(a->path, b->path) &&
	       lsp_bytes_eq(a->attrs, b->attrs) && lsp_bytes_eq(a->call_id, b->call_id) &&
	       a->expires_s == b->expires_s && a->cseq == b->cseq && a->reg_id == b->reg_id &&
	       a->age_s == b->age_s && a->q == b->q && lsp_addr_eq(&a->src, &b->src) &&
	       a->expires_at_s == b->expires_at_s && a->registered_at_s == b->registered_at_s &&
	       a->txn_tag == b->txn_tag && a->version == b->version && a->writer == b->writer &&
	       a->removed == b->removed;
}

/* Same header (body length aside: a dropped optional TLV shortens the body), same fields. */
static inline bool lsp_msg_eq(const struct dht_lsp_msg *a, const struct dht_lsp_msg *b)
{
	const struct dht_lsp_hdr *x = &a->hdr, *y = &b->hdr;
	if (x->version != y->version || x->type != y->type || x->flags != y->flags ||
	    x->hop_limit != y->hop_limit || x->txn_id != y->txn_id ||
	    x->overlay_id != y->overlay_id) {
		return false;
	}
	if (a->present != b->present || !lsp_bytes_eq(a->key, b->key) ||
	    !lsp_bytes_eq(a->call_id, b->call_id) || !lsp_bytes_eq(a->reply_ctx, b->reply_ctx) ||
	    !lsp_bytes_eq(a->reason, b->reason) || a->cseq != b->cseq ||
	    a->expires_s != b->expires_s || a->min_expires_s != b->min_expires_s ||
	    a->retry_after_s != b->retry_after_s || a->uptime_s != b->uptime_s ||
	    a->status != b->status || !lsp_addr_eq(&a->src, &b->src) ||
	    !lsp_addr_eq(&a->reply_to, &b->reply_to) || a->node.id != b->node.id ||
	    !lsp_addr_eq(&a->node.addr, &b->node.addr) || a->node_id != b->node_id ||
	    a->detail.err != b->detail.err || a->detail.tlv != b->detail.tlv ||
	    a->detail.offset != b->detail.offset || a->nrecords != b->nrecords) {
		return false;
	}
	for (unsigned i = 0; i < a->nrecords; i++) {
		if (!lsp_record_eq(&a->records[i], &b->records[i])) {
			return false;
		}
	}
	return true;
}

static inline bool lsp_hdr_eq(const struct dht_lsp_hdr *x, const struct dht_lsp_hdr *y)
{
	return x->version == y->version && x->type == y->type && x->flags == y->flags &&
	       x->hop_limit == y->hop_limit && x->txn_id == y->txn_id &&
	       x->overlay_id == y->overlay_id;
}

static inline bool lsp_node_eq(const struct dht_lsp_node *a, const struct dht_lsp_node *b)
{
	return a->id == b->id && lsp_addr_eq(&a->addr, &b->addr);
}

static inline bool lsp_node_stats_eq(const struct dht_lsp_node_stats *a,
				     const struct dht_lsp_node_stats *b)
{
	return a->fingers == b->fingers && a->uptime_s == b->uptime_s && a->flags == b->flags &&
	       a->owned_keys == b->owned_keys && a->owned_bindings == b->owned_bindings &&
	       a->replica_keys == b->replica_keys && a->replica_bindings == b->replica_bindings;
}

/* The scalar fields and views of two overlay messages (what is set: present bits decide). */
static inline bool lsp_ovl_fields_eq(const struct dht_lsp_ovl_msg *a,
				     const struct dht_lsp_ovl_msg *b)
{
	bool buckets = a->buckets.n == b->buckets.n &&
		       (a->buckets.n == 0 ||
			memcmp(a->buckets.p, b->buckets.p, 12 * (size_t)a->buckets.n) == 0);
	bool set = (a->bucket_set == NULL) == (b->bucket_set == NULL) &&
		   (a->bucket_set == NULL ||
		    memcmp(a->bucket_set, b->bucket_set, DHT_LSP_BUCKET_SET_LEN) == 0);
	return lsp_hdr_eq(&a->hdr, &b->hdr) && a->present == b->present && a->status == b->status &&
	       a->sync_mode == b->sync_mode && a->orig_type == b->orig_type &&
	       a->flags == b->flags && a->incarnation == b->incarnation &&
	       a->ring_size == b->ring_size && a->retry_after_s == b->retry_after_s &&
	       a->orig_txn == b->orig_txn && lsp_node_eq(&a->sender, &b->sender) &&
	       lsp_node_eq(&a->predecessor, &b->predecessor) && lsp_node_eq(&a->owner, &b->owner) &&
	       a->target == b->target && a->range.lo == b->range.lo && a->range.hi == b->range.hi &&
	       a->digest.hash == b->digest.hash && a->digest.count == b->digest.count &&
	       a->chain.position == b->chain.position && a->chain.quorum == b->chain.quorum &&
	       a->chain.replicas == b->chain.replicas && a->page.index == b->page.index &&
	       a->page.count == b->page.count &&
	       lsp_node_stats_eq(&a->node_stats, &b->node_stats) &&
	       lsp_addr_eq(&a->reply_to, &b->reply_to) && lsp_bytes_eq(a->key, b->key) &&
	       lsp_bytes_eq(a->reply_ctx, b->reply_ctx) && lsp_bytes_eq(a->reason, b->reason) &&
	       a->detail.err == b->detail.err && a->detail.tlv == b->detail.tlv &&
	       a->detail.offset == b->detail.offset && buckets && set &&
	       lsp_bytes_eq(a->first_key, b->first_key) && a->npeers == b->npeers &&
	       a->nmembers == b->nmembers && a->nentries == b->nentries;
}

static inline bool lsp_entry_eq(struct dht_lsp_entry *x, struct dht_lsp_entry *y)
{
	if (!lsp_bytes_eq(x->key, y->key) || x->version != y->version ||
	    x->nrecords != y->nrecords) {
		return false;
	}
	struct dht_lsp_record r, s;
	for (;;) {
		bool more = dht_lsp_ovl_next_record(&x->records, &r);
		if (more != dht_lsp_ovl_next_record(&y->records, &s)) {
			return false;
		}
		if (!more) {
			return true;
		}
		if (!lsp_record_eq(&r, &s)) {
			return false;
		}
	}
}

static inline bool lsp_member_eq(const struct dht_lsp_member *a, const struct dht_lsp_member *b)
{
	return a->id == b->id && a->incarnation == b->incarnation && a->state == b->state &&
	       lsp_addr_eq(&a->addr, &b->addr);
}

/* Same header, fields, and the same PEERs, MEMBERs, ENTRYs and records, in the same order. */
static inline bool lsp_ovl_msg_eq(const struct dht_lsp_ovl_msg *a, const struct dht_lsp_ovl_msg *b)
{
	if (!lsp_ovl_fields_eq(a, b)) {
		return false;
	}
	struct dht_lsp_iter i = dht_lsp_ovl_peers(a), j = dht_lsp_ovl_peers(b);
	struct dht_lsp_node n1, n2;
	while (dht_lsp_ovl_next_peer(&i, &n1)) {
		if (!dht_lsp_ovl_next_peer(&j, &n2) || !lsp_node_eq(&n1, &n2)) {
			return false;
		}
	}
	if (dht_lsp_ovl_next_peer(&j, &n2)) {
		return false;
	}
	i = dht_lsp_ovl_members(a);
	j = dht_lsp_ovl_members(b);
	struct dht_lsp_member m1, m2;
	while (dht_lsp_ovl_next_member(&i, &m1)) {
		if (!dht_lsp_ovl_next_member(&j, &m2) || !lsp_member_eq(&m1, &m2)) {
			return false;
		}
	}
	if (dht_lsp_ovl_next_member(&j, &m2)) {
		return false;
	}
	i = dht_lsp_ovl_entries(a);
	j = dht_lsp_ovl_entries(b);
	struct dht_lsp_entry e1, e2;
	while (dht_lsp_ovl_next_entry(&i, &e1)) {
		if (!dht_lsp_ovl_next_entry(&j, &e2) || !lsp_entry_eq(&e1, &e2)) {
			return false;
		}
	}
	return !dht_lsp_ovl_next_entry(&j, &e2);
}
