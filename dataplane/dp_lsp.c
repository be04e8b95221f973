/* SPDX-License-Identifier: MIT */
/*
 * The LSP side of a worker (docs/lsp.md): PING, and PUBLISH, REMOVE and LOOKUP of a key's
 * records, answered from the shard's store. A key that is a SIP, SIPS or tel URI is stored under
 * its canonical AOR (so LSP and SIP REGISTER meet on the same bindings); any other URI is a key
 * as it is. Publishes go through the same registrar rules as a REGISTER (dp_update.c), with the
 * transaction id standing for the Via branch: a retransmitted publish is recognised and not
 * applied twice.
 *
 * A key that lives on another node is forwarded there (dp_fwd.c), and the owner's answer, which
 * carries this node's reply context, is relayed back to the client.
 *
 * What is never answered: datagrams that are not LSP (bad magic, short header), and answers
 * (answering answers could loop two nodes).
 */
#include <string.h>

#include "common/lc_error.h"
#include "dataplane/dp_fwd.h"
#include "dataplane/dp_repl.h"
#include "dataplane/dp_reply_lsp.h"
#include "dataplane/dp_update.h"
#include "dataplane/dp_worker_internal.h"
#include "dht/dht_key.h"

/* Counter slots of dp_stats.lsp_req. */
enum { LSP_REQ_PING, LSP_REQ_PUBLISH, LSP_REQ_REMOVE, LSP_REQ_LOOKUP, LSP_REQ_OTHER };

unsigned dp_lsp_classify(struct dp_worker *w, struct dp_pkt *pkt)
{
	if (dht_lsp_is_overlay_msg(pkt->data, pkt->len)) {
		return dp_repl_classify(w, pkt); /* node to node; the rest of the overlay is TCP */
	}
	struct dht_lsp_msg *m = &pkt->msg.lsp;
	struct dp_req *r = &pkt->req;
	r->key_ok = false;
	r->fwd = NULL;
	if (dht_lsp_parse(m, pkt->data, pkt->len) != LC_OK || dht_lsp_is_answer(m) ||
	    m->hdr.overlay_id != w->cfg->overlay_id || !(m->present & DHT_LSP_P_KEY)) {
		return w->id;
	}
	r->key_ok = dp_key_of_bytes(&r->key, m->key, w->cfg->overlay_id);
	if (!r->key_ok) {
		return w->id;
	}
	bool forwarded = m->hdr.hop_limit < DHT_LSP_HOP_LIMIT_DEFAULT;
	dp_fwd_route(w, r, m->hdr.type == DHT_LSP_LOOKUP, forwarded, forwarded ? &pkt->peer : NULL);
	return r->fwd != NULL ? w->id : dht_shard_of(r->key.id, w->node->nworkers);
}

static void to_update(const struct dp_pkt *in, bool remove, struct dp_update *u)
{
	const struct dht_lsp_msg *m = &in->msg.lsp;
	*u = (struct dp_update){
		.remove_all = remove && (m->present & DHT_LSP_P_REMOVE_ALL),
		.call_id = m->call_id,
		.cseq = m->cseq,
		.txn_tag = (uint32_t)m->hdr.txn_id,
		.expires = -1,
		.src = m->present & DHT_LSP_P_SOURCE ? m->src
						     : (struct dht_addr){.family = in->peer.family,
									 .port = in->peer.port},
		.n = LC_MIN(m->nrecords, DP_UPDATE_MAX),
	};
	if (!(m->present & DHT_LSP_P_SOURCE)) {
		memcpy(u->src.addr, in->peer.addr, sizeof(u->src.addr));
	}
	for (unsigned i = 0; i < u->n; i++) {
		const struct dht_lsp_record *r = &m->records[i];
		struct dp_update_contact *c = &u->c[i];
		uint32_t e = 0;
		bool has_e = dht_lsp_record_expires(m, r, &e);
		*c = (struct dp_update_contact){
			.uri = r->contact,
			.instance = r->instance,
			.attrs = r->attrs,
			.call_id = dht_lsp_record_call_id(m, r),
			.cseq = dht_lsp_record_cseq(m, r),
			.reg_id = r->reg_id,
			.expires = remove  ? 0
				   : has_e ? (int64_t)e
					   : -1,
			.q = (r->present & DHT_LSP_P_Q) ? r->q : -1,
		};
		c->parsed_ok = sip_uri_parse(&c->parsed, r->contact.p, r->contact.len) == LC_OK &&
			       c->parsed.scheme_id != SIP_SCHEME_OTHER;
		if (i == 0 && (r->present & DHT_LSP_P_PATH)) {
			u->path = r->path;
		}
	}
}

