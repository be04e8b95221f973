/* SPDX-License-Identifier: MIT */
/*
 * The SIP half of the reply library: every response a node sends to a SIP request is built
 * here, whether the answer came from the shard's store, from a refusal of the request's rules,
 * or from the owner's LSP answer to a forwarded request (dp_fwd.c), so the UA gets byte for byte
 * the same response either way. The request stages (dp_sip.c, dp_register.c, dp_redirect.c) and
 * the forwarding code call down into it; it calls nothing above it.
 *
 * A response starts from the request's skeleton (status line, Vias, From, To with the stateless
 * To tag, Call-ID, CSeq, Server: dp_reply_begin) and is addressed by RFC 3261 §18.2.2 and RFC
 * 3581 (dp_reply_end): the top Via's maddr when it is an IP literal, else the source address at
 * the rport or sent-by port.
 */
#include <arpa/inet.h>
#include <string.h>

#include "common/lc_error.h"
#include "dataplane/dp_reply_sip.h"
#include "dht/dht_key.h"

void dp_sip_to_tag(const uint8_t key[DP_MAC_KEY_LEN], const struct sip_msg *req,
		   char out[SIP_RESP_TAG_LEN])
{
	uint8_t head[SIP_RESP_TAG_HEAD];
	struct sip_str part[3];
	sip_resp_tag_input(req, head, part);
	struct dp_mac_piece in[4] = {{head, sizeof(head)}};
	for (unsigned i = 0; i < 3; i++) {
		in[i + 1] = (struct dp_mac_piece){part[i].p, part[i].len};
	}
	sip_resp_tag_text(dp_mac_prf64(key, in, 4), out);
}

bool dp_reply_begin(struct dp_reply *rp, struct dp_worker *w, const struct sip_msg *m,
		    const struct dp_addr *src, unsigned code, const char *reason)
{
	rp->w = w;
	rp->req = m;
	rp->src = *src;
	rp->code = code;
	rp->out = dp_pool_get(&w->pool);
	if (rp->out == NULL) {
		lc_counter_inc(&w->stats.drop[DP_DROP_NO_BUFFER]);
		return false;
	}
	if (sip_peer_set(&rp->peer, src->family, src->addr, src->port) != LC_OK) {
		dp_pool_put(&w->pool, rp->out);
		lc_counter_inc(&w->stats.drop[DP_DROP_UNPARSABLE]);
		return false;
	}
	char tag[SIP_RESP_TAG_LEN];
	const char *to_tag = NULL;
	if (sip_resp_wants_tag(m, code)) {
		dp_sip_to_tag(w->cfg->tag_key, m, tag);
		to_tag = tag;
	}
	sip_resp_init(&rp->r, rp->out->data, DP_PKT_CAP);
	sip_resp_start(&rp->r, m, code, reason, &rp->peer, to_tag);
	sip_resp_server(&rp->r, w->cfg->server);
	return true;
}

/*
 * RFC 3261 §18.2.2: when the top Via has maddr, the response goes to that address at the sent-by
 * port (5060 when none; RFC 3581 §4 applies rport only without maddr). Only an IP literal is
 * honoured: a stateless server resolves no names on its fast path, and for a name it falls back
 * to the source address like any other response.
 */
static bool maddr_dest(const struct sip_msg *m, struct dp_addr *out)
{
	if (m->nvia == 0 || !sip_str_present(m->via[0].maddr)) {
		return false;
	}
	struct sip_str a = m->via[0].maddr;
	char ip[INET6_ADDRSTRLEN];
	if (a.len >= 2 && a.p[0] == '[' && a.p[a.len - 1] == ']') {
		a.p++;
		a.len -= 2;
	}
	if (a.len == 0 || a.len >= sizeof(ip)) {
		return false;
	}
	memcpy(ip, a.p, a.len);
	ip[a.len] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, ip, out->addr) == 1) {
		out->family = AF_INET;
	} else if (inet_pton(AF_INET6, ip, out->addr) == 1) {
		out->family = AF_INET6;
	} else {
		return false;
	}
	out->port = m->via[0].port ? m->via[0].port : 5060;
	return true;
}

void dp_reply_end(struct dp_reply *rp)
{
	struct dp_worker *w = rp->w;
	size_t len = 0;
	if (sip_resp_finish(&rp->r, &len) != LC_OK) {
		/* only a response larger than a datagram gets here (the contacts of a huge AOR) */
		lc_counter_inc(&w->stats.drop[DP_DROP_TOO_LARGE]);
		dp_pool_put(&w->pool, rp->out);
		return;
	}
	rp->out->len = (uint32_t)len;
	rp->out->sock = DP_SOCK_SIP;
	if (!maddr_dest(rp->req, &rp->out->peer)) {
		rp->out->peer = rp->src;
		rp->out->peer.port = sip_resp_port(rp->req, &rp->peer);
	}
	lc_counter_inc(&w->stats.sip_resp[dp_code_idx(rp->code)]);
	dp_tx_push(w, rp->out);
}

void dp_reply_simple(struct dp_worker *w, const struct sip_msg *m, const struct dp_addr *src,
		     unsigned code, const char *reason)
{
	struct dp_reply rp;
	if (dp_reply_begin(&rp, w, m, src, code, reason)) {
		dp_reply_end(&rp);
	}
}

void dp_reply_allow(struct dp_worker *w, const struct sip_msg *m, const struct dp_addr *src,
		    unsigned code)
{
	struct dp_reply rp;
	if (dp_reply_begin(&rp, w, m, src, code, NULL)) {
		sip_resp_allow(&rp.r, DP_ALLOW);
		dp_reply_end(&rp);
	}
}

