/* SPDX-License-Identifier: MIT */
/*
 * Forwarding to the key's owner, and answering from its answer (dp_fwd.h).
 *
 * How it stays stateless: everything the facing node needs to answer later travels in the
 * forwarded request's REPLY_CTX, which the owner echoes verbatim. For SIP it is the client's
 * address and a skeleton of the request (request line, Via, From, To, Call-ID, CSeq and Path
 * lines): on the answer the skeleton is parsed back into w->skeleton and the response is built by the
 * same code as a local answer, so it is byte for byte what a single node would send. For an LSP
 * client it is the client's address, transaction id and own reply context. The facing node also
 * sets REPLY_TO to itself, so a request that takes more hops (finger routing, or tables that
 * disagree during a change) is passed on unchanged but for its hop limit, and the node that
 * carries it out answers the facing node directly (docs/lsp.md §6). The transaction id of
 * a forwarded SIP request is a hash of its top Via branch, so a UA's retransmission reaches the
 * owner as a retransmission (same txn tag) and a lost datagram is recovered by the UA's timers.
 *
 * Trust: a reply context is sealed with dp_mac under the node's own context key and bound to the
 * forwarded request's transaction id, type and KEY (dp_rctx.h; its layout is in dp_rctx.c), and
 * it carries its creation time; the answer is taken only when its echoed transaction id, type
 * and KEY are the ones the context was sealed for, and the context is young. So a forged,
 * replayed or transplanted answer cannot make a node send responses to arbitrary addresses, nor
 * answer one client with another key's bindings.
 */
#include <string.h>

#include "common/lc_error.h"
#include "dataplane/dp_fwd.h"
#include "dataplane/dp_rctx.h"
#include "dataplane/dp_repl.h"
#include "dataplane/dp_reply_lsp.h"
#include "dataplane/dp_reply_sip.h"
#include "dht/dht_route.h"

#define CTX_LSP_BODY 10 /* an LSP context's body before the client's own context */
/* A SIP request forwarded by the node that faces the UA has used one hop already, like an LSP
 * request a node passes on: receivers tell forwarded requests by a hop limit below the default. */
#define FIRST_HOP_LIMIT (DHT_LSP_HOP_LIMIT_DEFAULT - 1)

/* ---- routing --------------------------------------------------------------------------------- */

static bool peer_is(const struct dht_peer *p, const struct dp_addr *a)
{
	struct dp_addr x;
	dp_addr_of(&p->addr, &x);
	return dp_addr_equal(&x, a);
}

/*
 * A read is not sent back: while a node joins, it passes every request to the node it joined
 * through (rt->joining), which need not be in the key's chain; if that node already counts the
 * joiner as the key's owner it routes the read straight back, and the two pass it to and fro
 * until its hop limit runs out (a 503 to the UA: test_failover, one lookup in thousands while
 * nodes join). So a node outside the key's chain whose next hop for a forwarded read is the node
 * it came from sends it to the second of the chain instead: inside the write quorum, it holds
 * every acknowledged write, and it answers a forwarded read itself. A node inside the chain keeps
 * its route (a replica outside the quorum may not hold the last write).
 */
static const struct dht_peer *not_back(const struct dht_route *rt, dht_id_t key,
				       const struct dht_peer *p, const struct dp_addr *from)
{
	if (dht_route_position(rt, key) >= 0) {
		return p; /* in the chain */
	}
	const struct dht_peer *set[DHT_MAX_REPLICAS];
	unsigned n = dht_route_replicas(rt, key, set, DHT_MAX_REPLICAS);
	return n > 1 && !peer_is(set[1], from) ? set[1] : p; /* else the hop limit ends it */
}

