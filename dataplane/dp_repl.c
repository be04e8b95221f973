/* SPDX-License-Identifier: MIT */
/*
 * Chain replication (dp_repl.h, docs/overlay.md §6, docs/lsp.md §11).
 *
 * The chain of a key is its replica set as the routing table orders it: owner, replica 1,
 * replica 2, ... The owner sends REPLICA_STORE (position 1) to replica 1; a replica applies the
 * entry (merging it, record by record), and passes the entry on to the next replica while its
 * position is below R-1. The replica at position W-1 (it completes the write quorum W) answers
 * the node that waits for the write: REPLY_TO, which the owner sets to the node facing the client
 * (itself when the client asked it), with the original transaction id and type and the reply
 * context that node sealed, and the key's records as the merged copy holds them. That node
 * answers its client from it as from any owner's answer (dp_fwd_answer), so nothing is kept per
 * request and no node sends a datagram to itself: a replicated write costs the chain's messages,
 * one answer, and the client's request and response.
 *
 * Versions: every record carries its own (dp_update.c gives them, dp_version_next), and a
 * replica merges the entry record by record (dht_store_merge): tombstones travel like bindings,
 * so a removal reaches the replicas as a record that beats the binding, never as an absence.
 *
 * Trust (docs/overlay.md 6.3): a replication message is taken only from a live member of the
 * node's view at the address the view has for it, and only when this node, the sender and the
 * chain's head are all in the key's chain as this node's view has it (widened by
 * DHT_SYNC_SLACK nodes while the ring changes); its answer goes where the owner says (REPLY_TO).
 * Anything else is dropped and counted (drops.replica_untrusted).
 */
#include <string.h>

#include "common/lc_error.h"
#include "dataplane/dp_repl.h"
#include "dataplane/dp_reply_lsp.h"
#include "dataplane/dp_update.h"
#include "dht/dht_sync.h"

/* Position of self in a replica set, or -1. */
static int position_of(const struct dht_route *rt, const struct dht_peer *const *set, unsigned k)
{
	for (unsigned i = 0; i < k; i++) {
		if (dht_route_is_self(rt, set[i])) {
			return (int)i;
		}
	}
	return -1;
}

static struct dht_lsp_node node_of(const struct dht_peer *p)
{
	return (struct dht_lsp_node){.id = p->id, .addr = p->addr};
}

/* The key's records, tombstones included, with everything a replica stores (absolute expiry,
 * version, writer). */
void dp_repl_put_entry(struct dht_lsp_builder *b, const struct dp_key *k,
		       const struct dp_bindings *bs, uint64_t version)
{
	static const struct dht_bytes all = {.p = "*", .len = 1};
	dht_lsp_entry_begin(b, k->aor, k->len, version);
	for (unsigned i = 0; i < bs->n; i++) {
		const struct dht_binding_data *d = &bs->d[i];
		struct dht_lsp_record r = {
			.present = DHT_LSP_P_CONTACT | DHT_LSP_P_REPLICATION | DHT_LSP_P_CSEQ |
				   DHT_LSP_P_REC_VERSION | DHT_LSP_P_WRITER,
			.contact = d->kind == DHT_REC_CLEARED ? all : d->uri,
			.expires_at_s = d->expires_at_s,
			.registered_at_s = d->registered_at_s,
			.txn_tag = d->txn_tag,
			.cseq = d->cseq,
			.q = d->q,
			.reg_id = d->reg_id,
			.instance = d->instance,
			.path = d->path,
			.attrs = d->attrs,
			.call_id = d->call_id,
			.src = d->src,
			.version = d->version,
			.writer = d->writer,
			.removed = d->kind,
		};
		r.present |= d->kind != DHT_REC_LIVE ? DHT_LSP_P_REMOVED : 0;
		r.present |= d->q >= 0 ? DHT_LSP_P_Q : 0;
		r.present |= d->reg_id != 0 ? DHT_LSP_P_REG_ID : 0;
		r.present |= d->instance.len > 0 ? DHT_LSP_P_INSTANCE : 0;
		r.present |= d->path.len > 0 ? DHT_LSP_P_PATH : 0;
		r.present |= d->attrs.len > 0 ? DHT_LSP_P_ATTRS : 0;
		r.present |= d->call_id.len > 0 ? DHT_LSP_P_CALL_ID : 0;
		r.present |= (d->src.family != 0) ? DHT_LSP_P_SOURCE : 0;
		dht_lsp_put_record(b, &r);
	}
	dht_lsp_entry_end(b);
}

