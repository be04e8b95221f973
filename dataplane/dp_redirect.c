/* SPDX-License-Identifier: MIT */
/*
 * The redirect server: a request to an AOR of a served domain gets 302 Moved Temporarily with
 * the AOR's live contacts, highest q first (RFC 3261 §8.3, §21.3.3; a contact without q ranks
 * as q=1.0, the highest), each with its remaining expiry; an AOR with no live binding gets 404.
 */
#include <string.h>

#include "dataplane/dp_sip.h"

struct ranked {
	struct dht_binding_data d;
	int q;
};

/* Insertion sort by q, descending, stable: an AOR has a handful of contacts. */
static void rank(struct ranked *r, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		struct ranked x = r[i];
		unsigned j = i;
		while (j > 0 && r[j - 1].q < x.q) {
			r[j] = r[j - 1];
			j--;
		}
		r[j] = x;
	}
}

void dp_redirect(struct dp_worker *w, const struct dp_pkt *in)
{
	const struct sip_msg *m = &w->msg;
	if (!w->key_ok ||
	    (m->ruri.scheme_id != SIP_SCHEME_TEL && !dp_domain_served(w->cfg, m->ruri.host))) {
		dp_reply_simple(w, in, 404, NULL);
		return;
	}
	struct dht_aor *aor = dht_store_find(w->store, w->key, w->aor, w->aor_len);
	struct dht_binding *live[DP_MAX_BINDINGS];
	unsigned n = aor != NULL ? dht_aor_bindings(aor, w->now_s, live, DP_MAX_BINDINGS) : 0;
	if (n == 0) {
		dp_reply_simple(w, in, 404, NULL);
		return;
	}
	struct ranked r[DP_MAX_BINDINGS];
	for (unsigned i = 0; i < n; i++) {
		dht_binding_read(live[i], &r[i].d);
		r[i].q = r[i].d.q < 0 ? 1000 : r[i].d.q;
	}
	rank(r, n);
	struct dp_reply rp;
	if (!dp_reply_begin(&rp, w, in, 302, NULL)) {
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		sip_resp_contact(&rp.r, sip_str_make(r[i].d.uri.p, r[i].d.uri.len), r[i].d.q,
				 (int64_t)(r[i].d.expires_at_s - w->now_s), (struct sip_str){0},
				 (struct sip_str){0});
	}
	dp_reply_end(&rp);
}
