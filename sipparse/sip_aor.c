/* SPDX-License-Identifier: MIT */
/*
 * URI comparison (RFC 3261 §19.1.4) and the canonical AOR that keys the binding store (RFC 3261
 * §10.3 step 5). Both work on parsed, validated URIs, so escapes are known to be well formed.
 *
 * How equality handles escapes: §19.1.4 says an escaped unreserved character equals the literal
 * one, but an escaped reserved character does not ("%3B" is not ";"). The comparators decode a
 * URI part one character at a time into an int: literal and escaped-unreserved characters decode
 * to their byte, escaped reserved ones to 256 + byte, so they never match their literal form.
 */
#include <arpa/inet.h>

#include "common/lc_error.h"
#include "sipparse/sip_lex.h"
#include "sipparse/sip_uri.h"

static bool is_reserved(int c)
{
	return c != 0 && strchr(";/?:@&=+$,", c) != NULL;
}

/* Decode the character at *i of s (see "How equality handles escapes"); advances *i. */
static int next_char(struct sip_str s, uint32_t *i, bool icase)
{
	int c = (uint8_t)s.p[*i];
	if (c == '%' && *i + 2 < s.len + 0u && sip_hexval(s.p[*i + 1]) >= 0 &&
	    sip_hexval(s.p[*i + 2]) >= 0) {
		c = sip_hexval(s.p[*i + 1]) * 16 + sip_hexval(s.p[*i + 2]);
		*i += 3;
		if (icase) {
			c = (uint8_t)sip_lower((char)c);
		}
		return is_reserved(c) ? 256 + c : c;
	}
	(*i)++;
	return icase ? (uint8_t)sip_lower((char)c) : c;
}

static bool esc_equal(struct sip_str a, struct sip_str b, bool icase)
{
	uint32_t i = 0;
	uint32_t j = 0;
	if (sip_str_present(a) != sip_str_present(b)) {
		return false;
	}
	while (i < a.len && j < b.len) {
		if (next_char(a, &i, icase) != next_char(b, &j, icase)) {
			return false;
		}
	}
	return i == a.len && j == b.len;
}

long sip_unescape(struct sip_str in, char *out, size_t cap)
{
	size_t n = 0;
	for (uint32_t i = 0; i < in.len; n++) {
		if (n == cap) {
			return -1;
		}
		if (in.p[i] == '%') {
			if (i + 2 >= in.len + 0u || sip_hexval(in.p[i + 1]) < 0 ||
			    sip_hexval(in.p[i + 2]) < 0) {
				return -1;
			}
			out[n] = (char)(sip_hexval(in.p[i + 1]) * 16 + sip_hexval(in.p[i + 2]));
			i += 3;
		} else {
			out[n] = in.p[i++];
		}
	}
	return (long)n;
}

/* One "name[=value]" element of a ';' (or '&') separated URI list; *p advances past it. */
static void next_elem(const char **p, const char *end, char sep, struct sip_str *name,
		      struct sip_str *value)
{
	const char *s = *p;
	const char *e = memchr(s, sep, (size_t)(end - s));
	e = e ? e : end;
	const char *eq = memchr(s, '=', (size_t)(e - s));
	*name = sip_str_make(s, (size_t)((eq ? eq : e) - s));
	*value = eq ? sip_str_make(eq + 1, (size_t)(e - eq - 1)) : SIP_STR_NULL;
	*p = e < end ? e + 1 : end;
}

static bool find_elem(struct sip_str list, char sep, struct sip_str name, struct sip_str *value)
{
	const char *p = list.p;
	const char *end = p ? p + list.len : p;
	while (p < end) {
		struct sip_str n, v;
		next_elem(&p, end, sep, &n, &v);
		if (esc_equal(n, name, true)) {
			*value = v;
			return true;
		}
	}
	return false;
}

/* Whether some name occurs twice in the list; the pairwise walk is bounded by the callers' caps. */
static bool has_dup_names(struct sip_str list, char sep)
{
	const char *p = list.p;
	const char *end = p ? p + list.len : p;
	while (p < end) {
		struct sip_str n, v, v2;
		next_elem(&p, end, sep, &n, &v);
		struct sip_str rest = sip_str_make(p, (size_t)(end - p));
		if (p < end && find_elem(rest, sep, n, &v2)) {
			return true;
		}
	}
	return false;
}