void dp_fwd_route(const struct dp_worker *w, struct dp_req *r, bool read, bool forwarded,
		  const struct dp_addr *from)
{
	r->fwd = NULL;
	const struct dht_route *rt = w->rt;
	if (rt != NULL && rt->joining && rt->nsucc > 0) {
		/* not in the ring yet: a key we would own alone belongs to the ring we join */
		r->fwd = &rt->succ[0];
		return;
	}
	if (rt == NULL || (rt->nsucc == 0 && rt->nmembers <= 1)) {
		return; /* alone: every key is ours */
	}
	if (read) {
		int pos = dht_route_position(rt, r->key.id);
		if (pos == 0 && rt->pulling && rt->nsucc > 0) {
			/* we own the key but may not hold it yet (we just joined, came back or took
			 * over a range, and pull it): the successor, which held it, answers */
			r->fwd = &rt->succ[0];
			return;
		}
		if (pos == 0 ||
		    (forwarded && pos > 0 && (pos < (int)w->cfg->write_quorum || rt->settling))) {
			/* the owner; or a replica inside the write quorum another node sent it to
			 * (the owner being suspect to it, or pulling): it holds every acknowledged
			 * write; or, while the ring settles, any replica a node that missed the key
			 * passed the read on to (dp_fwd_read_miss): it answers, or passes it on */
			return;
		}
	}
	const struct dht_peer *p = dht_route_next_hop(rt, r->key.id);
	if (read && from != NULL && !dht_route_is_self(rt, p) && peer_is(p, from)) {
		p = not_back(rt, r->key.id, p, from);
	}
	if (!dht_route_is_self(rt, p)) {
		r->fwd = p;
	}
}

const struct dht_peer *dp_fwd_read_miss(struct dp_worker *w, const struct dp_key *k,
					unsigned hop_limit)
{
	const struct dht_route *rt = w->rt;
	if (rt == NULL || !rt->settling || hop_limit == 0) {
		return NULL;
	}
	if (dht_store_find(w->store, k->id, k->aor, k->len) != NULL) {
		/* the key is held here, tombstones only: a removal this node knows of, which a node
		 * further down the chain may not have yet; the miss is the answer */
		return NULL;
	}
	const struct dht_peer *set[DHT_MAX_REPLICAS];
	unsigned n = dht_route_replicas(rt, k->id, set, DHT_MAX_REPLICAS);
	for (unsigned i = 0; i + 1 < n; i++) {
		if (dht_route_is_self(rt, set[i])) {
			return set[i + 1];
		}
	}
	return NULL; /* the last of the chain, or not in it: the miss is the answer */
}

/* ---- reply contexts -------------------------------------------------------------------------- */

/* Seal @p c for the request of @p type and @p txn about @p key that is about to carry it. */
static int seal(struct dp_worker *w, struct dp_rctx *c, uint64_t txn, uint8_t type,
		struct dht_bytes key)
{
	struct dp_rctx_bind to = {.txn = txn, .type = type, .key = key};
	return dp_rctx_seal(c, w->cfg->ctx_key, &to);
}

/* The skeleton of the SIP request in w->msg: what sip_resp_start copies into a response. */
static void put_skeleton(struct dp_rctx *c, const struct sip_msg *m)
{
	dp_rctx_put(c, m->method.p, m->method.len);
	dp_rctx_put(c, " ", 1);
	dp_rctx_put(c, m->ruri.raw.p, m->ruri.raw.len);
	dp_rctx_put(c, " SIP/2.0\r\n", 10);
	for (unsigned i = 0; i < m->nhdr; i++) {
		const struct sip_hdr *h = &m->hdrs[i];
		switch (h->id) {
		case SIP_HDR_VIA:
		case SIP_HDR_FROM:
		case SIP_HDR_TO:
		case SIP_HDR_CALL_ID:
		case SIP_HDR_CSEQ:
		case SIP_HDR_PATH:
			dp_rctx_put(c, h->name.p, h->name.len);
			dp_rctx_put(c, ": ", 2);
			dp_rctx_put(c, h->value.p, h->value.len);
			dp_rctx_put(c, "\r\n", 2);
			break;
		default:
			break;
		}
	}
	dp_rctx_put(c, "\r\n", 2);
}

/* ---- sending a forwarded request ------------------------------------------------------------- */

static struct dp_pkt *fwd_begin(struct dp_worker *w, struct dht_lsp_builder *b, uint8_t type,
				uint64_t txn, uint8_t hop_limit)
{
	struct dp_pkt *out = dp_pool_get(&w->pool);
	if (out == NULL) {
		lc_counter_inc(&w->stats.drop[DP_DROP_NO_BUFFER]);
		return NULL;
	}
	dht_lsp_build_init(b, out->data, DP_PKT_CAP);
	struct dht_lsp_hdr h = {.type = type,
				.hop_limit = hop_limit,
				.txn_id = txn,
				.overlay_id = w->cfg->overlay_id};
	dht_lsp_build_hdr(b, &h);
	return out;
}

static void fwd_send(struct dp_worker *w, struct dp_pkt *out, size_t len, const struct dht_peer *to)
{
	out->len = (uint32_t)len;
	out->sock = DP_SOCK_LSP;
	dp_addr_of(&to->addr, &out->peer);
	lc_counter_inc(&w->stats.fwd_out);
	dp_tx_push_member(w, out);
}

