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
#include "dataplane/dp_update.h"
#include "dataplane/dp_worker_internal.h"
#include "dht/dht_key.h"

/* Counter slots of dp_stats.lsp_req. */
enum { LSP_REQ_PING, LSP_REQ_PUBLISH, LSP_REQ_REMOVE, LSP_REQ_LOOKUP, LSP_REQ_OTHER };

/* The store key of an LSP key: the canonical AOR of a SIP/SIPS/tel URI, else the bytes. */
static bool key_of(struct dp_worker *w, struct dht_bytes key)
{
	struct sip_uri u;
	if (sip_uri_parse(&u, key.p, key.len) == LC_OK && u.scheme_id != SIP_SCHEME_OTHER) {
		return dp_key_of_uri(w, &u);
	}
	if (key.len > sizeof(w->aor)) {
		return false;
	}
	memcpy(w->aor, key.p, key.len);
	w->aor_len = key.len;
	w->key = dht_key_of(w->aor, w->aor_len, w->cfg->overlay_id);
	return true;
}

unsigned dp_lsp_classify(struct dp_worker *w, struct dp_pkt *pkt)
{
	if (dht_lsp_is_overlay_msg(pkt->data, pkt->len)) {
		return dp_repl_classify(w, pkt); /* node to node; the rest of the overlay is TCP */
	}
	struct dht_lsp_msg *m = &w->lsp;
	w->key_ok = false;
	w->fwd = NULL;
	if (dht_lsp_parse(m, pkt->data, pkt->len) != LC_OK || dht_lsp_is_answer(m) ||
	    m->hdr.overlay_id != w->cfg->overlay_id || !(m->present & DHT_LSP_P_KEY)) {
		return w->id;
	}
	w->key_ok = key_of(w, m->key);
	if (!w->key_ok) {
		return w->id;
	}
	dp_fwd_route(w, m->hdr.type == DHT_LSP_LOOKUP,
		     m->hdr.hop_limit < DHT_LSP_HOP_LIMIT_DEFAULT);
	return w->fwd != NULL ? w->id : dht_shard_of(w->key, w->node->nworkers);
}

/* Send a built answer back to where the request came from, counted by status class. */
static void queue_answer(struct dp_worker *w, const struct dp_pkt *in, struct dp_pkt *out,
			 size_t len, unsigned status)
{
	out->len = (uint32_t)len;
	out->sock = DP_SOCK_LSP;
	out->peer = in->peer;
	if (w->lsp.err == LC_OK && (w->lsp.present & DHT_LSP_P_REPLY_TO) &&
	    dp_fwd_from_member(w, in)) {
		dp_addr_of(&w->lsp.reply_to, &out->peer); /* a node forwarded it (docs/lsp.md §6) */
		lc_counter_inc(&w->stats.lsp_status[(status / 100) % 16]);
		dp_tx_push_member(w, out);
		return;
	}
	lc_counter_inc(&w->stats.lsp_status[(status / 100) % 16]);
	out->flags = (in->flags & DP_PKT_AUTHED) ? 0 : DP_PKT_PLAIN;
	dp_tx_push(w, out);
}

/* Start an answer in a fresh packet; NULL when the pool is empty (counted). */
static struct dp_pkt *answer_begin(struct dp_worker *w, struct dht_lsp_builder *b, unsigned status)
{
	struct dp_pkt *out = dp_pool_get(&w->pool);
	if (out == NULL) {
		lc_counter_inc(&w->stats.drop[DP_DROP_NO_BUFFER]);
		return NULL;
	}
	dht_lsp_build_init(b, out->data, DP_PKT_CAP);
	dht_lsp_answer_start(b, &w->lsp, status);
	return out;
}

static void answer_send(struct dp_worker *w, const struct dp_pkt *in, struct dp_pkt *out,
			struct dht_lsp_builder *b, unsigned status)
{
	size_t len = 0;
	if (dht_lsp_build_finish(b, &len) != LC_OK) {
		lc_counter_inc(&w->stats.drop[DP_DROP_TOO_LARGE]);
		dp_pool_put(&w->pool, out);
		return;
	}
	queue_answer(w, in, out, len, status);
}

void dp_lsp_answer_status(struct dp_worker *w, const struct dp_pkt *in, unsigned status)
{
	struct dht_lsp_builder b;
	struct dp_pkt *out = answer_begin(w, &b, status);
	if (out != NULL) {
		answer_send(w, in, out, &b, status);
	}
}

void dp_lsp_put_records(struct dht_lsp_builder *b, const struct dp_worker *w,
			const struct dp_bindings *bs)
{
	for (unsigned i = 0; i < bs->n && i < DHT_LSP_MAX_RECORDS; i++) {
		const struct dht_binding_data *d = &bs->d[i];
		struct dht_lsp_record r = {
			.present = DHT_LSP_P_CONTACT | DHT_LSP_P_EXPIRES | DHT_LSP_P_AGE,
			.contact = d->uri,
			.expires_s = d->expires_at_s - w->now_s,
			.age_s = w->now_s - d->registered_at_s,
			.q = d->q,
		};
		if (d->q >= 0) {
			r.present |= DHT_LSP_P_Q;
		}
		if (d->instance.len > 0) {
			r.present |= DHT_LSP_P_INSTANCE;
			r.instance = d->instance;
		}
		if (d->reg_id != 0) {
			r.present |= DHT_LSP_P_REG_ID;
			r.reg_id = d->reg_id;
		}
		if (d->path.len > 0) {
			r.present |= DHT_LSP_P_PATH;
			r.path = d->path;
		}
		if (d->attrs.len > 0) {
			r.present |= DHT_LSP_P_ATTRS;
			r.attrs = d->attrs;
		}
		dht_lsp_put_record(b, &r);
	}
}