void dp_records_load(struct dp_worker *w, const struct dp_key *k, struct dp_bindings *out)
{
	struct dht_aor *aor = dht_store_find(w->store, k->id, k->aor, k->len);
	out->n = aor != NULL ? dht_aor_records(aor, w->now_s, out->b, DP_MAX_BINDINGS) : 0;
	for (unsigned i = 0; i < out->n; i++) {
		dht_binding_read(out->b[i], &out->d[i]);
	}
}

static struct dp_pkt *lsp_out(struct dp_worker *w)
{
	struct dp_pkt *out = dp_pool_get(&w->pool);
	if (out == NULL) {
		lc_counter_inc(&w->stats.drop[DP_DROP_NO_BUFFER]);
	}
	return out;
}

static void send_to(struct dp_worker *w, struct dp_pkt *out, size_t len, const struct dht_addr *to)
{
	out->len = (uint32_t)len;
	out->sock = DP_SOCK_LSP;
	dp_addr_of(to, &out->peer);
	dp_tx_push_member(w, out);
}

bool dp_repl_quorum_reachable(const struct dp_worker *w, const struct dp_key *key)
{
	const struct dht_route *rt = w->rt;
	if (rt == NULL || rt->solo) {
		return true; /* a ring of one by configuration acknowledges alone */
	}
	unsigned need = LC_MIN(w->cfg->write_quorum, rt->replicas);
	const struct dht_peer *set[DHT_MAX_REPLICAS];
	unsigned k = dht_route_replicas(rt, key->id, set, DHT_MAX_REPLICAS);
	int pos = position_of(rt, set, k);
	/* the copies the chain can make from here: this node and the replicas after it */
	return pos >= 0 && k - (unsigned)pos >= need;
}

bool dp_repl_write(struct dp_worker *w, const struct dp_key *key, const struct dp_repl_answer *ans)
{
	const struct dht_route *rt = w->rt;
	if (rt == NULL) {
		return false;
	}
	const struct dht_peer *set[DHT_MAX_REPLICAS];
	unsigned k = dht_route_replicas(rt, key->id, set, DHT_MAX_REPLICAS);
	int pos = position_of(rt, set, k);
	if (k <= 1 || pos < 0 || (unsigned)pos + 1 >= k) {
		return false; /* alone, or the last of the chain (nothing to wait for) */
	}
	struct dht_aor *aor = dht_store_find(w->store, key->id, key->aor, key->len);
	uint64_t version = aor != NULL ? dht_aor_version(aor) : 0;
	struct dp_bindings bs;
	dp_records_load(w, key, &bs);

	unsigned left = k - (unsigned)pos; /* copies from here to the end of the chain */
	unsigned quorum = LC_MIN(w->cfg->write_quorum, left);
	bool wait = quorum > 1;
	struct dp_pkt *out = lsp_out(w);
	if (out == NULL) {
		return wait; /* no buffer for the copy: not acknowledged (the client retransmits) */
	}
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, out->data, DP_PKT_CAP);
	struct dht_lsp_node self = node_of(&rt->self);
	dht_lsp_ovl_request_start(&b, DHT_LSP_REPLICA_STORE, ans->txn ^ version, w->cfg->overlay_id,
				  &self);
	struct dht_lsp_chain chain = {
		.position = 1, .quorum = (uint8_t)quorum, .replicas = (uint8_t)left};
	dht_lsp_put_chain(&b, &chain);
	if (wait) {
		dht_lsp_put_reply_to(&b, &ans->to);
		dht_lsp_put_orig_txn(&b, ans->txn);
		dht_lsp_put_orig_type(&b, ans->type);
		if (ans->ctx.p != NULL) {
			dht_lsp_put_reply_ctx(&b, ans->ctx.p, ans->ctx.len);
		}
	}
	dp_repl_put_entry(&b, key, &bs, version);
	size_t len = 0;
	if (dht_lsp_build_finish(&b, &len) != LC_OK) {
		/* the key's records outgrew one datagram: no copy can be made, so the write is not
		 * acknowledged (the client's retransmissions fail alike); counted */
		dp_pool_put(&w->pool, out);
		lc_counter_inc(&w->stats.drop[DP_DROP_FWD_TOO_LARGE]);
		return wait;
	}
	send_to(w, out, len, &set[pos + 1]->addr);
	lc_counter_inc(&w->stats.repl_out);
	return wait;
}

