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
	struct sip_msg *m = &pkt->msg.sip;
	struct dp_req *r = &pkt->req;
	r->key_ok = false;
	r->fwd = NULL;
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
	r->key_ok = dp_key_of_uri(&r->key, uri, w->cfg->overlay_id);
	if (!r->key_ok) {
		return w->id;
	}
	/* a key of another node is forwarded by whichever worker received it */
	dp_fwd_route(w, r, m->method_id != SIP_METHOD_REGISTER, false, NULL);
	return r->fwd != NULL ? w->id : dht_shard_of(r->key.id, w->node->nworkers);
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

/* 420 Bad Extension when Require names an extension we do not support (RFC 3261 §8.2.2.3). */
static bool require_refused(struct dp_worker *w, const struct sip_msg *m, const struct dp_addr *src)
{
	const struct sip_tags *req = &m->require;
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
	if (dp_reply_begin(&rp, w, m, src, 420, NULL)) {
		sip_resp_header(&rp.r, "Unsupported", sip_str_make(list, len));
		dp_reply_end(&rp);
	}
	return true;
}

static void answer_parse_error(struct dp_worker *w, const struct sip_msg *m,
			       const struct dp_addr *src)
{
	if (!sip_msg_can_reply(m)) {
		lc_counter_inc(&w->stats.drop[DP_DROP_UNPARSABLE]);
		return;
	}
	lc_counter_inc(&w->stats.sip_req[m->method_id]);
	if (m->method_id != SIP_METHOD_ACK) {
		dp_reply_simple(w, m, src, sip_msg_error_status(m), lc_strerror(m->err));
	}
}

void dp_sip_handle(struct dp_worker *w, struct dp_pkt *in)
{
	const struct sip_msg *m = &in->msg.sip;
	const struct dp_addr *src = &in->peer;
	if (m->err != LC_OK) {
		answer_parse_error(w, m, src);
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
		dp_reply_simple(w, m, src, 483, NULL);
		return;
	}
	bool sip_uri = m->ruri.scheme_id == SIP_SCHEME_SIP || m->ruri.scheme_id == SIP_SCHEME_SIPS;
	if (!sip_uri && (m->ruri.scheme_id != SIP_SCHEME_TEL || method == SIP_METHOD_REGISTER)) {
		dp_reply_simple(w, m, src, 416, NULL);
		return;
	}
	if (method != SIP_METHOD_CANCEL && require_refused(w, m, src)) {
		return;
	}
	if (method == SIP_METHOD_REGISTER) {
		if ((m->ncontact > 0 || m->contact_star) && dp_write_stale(w, in)) {
			return; /* applied now it could undo what its client wrote since */
		}
		dp_register(w, in);
	} else if (method == SIP_METHOD_CANCEL) {
		dp_reply_simple(w, m, src, 200, NULL);
	} else if (method == SIP_METHOD_BYE || sip_str_present(m->to.tag)) {
		dp_reply_simple(w, m, src, 481, NULL);
	} else if (method == SIP_METHOD_OPTIONS && !sip_str_present(m->ruri.user)) {
		dp_reply_options(w, m, src);
	} else if (redirectable(method)) {
		dp_redirect(w, in);
	} else {
		dp_reply_allow(w, m, src, method == SIP_METHOD_UNKNOWN ? 501 : 405);
	}
}