/* A SIP request could not be forwarded (its context or message is too large): say so. */
static void sip_cannot_forward(struct dp_worker *w, const struct sip_msg *m,
			       const struct dp_addr *src)
{
	lc_counter_inc(&w->stats.drop[DP_DROP_FWD_TOO_LARGE]);
	dp_reply_simple(w, m, src, 500, "Request too large to forward to its owner");
}

/* The transaction id of a forwarded SIP request: stable across the UA's retransmissions. */
static uint64_t sip_txn(const struct sip_msg *m)
{
	if (m->nvia > 0 && sip_str_present(m->via[0].branch)) {
		/* its low 32 bits are the txn tag a local REGISTER stores (dp_register.c) */
		return (uint64_t)dht_key_of(m->via[0].branch.p, m->via[0].branch.len, 0);
	}
	return (uint64_t)dht_key_of(m->call_id.p, m->call_id.len, m->cseq);
}

static uint32_t clamp_u32(int64_t v)
{
	return v > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

void dp_fwd_register(struct dp_worker *w, const struct dp_pkt *in, const struct dp_update *u)
{
	const struct sip_msg *m = &in->msg.sip;
	const struct dp_addr *src = &in->peer;
	const struct dp_key *k = &in->req.key;
	uint8_t type = u->remove_all ? DHT_LSP_REMOVE : DHT_LSP_PUBLISH;
	uint64_t txn = sip_txn(m);
	struct dp_rctx ctx;
	dp_rctx_begin(&ctx, DP_RCTX_REGISTER, w->now_s, src);
	put_skeleton(&ctx, m);
	if (seal(w, &ctx, txn, type, dp_key_bytes(k)) != LC_OK) {
		sip_cannot_forward(w, m, src);
		return;
	}
	struct dht_lsp_builder b;
	struct dp_pkt *out = fwd_begin(w, &b, type, txn, FIRST_HOP_LIMIT);
	if (out == NULL) {
		return;
	}
	dht_lsp_put_key(&b, k->aor, k->len);
	dht_lsp_put_reply_ctx(&b, ctx.b, ctx.len);
	dht_lsp_put_reply_to(&b, &w->rt->self.addr);
	dht_lsp_put_call_id(&b, u->call_id.p, u->call_id.len);
	dht_lsp_put_u32(&b, DHT_LSP_T_CSEQ, u->cseq);
	if (u->remove_all) {
		dht_lsp_put_tlv(&b, DHT_LSP_T_REMOVE_ALL, NULL, 0);
	} else if (u->expires >= 0) {
		dht_lsp_put_u32(&b, DHT_LSP_T_EXPIRES, clamp_u32(u->expires));
	}
	dht_lsp_put_source(&b, &u->src);
	for (unsigned i = 0; i < u->n && !u->remove_all; i++) {
		const struct dp_update_contact *c = &u->c[i];
		struct dht_lsp_record r = {
			.present = DHT_LSP_P_CONTACT, .contact = c->uri, .q = c->q};
		if (c->expires >= 0) {
			r.present |= DHT_LSP_P_EXPIRES;
			r.expires_s = clamp_u32(c->expires);
		}
		if (c->q >= 0) {
			r.present |= DHT_LSP_P_Q;
		}
		if (c->instance.len > 0) {
			r.present |= DHT_LSP_P_INSTANCE;
			r.instance = c->instance;
		}
		if (c->reg_id != 0) {
			r.present |= DHT_LSP_P_REG_ID;
			r.reg_id = c->reg_id;
		}
		if (i == 0 && u->path.len > 0) {
			r.present |= DHT_LSP_P_PATH;
			r.path = u->path;
		}
		dht_lsp_put_record(&b, &r);
	}
	size_t len = 0;
	if (dht_lsp_build_finish(&b, &len) != LC_OK) {
		dp_pool_put(&w->pool, out);
		sip_cannot_forward(w, m, src);
		return;
	}
	fwd_send(w, out, len, in->req.fwd);
}

void dp_fwd_lookup(struct dp_worker *w, const struct dp_pkt *in, const struct dht_peer *to)
{
	const struct sip_msg *m = &in->msg.sip;
	const struct dp_addr *src = &in->peer;
	const struct dp_key *k = &in->req.key;
	uint64_t txn = sip_txn(m);
	struct dp_rctx ctx;
	dp_rctx_begin(&ctx, DP_RCTX_REDIRECT, w->now_s, src);
	put_skeleton(&ctx, m);
	if (seal(w, &ctx, txn, DHT_LSP_LOOKUP, dp_key_bytes(k)) != LC_OK) {
		sip_cannot_forward(w, m, src);
		return;
	}
	struct dht_lsp_builder b;
	struct dp_pkt *out = fwd_begin(w, &b, DHT_LSP_LOOKUP, txn, FIRST_HOP_LIMIT);
	if (out == NULL) {
		return;
	}
	dht_lsp_put_key(&b, k->aor, k->len);
	dht_lsp_put_reply_ctx(&b, ctx.b, ctx.len);
	dht_lsp_put_reply_to(&b, &w->rt->self.addr);
	size_t len = 0;
	if (dht_lsp_build_finish(&b, &len) != LC_OK) {
		dp_pool_put(&w->pool, out);
		sip_cannot_forward(w, m, src);
		return;
	}
	fwd_send(w, out, len, to);
}

/* @p m encoded into a fresh packet (its len set), or NULL (counted under @p too_large when it
 * does not fit, or as no_buffer). */
static struct dp_pkt *encode_new(struct dp_worker *w, const struct dht_lsp_msg *m,
				 enum dp_drop too_large)
{
	struct dp_pkt *out = dp_pool_get(&w->pool);
	if (out == NULL) {
		lc_counter_inc(&w->stats.drop[DP_DROP_NO_BUFFER]);
		return NULL;
	}
	size_t len = 0;
	if (dht_lsp_encode(m, out->data, DP_PKT_CAP, &len) != LC_OK) {
		dp_pool_put(&w->pool, out);
		lc_counter_inc(&w->stats.drop[too_large]);
		return NULL;
	}
	out->len = (uint32_t)len;
	return out;
}

static void encode_and_forward(struct dp_worker *w, const struct dht_lsp_msg *m,
			       const struct dht_peer *to)
{
	struct dp_pkt *out = encode_new(w, m, DP_DROP_FWD_TOO_LARGE);
	if (out != NULL) {
		fwd_send(w, out, out->len, to);
	}
}

/*
 * Our reply context around the LSP client request received in @p in: its address,
 * transaction id, hop limit and own context, sealed for a request of transaction *txn (the
 * same for every retransmission of the client's) about the request's store key.
 */
static bool wrap_client(struct dp_worker *w, const struct dp_pkt *in, struct dp_rctx *ctx,
			uint64_t *txn)
{
	const struct dht_lsp_msg *m = &in->msg.lsp;
	uint8_t id[sizeof(in->peer) + 8];
	memcpy(id, &in->peer, sizeof(in->peer));
	memcpy(id + sizeof(in->peer), &m->hdr.txn_id, 8);
	*txn = (uint64_t)dht_key_of(id, sizeof(id), w->cfg->overlay_id);
	dp_rctx_begin(ctx, DP_RCTX_LSP, w->now_s, &in->peer);
	uint8_t had_ctx = (m->present & DHT_LSP_P_REPLY_CTX) != 0;
	dp_rctx_put(ctx, &m->hdr.txn_id, 8);
	dp_rctx_put(ctx, &m->hdr.hop_limit, 1);
	dp_rctx_put(ctx, &had_ctx, 1);
	if (had_ctx) {
		dp_rctx_put(ctx, m->reply_ctx.p, m->reply_ctx.len);
	}
	return seal(w, ctx, *txn, m->hdr.type, dp_key_bytes(&in->req.key)) == LC_OK;
}

void dp_fwd_lsp(struct dp_worker *w, struct dp_pkt *in, const struct dht_peer *to)
{
	struct dht_lsp_msg *m = &in->msg.lsp;
	if (m->hdr.hop_limit == 0) {
		dp_reply_lsp_status(w, in, DHT_LSP_S_HOP_LIMIT);
		return;
	}
	if ((m->present & DHT_LSP_P_REPLY_TO) && dp_member_sent(w, in)) {
		/* an intermediate hop: the answer goes straight to the facing node */
		m->hdr.hop_limit--;
		encode_and_forward(w, m, to);
		return;
	}
	/* the same request, re-addressed: our context, one hop less */
	uint64_t txn = 0;
	struct dp_rctx ctx;
	if (!wrap_client(w, in, &ctx, &txn)) {
		lc_counter_inc(&w->stats.drop[DP_DROP_FWD_TOO_LARGE]);
		dp_reply_lsp_status(w, in, DHT_LSP_S_INTERNAL);
		return;
	}
	m->hdr.txn_id = txn;
	m->hdr.hop_limit--;
	m->present |= DHT_LSP_P_REPLY_CTX | DHT_LSP_P_REPLY_TO;
	m->reply_ctx = (struct dht_bytes){(const char *)ctx.b, (uint32_t)ctx.len};
	m->reply_to = w->rt->self.addr;
	encode_and_forward(w, m, to);
}

bool dp_fwd_replicate_sip(struct dp_worker *w, const struct dp_pkt *in, bool remove)
{
	if (w->rt == NULL || w->rt->nsucc == 0 || w->rt->replicas <= 1) {
		return false; /* no other copy to wait for: skip sealing a context nobody reads */
	}
	struct dp_repl_answer ans = {
		.txn = sip_txn(&in->msg.sip),
		.type = remove ? DHT_LSP_REMOVE : DHT_LSP_PUBLISH,
	};
	struct dp_rctx ctx;
	dp_rctx_begin(&ctx, DP_RCTX_REGISTER, w->now_s, &in->peer);
	put_skeleton(&ctx, &in->msg.sip);
	if (seal(w, &ctx, ans.txn, ans.type, dp_key_bytes(&in->req.key)) != LC_OK) {
		return false; /* answered at once: replicated, but without waiting for the quorum */
	}
	ans.ctx = (struct dht_bytes){(const char *)ctx.b, (uint32_t)ctx.len};
	/* the replica that completes the quorum answers us, as it would a facing node */
	ans.to = w->rt->self.addr;
	return dp_repl_write(w, &in->req.key, &ans);
}

bool dp_fwd_replicate_lsp(struct dp_worker *w, const struct dp_pkt *in)
{
	const struct dht_lsp_msg *m = &in->msg.lsp;
	if (w->rt == NULL || w->rt->nsucc == 0 || w->rt->replicas <= 1) {
		return false;
	}
	struct dp_repl_answer ans = {.txn = m->hdr.txn_id, .type = m->hdr.type};
	struct dp_rctx ctx;
	if ((m->present & DHT_LSP_P_REPLY_TO) && dp_member_sent(w, in)) {
		/* a facing node forwarded it: the answer goes to it, with its context */
		ans.to = m->reply_to;
		if (m->present & DHT_LSP_P_REPLY_CTX) {
			ans.ctx = m->reply_ctx;
		}
	} else {
		/* a client of ours: the answer comes back to us, as to a facing node, and we relay it
		 * (a client hears only from the node it asked) */
		if (!wrap_client(w, in, &ctx, &ans.txn)) {
			return false; /* answered at once, without waiting for the quorum */
		}
		ans.ctx = (struct dht_bytes){(const char *)ctx.b, (uint32_t)ctx.len};
		ans.to = w->rt->self.addr;
	}
	return dp_repl_write(w, &in->req.key, &ans);
}

/* ---- answers --------------------------------------------------------------------------------- */

static unsigned contacts_of_answer(const struct dht_lsp_msg *m, struct dp_contact *out)
{
	unsigned n = 0;
	for (unsigned i = 0; i < m->nrecords; i++) {
		const struct dht_lsp_record *r = &m->records[i];
		out[n++] = (struct dp_contact){
			.uri = r->contact,
			.instance = r->instance,
			.expires_s = (r->present & DHT_LSP_P_EXPIRES) ? r->expires_s : 0,
			.reg_id = (r->present & DHT_LSP_P_REG_ID) ? r->reg_id : 0,
			.q = (r->present & DHT_LSP_P_Q) ? r->q : -1,
		};
	}
	return n;
}

static enum dp_update_status update_status_of(unsigned status)
{
	switch (status) {
	case DHT_LSP_S_STALE:
		return DP_UPDATE_STALE;
	case DHT_LSP_S_INTERVAL_TOO_BRIEF:
		return DP_UPDATE_TOO_BRIEF;
	case DHT_LSP_S_TOO_MANY_RECORDS:
		return DP_UPDATE_TOO_MANY;
	case DHT_LSP_S_FULL:
		return DP_UPDATE_FULL;
	case DHT_LSP_S_UNAVAILABLE:
		return DP_UPDATE_NO_QUORUM;
	default:
		return DP_UPDATE_INTERNAL;
	}
}

/* The owner's answer to a forwarded SIP request: the response the UA would get from it. */
static void answer_sip(struct dp_worker *w, const struct dht_lsp_msg *m, enum dp_rctx_kind kind,
		       const struct dp_addr *client, struct dht_bytes skeleton)
{
	unsigned status = m->status;
	struct dp_contact c[DHT_LSP_MAX_RECORDS];
	unsigned n = status == DHT_LSP_S_OK ? contacts_of_answer(m, c) : 0;
	struct sip_msg *req = &w->skeleton; /* the UA's request, as much as a response needs */
	if (sip_parse(req, skeleton.p, skeleton.len) != LC_OK || !sip_msg_can_reply(req)) {
		lc_counter_inc(&w->stats.drop[DP_DROP_CTX_INVALID]);
		return;
	}
	if (kind == DP_RCTX_REDIRECT) {
		if (status == DHT_LSP_S_OK || status == DHT_LSP_S_NOT_FOUND) {
			dp_reply_redirect(w, req, client, c, n);
		} else {
			dp_reply_simple(w, req, client, 503,
					"Owner of the address-of-record unavailable");
		}
		return;
	}
	if (status == DHT_LSP_S_OK || status == DHT_LSP_S_NOT_FOUND) {
		/* NOT_FOUND: a "*" removal found nothing */
		dp_reply_register_ok(w, req, client, c, n);
	} else if (status == DHT_LSP_S_HOP_LIMIT) {
		dp_reply_simple(w, req, client, 503, "Overlay is changing, try again");
	} else {
		dp_reply_register_refused(w, req, client, update_status_of(status));
	}
}

/* The owner's answer to a relayed LSP request: the same answer, back under the client's txn. */
static void answer_lsp(struct dp_worker *w, struct dht_lsp_msg *m, const struct dp_addr *client,
		       struct dht_bytes body)
{
	if (body.len < CTX_LSP_BODY) {
		lc_counter_inc(&w->stats.drop[DP_DROP_CTX_INVALID]);
		return;
	}
	memcpy(&m->hdr.txn_id, body.p, 8);
	m->hdr.hop_limit = DHT_LSP_HOP_LIMIT_DEFAULT;
	if (body.p[9]) {
		m->present |= DHT_LSP_P_REPLY_CTX;
		m->reply_ctx = (struct dht_bytes){body.p + CTX_LSP_BODY, body.len - CTX_LSP_BODY};
	} else {
		m->present &= ~(uint32_t)DHT_LSP_P_REPLY_CTX;
		m->reply_ctx = (struct dht_bytes){0};
	}
	struct dp_pkt *out = encode_new(w, m, DP_DROP_TOO_LARGE);
	if (out == NULL) {
		return;
	}
	out->sock = DP_SOCK_LSP;
	out->peer = *client;
	lc_counter_inc(&w->stats.lsp_status[(m->status / 100) % 16]);
	dp_tx_push(w, out);
}

bool dp_fwd_answer(struct dp_worker *w, struct dp_pkt *in)
{
	struct dht_lsp_msg *m = &in->msg.lsp;
	if (m->err != LC_OK || m->hdr.overlay_id != w->cfg->overlay_id ||
	    !(m->present & DHT_LSP_P_REPLY_CTX)) {
		return false;
	}
	/* the answer names the request it answers: the context must have been sealed for it.
	 * Contexts are sealed for the request's store key (dp_key.h): the answer's KEY is the
	 * client's as written when the owner echoes the request, the stored key when a replica
	 * answers from its copy, and both name the same store key. */
	struct dp_key k;
	if (!(m->present & DHT_LSP_P_KEY) || !dp_key_of_bytes(&k, m->key, w->cfg->overlay_id)) {
		return false;
	}
	struct dp_rctx_bind answered = {
		.txn = m->hdr.txn_id,
		.type = m->hdr.type,
		.key = dp_key_bytes(&k),
	};
	enum dp_rctx_kind kind;
	struct dp_addr client;
	struct dht_bytes body;
	if (!dp_rctx_open(w->cfg->ctx_key, w->now_s, m->reply_ctx, &answered, &kind, &client,
			  &body)) {
		return false;
	}
	lc_counter_inc(&w->stats.fwd_answers);
	if (kind == DP_RCTX_LSP) {
		answer_lsp(w, m, &client, body);
	} else {
		answer_sip(w, m, kind, &client, body);
	}
	return true;
}