/* ---- at a replica ---------------------------------------------------------------------------- */

unsigned dp_repl_classify(struct dp_worker *w, struct dp_pkt *pkt)
{
	struct dht_lsp_ovl_msg *m = &pkt->msg.ovl;
	struct dp_req *r = &pkt->req;
	r->key_ok = false;
	r->fwd = NULL;
	if (dht_lsp_ovl_parse(m, pkt->data, pkt->len) != LC_OK ||
	    m->hdr.type != DHT_LSP_REPLICA_STORE || dht_lsp_ovl_is_answer(m) ||
	    m->hdr.overlay_id != w->cfg->overlay_id) {
		return w->id;
	}
	/* an entry's key is stored as it is: the owner sent its stored key */
	struct dht_bytes key = m->first_key;
	if (key.len == 0 || key.len > sizeof(r->key.aor)) {
		return w->id;
	}
	memcpy(r->key.aor, key.p, key.len);
	r->key.len = (uint16_t)key.len;
	r->key.id = dht_key_of(r->key.aor, r->key.len, w->cfg->overlay_id);
	r->key_ok = true;
	return dht_shard_of(r->key.id, w->node->nworkers);
}

/*
 * The member that sent @p m, as the transport vouches for it: the live member of the view whose
 * id is the message's SENDER and whose address in the view is the datagram's source (an id is
 * checked to belong to that address, not only to be a member's), and, on a secured node, whose
 * own tag the datagram carried (DP_PKT_AUTHED with its id); NULL for anyone else.
 */
static const struct dht_peer *repl_sender(const struct dp_worker *w,
					  const struct dht_lsp_ovl_msg *m, const struct dp_pkt *in)
{
	if (w->rt == NULL || !(m->present & DHT_LSP_O_SENDER)) {
		return NULL;
	}
	if (w->cfg->secured && (!(in->flags & DP_PKT_AUTHED) || in->auth_id != m->sender.id)) {
		return NULL; /* secured: the member's own tag (dp_member.c), not an id anyone writes */
	}
	struct dht_addr src = {.family = in->peer.family, .port = in->peer.port};
	memcpy(src.addr, in->peer.addr, sizeof(src.addr));
	const struct dht_peer p = {.id = m->sender.id, .addr = src};
	return dht_sync_from_member(w->rt, &p) ? dht_sync_member(w->rt, p.id) : NULL;
}

/*
 * The head of the chain @p m serves (where the acknowledgement goes), as the view has it: the
 * OWNER it names, when that is a live member at the address the view has for it, else NULL; the
 * sender when it names none (the owner sends to replica 1 without OWNER).
 */
static const struct dht_peer *repl_owner(const struct dp_worker *w, const struct dht_lsp_ovl_msg *m,
					 const struct dht_peer *from)
{
	if (!(m->present & DHT_LSP_O_OWNER)) {
		return from;
	}
	const struct dht_peer p = {.id = m->owner.id, .addr = m->owner.addr};
	return dht_sync_from_member(w->rt, &p) ? dht_sync_member(w->rt, p.id) : NULL;
}

/*
 * Whether this node takes the REPLICA_STORE @p m from @p from for a chain headed by @p owner
 * (docs/overlay.md 6.3): for every entry of this shard, this node, the sender and the owner are
 * all in the key's chain as this node's view has it, widened by DHT_SYNC_SLACK nodes for a ring
 * that is changing. A member outside a key's chain can neither write its copies nor make the
 * owner answer for it.
 */
