/* SPDX-License-Identifier: MIT */
/*
 * Authorization and Proxy-Authorization (RFC 3261 §20.7, §20.28, §25.1 credentials): an auth
 * scheme, then comma-separated name=value parameters whose values are tokens or quoted strings.
 * The Digest parameters are pulled out (without their quotes, escapes kept); an unknown scheme
 * parses the same way, so a server can answer it (RFC 4475 §3.3.7) instead of rejecting it.
 */
#include "common/lc_error.h"
#include "sipparse/sip_internal.h"
#include "sipparse/sip_lex.h"

/* The Digest field a parameter name fills, or NULL (RFC 3261 §25.1 digest-response). */
static struct sip_str *digest_field(struct sip_auth *a, struct sip_str n)
{
#define IS(lit) SIP_LIT_IEQ(n.p, lit) /* n.len == sizeof(lit) - 1 in each case */
	switch (n.len) {
	case 2:
		return IS("nc") ? &a->nc : NULL;
	case 3:
		return IS("uri") ? &a->uri : IS("qop") ? &a->qop : NULL;
	case 5:
		return IS("realm") ? &a->realm : IS("nonce") ? &a->nonce : NULL;
	case 6:
		return IS("cnonce") ? &a->cnonce : IS("opaque") ? &a->opaque : NULL;
	case 8:
		return IS("username") ? &a->username : IS("response") ? &a->response : NULL;
	case 9:
		return IS("algorithm") ? &a->algorithm : NULL;
	default:
		return NULL;
	}
#undef IS
}

/* auth-param *( COMMA auth-param ), auth-param = token EQUAL ( token / quoted-string ) */
static int parse_auth_params(struct sip_auth *a, const char *p, const char *end)
{
	for (unsigned n = 0;; n++) {
		if (n == SIP_MAX_PARAMS) {
			return LC_ESIP_TOO_MANY_PARAMS;
		}
		const char *s = p;
		p = sip_skip(p, end, SIP_C_TOKEN);
		struct sip_str name = sip_str_make(s, (size_t)(p - s));
		p = sip_skip_lws(p, end);
		if (name.len == 0 || p == end || *p != '=') {
			return LC_ESIP_AUTH;
		}
		const char *v = sip_skip_lws(p + 1, end);
		p = (v < end && *v == '"') ? sip_scan_quoted(v, end)
					   : sip_skip(v, end, SIP_C_TOKEN);
		if (p == NULL || p == v) {
			return LC_ESIP_AUTH;
		}
		struct sip_str *field = digest_field(a, name);
		if (field != NULL) {
			/* values are kept without their quotes, escapes and all */
			bool quoted = *v == '"';
			*field = sip_str_make(v + quoted, (size_t)(p - v) - 2 * quoted);
		}
		p = sip_skip_lws(p, end);
		if (p == end) {
			return LC_OK;
		}
		if (*p != ',') {
			return LC_ESIP_AUTH;
		}
		p = sip_skip_lws(p + 1, end);
	}
}

int sip_hdr_parse_auth(struct sip_msg *m, const char *p, const char *end, bool proxy)
{
	if (m->nauth == SIP_MAX_AUTH) {
		return LC_ESIP_TOO_MANY_AUTH;
	}
	struct sip_auth *a = &m->auth[m->nauth];
	*a = (struct sip_auth){.proxy = proxy};
	const char *s = p;
	p = sip_skip(p, end, SIP_C_TOKEN);
	const char *q = sip_skip_lws(p, end);
	if (p == s || q == p || q == end) {
		return LC_ESIP_AUTH;
	}
	a->scheme = sip_str_make(s, (size_t)(p - s));
	a->params = sip_str_make(q, (size_t)(end - q));
	int r = parse_auth_params(a, q, end);
	if (r != LC_OK) {
		return r;
	}
	m->nauth++;
	return LC_OK;
}