static void publish(struct dp_worker *w, const struct dp_pkt *in, bool remove)
{
	struct dp_update u;
	struct dp_bindings bs;
	to_update(in, remove, &u);
	enum dp_update_status st = dp_update_apply(w, &in->req.key, &u, &bs);
	if (st == DP_UPDATE_OK) {
		if (!dp_fwd_replicate_lsp(w, in)) {
			dp_reply_lsp_records(w, in, &bs, false); /* no quorum to wait for */
		}
		return;
	}
	dp_reply_lsp_refused(w, in, st);
}

void dp_lsp_handle(struct dp_worker *w, struct dp_pkt *in)
{
	if (dht_lsp_is_overlay_msg(in->data, in->len)) {
		dp_repl_handle(w, in);
		return;
	}
	const struct dht_lsp_msg *m = &in->msg.lsp;
	if (!dht_lsp_hdr_ok(m)) {
		lc_counter_inc(&w->stats.drop[DP_DROP_LSP_MALFORMED]);
		return;
	}
	if (dht_lsp_is_answer(m)) {
		if (w->cfg->secured && !(in->flags & DP_PKT_AUTHED)) {
			/* only a member answers a request this node forwarded */
			lc_counter_inc(&w->stats.drop[DP_DROP_AUTH_REQUIRED]);
			return;
		}
		if (!dp_fwd_answer(w, in)) {
			lc_counter_inc(&w->stats.drop[DP_DROP_LSP_ANSWER]);
		}
		return;
	}
	unsigned kind = m->hdr.type == DHT_LSP_PING	 ? LSP_REQ_PING
			: m->hdr.type == DHT_LSP_PUBLISH ? LSP_REQ_PUBLISH
			: m->hdr.type == DHT_LSP_REMOVE	 ? LSP_REQ_REMOVE
			: m->hdr.type == DHT_LSP_LOOKUP	 ? LSP_REQ_LOOKUP
							 : LSP_REQ_OTHER;
	lc_counter_inc(&w->stats.lsp_req[kind]);
	if (m->hdr.overlay_id != w->cfg->overlay_id) {
		dp_reply_lsp_status(w, in, DHT_LSP_S_WRONG_OVERLAY);
		return;
	}
	if (m->err != LC_OK) {
		dp_reply_lsp_error(w, in);
		return;
	}
	if (kind == LSP_REQ_PING) {
		dp_reply_lsp_status(w, in, DHT_LSP_S_OK);
		return;
	}
	if (!in->req.key_ok) {
		dp_reply_lsp_status(w, in, DHT_LSP_S_BAD_REQUEST);
		return;
	}
	if ((kind == LSP_REQ_PUBLISH || kind == LSP_REQ_REMOVE) && dp_write_stale(w, in)) {
		return; /* forwarded or applied now, it could undo what its client wrote since */
	}
	if (in->req.fwd != NULL && kind != LSP_REQ_OTHER) {
		dp_fwd_lsp(w, in, in->req.fwd); /* the key lives on another node */
		return;
	}
	struct dp_bindings bs;
	const struct dht_peer *next;
	switch (kind) {
	case LSP_REQ_PUBLISH:
		publish(w, in, false);
		break;
	case LSP_REQ_REMOVE:
		publish(w, in, true);
		break;
	case LSP_REQ_LOOKUP:
		dp_bindings_load(w, &in->req.key, &bs);
		next = bs.n == 0 ? dp_fwd_read_miss(w, &in->req.key, m->hdr.hop_limit) : NULL;
		if (next != NULL) {
			dp_fwd_lsp(w, in,
				   next); /* the next of the chain may hold it (the ring settles) */
			break;
		}
		dp_reply_lsp_records(w, in, &bs, true);
		break;
	default:
		dp_reply_lsp_status(w, in, DHT_LSP_S_UNKNOWN_TYPE);
		break;
	}
}