static bool chain_allows(const struct dp_worker *w, const struct dht_lsp_ovl_msg *m,
			 const struct dht_peer *from, const struct dht_peer *owner)
{
	const struct dht_route *rt = w->rt;
	struct dht_lsp_iter it = dht_lsp_ovl_entries(m);
	struct dht_lsp_entry e;
	while (dht_lsp_ovl_next_entry(&it, &e)) {
		dht_id_t id = dht_key_of(e.key.p, e.key.len, w->cfg->overlay_id);
		if (dht_shard_of(id, w->node->nworkers) == w->id &&
		    (!dht_sync_in_chain(rt, id, rt->self.id) ||
		     !dht_sync_in_chain(rt, id, from->id) ||
		     !dht_sync_in_chain(rt, id, owner->id))) {
			return false;
		}
	}
	return true;
}

int dp_repl_apply_entry(struct dp_worker *w, dht_id_t id, const struct dht_lsp_entry *e)
{
	static __thread struct dht_binding_data d[DHT_LSP_MAX_ENTRY_RECORDS];
	unsigned n = 0;
	struct dht_lsp_iter it = e->records;
	struct dht_lsp_record r;
	while (n < DHT_LSP_MAX_ENTRY_RECORDS && dht_lsp_ovl_next_record(&it, &r)) {
		bool versioned = r.present & DHT_LSP_P_REC_VERSION;
		uint8_t kind = (r.present & DHT_LSP_P_REMOVED) ? r.removed : DHT_REC_LIVE;
		d[n++] = (struct dht_binding_data){
			.version = versioned ? r.version : e->version,
			.writer = versioned && (r.present & DHT_LSP_P_WRITER) ? r.writer : 0,
			.kind = kind,
			.uri = kind == DHT_REC_CLEARED ? (struct dht_bytes){0} : r.contact,
			.call_id = r.call_id,
			.instance = r.instance,
			.path = r.path,
			.attrs = r.attrs,
			.expires_at_s = (r.present & DHT_LSP_P_EXPIRES_AT) ? r.expires_at_s
									   : w->now_s + r.expires_s,
			.registered_at_s = (r.present & DHT_LSP_P_REGISTERED_AT) ? r.registered_at_s
										 : w->now_s,
			.cseq = r.cseq,
			.reg_id = r.reg_id,
			.txn_tag = r.txn_tag,
			.q = (r.present & DHT_LSP_P_Q) ? r.q : -1,
			.src = r.src,
		};
	}
	if (n == 0) {
		/* an ENTRY without records says nothing (docs/lsp.md §11.5): a removal travels as a
		 * REMOVED record, never as an absence, so an empty entry can undo nothing */
		return LC_ESTALE;
	}
	struct dht_merge_bounds b = dht_merge_bounds_at(w->now_s, w->now_ms, w->cfg->max_expires_s);
	int ret = dht_store_merge(w->store, id, e->key.p, e->key.len, d, n, &b);
	if (ret == LC_OK) {
		lc_counter_inc(&w->stats.repl_in);
	} else if (ret != LC_ESTALE) {
		lc_counter_inc(&w->stats.drop[DP_DROP_REPL_REFUSED]);
	}
	return ret;
}

/* Apply one entry of our shard; the status a replica reports for it. */
static unsigned apply_entry(struct dp_worker *w, dht_id_t id, const struct dht_lsp_entry *e)
{
	int ret = dp_repl_apply_entry(w, id, e);
	/* a record refused for a clock far ahead is not held: not a copy to count on (the client is
	 * told to try again later, as when too few nodes could hold it) */
	return ret == LC_OK || ret == LC_ESTALE ? DHT_LSP_S_OK
	       : ret == LC_EFULL		? DHT_LSP_S_FULL
	       : ret == LC_EFUTURE		? DHT_LSP_S_UNAVAILABLE
						: DHT_LSP_S_INTERNAL;
}

