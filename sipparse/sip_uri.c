/* SPDX-License-Identifier: MIT */
/*
 * URI parsing (RFC 3261 §19.1.1 and §25.1, RFC 3966 for tel). The whole range given must be one
 * URI; every part is validated against its character class, so a URI that parses can be copied
 * into a response or a store key as is.
 *
 * How it works: after the scheme, a SIP URI's userinfo is found by scanning the characters that
 * may appear in a user (then, after a ':', in a password): if that run ends at '@', it was
 * userinfo, otherwise there is none and the host starts right after the scheme. This is what lets
 * user parts hold ';', '?', ',' and '/' (RFC 4475 §3.1.1.2 and §3.1.1.9) while the scan that
 * finds the '@' is also the one that validates the user.
 */
#include "sipparse/sip_uri.h"

#include "common/lc_error.h"
#include "sipparse/sip_internal.h"
#include "sipparse/sip_lex.h"
#include "sipparse/sip_scan.h"

static int parse_port(const char *p, const char *end, uint16_t *port)
{
	uint64_t v;
	if (sip_parse_uint(p, (size_t)(end - p), 65535, &v) != 0 || v == 0) {
		return LC_EMALFORMED;
	}
	*port = (uint16_t)v;
	return LC_OK;
}

/* uri-parameters: *( ";" pname ["=" pvalue] ), each part 1*paramchar. Returns the end or NULL. */
static const char *scan_uri_params(const char *p, const char *end)
{
	while (p < end && *p == ';') {
		const char *n = p + 1;
		p = sip_scan_escaped(n, end, SIP_C_PARAM);
		if (p == NULL || p == n) {
			return NULL;
		}
		if (p < end && *p == '=') {
			const char *v = p + 1;
			p = sip_scan_escaped(v, end, SIP_C_PARAM);
			if (p == NULL || p == v) {
				return NULL;
			}
		}
	}
	return p;
}

/* Optional uri-parameters at p into uri->params; returns where they end, or NULL. */
static const char *parse_params(struct sip_uri *uri, const char *p, const char *end)
{
	if (p == end || *p != ';') {
		return p;
	}
	const char *ps = p + 1;
	p = scan_uri_params(p, end);
	if (p != NULL) {
		uri->params = sip_str_make(ps, (size_t)(p - ps));
	}
	return p;
}

/* headers: "?" header *( "&" header ), header = hname "=" hvalue. */
static bool check_uri_headers(const char *p, const char *end)
{
	for (;;) {
		const char *n = p;
		p = sip_scan_escaped(n, end, SIP_C_HNV);
		if (p == NULL || p == n || p == end || *p != '=') {
			return false;
		}
		p = sip_scan_escaped(p + 1, end, SIP_C_HNV);
		if (p == NULL) {
			return false;
		}
		if (p == end) {
			return true;
		}
		if (*p != '&') {
			return false;
		}
		p++;
	}
}

/*
 * userinfo = user [ ":" password ] "@". Returns where the host starts: after the '@', or p itself
 * when there is no userinfo. NULL when an escape is malformed.
 */
static const char *parse_userinfo(struct sip_uri *uri, const char *p, const char *end)
{
	const char *u = sip_scan_escaped(p, end, SIP_C_USER);
	if (u == NULL || u == end) {
		return u == NULL ? NULL : p;
	}
	if (*u == '@') {
		if (u == p) {
			return NULL; /* "sip:@host": user is 1*( ... ) */
		}
		uri->user = sip_str_make(p, (size_t)(u - p));
		return u + 1;
	}
	if (*u != ':' || u == p) {
		return p;
	}
	/* user ":" password "@", or host ":" port with no userinfo at all */
	const char *w = sip_scan_escaped(u + 1, end, SIP_C_PASS);
	if (w == NULL || w == end || *w != '@') {
		return p;
	}
	uri->user = sip_str_make(p, (size_t)(u - p));
	uri->password = sip_str_make(u + 1, (size_t)(w - u - 1));
	return w + 1;
}

/*
 * hostport, then what may follow it: uri-parameters, headers or the end. The host scan stops at
 * the first byte that cannot continue a host, which is where the port or parameters start, so
 * no separate scan for the end of hostport is needed.
 */
static int parse_sip(struct sip_uri *uri, const char *p, const char *end, const char *lim)
{
	int type;
	p = parse_userinfo(uri, p, end);
	if (p == NULL) {
		return LC_EMALFORMED;
	}
	const char *h = p;
	p = sip_host_scan(p, end, lim, &type);
	if (p == NULL) {
		return LC_EMALFORMED;
	}
	uri->host = sip_str_make(h, (size_t)(p - h));
	uri->host_type = (uint8_t)type;
	if (p < end && *p == ':') {
		const char *ps = ++p;
		p = sip_skip(p, end, SIP_C_DIGIT);
		if (parse_port(ps, p, &uri->port) != LC_OK) {
			return LC_EMALFORMED;
		}
	}
	if (p < end && *p != ';' && *p != '?') {
		return LC_EMALFORMED;
	}
	p = parse_params(uri, p, end);
	if (p == NULL) {
		return LC_EMALFORMED;
	}
	if (p < end && *p == '?') {
		if (!check_uri_headers(p + 1, end)) {
			return LC_EMALFORMED;
		}
		uri->headers = sip_str_make(p + 1, (size_t)(end - p - 1));
		p = end;
	}
	return p == end ? LC_OK : LC_EMALFORMED;
}

/* telephone-subscriber (RFC 3966): a number of tel characters, then ;parameters. */
static int parse_tel(struct sip_uri *uri, const char *p, const char *end)
{
	const char *n = p;
	p = sip_skip(p, end, SIP_C_TEL);
	if (p == n) {
		return LC_EMALFORMED;
	}
	uri->user = sip_str_make(n, (size_t)(p - n));
	uri->host = sip_str_make(n, 0);
	p = parse_params(uri, p, end);
	return p == end ? LC_OK : LC_EMALFORMED;
}

int sip_uri_parse(struct sip_uri *uri, const char *p, size_t len)
{
	return sip_uri_parse_in(uri, p, len, p + len);
}

int sip_uri_parse_in(struct sip_uri *uri, const char *p, size_t len, const char *lim)
{
	const char *end = p + len;
	const char *s = p;
	*uri = (struct sip_uri){.raw = sip_str_make(p, len)};
	if (len == 0 || !sip_is(*p, SIP_C_ALPHA)) {
		return LC_EMALFORMED;
	}
	p = sip_skip(p, end, SIP_C_SCHEME);
	if (p == end || *p != ':') {
		return LC_EMALFORMED;
	}
	uri->scheme = sip_str_make(s, (size_t)(p - s));
	p++;
	/* one call site, so that parse_sip() is inlined */
	if ((uri->scheme.len == 3 && SIP_LIT_IEQ(s, "sip")) ||
	    (uri->scheme.len == 4 && SIP_LIT_IEQ(s, "sips"))) {
		uri->scheme_id = uri->scheme.len == 3 ? SIP_SCHEME_SIP : SIP_SCHEME_SIPS;
		return parse_sip(uri, p, end, lim);
	}
	if (uri->scheme.len == 3 && SIP_LIT_IEQ(s, "tel")) {
		uri->scheme_id = SIP_SCHEME_TEL;
		return parse_tel(uri, p, end);
	}
	/* absoluteURI: scheme ":" ( hier-part / opaque-part ), all uric characters */
	uri->scheme_id = SIP_SCHEME_OTHER;
	const char *q = sip_scan_escaped(p, end, SIP_C_URIC);
	return (q == end && p < end) ? LC_OK : LC_EMALFORMED;
}
