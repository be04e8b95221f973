/* SPDX-License-Identifier: MIT */
/*
 * Building locus-bench's LSP requests with the reference codec (lb_lsp.h).
 */
#include "bench/lb_lsp.h"
#include "dht/lsp.h"

size_t lb_lsp_build(uint8_t *buf, const struct lb_lsp_req *q)
{
	const struct lb_aor *a = q->aor;
	struct dht_lsp_hdr hdr = {
		.type = q->op == LB_OP_LSP_PUBLISH ? DHT_LSP_PUBLISH : DHT_LSP_LOOKUP,
		.hop_limit = DHT_LSP_HOP_LIMIT_DEFAULT,
		.txn_id = q->txn_id,
		.overlay_id = q->overlay_id,
	};
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, buf, LB_LSP_MAX);
	dht_lsp_build_hdr(&b, &hdr);
	dht_lsp_put_key(&b, a->uri, a->uri_len);
	if (q->op == LB_OP_LSP_PUBLISH) {
		struct dht_lsp_record r = {
			.present = DHT_LSP_P_CONTACT | DHT_LSP_P_EXPIRES | DHT_LSP_P_CALL_ID |
				   DHT_LSP_P_CSEQ,
			.contact = {a->contact, a->contact_len},
			.expires_s = q->expires_s,
			.call_id = {a->call_id, a->call_id_len},
			.cseq = q->cseq,
			.q = -1,
		};
		dht_lsp_put_record(&b, &r);
	}
	size_t len = 0;
	if (dht_lsp_build_finish(&b, &len) != LC_OK) {
		return 0;
	}
	return len;
}