/* Pass the entry on to the next replica of the chain, as this node's routing table orders it. */
static void pass_on(struct dp_worker *w, const struct dp_key *key, struct dht_lsp_ovl_msg *m)
{
	const struct dht_route *rt = w->rt;
	const struct dht_peer *set[DHT_MAX_REPLICAS];
	unsigned k = dht_route_replicas(rt, key->id, set, DHT_MAX_REPLICAS);
	int pos = position_of(rt, set, k);
	if (pos < 0 || (unsigned)pos + 1 >= k) {
		return; /* our view has no next replica: the range sync will fill it in */
	}
	if (!(m->present & DHT_LSP_O_OWNER)) {
		m->owner = m->sender;
		m->present |= DHT_LSP_O_OWNER;
	}
	m->sender = node_of(&rt->self);
	m->chain.position++;
	struct dp_pkt *out = lsp_out(w);
	if (out == NULL) {
		return;
	}
	size_t len = 0;
	if (dht_lsp_ovl_encode(m, out->data, DP_PKT_CAP, &len) != LC_OK) {
		dp_pool_put(&w->pool, out);
		return;
	}
	send_to(w, out, len, &set[pos + 1]->addr);
	lc_counter_inc(&w->stats.repl_out);
}

/*
 * The quorum holds the write (this node completes it): answer the node that waits for it, the
 * REPLY_TO the owner named (itself, or the node facing the client), with the answer the owner
 * would give: the original request's type and transaction id, its reply context, and on success
 * the key's live records as this copy holds them (the entry just merged made them the owner's).
 * That node answers its client from it (dp_fwd_answer). The owner is not told: it keeps nothing
 * per request, so an acknowledgement to it would only be relayed.
 *
 * Whom it goes to: REPLY_TO is the owner's word, and the owner is a member of the key's chain
 * (chain_allows); it set REPLY_TO to itself or took it from a member's forwarded request
 * (dp_member_sent), which is all the owner would check before answering it. This node need
 * not know that node (with finger routing its table holds a few members only); on a secured
 * ring the answer is tagged, so it goes only over a link, to a member (dp_tx_push_member).
 */
static void answer_waiting(struct dp_worker *w, const struct dp_key *key,
			   const struct dht_lsp_ovl_msg *m, unsigned status)
{
	const uint32_t need = DHT_LSP_O_REPLY_TO | DHT_LSP_O_ORIG_TXN | DHT_LSP_O_ORIG_TYPE;
	if ((m->present & need) != need) {
		return; /* nobody waits for this write */
	}
	struct dp_reply_lsp_to to = {
		.addr = m->reply_to,
		.txn = m->orig_txn,
		.type = m->orig_type,
		.ctx = (m->present & DHT_LSP_O_REPLY_CTX) ? m->reply_ctx : (struct dht_bytes){0},
	};
	dp_reply_lsp_quorum(w, key, &to, status);
}

void dp_repl_handle(struct dp_worker *w, struct dp_pkt *in)
{
	struct dht_lsp_ovl_msg *m = &in->msg.ovl;
	const struct dht_peer *from = in->req.key_ok ? repl_sender(w, m, in) : NULL;
	if (from == NULL) {
		lc_counter_inc(&w->stats.drop[DP_DROP_REPL_UNTRUSTED]);
		return;
	}
	const struct dht_peer *owner = repl_owner(w, m, from);
	if (owner == NULL || !chain_allows(w, m, from, owner)) {
		lc_counter_inc(&w->stats.drop[DP_DROP_REPL_UNTRUSTED]);
		return;
	}
	unsigned status = DHT_LSP_S_OK;
	struct dht_lsp_iter it = dht_lsp_ovl_entries(m);
	struct dht_lsp_entry e;
	while (dht_lsp_ovl_next_entry(&it, &e)) {
		dht_id_t id = dht_key_of(e.key.p, e.key.len, w->cfg->overlay_id);
		if (dht_shard_of(id, w->node->nworkers) != w->id) {
			continue; /* senders put one entry per message; others are not this shard's */
		}
		unsigned st = apply_entry(w, id, &e);
		status = st != DHT_LSP_S_OK ? st : status;
	}
	if (m->chain.position + 1u == m->chain.quorum) {
		answer_waiting(w, &in->req.key, m, status);
	}
	if (status == DHT_LSP_S_OK && m->chain.position + 1u < m->chain.replicas) {
		pass_on(w, &in->req.key, m);
	}
}
