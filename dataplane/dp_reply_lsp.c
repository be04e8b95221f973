/* SPDX-License-Identifier: MIT */
/*
 * The LSP half of the reply library: every answer a node sends to an LSP request is built here,
 * from the shard's store (records with their remaining expiry and age), from a refusal (with
 * MIN_EXPIRES or RETRY_AFTER), from a decoding error (REASON, ERROR_DETAIL), or, by the replica
 * that completes a write's quorum, for the node that faces the client (dp_reply_lsp_quorum). The
 * request stages (dp_lsp.c), replication (dp_repl.c) and forwarding (dp_fwd.c) call down into
 * it; it calls nothing above it.
 *
 * Where an answer goes: to the request's source, or to its REPLY_TO when a member forwarded it
 * (docs/lsp.md §6); an answer to a client that sent an untagged request is never tagged.
 */
#include <string.h>

#include "common/lc_error.h"
#include "dataplane/dp_reply_lsp.h"

/* Send a built answer back to where the request came from, counted by status class. */
static void queue_answer(struct dp_worker *w, const struct dp_pkt *in, struct dp_pkt *out,
			 size_t len, unsigned status)
{
	out->len = (uint32_t)len;
	out->sock = DP_SOCK_LSP;
	out->peer = in->peer;
	const struct dht_lsp_msg *m = &in->msg.lsp;
	if (m->err == LC_OK && (m->present & DHT_LSP_P_REPLY_TO) && dp_member_sent(w, in)) {
		dp_addr_of(&m->reply_to, &out->peer); /* a node forwarded it (docs/lsp.md §6) */
		lc_counter_inc(&w->stats.lsp_status[(status / 100) % 16]);
		dp_tx_push_member(w, out);
		return;
	}
	lc_counter_inc(&w->stats.lsp_status[(status / 100) % 16]);
	out->flags = (in->flags & DP_PKT_AUTHED) ? 0 : DP_PKT_PLAIN;
	dp_tx_push(w, out);
}

/* Start an answer in a fresh packet; NULL when the pool is empty (counted). */
static struct dp_pkt *answer_begin(struct dp_worker *w, const struct dp_pkt *in,
				   struct dht_lsp_builder *b, unsigned status)
{
	struct dp_pkt *out = dp_pool_get(&w->pool);
	if (out == NULL) {
		lc_counter_inc(&w->stats.drop[DP_DROP_NO_BUFFER]);
		return NULL;
	}
	dht_lsp_build_init(b, out->data, DP_PKT_CAP);
	dht_lsp_answer_start(b, &in->msg.lsp, status);
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

void dp_reply_lsp_status(struct dp_worker *w, const struct dp_pkt *in, unsigned status)
{
	struct dht_lsp_builder b;
	struct dp_pkt *out = answer_begin(w, in, &b, status);
	if (out != NULL) {
		answer_send(w, in, out, &b, status);
	}
}

void dp_reply_lsp_put_records(struct dht_lsp_builder *b, const struct dp_worker *w,
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
void dp_reply_lsp_records(struct dp_worker *w, const struct dp_pkt *in,
			  const struct dp_bindings *bs, bool not_found_if_empty)
{
	unsigned status = bs->n == 0 && not_found_if_empty ? DHT_LSP_S_NOT_FOUND : DHT_LSP_S_OK;
	struct dht_lsp_builder b;
	struct dp_pkt *out = answer_begin(w, in, &b, status);
	if (out == NULL) {
		return;
	}
	dp_reply_lsp_put_records(&b, w, bs);
	answer_send(w, in, out, &b, status);
}

void dp_reply_lsp_error(struct dp_worker *w, const struct dp_pkt *in)
{
	struct dp_pkt *out = dp_pool_get(&w->pool);
	if (out == NULL) {
		lc_counter_inc(&w->stats.drop[DP_DROP_NO_BUFFER]);
		return;
	}
	size_t len = 0;
	if (dht_lsp_answer_error(out->data, DP_PKT_CAP, &in->msg.lsp, &len) != LC_OK) {
		dp_pool_put(&w->pool, out);
		return;
	}
	queue_answer(w, in, out, len, dht_lsp_status_of(in->msg.lsp.err));
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

void dp_reply_lsp_refused(struct dp_worker *w, const struct dp_pkt *in, enum dp_update_status st)
{
	unsigned status = status_of(st);
	struct dht_lsp_builder b;
	struct dp_pkt *out = answer_begin(w, in, &b, status);
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

void dp_reply_lsp_quorum(struct dp_worker *w, const struct dp_key *key,
			 const struct dp_reply_lsp_to *to, unsigned status)
{
	struct dp_pkt *out = dp_pool_get(&w->pool);
	if (out == NULL) {
		lc_counter_inc(&w->stats.drop[DP_DROP_NO_BUFFER]);
		return;
	}
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, out->data, DP_PKT_CAP);
	struct dht_lsp_hdr h = {.type = to->type,
				.flags = DHT_LSP_F_ANSWER,
				.hop_limit = DHT_LSP_HOP_LIMIT_DEFAULT,
				.txn_id = to->txn,
				.overlay_id = w->cfg->overlay_id};
	dht_lsp_build_hdr(&b, &h);
	dht_lsp_put_status(&b, status);
	dht_lsp_put_key(&b, key->aor, key->len);
	if (to->ctx.p != NULL) {
		dht_lsp_put_reply_ctx(&b, to->ctx.p, to->ctx.len);
	}
	if (status == DHT_LSP_S_OK) {
		struct dp_bindings bs;
		dp_bindings_load(w, key, &bs);
		dp_reply_lsp_put_records(&b, w, &bs);
	} else if (status == DHT_LSP_S_FULL || status == DHT_LSP_S_UNAVAILABLE) {
		dht_lsp_put_u32(&b, DHT_LSP_T_RETRY_AFTER, w->cfg->retry_after_s);
	}
	size_t len = 0;
	if (dht_lsp_build_finish(&b, &len) != LC_OK) {
		dp_pool_put(&w->pool, out);
		lc_counter_inc(&w->stats.drop[DP_DROP_TOO_LARGE]);
		return;
	}
	lc_counter_inc(&w->stats.lsp_status[(status / 100) % 16]);
	out->len = (uint32_t)len;
	out->sock = DP_SOCK_LSP;
	dp_addr_of(&to->addr, &out->peer);
	dp_tx_push_member(w, out);
}
