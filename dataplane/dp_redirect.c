/* SPDX-License-Identifier: MIT */
/*
 * The redirect server: a request to an AOR of a served domain gets 302 Moved Temporarily with
 * the AOR's live contacts, highest q first (RFC 3261 §8.3, §21.3.3; a contact without q ranks
 * as q=1.0, the highest), each with its remaining expiry; an AOR with no live binding gets 404.
 * The contacts come from the shard's store, or from the owner's LOOKUP answer when the AOR lives
 * on another node (dp_fwd.c); both end in the reply library's dp_reply_redirect.
 */
#include <string.h>

#include "dataplane/dp_fwd.h"
#include "dataplane/dp_sip.h"

void dp_redirect(struct dp_worker *w, const struct dp_pkt *in)
{
	const struct sip_msg *m = &in->msg.sip;
	const struct dp_addr *src = &in->peer;
	const struct dp_req *r = &in->req;
	if (!r->key_ok ||
	    (m->ruri.scheme_id != SIP_SCHEME_TEL && !dp_domain_served(w->cfg, m->ruri.host))) {
		dp_reply_simple(w, m, src, 404, NULL);
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
	dp_reply_redirect(w, m, src, c, dp_contacts_of(w, &b, c));
}
