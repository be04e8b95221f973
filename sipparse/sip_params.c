/* SPDX-License-Identifier: MIT */
/*
 * Parameter lists: the scanner the header parsers use for ";name=value" lists (with the LWS RFC
 * 3261 allows around ';' and '='), and sip_param_get(), which looks a parameter up in a list the
 * parser has already validated (URI parameters or header parameters alike).
 */
#include "sipparse/sip_internal.h"
#include "sipparse/sip_lex.h"
#include "sipparse/sip_uri.h"

/* gen-value: quoted-string, an IPv6 reference, or token characters (plus ':' for bare IPv6). */
static const char *scan_gen_value(const char *p, const char *end)
{
	if (p == end) {
		return NULL;
	}
	if (*p == '"') {
		return sip_scan_quoted(p, end);
	}
	if (*p == '[') {
		const char *q = p + 1;
		while (q < end && (sip_is(*q, SIP_C_HEX) || *q == ':' || *q == '.')) {
			q++;
		}
		return (q < end && *q == ']') ? q + 1 : NULL;
	}
	const char *q = sip_skip(p, end, SIP_C_GENV);
	return q == p ? NULL : q;
}

const char *sip_hparam_next(const char *p, const char *end, struct sip_param *out)
{
	out->start = p;
	p = sip_skip_lws(p + 1, end);
	const char *name = p;
	p = sip_skip(p, end, SIP_C_TOKEN);
	if (p == name) {
		return NULL;
	}
	out->name = sip_str_make(name, (size_t)(p - name));
	out->value = SIP_STR_NULL;
	const char *q = sip_skip_lws(p, end);
	if (q < end && *q == '=') {
		const char *v = sip_skip_lws(q + 1, end);
		p = scan_gen_value(v, end);
		if (p == NULL) {
			return NULL;
		}
		out->value = sip_str_make(v, (size_t)(p - v));
	}
	return p;
}

/* Elements are split at ';' outside quoted strings, so a quoted value may hold ';' (RFC 4475 §3.1.1.2). */
bool sip_param_get(struct sip_str params, const char *name, struct sip_str *value)
{
	const char *p = params.p;
	if (p == NULL) {
		return false; /* before any arithmetic: NULL + 0 is undefined */
	}
	const char *end = p + params.len;
	size_t nlen = strlen(name);
	while (p < end) {
		/* one element: up to the next ';' outside quotes */
		const char *s = sip_skip_lws(p, end);
		const char *q = s;
		while (q < end && *q != ';') {
			if (*q == '"') {
				const char *e = sip_scan_quoted(q, end);
				q = e ? e : end;
			} else {
				q++;
			}
		}
		const char *n_end = s;
		while (n_end < q && *n_end != '=' && !sip_is(*n_end, SIP_C_LWS)) {
			n_end++;
		}
		if ((size_t)(n_end - s) == nlen && sip_lit_caseeq(s, name, nlen)) {
			const char *eq = sip_skip_lws(n_end, q);
			if (eq < q && *eq == '=') {
				const char *v = sip_skip_lws(eq + 1, q);
				*value = sip_str_make(v, (size_t)(sip_rtrim(v, q) - v));
			} else {
				*value = SIP_STR_NULL;
			}
			return true;
		}
		p = q + 1;
	}
	return false;
}