static unsigned count_elems(struct sip_str list, char sep)
{
	unsigned n = list.len ? 1 : 0;
	for (uint32_t i = 0; i < list.len; i++) {
		n += list.p[i] == sep;
	}
	return n;
}

/*
 * Parameters (§19.1.4): user, ttl, method, maddr and transport must match when either URI has
 * them; any other parameter only when both have it. Lists longer than SIP_MAX_PARAMS, or that
 * name a parameter twice, compare as text: that bounds the pairwise walk below and keeps equality
 * reflexive and symmetric (found by tests/fuzz/fuzz_uri.c).
 */
static bool params_equal(struct sip_str a, struct sip_str b)
{
	static const char *const must[] = {"user", "ttl", "method", "maddr", "transport"};
	/* past the cap, or with a name given twice, the pairwise rules below stop being an
	 * equivalence (a URI would differ from itself): such lists are equal only as text */
	if (count_elems(a, ';') > 32 || count_elems(b, ';') > 32 || has_dup_names(a, ';') ||
	    has_dup_names(b, ';')) {
		return esc_equal(a, b, true);
	}
	for (size_t k = 0; k < LC_ARRAY_SIZE(must); k++) {
		struct sip_str name = sip_str_make(must[k], strlen(must[k]));
		struct sip_str va, vb;
		bool ha = find_elem(a, ';', name, &va);
		bool hb = find_elem(b, ';', name, &vb);
		if (ha != hb || (ha && !esc_equal(va, vb, true))) {
			return false;
		}
	}
	const char *p = a.p;
	const char *end = p ? p + a.len : p;
	while (p < end) {
		struct sip_str n, va, vb;
		next_elem(&p, end, ';', &n, &va);
		if (find_elem(b, ';', n, &vb) && !esc_equal(va, vb, true)) {
			return false;
		}
	}
	return true;
}

/* Headers (§19.1.4): every header of either URI must be in the other with the same value. */
static bool headers_equal(struct sip_str a, struct sip_str b)
{
	if (count_elems(a, '&') != count_elems(b, '&')) {
		return false;
	}
	if (count_elems(a, '&') > 32 || has_dup_names(a, '&') || has_dup_names(b, '&')) {
		return esc_equal(a, b, false); /* as in params_equal: only as text */
	}
	const char *p = a.p;
	const char *end = p ? p + a.len : p;
	while (p < end) {
		struct sip_str n, va, vb;
		next_elem(&p, end, '&', &n, &va);
		if (!find_elem(b, '&', n, &vb) || !esc_equal(va, vb, false)) {
			return false;
		}
	}
	return true;
}

/* Binary form of a bracketed IPv6 reference. */
static bool ipv6_bytes(struct sip_str host, struct in6_addr *out)
{
	char tmp[64];
	if (host.len < 3 || host.len - 2 >= sizeof(tmp)) {
		return false;
	}
	memcpy(tmp, host.p + 1, host.len - 2);
	tmp[host.len - 2] = '\0';
	/* the ":::" before an IPv4 tail that RFC 3261's ABNF allowed (RFC 5118 §4.10) is "::" */
	char *triple = strstr(tmp, ":::");
	if (triple != NULL) {
		memmove(triple, triple + 1, strlen(triple));
	}
	return inet_pton(AF_INET6, tmp, out) == 1;
}

static bool host_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	if (a->host_type == SIP_HOST_IPV6 && b->host_type == SIP_HOST_IPV6) {
		struct in6_addr x, y;
		bool bx = ipv6_bytes(a->host, &x);
		bool by = ipv6_bytes(b->host, &y);
		if (bx && by) {
			return memcmp(&x, &y, sizeof(x)) == 0;
		}
		/* a reference inet_pton refuses ("::ffff:096.0.2.2" is valid ABNF): compare text */
		if (bx || by) {
			return false;
		}
	}
	return sip_str_caseeq(a->host, b->host);
}

