/* SPDX-License-Identifier: MIT */
/*
 * The SIP side of a worker: classify a datagram (parse it and find the shard of its key), then
 * answer it as a stateless registrar and redirect server (RFC 3261 §8.2, §10.3, §12, §21).
 *
 * How a request is answered, in order (each step is a rule of RFC 3261 or of the matrix):
 *   1. It does not parse: 400 with the parser's precise reason (505 for another SIP version, 413
 *      when too large) if a response can be addressed, else it is dropped and counted.
 *   2. A response, or an ACK: nothing is sent (a stateless server absorbs ACK, §17.2.1).
 *   3. Max-Forwards 0: 483 (§16.3 step 3; a redirect server checks it like a proxy would).
 *   4. Request-URI scheme other than sip, sips or tel: 416 (§8.2.2.1).
 *   5. Require with an extension we do not support: 420 listing them in Unsupported (§8.2.2.3;
 *      never for CANCEL).
 *   6. By method: REGISTER to the registrar; CANCEL 200 (nothing to cancel statelessly); BYE and
 *      any request carrying a To tag 481 (no dialogs here, §12.2.2); OPTIONS to the node itself
 *      200 with Allow and Supported (§11.2); INVITE, OPTIONS, SUBSCRIBE, NOTIFY, MESSAGE and REFER
 *      to an AOR: 302 or 404; other RFC methods 405 with Allow; unknown methods 501 (§8.2.1).
 */
#include <arpa/inet.h>
#include <string.h>

#include "common/lc_error.h"
#include "dataplane/dp_fwd.h"
#include "dataplane/dp_sip.h"
#include "dht/dht_key.h"

static bool redirectable(enum sip_method m)
{
	switch (m) {
	case SIP_METHOD_INVITE:
	case SIP_METHOD_OPTIONS:
	case SIP_METHOD_SUBSCRIBE:
	case SIP_METHOD_NOTIFY:
	case SIP_METHOD_MESSAGE:
	case SIP_METHOD_REFER:
		return true;
	default:
		return false;
	}
}

unsigned dp_sip_classify(struct dp_worker *w, struct dp_pkt *pkt)
{
	struct sip_msg *m = &w->msg;
	w->key_ok = false;
	w->fwd = NULL;
	if (sip_parse(m, pkt->data, pkt->len) != LC_OK || !m->is_request) {
		return w->id;
	}
	const struct sip_uri *uri;
	if (m->method_id == SIP_METHOD_REGISTER) {
		uri = &m->to.uri;
	} else if (redirectable(m->method_id) && !sip_str_present(m->to.tag) &&
		   sip_str_present(m->ruri.user)) {
		uri = &m->ruri;
	} else {
		return w->id;
	}
	w->key_ok = dp_key_of_uri(w, uri);
	if (!w->key_ok) {
		return w->id;
	}
	/* a key of another node is forwarded by whichever worker received it */
	dp_fwd_route(w, m->method_id != SIP_METHOD_REGISTER, false);
	return w->fwd != NULL ? w->id : dht_shard_of(w->key, w->node->nworkers);
}

bool dp_key_of_uri(struct dp_worker *w, const struct sip_uri *uri)
{
	if (sip_aor_canon(uri, w->aor, sizeof(w->aor), &w->aor_len) != LC_OK) {
		return false;
	}
	w->key = dht_key_of(w->aor, w->aor_len, w->cfg->overlay_id);
	return true;
}

int dp_sip_to_tag(struct dp_mac *mac, const uint8_t key[DP_MAC_KEY_LEN], const struct sip_msg *req,
		  char out[SIP_RESP_TAG_LEN])
{
	uint8_t head[SIP_RESP_TAG_HEAD];
	struct sip_str part[3];
	sip_resp_tag_input(req, head, part);
	struct dp_mac_piece in[4] = {{head, sizeof(head)}};
	for (unsigned i = 0; i < 3; i++) {
		in[i + 1] = (struct dp_mac_piece){part[i].p, part[i].len};
	}
	uint64_t v = 0;
	int ret = dp_mac_prf64(mac, key, in, 4, &v);
	sip_resp_tag_text(v, out);
	return ret;
}

bool dp_reply_begin(struct dp_reply *rp, struct dp_worker *w, const struct dp_addr *src,
		    unsigned code, const char *reason)
{
	rp->w = w;
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
	/* a libcrypto failure leaves the tag NULL: the builder refuses, dp_reply_end counts it */
	char tag[SIP_RESP_TAG_LEN];
	const char *to_tag = NULL;
	if (sip_resp_wants_tag(&w->msg, code) &&
	    dp_sip_to_tag(&w->mac, w->cfg->tag_key, &w->msg, tag) == LC_OK) {
		to_tag = tag;
	}
	sip_resp_init(&rp->r, rp->out->data, DP_PKT_CAP);
	sip_resp_start(&rp->r, &w->msg, code, reason, &rp->peer, to_tag);
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
		/* only a response larger than a datagram gets here (the contacts of a huge AOR), or
		 * one whose To tag libcrypto failed to derive (never seen) */
		lc_counter_inc(&w->stats.drop[DP_DROP_TOO_LARGE]);
		dp_pool_put(&w->pool, rp->out);
		return;
	}
	rp->out->len = (uint32_t)len;
	rp->out->sock = DP_SOCK_SIP;
	if (!maddr_dest(&w->msg, &rp->out->peer)) {
		rp->out->peer = rp->src;
		rp->out->peer.port = sip_resp_port(&w->msg, &rp->peer);
	}
	lc_counter_inc(&w->stats.sip_resp[dp_code_idx(rp->code)]);
	dp_tx_push(w, rp->out);
}

