/* SPDX-License-Identifier: MIT */
/*
 * The redirect server: a request to an AOR of a served domain gets 302 Moved Temporarily with
 * the AOR's live contacts, highest q first (RFC 3261 §8.3, §21.3.3; a contact without q ranks
 * as q=1.0, the highest), each with its remaining expiry; an AOR with no live binding gets 404.
 * The contacts come from the shard's store, or from the owner's LOOKUP answer when the AOR lives
 * on another node (dp_fwd.c); both end in dp_redirect_answer.
 */
#include <string.h>

#include "dataplane/dp_fwd.h"
#include "dataplane/dp_sip.h"

static int rank_q(const struct dp_contact *c)
{
	return c->q < 0 ? 1000 : c->q;
}

/* Insertion sort by q, descending, stable: an AOR has a handful of contacts. */
static void rank(struct dp_contact *c, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		struct dp_contact x = c[i];
		unsigned j = i;
		while (j > 0 && rank_q(&c[j - 1]) < rank_q(&x)) {
			c[j] = c[j - 1];
			j--;
		}
		c[j] = x;
	}
}

void dp_redirect_answer(struct dp_worker *w, const struct dp_addr *src, struct dp_contact *c,
			unsigned n)
{
	if (n == 0) {
		dp_reply_simple(w, src, 404, NULL);
		return;
	}
	rank(c, n);
	struct dp_reply rp;
	if (!dp_reply_begin(&rp, w, src, 302, NULL)) {
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		sip_resp_contact(&rp.r, sip_str_make(c[i].uri.p, c[i].uri.len), c[i].q,
				 (int64_t)c[i].expires_s, (struct sip_str){0}, (struct sip_str){0});
	}
	dp_reply_end(&rp);
}

void dp_redirect(struct dp_worker *w, const struct dp_pkt *in)
{
	const struct sip_msg *m = &w->msg;
	const struct dp_addr *src = &in->peer;
	const struct dp_req *r = &in->req;
	if (!r->key_ok ||
	    (m->ruri.scheme_id != SIP_SCHEME_TEL && !dp_domain_served(w->cfg, m->ruri.host))) {
		dp_reply_simple(w, src, 404, NULL);
		return;
	}
	if (r->fwd != NULL) {
		dp_fwd_lookup(w, in, r->fwd); /* the AOR lives on another node */
		return;
	}
	struct dp_bindings b;
	struct dp_contact c[DP_MAX_BINDINGS];
	dp_bindings_load(w, &r->key, &b);
	const struct dht_peer *next =
		b.n == 0 ? dp_fwd_read_miss(w, &r->key, DHT_LSP_HOP_LIMIT_DEFAULT) : NULL;
	if (next != NULL) {
		dp_fwd_lookup(w, in,
			      next); /* the next of the chain may hold it (the ring settles) */
		return;
	}
	dp_redirect_answer(w, src, c, dp_contacts_of(w, &b, c));
}
