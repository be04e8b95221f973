/* SPDX-License-Identifier: MIT */
/*
 * Via values (RFC 3261 §20.42 and §25.1, RFC 3581 rport, RFC 5118 §4.5 for IPv6 received):
 * sent-protocol, sent-by and the parameters a stateless server relies on, each validated
 * (branch a token, received an IP address, ttl 0-255, rport a port). Whitespace is allowed
 * wherever the ABNF's SWS/LWS allow it, which is almost everywhere (RFC 4475 §3.1.1.1).
 */
#include "common/lc_error.h"
#include "sipparse/sip_internal.h"
#include "sipparse/sip_lex.h"
#include "sipparse/sip_scan.h"

static const char *scan_token(const char *p, const char *end, struct sip_str *out)
{
	const char *s = p;
	p = sip_skip(p, end, SIP_C_TOKEN);
	*out = sip_str_make(s, (size_t)(p - s));
	return p == s ? NULL : p;
}

/* SWS "/" SWS */
static const char *scan_slash(const char *p, const char *end)
{
	p = sip_skip_lws(p, end);
	if (p == end || *p != '/') {
		return NULL;
	}
	return sip_skip_lws(p + 1, end);
}

static uint8_t transport_id(struct sip_str t)
{
#define IS(lit) SIP_LIT_IEQ(t.p, lit) /* t.len == sizeof(lit) - 1 in each case */
	switch (t.len) {
	case 2:
		return IS("ws") ? SIP_TRANSPORT_WS : SIP_TRANSPORT_OTHER;
	case 3:
		return IS("udp")   ? SIP_TRANSPORT_UDP
		       : IS("tcp") ? SIP_TRANSPORT_TCP
		       : IS("tls") ? SIP_TRANSPORT_TLS
		       : IS("wss") ? SIP_TRANSPORT_WSS
				   : SIP_TRANSPORT_OTHER;
	case 4:
		return IS("sctp") ? SIP_TRANSPORT_SCTP : SIP_TRANSPORT_OTHER;
	default:
		return SIP_TRANSPORT_OTHER;
	}
#undef IS
}

static const char *parse_sent_protocol(struct sip_via *via, const char *p, const char *end)
{
	/* sent-protocol = protocol-name SLASH protocol-version SLASH transport, each a token
	 * (RFC 3261 §25.1): a "SIP/7.0" Via is well formed, so a request of another SIP version can
	 * still be answered with 505 (RFC 4475 §3.1.2.16) */
	struct sip_str name, version;
	if (end - p > 8 && memcmp(p, "SIP/2.0/", 8) == 0) {
		/* what the general path below reads as "SIP" "/" "2.0" "/" and LWS */
		p = sip_skip_lws(p + 8, end);
	} else {
		p = scan_token(p, end, &name);
		if (p == NULL || (p = scan_slash(p, end)) == NULL) {
			return NULL;
		}
		p = scan_token(p, end, &version);
		if (p == NULL || (p = scan_slash(p, end)) == NULL) {
			return NULL;
		}
	}
	p = scan_token(p, end, &via->transport);
	if (p == NULL) {
		return NULL;
	}
	via->transport_id = transport_id(via->transport);
	return p;
}
static const char *parse_sent_by(struct sip_via *via, const char *p, const char *end,
				 const char *lim)
{
	const char *h = p;
	int type;
	p = sip_host_scan(p, end, lim, &type);
	if (p == NULL) {
		return NULL;
	}
	via->host = sip_str_make(h, (size_t)(p - h));
	via->host_type = (uint8_t)type;
	const char *q = sip_skip_lws(p, end);
	if (q < end && *q == ':') {
		uint64_t port;
		const char *ps = sip_skip_lws(q + 1, end);
		p = sip_skip(ps, end, SIP_C_DIGIT);
		if (sip_parse_uint(ps, (size_t)(p - ps), 65535, &port) != 0 || port == 0) {
			return NULL;
		}
		via->port = (uint16_t)port;
	}
	return p;
}

