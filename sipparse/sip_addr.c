/* SPDX-License-Identifier: MIT */
/*
 * name-addr / addr-spec values with header parameters: From, To, Contact, Route, Record-Route,
 * Path (RFC 3261 §20.10, §20.20, §20.39, RFC 3327).
 *
 * How it works: a value is either [display-name] "<" URI ">" or a bare URI. A quoted string can
 * only start a display name; otherwise the parser reads tokens: if a run of tokens (separated by
 * LWS) ends at '<' it was a display name, and if the first token ends at ':' the value is a bare
 * URI. A bare URI ends at the first ';', ',' or whitespace, because RFC 3261 §20.10 makes every
 * parameter after an unbracketed URI a header parameter, and a URI holding ',', ';' or '?' must
 * be bracketed.
 */
#include <stddef.h>
#include <string.h>

#include "common/lc_error.h"
#include "sipparse/sip_internal.h"
#include "sipparse/sip_lex.h"
#include "sipparse/sip_scan.h"

/* Parses the display name (if any) and '<'; returns the position after '<' or of a bare URI. */
static const char *parse_display(struct sip_addr *addr, const char *p, const char *end)
{
	if (*p == '"') {
		const char *q = sip_scan_quoted(p, end);
		if (q == NULL) {
			return NULL;
		}
		addr->display = sip_str_make(p + 1, (size_t)(q - p - 2));
		addr->display_quoted = true;
		q = sip_skip_lws(q, end);
		return (q < end && *q == '<') ? q : NULL;
	}
	const char *first = p;
	const char *last_end = p;
	while (p < end && sip_is(*p, SIP_C_TOKEN)) {
		p = sip_skip(p, end, SIP_C_TOKEN);
		if (p < end && *p == ':' && last_end == first) {
			return first; /* "scheme:" -> a bare URI */
		}
		last_end = p;
		p = sip_skip_lws(p, end);
	}
	if (p == end || *p != '<') {
		return NULL;
	}
	if (last_end > first) {
		addr->display = sip_str_make(first, (size_t)(last_end - first));
	}
	return p;
}

static const char *parse_uri_part(struct sip_addr *addr, const char *p, const char *end,
				  const char *lim)
{
	const char *u = p;
	const char *ue;
	if (*p == '<') {
		u = p + 1;
		ue = memchr(u, '>', (size_t)(end - u));
		if (ue == NULL) {
			memset(&addr->uri, 0, sizeof(addr->uri));
			return NULL;
		}
		addr->bracketed = true;
		p = ue + 1;
	} else {
		ue = sip_bare_uri_end(u, end, lim);
		if (ue < end && *ue == '?') {
			memset(&addr->uri, 0, sizeof(addr->uri));
			return NULL;
		}
		p = ue;
	}
	if (sip_uri_parse_in(&addr->uri, u, (size_t)(ue - u), lim) != LC_OK) {
		return NULL;
	}
	return p;
}

int sip_addr_parse(struct sip_addr *addr, const char **pp, const char *end, const char *lim,
		   bool list, bool need_angle, sip_param_fn *fn, void *ctx)
{
	const char *p = *pp;
	const char *start = p;
	/*
	 * The URI is set in full by sip_uri_parse_in(), so only the views before it and the flags
	 * after it are cleared here (and the URI where parsing stops before reaching it): clearing
	 * all 192 bytes was a call to memset for every value.
	 */
	memset(addr, 0, offsetof(struct sip_addr, uri));
	addr->display_quoted = false;
	addr->bracketed = false;
	p = p == end ? NULL : parse_display(addr, p, end);
	if (p == NULL || (need_angle && *p != '<')) {
		memset(&addr->uri, 0, sizeof(addr->uri));
		return LC_EMALFORMED;
	}
	p = parse_uri_part(addr, p, end, lim);
	if (p == NULL) {
		return LC_EMALFORMED;
	}
	const char *params = NULL;
	unsigned nparams = 0;
	for (;;) {
		const char *q = sip_skip_lws(p, end);
		if (q == end || *q != ';') {
			p = q;
			break;
		}
		struct sip_param prm;
		params = params ? params : q + 1;
		p = sip_hparam_next(q, end, &prm);
		if (p == NULL) {
			return LC_EMALFORMED;
		}
		if (prm.name.len == 3 && SIP_LIT_IEQ(prm.name.p, "tag")) {
			struct sip_str t = prm.value;
			if (!sip_str_present(t) ||
			    sip_skip(t.p, t.p + t.len, SIP_C_TOKEN) != t.p + t.len) {
				return LC_EMALFORMED; /* tag-param = "tag" EQUAL token */
			}
			/* field by field: prm was written that way, and a 16-byte copy of it
			 * would wait for both stores to reach the cache */
			addr->tag = sip_str_make(prm.value.p, prm.value.len);
		} else if (++nparams > SIP_MAX_PARAMS) {
			/* the tag is not counted: a response adds one to a To that had none, and
			 * what the builder writes must parse again */
			return LC_ESIP_TOO_MANY_PARAMS;
		} else if (fn != NULL) {
			fn(ctx, &prm);
		}
	}
	if (params != NULL) {
		const char *pe = sip_rtrim(params, p);
		addr->params = sip_str_make(params, (size_t)(pe - params));
	}
	addr->raw = sip_str_make(start, (size_t)(sip_rtrim(start, p) - start));
	if (p < end && !(list && *p == ',')) {
		/* a second value in a single-valued field is a duplicate, anything else junk */
		return *p == ',' ? LC_ESIP_DUP_HEADER : LC_EMALFORMED;
	}
	*pp = p;
	return LC_OK;
}
