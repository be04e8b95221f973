/* SPDX-License-Identifier: MIT */
/*
 * Encoding a whole message from its decoded form: every field whose present bit is set, in the
 * canonical order of docs/lsp.md §4.4 (status; what identifies the request and where its answer
 * goes: key, reply context, reply-to; answer details; request parameters; records last). Used by clients that fill a struct
 * dht_lsp_msg rather than call the appends one by one, by the fuzz target and the tests (decode,
 * encode, decode again gives the same message), and by a node relaying a message it decoded.
 */
#include "common/lc_error.h"
#include "dht/lsp.h"

static void put_answer_fields(struct dht_lsp_builder *b, const struct dht_lsp_msg *m)
{
	uint32_t f = m->present;
	if (f & DHT_LSP_P_REASON) {
		dht_lsp_put_reason(b, m->reason.p, m->reason.len);
	}
	if (f & DHT_LSP_P_ERROR_DETAIL) {
		dht_lsp_put_error_detail(b, &m->detail);
	}
	if (f & DHT_LSP_P_MIN_EXPIRES) {
		dht_lsp_put_u32(b, DHT_LSP_T_MIN_EXPIRES, m->min_expires_s);
	}
	if (f & DHT_LSP_P_RETRY_AFTER) {
		dht_lsp_put_u32(b, DHT_LSP_T_RETRY_AFTER, m->retry_after_s);
	}
	if (f & DHT_LSP_P_NODE) {
		dht_lsp_put_node(b, &m->node);
	}
	if (f & DHT_LSP_P_NODE_ID) {
		dht_lsp_put_node_id(b, m->node_id);
	}
	if (f & DHT_LSP_P_UPTIME) {
		dht_lsp_put_u32(b, DHT_LSP_T_UPTIME, m->uptime_s);
	}
}

static void put_request_fields(struct dht_lsp_builder *b, const struct dht_lsp_msg *m)
{
	uint32_t f = m->present;
	if (f & DHT_LSP_P_CALL_ID) {
		dht_lsp_put_call_id(b, m->call_id.p, m->call_id.len);
	}
	if (f & DHT_LSP_P_CSEQ) {
		dht_lsp_put_u32(b, DHT_LSP_T_CSEQ, m->cseq);
	}
	if (f & DHT_LSP_P_EXPIRES) {
		dht_lsp_put_u32(b, DHT_LSP_T_EXPIRES, m->expires_s);
	}
	if (f & DHT_LSP_P_SOURCE) {
		dht_lsp_put_source(b, &m->src);
	}
	if (f & DHT_LSP_P_REMOVE_ALL) {
		dht_lsp_put_tlv(b, DHT_LSP_T_REMOVE_ALL, NULL, 0);
	}
}

int dht_lsp_encode(const struct dht_lsp_msg *m, void *buf, size_t cap, size_t *len)
{
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, buf, cap);
	dht_lsp_build_hdr(&b, &m->hdr);
	if (m->present & DHT_LSP_P_STATUS) {
		dht_lsp_put_status(&b, m->status);
	}
	if (m->present & DHT_LSP_P_KEY) {
		dht_lsp_put_key(&b, m->key.p, m->key.len);
	}
	if (m->present & DHT_LSP_P_REPLY_CTX) {
		dht_lsp_put_reply_ctx(&b, m->reply_ctx.p, m->reply_ctx.len);
	}
	if (m->present & DHT_LSP_P_REPLY_TO) {
		dht_lsp_put_reply_to(&b, &m->reply_to);
	}
	put_answer_fields(&b, m);
	put_request_fields(&b, m);
	for (unsigned i = 0; i < m->nrecords && i < DHT_LSP_MAX_RECORDS; i++) {
		dht_lsp_put_record(&b, &m->records[i]);
	}
	if (m->nrecords > DHT_LSP_MAX_RECORDS && b.err == LC_OK) {
		b.err = LC_ELSP_TOO_MANY_RECORDS;
	}
	return dht_lsp_build_finish(&b, len);
}