static bool is_visual_separator(char c)
{
	return c == '-' || c == '.' || c == '(' || c == ')';
}

/* RFC 3966 §4: numbers compare digit by digit without visual separators, case-insensitively. */
static bool tel_number_equal(struct sip_str a, struct sip_str b)
{
	uint32_t i = 0;
	uint32_t j = 0;
	for (;;) {
		while (i < a.len && is_visual_separator(a.p[i])) {
			i++;
		}
		while (j < b.len && is_visual_separator(b.p[j])) {
			j++;
		}
		if (i == a.len || j == b.len) {
			return i == a.len && j == b.len;
		}
		if (sip_lower(a.p[i++]) != sip_lower(b.p[j++])) {
			return false;
		}
	}
}

/* RFC 3966 §4: the same parameter names on both sides, each with an equal value. */
static bool tel_params_equal(struct sip_str a, struct sip_str b)
{
	if (count_elems(a, ';') != count_elems(b, ';') || !params_equal(a, b)) {
		return false;
	}
	if (count_elems(a, ';') > 32) {
		return true; /* params_equal compared them as text; the walk below would be quadratic */
	}
	const char *p = a.p;
	const char *end = p ? p + a.len : p;
	while (p < end) {
		struct sip_str n, v, vb;
		next_elem(&p, end, ';', &n, &v);
		if (!find_elem(b, ';', n, &vb)) {
			return false;
		}
	}
	return true;
}

bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	if (a->scheme_id != b->scheme_id) {
		return false;
	}
	switch (a->scheme_id) {
	case SIP_SCHEME_SIP:
	case SIP_SCHEME_SIPS:
		return esc_equal(a->user, b->user, false) &&
		       esc_equal(a->password, b->password, false) && host_equal(a, b) &&
		       a->port == b->port && params_equal(a->params, b->params) &&
		       headers_equal(a->headers, b->headers);
	case SIP_SCHEME_TEL:
		return tel_number_equal(a->user, b->user) && tel_params_equal(a->params, b->params);
	default:
		return sip_str_caseeq(a->raw, b->raw);
	}
}

/* Appends with a sticky overflow: *n may pass cap, and the caller checks once. */
static void put(char *out, size_t cap, size_t *n, const char *s, size_t len)
{
	if (*n + len <= cap) {
		memcpy(out + *n, s, len);
	}
	*n += len;
}

static void put_lower(char *out, size_t cap, size_t *n, struct sip_str s)
{
	if (*n + s.len <= cap) {
		for (uint32_t i = 0; i < s.len; i++) {
			out[*n + i] = sip_lower(s.p[i]);
		}
	}
	*n += s.len;
}

static int canon_sip(const struct sip_uri *uri, char *out, size_t cap, size_t *len)
{
	size_t n = 0;
	bool sips = uri->scheme_id == SIP_SCHEME_SIPS;
	put(out, cap, &n, sips ? "sips:" : "sip:", sips ? 5 : 4);
	if (sip_str_present(uri->user)) {
		long u = n <= cap ? sip_unescape(uri->user, out + n, cap - n) : -1;
		if (u < 0) {
			return LC_ENOSPACE;
		}
		n += (size_t)u;
		put(out, cap, &n, "@", 1);
	}
	if (uri->host_type == SIP_HOST_IPV6) {
		struct in6_addr a;
		char tmp[INET6_ADDRSTRLEN];
		if (!ipv6_bytes(uri->host, &a) || !inet_ntop(AF_INET6, &a, tmp, sizeof(tmp))) {
			return LC_EINVAL;
		}
		put(out, cap, &n, "[", 1);
		put(out, cap, &n, tmp, strlen(tmp));
		put(out, cap, &n, "]", 1);
	} else if (uri->host_type == SIP_HOST_IPV4) {
		/* dotted decimal without leading zeros: 010.000.002.001 is 10.0.2.1 */
		unsigned o[4] = {0};
		for (uint32_t i = 0, k = 0; i < uri->host.len; i++) {
			char c = uri->host.p[i];
			if (c == '.') {
				k++;
			} else {
				o[k] = o[k] * 10 + (unsigned)(c - '0');
			}
		}
		for (int i = 0; i < 4; i++) {
			char tmp[SIP_FMT_UINT_MAX];
			put(out, cap, &n, ".", i > 0 ? 1 : 0);
			put(out, cap, &n, tmp, sip_fmt_uint(tmp, o[i]));
		}
	} else {
		/* a fully qualified name's final dot names the same host */
		struct sip_str h = uri->host;
		if (h.len > 1 && h.p[h.len - 1] == '.') {
			h.len--;
		}
		put_lower(out, cap, &n, h);
	}
	if (uri->port != 0 && uri->port != (sips ? 5061 : 5060)) {
		char tmp[SIP_FMT_UINT_MAX];
		put(out, cap, &n, ":", 1);
		put(out, cap, &n, tmp, sip_fmt_uint(tmp, uri->port));
	}
	if (n > cap) {
		return LC_ENOSPACE;
	}
	*len = n;
	return LC_OK;
}