static bool valid_received(struct sip_str v)
{
	if (v.len >= 2 && v.p[0] == '[') {
		return v.p[v.len - 1] == ']' && sip_is_ipv6(v.p + 1, v.len - 2);
	}
	return sip_is_ipv4(v.p, v.len) || sip_is_ipv6(v.p, v.len);
}

enum via_param { VP_OTHER, VP_BRANCH, VP_RECEIVED, VP_MADDR, VP_TTL, VP_RPORT };

static enum via_param via_param_id(struct sip_str n)
{
#define IS(lit) SIP_LIT_IEQ(n.p, lit) /* n.len == sizeof(lit) - 1 in each case */
	switch (n.len) {
	case 3:
		return IS("ttl") ? VP_TTL : VP_OTHER;
	case 5:
		return IS("maddr") ? VP_MADDR : IS("rport") ? VP_RPORT : VP_OTHER;
	case 6:
		return IS("branch") ? VP_BRANCH : VP_OTHER;
	case 8:
		return IS("received") ? VP_RECEIVED : VP_OTHER;
	default:
		return VP_OTHER;
	}
#undef IS
}

/* Records the parameters a server acts on; returns false when one has a bad value. */
static bool via_param(struct sip_via *via, const struct sip_param *prm, const char *p)
{
	struct sip_str v = prm->value;
	bool has = sip_str_present(v) && v.len > 0 && *v.p != '"';
	uint64_t num;
	enum via_param id = via_param_id(prm->name);
	/* one of each: a second received or rport would survive into the response's top Via */
	if ((id == VP_BRANCH && via->branch.p) || (id == VP_RECEIVED && via->received.p) ||
	    (id == VP_RPORT && via->has_rport)) {
		return false;
	}
	switch (id) {
	case VP_BRANCH:
		via->branch = v;
		return has;
	case VP_RECEIVED:
		via->received = v;
		via->received_span = sip_str_make(prm->start, (size_t)(p - prm->start));
		return has && valid_received(v);
	case VP_MADDR:
		via->maddr = v;
		return has && sip_host_check(v.p, v.len) >= 0;
	case VP_TTL:
		via->ttl = v;
		return has && v.len <= 3 && sip_parse_uint(v.p, v.len, 255, &num) == 0;
	case VP_RPORT:
		via->has_rport = true;
		via->rport_span = sip_str_make(prm->start, (size_t)(p - prm->start));
		if (!sip_str_present(v)) {
			return true;
		}
		if (!has || sip_parse_uint(v.p, v.len, 65535, &num) != 0) {
			return false;
		}
		via->rport = (uint16_t)num;
		return true;
	default:
		return true;
	}
}

int sip_via_parse(struct sip_via *via, const char **pp, const char *end, const char *lim)
{
	const char *p = *pp;
	const char *start = p;
	unsigned nparams = 0;
	*via = (struct sip_via){.port = 0};
	p = parse_sent_protocol(via, p, end);
	if (p == NULL) {
		return LC_EMALFORMED;
	}
	const char *q = sip_skip_lws(p, end);
	if (q == p) {
		return LC_EMALFORMED; /* sent-protocol LWS sent-by: the LWS is mandatory */
	}
	p = parse_sent_by(via, q, end, lim);
	if (p == NULL) {
		return LC_EMALFORMED;
	}
	for (;;) {
		q = sip_skip_lws(p, end);
		if (q == end || *q != ';') {
			p = q;
			break;
		}
		struct sip_param prm;
		p = sip_hparam_next(q, end, &prm);
		if (p == NULL || !via_param(via, &prm, p)) {
			return LC_EMALFORMED;
		}
		if (++nparams > SIP_MAX_PARAMS) {
			return LC_ESIP_TOO_MANY_PARAMS;
		}
	}
	if (p < end && *p != ',') {
		return LC_EMALFORMED;
	}
	via->raw = sip_str_make(start, (size_t)(sip_rtrim(start, p) - start));
	*pp = p;
	return LC_OK;
}
