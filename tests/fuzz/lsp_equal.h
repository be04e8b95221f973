/* SPDX-License-Identifier: MIT */
/*
 * Field-by-field equality of two decoded LSP messages (views compared by content, not address),
 * shared by the LSP fuzz target and tests/unit/dht/test_lsp.c: both decode, re-encode and decode
 * again, and need the second decode to say exactly what the first did.
 */
#pragma once

#include <stdbool.h>
#include <string.h>

#include "dht/lsp.h"

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
	       a->age_s == b->age_s && a->q == b->q && lsp_addr_eq(&a->src, &b->src);
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
	    a->status != b->status || !lsp_addr_eq(&a->src, &b->src) || a->node.id != b->node.id ||
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