void dp_reply_options(struct dp_worker *w, const struct sip_msg *m, const struct dp_addr *src)
{
	struct dp_reply rp;
	if (dp_reply_begin(&rp, w, m, src, 200, NULL)) {
		sip_resp_allow(&rp.r, DP_ALLOW);
		sip_resp_supported(&rp.r, DP_SUPPORTED);
		sip_resp_header(&rp.r, "Accept", sip_str_make("application/sdp", 15));
		dp_reply_end(&rp);
	}
}

struct dht_bytes dp_sip_path_of(const struct sip_msg *m, char *buf, size_t cap)
{
	_Static_assert(SIP_HDR_COUNT_ <= 32, "a known header field is a bit of sip_msg.seen");
	size_t len = 0;
	if (!(m->seen & (1u << SIP_HDR_PATH))) {
		return (struct dht_bytes){buf,
					  0}; /* the usual case: no walk over the header fields */
	}
	for (unsigned i = 0; i < m->nhdr; i++) {
		const struct sip_hdr *h = &m->hdrs[i];
		if (h->id != SIP_HDR_PATH) {
			continue;
		}
		size_t sep = len > 0 ? 2 : 0;
		if (len + sep + h->value.len > cap) {
			break;
		}
		memcpy(buf + len, ", ", sep);
		memcpy(buf + len + sep, h->value.p, h->value.len);
		len += sep + h->value.len;
	}
	return (struct dht_bytes){buf, (uint32_t)len};
}

unsigned dp_contacts_of(const struct dp_worker *w, const struct dp_bindings *b,
			struct dp_contact *out)
{
	for (unsigned i = 0; i < b->n; i++) {
		const struct dht_binding_data *d = &b->d[i];
		out[i] = (struct dp_contact){
			.uri = d->uri,
			.instance = d->instance,
			.expires_s = d->expires_at_s - w->now_s,
			.reg_id = d->reg_id,
			.q = d->q,
		};
	}
	return b->n;
}

void dp_reply_register_ok(struct dp_worker *w, const struct sip_msg *m, const struct dp_addr *src,
			  const struct dp_contact *c, unsigned n)
{
	struct dp_reply rp;
	if (!dp_reply_begin(&rp, w, m, src, 200, NULL)) {
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		char reg_id_buf[SIP_FMT_UINT_MAX];
		struct sip_str reg_id = {0}, instance = {0};
		if (c[i].instance.len > 0) {
			instance = sip_str_make(c[i].instance.p, c[i].instance.len);
		}
		if (c[i].reg_id != 0) {
			reg_id = sip_str_make(reg_id_buf, sip_fmt_uint(reg_id_buf, c[i].reg_id));
		}
		sip_resp_contact(&rp.r, sip_str_make(c[i].uri.p, c[i].uri.len), c[i].q,
				 (int64_t)c[i].expires_s, instance, reg_id);
	}
	char path_buf[2048];
	struct dht_bytes path = dp_sip_path_of(m, path_buf, sizeof(path_buf));
	if (path.len > 0) {
		sip_resp_header(&rp.r, "Path", sip_str_make(path.p, path.len));
	}
	sip_resp_date(&rp.r, (time_t)w->now_s);
	dp_reply_end(&rp);
}

void dp_reply_register_refused(struct dp_worker *w, const struct sip_msg *m,
			       const struct dp_addr *src, enum dp_update_status st)
{
	struct dp_reply rp;
	switch (st) {
	case DP_UPDATE_TOO_BRIEF:
		if (dp_reply_begin(&rp, w, m, src, 423, NULL)) {
			sip_resp_min_expires(&rp.r, w->cfg->min_expires_s);
			dp_reply_end(&rp);
		}
		return;
	case DP_UPDATE_FULL:
		if (dp_reply_begin(&rp, w, m, src, 503, "Location store full")) {
			sip_resp_retry_after(&rp.r, w->cfg->retry_after_s);
			dp_reply_end(&rp);
		}
		return;
	case DP_UPDATE_NO_QUORUM:
		/* RFC 3261 §21.5.4: a temporary condition; the UA or its proxy tries again later */
		if (dp_reply_begin(&rp, w, m, src, 503, "Write quorum unavailable")) {
			sip_resp_retry_after(&rp.r, w->cfg->retry_after_s);
			dp_reply_end(&rp);
		}
		return;
	case DP_UPDATE_STALE:
		dp_reply_simple(w, m, src, 400, "CSeq out of order");
		return;
	case DP_UPDATE_TOO_MANY:
		dp_reply_simple(w, m, src, 403, "Too many contacts");
		return;
	default:
		/* the store refused what it said would fit: say so rather than lie */
		dp_reply_simple(w, m, src, 500, "Binding store refused the update");
		return;
	}
}

/* The redirect's ranking (RFC 3261 §8.3, §21.3.3): highest q first, a contact without q as
 * q=1.0, the highest. */
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

void dp_reply_redirect(struct dp_worker *w, const struct sip_msg *m, const struct dp_addr *src,
		       struct dp_contact *c, unsigned n)
{
	if (n == 0) {
		dp_reply_simple(w, m, src, 404, NULL);
		return;
	}
	rank(c, n);
	struct dp_reply rp;
	if (!dp_reply_begin(&rp, w, m, src, 302, NULL)) {
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		sip_resp_contact(&rp.r, sip_str_make(c[i].uri.p, c[i].uri.len), c[i].q,
				 (int64_t)c[i].expires_s, (struct sip_str){0}, (struct sip_str){0});
	}
	dp_reply_end(&rp);
}