static int canon_tel(const struct sip_uri *uri, char *out, size_t cap, size_t *len)
{
	size_t n = 0;
	struct sip_str ctx;
	put(out, cap, &n, "tel:", 4);
	for (uint32_t i = 0; i < uri->user.len; i++) {
		char c = uri->user.p[i];
		if (!is_visual_separator(c)) {
			put(out, cap, &n, &(char){sip_lower(c)}, 1);
		}
	}
	/* an extension or ISDN subaddress names another subscriber (RFC 3966 §5.1.4, §5.1.5) */
	static const char *const keep[] = {"ext", "isub"};
	for (size_t i = 0; i < LC_ARRAY_SIZE(keep); i++) {
		struct sip_str v;
		if (sip_param_get(uri->params, keep[i], &v) && sip_str_present(v)) {
			put(out, cap, &n, ";", 1);
			put(out, cap, &n, keep[i], strlen(keep[i]));
			put(out, cap, &n, "=", 1);
			put_lower(out, cap, &n, v);
		}
	}
	/* A local number means nothing without its context (RFC 3966 §5.1.5). */
	if (uri->user.p[0] != '+' && sip_param_get(uri->params, "phone-context", &ctx) &&
	    sip_str_present(ctx)) {
		put(out, cap, &n, ";phone-context=", 15);
		put_lower(out, cap, &n, ctx);
	}
	if (n > cap) {
		return LC_ENOSPACE;
	}
	*len = n;
	return LC_OK;
}

/* A host canon_sip() leaves as it is: a hostname in lower case, not a dotted quad (a letter or
 * '-' in it: looked for from the end, where a name's top-level domain is), no final dot. */
static bool host_as_is(const char *p, const char *end)
{
	if (p == end || end[-1] == '.' || sip_skip(p, end, SIP_C_AOR_HOST) != end) {
		return false;
	}
	for (const char *q = end; q > p; q--) {
		if (q[-1] > '9' || q[-1] == '-') {
			return true;
		}
	}
	return false;
}

bool sip_aor_is_canonical(const char *p, size_t len)
{
	size_t i;
	if (len > 4 && memcmp(p, "sip:", 4) == 0) {
		i = 4;
	} else if (len > 5 && memcmp(p, "sips:", 5) == 0) {
		i = 5;
	} else {
		return false;
	}
	const char *end = p + len;
	const char *at = memchr(p + i, '@', len - i);
	if (at == NULL) {
		return host_as_is(p + i, end);
	}
	/* "sip:@host": whether the user is empty or absent is the parser's to say */
	return at > p + i && sip_skip(p + i, at, SIP_C_AOR_USER) == at && host_as_is(at + 1, end);
}

int sip_aor_canon(const struct sip_uri *uri, char *out, size_t cap, size_t *len)
{
	switch (uri->scheme_id) {
	case SIP_SCHEME_SIP:
	case SIP_SCHEME_SIPS:
		return canon_sip(uri, out, cap, len);
	case SIP_SCHEME_TEL:
		return canon_tel(uri, out, cap, len);
	default:
		return LC_EINVAL;
	}
}
