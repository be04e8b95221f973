/* SPDX-License-Identifier: MIT */
/*
 * REGISTER (RFC 3261 §10.3), the SIP face of the registrar: steps 1 and 5 (a served domain, the
 * To AOR), the wildcard rules of step 6, the translation of the request into a dp_update, and the
 * answer of step 8: 200 OK listing every live binding with its remaining expiry, its q,
 * +sip.instance and reg-id, the request's Path (RFC 3327 §5.3) and a Date.
 *
 * Statelessness: nothing but the bindings is kept. The transaction tag is a hash of the top Via
 * branch, so a retransmission finds the bindings the original wrote (same Call-ID, CSeq and tag),
 * changes nothing, and gets the same answer with the same To tag.
 */
#include <string.h>

#include "common/lc_error.h"
#include "dataplane/dp_fwd.h"
#include "dataplane/dp_sip.h"
#include "dht/dht_key.h"

static struct dht_bytes bytes_of(struct sip_str s)
{
	return (struct dht_bytes){s.p, (uint32_t)s.len};
}

static uint32_t parse_reg_id(struct sip_str s)
{
	uint64_t v = 0;
	for (size_t i = 0; i < s.len && v <= UINT32_MAX; i++) {
		if (s.p[i] < '0' || s.p[i] > '9') {
			return 0;
		}
		v = v * 10 + (unsigned)(s.p[i] - '0');
	}
	return v <= UINT32_MAX ? (uint32_t)v : 0;
}

static void to_update(const struct sip_msg *m, const struct dp_addr *src, struct dp_update *u,
		      char *path, size_t path_cap)
{
	u->remove_all = m->contact_star;
	u->call_id = bytes_of(m->call_id);
	u->cseq = m->cseq;
	u->txn_tag = 0;
	if (m->nvia > 0 && sip_str_present(m->via[0].branch)) {
		u->txn_tag = (uint32_t)dht_key_of(m->via[0].branch.p, m->via[0].branch.len, 0);
	}
	u->expires = m->expires;
	u->path = dp_sip_path_of(m, path, path_cap);
	u->src = (struct dht_addr){.family = src->family,
				   .transport = m->nvia > 0 ? m->via[0].transport_id : 0,
				   .port = src->port};
	memcpy(u->src.addr, src->addr, sizeof(u->src.addr));
	u->n = m->ncontact;
	for (unsigned i = 0; i < m->ncontact; i++) {
		const struct sip_contact *c = &m->contact[i];
		struct dp_update_contact *uc = &u->c[i];
		uc->uri = bytes_of(c->addr.uri.raw);
		uc->parsed = c->addr.uri;
		uc->parsed_ok = true;
		uc->instance = bytes_of(c->instance);
		uc->attrs = (struct dht_bytes){0};
		uc->call_id = u->call_id;
		uc->cseq = m->cseq;
		uc->reg_id = parse_reg_id(c->reg_id);
		uc->expires = c->expires;
		uc->q = c->q;
	}
}

/* Answer from the shard's store: 200 with the bindings, or the refusal. */
static void answer_local(struct dp_worker *w, const struct sip_msg *m, const struct dp_addr *src,
			 enum dp_update_status st, const struct dp_bindings *b)
{
	if (st != DP_UPDATE_OK) {
		dp_reply_register_refused(w, m, src, st);
		return;
	}
	struct dp_contact c[DP_MAX_BINDINGS];
	dp_reply_register_ok(w, m, src, c, dp_contacts_of(w, b, c));
}

void dp_register(struct dp_worker *w, const struct dp_pkt *in)
{
	const struct sip_msg *m = &in->msg.sip;
	const struct dp_addr *src = &in->peer;
	const struct dp_req *r = &in->req;
	/* step 1: the Request-URI names a domain we serve (an IP literal names this node) */
	if (m->ruri.host_type == SIP_HOST_NAME && !dp_domain_served(w->cfg, m->ruri.host)) {
		dp_reply_simple(w, m, src, 404, "Domain not served here");
		return;
	}
	/* step 5: the To AOR is a SIP or SIPS URI of a served domain */
	bool sip_to =
		m->to.uri.scheme_id == SIP_SCHEME_SIP || m->to.uri.scheme_id == SIP_SCHEME_SIPS;
	if (!sip_to || !r->key_ok || !dp_domain_served(w->cfg, m->to.uri.host)) {
		dp_reply_simple(w, m, src, 404, "Address-of-record not served here");
		return;
	}
	/* step 6: "*" only alone and only with Expires: 0 */
	if (m->contact_star && (m->ncontact > 0 || m->expires != 0)) {
		dp_reply_simple(w, m, src, 400, "Contact * needs Expires: 0 and no other Contact");
		return;
	}
	char path[2048];
	struct dp_bindings b;
	struct dp_update u;
	to_update(m, src, &u, path, sizeof(path));
	if (r->fwd != NULL) {
		dp_fwd_register(w, in, &u); /* the key's owner is another node */
	} else if (u.n == 0 && !u.remove_all) {
		/* a query: the current bindings, nothing changes */
		dp_bindings_load(w, &r->key, &b);
		answer_local(w, m, src, DP_UPDATE_OK, &b);
	} else {
		enum dp_update_status st = dp_update_apply(w, &r->key, &u, &b);
		if (st == DP_UPDATE_OK && dp_fwd_replicate_sip(w, in, u.remove_all)) {
			return; /* answered when the write quorum holds it */
		}
		answer_local(w, m, src, st, &b);
	}
}