/* An answer carrying the key's live records (OK), or NOT_FOUND when it has none and
 * @p not_found_if_empty. */
static void answer_records(struct dp_worker *w, const struct dp_pkt *in,
			   const struct dp_bindings *bs, bool not_found_if_empty)
{
	unsigned status = bs->n == 0 && not_found_if_empty ? DHT_LSP_S_NOT_FOUND : DHT_LSP_S_OK;
	struct dht_lsp_builder b;
	struct dp_pkt *out = answer_begin(w, &b, status);
	if (out == NULL) {
		return;
	}
	dp_lsp_put_records(&b, w, bs);
	answer_send(w, in, out, &b, status);
}

static void to_update(const struct dp_worker *w, const struct dp_pkt *in, bool remove,
		      struct dp_update *u)
{
	const struct dht_lsp_msg *m = &w->lsp;
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

static unsigned status_of(enum dp_update_status st)
{
	switch (st) {
	case DP_UPDATE_OK:
		return DHT_LSP_S_OK;
	case DP_UPDATE_STALE:
		return DHT_LSP_S_STALE;
	case DP_UPDATE_TOO_BRIEF:
		return DHT_LSP_S_INTERVAL_TOO_BRIEF;
	case DP_UPDATE_TOO_MANY:
		return DHT_LSP_S_TOO_MANY_RECORDS;
	case DP_UPDATE_FULL:
		return DHT_LSP_S_FULL;
	case DP_UPDATE_NO_QUORUM:
		return DHT_LSP_S_UNAVAILABLE;
	default:
		return DHT_LSP_S_INTERNAL;
	}
}

static void publish(struct dp_worker *w, const struct dp_pkt *in, bool remove)
{
	struct dp_update u;
	struct dp_bindings bs;
	to_update(w, in, remove, &u);
	enum dp_update_status st = dp_update_apply(w, &u, &bs);
	if (st == DP_UPDATE_OK) {
		const struct dht_lsp_msg *m = &w->lsp;
		struct dp_repl_answer ans = {
			.to = in->peer,
			.txn = m->hdr.txn_id,
			.type = m->hdr.type,
			.ctx = (m->present & DHT_LSP_P_REPLY_CTX) ? m->reply_ctx
								  : (struct dht_bytes){0},
		};
		if ((m->present & DHT_LSP_P_REPLY_TO) && dp_fwd_from_member(w, in)) {
			dp_addr_of(&m->reply_to, &ans.to);
		}
		if (!dp_repl_write(w, &ans)) {
			answer_records(w, in, &bs, false); /* no quorum to wait for */
		}
		return;
	}
	unsigned status = status_of(st);
	struct dht_lsp_builder b;
	struct dp_pkt *out = answer_begin(w, &b, status);
	if (out == NULL) {
		return;
	}
	if (st == DP_UPDATE_TOO_BRIEF) {
		dht_lsp_put_u32(&b, DHT_LSP_T_MIN_EXPIRES, w->cfg->min_expires_s);
	} else if (st == DP_UPDATE_FULL || st == DP_UPDATE_NO_QUORUM) {
		dht_lsp_put_u32(&b, DHT_LSP_T_RETRY_AFTER, w->cfg->retry_after_s);
	}
	answer_send(w, in, out, &b, status);
}

static void answer_error(struct dp_worker *w, const struct dp_pkt *in)
{
	struct dp_pkt *out = dp_pool_get(&w->pool);
	if (out == NULL) {
		lc_counter_inc(&w->stats.drop[DP_DROP_NO_BUFFER]);
		return;
	}
	size_t len = 0;
	if (dht_lsp_answer_error(out->data, DP_PKT_CAP, &w->lsp, &len) != LC_OK) {
		dp_pool_put(&w->pool, out);
		return;
	}
	queue_answer(w, in, out, len, dht_lsp_status_of(w->lsp.err));
}

void dp_lsp_handle(struct dp_worker *w, struct dp_pkt *in)
{
	if (dht_lsp_is_overlay_msg(in->data, in->len)) {
		dp_repl_handle(w, in);
		return;
	}
	const struct dht_lsp_msg *m = &w->lsp;
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
		if (!dp_fwd_answer(w)) {
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
		dp_lsp_answer_status(w, in, DHT_LSP_S_WRONG_OVERLAY);
		return;
	}
	if (m->err != LC_OK) {
		answer_error(w, in);
		return;
	}
	if (kind == LSP_REQ_PING) {
		dp_lsp_answer_status(w, in, DHT_LSP_S_OK);
		return;
	}
	if (!w->key_ok) {
		dp_lsp_answer_status(w, in, DHT_LSP_S_BAD_REQUEST);
		return;
	}
	if ((kind == LSP_REQ_PUBLISH || kind == LSP_REQ_REMOVE) && dp_write_stale(w, in)) {
		return; /* forwarded or applied now, it could undo what its client wrote since */
	}
	if (w->fwd != NULL && kind != LSP_REQ_OTHER) {
		dp_fwd_lsp(w, in); /* the key lives on another node */
		return;
	}
	struct dp_bindings bs;
	switch (kind) {
	case LSP_REQ_PUBLISH:
		publish(w, in, false);
		break;
	case LSP_REQ_REMOVE:
		publish(w, in, true);
		break;
	case LSP_REQ_LOOKUP:
		dp_bindings_load(w, &bs);
		if (bs.n == 0 && dp_fwd_read_miss(w, m->hdr.hop_limit)) {
			dp_fwd_lsp(w,
				   in); /* the next of the chain may hold it (the ring settles) */
			break;
		}
		answer_records(w, in, &bs, true);
		break;
	default:
		dp_lsp_answer_status(w, in, DHT_LSP_S_UNKNOWN_TYPE);
		break;
	}
}