void dp_reply_simple(struct dp_worker *w, const struct dp_addr *src, unsigned code,
		     const char *reason)
{
	struct dp_reply rp;
	if (dp_reply_begin(&rp, w, src, code, reason)) {
		dp_reply_end(&rp);
	}
}

bool dp_domain_served(const struct dp_cfg *cfg, struct sip_str host)
{
	if (cfg->ndomains == 0) {
		return true;
	}
	if (host.len > 0 && host.p[host.len - 1] == '.') {
		host.len--; /* "example.com." is "example.com" (RFC 1034 §3.1) */
	}
	for (unsigned i = 0; i < cfg->ndomains; i++) {
		if (sip_str_caseeq_lit(host, cfg->domain[i])) {
			return true;
		}
	}
	return false;
}

static void reply_with_allow(struct dp_worker *w, const struct dp_addr *src, unsigned code)
{
	struct dp_reply rp;
	if (dp_reply_begin(&rp, w, src, code, NULL)) {
		sip_resp_allow(&rp.r, DP_ALLOW);
		dp_reply_end(&rp);
	}
}

/* 420 Bad Extension when Require names an extension we do not support (RFC 3261 §8.2.2.3). */
static bool require_refused(struct dp_worker *w, const struct dp_addr *src)
{
	const struct sip_tags *req = &w->msg.require;
	char list[512];
	size_t len = 0;
	for (unsigned i = 0; i < req->n; i++) {
		if (sip_str_caseeq_lit(req->tag[i], DP_SUPPORTED)) {
			continue;
		}
		if (len + req->tag[i].len + 2 > sizeof(list)) {
			break;
		}
		if (len > 0) {
			list[len++] = ',';
			list[len++] = ' ';
		}
		memcpy(list + len, req->tag[i].p, req->tag[i].len);
		len += req->tag[i].len;
	}
	if (len == 0) {
		return false;
	}
	struct dp_reply rp;
	if (dp_reply_begin(&rp, w, src, 420, NULL)) {
		sip_resp_header(&rp.r, "Unsupported", sip_str_make(list, len));
		dp_reply_end(&rp);
	}
	return true;
}

static void options_self(struct dp_worker *w, const struct dp_addr *src)
{
	struct dp_reply rp;
	if (dp_reply_begin(&rp, w, src, 200, NULL)) {
		sip_resp_allow(&rp.r, DP_ALLOW);
		sip_resp_supported(&rp.r, DP_SUPPORTED);
		sip_resp_header(&rp.r, "Accept", sip_str_make("application/sdp", 15));
		dp_reply_end(&rp);
	}
}

static void answer_parse_error(struct dp_worker *w, const struct dp_addr *src)
{
	const struct sip_msg *m = &w->msg;
	if (!sip_msg_can_reply(m)) {
		lc_counter_inc(&w->stats.drop[DP_DROP_UNPARSABLE]);
		return;
	}
	lc_counter_inc(&w->stats.sip_req[m->method_id]);
	if (m->method_id != SIP_METHOD_ACK) {
		dp_reply_simple(w, src, sip_msg_error_status(m), lc_strerror(m->err));
	}
}

void dp_sip_handle(struct dp_worker *w, struct dp_pkt *in)
{
	const struct sip_msg *m = &w->msg;
	const struct dp_addr *src = &in->peer;
	if (m->err != LC_OK) {
		answer_parse_error(w, src);
		return;
	}
	if (!m->is_request) {
		lc_counter_inc(&w->stats.drop[DP_DROP_SIP_RESPONSE]);
		return;
	}
	lc_counter_inc(&w->stats.sip_req[m->method_id]);
	enum sip_method method = m->method_id;
	if (method == SIP_METHOD_ACK) {
		return;
	}
	if (m->max_forwards == 0) {
		dp_reply_simple(w, src, 483, NULL);
		return;
	}
	bool sip_uri = m->ruri.scheme_id == SIP_SCHEME_SIP || m->ruri.scheme_id == SIP_SCHEME_SIPS;
	if (!sip_uri && (m->ruri.scheme_id != SIP_SCHEME_TEL || method == SIP_METHOD_REGISTER)) {
		dp_reply_simple(w, src, 416, NULL);
		return;
	}
	if (method != SIP_METHOD_CANCEL && require_refused(w, src)) {
		return;
	}
	if (method == SIP_METHOD_REGISTER) {
		if ((m->ncontact > 0 || m->contact_star) && dp_write_stale(w, in)) {
			return; /* applied now it could undo what its client wrote since */
		}
		dp_register(w, src);
	} else if (method == SIP_METHOD_CANCEL) {
		dp_reply_simple(w, src, 200, NULL);
	} else if (method == SIP_METHOD_BYE || sip_str_present(m->to.tag)) {
		dp_reply_simple(w, src, 481, NULL);
	} else if (method == SIP_METHOD_OPTIONS && !sip_str_present(m->ruri.user)) {
		options_self(w, src);
	} else if (redirectable(method)) {
		dp_redirect(w, src);
	} else {
		reply_with_allow(w, src, method == SIP_METHOD_UNKNOWN ? 501 : 405);
	}
}
