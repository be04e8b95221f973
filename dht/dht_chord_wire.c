/* SPDX-License-Identifier: MIT */
/*
 * struct dht_ovl to and from LSP frames (dht_chord_wire.h, docs/lsp.md §11): which TLVs each of
 * the state machine's messages carries, in the canonical order. A view larger than one frame goes
 * as pages: each page is a complete message (same type and transaction id) that a receiver merges
 * on its own, so a lost page costs only its entries until the next gossip round.
 */
#include "dht/dht_chord_wire.h"

#include <string.h>

#include "common/lc_error.h"
#include "dht/lsp_ovl.h"

bool dht_ovl_is_chord_type(unsigned type)
{
	return type >= DHT_LSP_JOIN && type <= DHT_LSP_LEAVE;
}

static struct dht_lsp_node node_of(const struct dht_peer *p)
{
	return (struct dht_lsp_node){.id = p->id, .addr = p->addr};
}

static struct dht_peer peer_of(const struct dht_lsp_node *n)
{
	return (struct dht_peer){.id = n->id, .addr = n->addr};
}

static void put_peers(struct dht_lsp_builder *b, const struct dht_ovl *m)
{
	for (unsigned i = 0; i < m->npeers; i++) {
		struct dht_lsp_node n = node_of(&m->peers[i]);
		dht_lsp_put_peer(b, &n);
	}
}

/* One page of members: from *next, as many as a frame takes. */
static void put_members(struct dht_lsp_builder *b, const struct dht_ovl *m, unsigned *next)
{
	unsigned pages = m->nmembers == 0 ? 1
					  : (m->nmembers + DHT_OVL_MEMBERS_PER_FRAME - 1) /
						    DHT_OVL_MEMBERS_PER_FRAME;
	struct dht_lsp_page pg = {.index = (uint16_t)(*next / DHT_OVL_MEMBERS_PER_FRAME),
				  .count = (uint16_t)pages};
	dht_lsp_put_page(b, &pg);
	unsigned end = *next + DHT_OVL_MEMBERS_PER_FRAME;
	end = end < m->nmembers ? end : m->nmembers;
	for (unsigned i = *next; i < end; i++) {
		const struct dht_ovl_member *e = &m->members[i];
		struct dht_lsp_member mb = {.id = e->peer.id,
					    .addr = e->peer.addr,
					    .incarnation = e->incarnation,
					    .state = e->state};
		dht_lsp_put_member(b, &mb);
	}
	*next = end;
}

int dht_ovl_encode(const struct dht_ovl *m, uint64_t overlay_id, unsigned *next, void *buf,
		   size_t cap, size_t *len)
{
	struct dht_lsp_builder b;
	dht_lsp_build_init(&b, buf, cap);
	struct dht_lsp_node self = node_of(&m->from);
	if (m->answer) {
		struct dht_lsp_hdr h = {.type = m->type,
					.flags = DHT_LSP_F_ANSWER,
					.hop_limit = DHT_LSP_HOP_LIMIT_OVERLAY,
					.txn_id = m->txn,
					.overlay_id = overlay_id};
		dht_lsp_build_hdr(&b, &h);
		dht_lsp_put_status(&b, m->status ? m->status : DHT_LSP_S_OK);
		dht_lsp_put_sender(&b, &self);
	} else {
		dht_lsp_ovl_request_start(&b, m->type, m->txn, overlay_id, &self);
	}
	struct dht_lsp_digest dg = {.hash = m->digest, .count = m->digest_count};
	switch (m->type) {
	case DHT_LSP_JOIN:
		if (m->answer) {
			dht_lsp_put_ring_size(&b, m->ring_size);
			dht_lsp_put_view_digest(&b, &dg);
			put_members(&b, m, next);
		} else {
			dht_lsp_put_incarnation(&b, m->incarnation);
		}
		break;
	case DHT_LSP_FIND_SUCCESSOR:
		dht_lsp_put_target(&b, m->target);
		if (m->answer) {
			put_peers(&b, m);
			dht_lsp_put_flags(&b, m->flags);
		}
		break;
	case DHT_LSP_GET_PREDECESSOR:
	case DHT_LSP_SUCCESSOR_LIST:
		if (m->answer) {
			if (m->has_pred && m->type == DHT_LSP_GET_PREDECESSOR) {
				struct dht_lsp_node p = node_of(&m->pred);
				dht_lsp_put_predecessor(&b, &p);
			}
			put_peers(&b, m);
		}
		break;
	case DHT_LSP_NODE_PING:
		dht_lsp_put_incarnation(&b, m->incarnation);
		break;
	case DHT_LSP_MEMBERSHIP:
		dht_lsp_put_view_digest(&b, &dg);
		if (!m->answer && m->flags != 0) {
			dht_lsp_put_flags(&b, m->flags);
		}
		if (m->nmembers > 0) {
			put_members(&b, m, next);
		}
		break;
	case DHT_LSP_LEAVE:
		if (!m->answer) {
			dht_lsp_put_incarnation(&b, m->incarnation);
			put_peers(&b, m);
		}
		break;
	default:
		break;
	}
	return dht_lsp_build_finish(&b, len);
}

int dht_ovl_decode(const void *buf, size_t len, uint64_t overlay_id, struct dht_ovl *out,
		   struct dht_ovl_member *members, unsigned cap)
{
	struct dht_lsp_ovl_msg m;
	int ret = dht_lsp_ovl_parse(&m, buf, len);
	if (ret != LC_OK) {
		return ret;
	}
	if (!dht_ovl_is_chord_type(m.hdr.type) || m.hdr.overlay_id != overlay_id ||
	    !(m.present & DHT_LSP_O_SENDER)) {
		return LC_EINVAL;
	}
	memset(out, 0, sizeof(*out));
	out->type = m.hdr.type;
	out->answer = dht_lsp_ovl_is_answer(&m);
	out->status = m.status;
	out->txn = m.hdr.txn_id;
	out->from = peer_of(&m.sender);
	out->incarnation = m.incarnation;
	out->flags = m.flags;
	out->ring_size = m.ring_size;
	out->page = 0;
	out->pages = 1; /* PAGE absent: the whole view in one message */
	if (m.present & DHT_LSP_O_PAGE) {
		out->page = m.page.index;
		out->pages = m.page.count;
	}
	out->target = m.target;
	out->digest = m.digest.hash;
	out->digest_count = m.digest.count;
	if (m.present & DHT_LSP_O_PREDECESSOR) {
		out->has_pred = true;
		out->pred = peer_of(&m.predecessor);
	}
	struct dht_lsp_iter it = dht_lsp_ovl_peers(&m);
	struct dht_lsp_node n;
	while (out->npeers < DHT_MAX_SUCCESSORS && dht_lsp_ovl_next_peer(&it, &n)) {
		out->peers[out->npeers++] = peer_of(&n);
	}
	it = dht_lsp_ovl_members(&m);
	struct dht_lsp_member mb;
	out->members = members;
	while (out->nmembers < cap && dht_lsp_ovl_next_member(&it, &mb)) {
		members[out->nmembers++] = (struct dht_ovl_member){
			.peer = {.id = mb.id, .addr = mb.addr},
			.incarnation = mb.incarnation,
			.state = mb.state,
		};
	}
	return LC_OK;
}
