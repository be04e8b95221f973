/* SPDX-License-Identifier: MIT */
/*
 * Character classes and shared scanners for the SIP parser (see sip_lex.h). The class table is
 * computed by the compiler from the RFC 3261 §25.1 definitions written out below as predicates,
 * so each class reads like the ABNF it comes from instead of as 256 hand-typed numbers.
 */
#include "sipparse/sip_lex.h"

#include <string.h>

#include "sipparse/sip_scan.h"
#include "sipparse/sip_uri.h"

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define IS_ALNUM(c) (IS_DIGIT(c) || IS_ALPHA(c))
#define IS_HEX(c) (IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define IS_MARK(c)                                                                                 \
	((c) == '-' || (c) == '_' || (c) == '.' || (c) == '!' || (c) == '~' || (c) == '*' ||       \
	 (c) == '\'' || (c) == '(' || (c) == ')')
#define IS_UNRES(c) (IS_ALNUM(c) || IS_MARK(c))
#define IS_TOKEN(c)                                                                                \
	(IS_ALNUM(c) || (c) == '-' || (c) == '.' || (c) == '!' || (c) == '%' || (c) == '*' ||      \
	 (c) == '_' || (c) == '+' || (c) == '`' || (c) == '\'' || (c) == '~')
#define IS_WORD(c)                                                                                 \
	(IS_TOKEN(c) || (c) == '(' || (c) == ')' || (c) == '<' || (c) == '>' || (c) == ':' ||      \
	 (c) == '\\' || (c) == '"' || (c) == '/' || (c) == '[' || (c) == ']' || (c) == '?' ||      \
	 (c) == '{' || (c) == '}')
#define IS_USER(c)                                                                                 \
	(IS_UNRES(c) || (c) == '&' || (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',' ||      \
	 (c) == ';' || (c) == '?' || (c) == '/')
#define IS_PASS(c)                                                                                 \
	(IS_UNRES(c) || (c) == '&' || (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',')
#define IS_PARAM(c)                                                                                \
	(IS_UNRES(c) || (c) == '[' || (c) == ']' || (c) == '/' || (c) == ':' || (c) == '&' ||      \
	 (c) == '+' || (c) == '$')
#define IS_HNV(c)                                                                                  \
	(IS_UNRES(c) || (c) == '[' || (c) == ']' || (c) == '/' || (c) == '?' || (c) == ':' ||      \
	 (c) == '+' || (c) == '$')
#define IS_HOST(c) (IS_ALNUM(c) || (c) == '-' || (c) == '.')
#define IS_WS(c) ((c) == ' ' || (c) == '\t')
#define IS_LWS(c) (IS_WS(c) || (c) == '\r' || (c) == '\n')
#define IS_RESERVED(c)                                                                             \
	((c) == ';' || (c) == '/' || (c) == '?' || (c) == ':' || (c) == '@' || (c) == '&' ||       \
	 (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',')
#define IS_URIC(c) (IS_RESERVED(c) || IS_UNRES(c))
#define IS_TEL(c)                                                                                  \
	(IS_HEX(c) || (c) == '+' || (c) == '*' || (c) == '#' || (c) == '-' || (c) == '.' ||        \
	 (c) == '(' || (c) == ')')
#define IS_TEXT(c) ((c) == '\t' || ((c) >= 0x20 && (c) != 0x7f))
#define IS_QDTEXT(c) (IS_WS(c) || ((c) >= 0x21 && (c) != '"' && (c) != '\\' && (c) != 0x7f))

#define CLS(c)                                                                                     \
	(uint32_t)((IS_DIGIT(c) ? SIP_C_DIGIT : 0) | (IS_ALPHA(c) ? SIP_C_ALPHA : 0) |             \
		   (IS_HEX(c) ? SIP_C_HEX : 0) | (IS_TOKEN(c) ? SIP_C_TOKEN : 0) |                 \
		   (IS_WORD(c) ? SIP_C_WORD : 0) | (IS_UNRES(c) ? SIP_C_UNRES : 0) |               \
		   (IS_USER(c) ? SIP_C_USER : 0) | (IS_PASS(c) ? SIP_C_PASS : 0) |                 \
		   (IS_PARAM(c) ? SIP_C_PARAM : 0) | (IS_HNV(c) ? SIP_C_HNV : 0) |                 \
		   (IS_HOST(c) ? SIP_C_HOST : 0) | (IS_WS(c) ? SIP_C_WS : 0) |                     \
		   (IS_LWS(c) ? SIP_C_LWS : 0) | (IS_URIC(c) ? SIP_C_URIC : 0) |                   \
		   (IS_TEL(c) ? SIP_C_TEL : 0) | (IS_TEXT(c) ? SIP_C_TEXT : 0) |                   \
		   (IS_QDTEXT(c) ? SIP_C_QDTEXT : 0) | ((c) == '-' ? SIP_C_HYPHEN : 0) |           \
		   ((IS_TOKEN(c) || (c) == ':') ? SIP_C_GENV : 0) |                                \
		   ((IS_ALNUM(c) || (c) == '+' || (c) == '-' || (c) == '.') ? SIP_C_SCHEME : 0) |  \
		   ((IS_USER(c) && (c) != ';' && (c) != '?') ? SIP_C_AOR_USER : 0) |               \
		   ((IS_HOST(c) && !((c) >= 'A' && (c) <= 'Z')) ? SIP_C_AOR_HOST : 0))
#define R4(b) CLS(b), CLS((b) + 1), CLS((b) + 2), CLS((b) + 3)
#define R16(b) R4(b), R4((b) + 4), R4((b) + 8), R4((b) + 12)
#define R64(b) R16(b), R16((b) + 16), R16((b) + 32), R16((b) + 48)

const uint32_t sip_ctype[256] = {R64(0), R64(64), R64(128), R64(192)};

/* No class used here contains '%', so runs of the class and escapes simply alternate. */
const char *sip_scan_escaped_long(const char *p, const char *end, unsigned cls)
{
	for (;;) {
		p = sip_skip(p, end, cls);
		if (p == end || *p != '%') {
			return p;
		}
		if (end - p < 3 || sip_hexval(p[1]) < 0 || sip_hexval(p[2]) < 0) {
			return NULL;
		}
		p += 3;
	}
}

const char *sip_scan_quoted(const char *p, const char *end)
{
	for (p++;;) {
		p = sip_skip_qdtext(p, end);
		if (p == end) {
			return NULL;
		}
		if (*p == '"') {
			return p + 1;
		}
		if (*p == '\\') {
			/* quoted-pair: "\" followed by %x00-09 / %x0B-0C / %x0E-7F */
			if (++p == end || *p == '\n' || *p == '\r' || (uint8_t)*p > 0x7f) {
				return NULL;
			}
			p++;
		} else if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
			p++; /* a fold inside the field value: LWS; a lone CR is not */
		} else {
			return NULL;
		}
	}
}

int sip_parse_uint_long(const char *p, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	int over = 0;
	if (len == 0) {
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (!IS_DIGIT(p[i])) {
			return -1;
		}
		if (!over) {
			v = v * 10 + (uint64_t)(p[i] - '0');
			/* max is at most 2^32-1 in practice, so v never wraps before this catches it */
			if (v > max) {
				over = 1;
			}
		}
	}
	*out = over ? max : v;
	return over;
}

bool sip_is_ipv4(const char *p, size_t len)
{
	unsigned dots = 0;
	unsigned v = 0;
	unsigned digits = 0;
	if (len < 7 || len > 15) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(uint8_t)p[i] - '0';
		if (d <= 9) {
			v = v * 10 + d;
			digits++;
		} else if (p[i] == '.' && digits > 0 && digits <= 3 && v <= 255) {
			dots++;
			v = 0;
			digits = 0;
		} else {
			return false;
		}
	}
	return dots == 3 && digits > 0 && digits <= 3 && v <= 255;
}

/*
 * IPv6address: up to 8 groups of 1-4 hex digits separated by ':', at most one "::", and an
 * optional trailing IPv4address counting as two groups.
 */
bool sip_is_ipv6(const char *p, size_t len)
{
	const char *end = p + len;
	int groups = 0;
	bool gap = false;
	if (len < 2) {
		return false;
	}
	if (p[0] == ':') {
		if (p[1] != ':') {
			return false;
		}
		gap = true;
		p += 2;
	}
	while (p < end) {
		const char *s = p;
		while (p < end && IS_HEX(*p) && p - s < 5) {
			p++;
		}
		if (p < end && *p == '.') {
			/* embedded IPv4 tail */
			if (!sip_is_ipv4(s, (size_t)(end - s))) {
				return false;
			}
			groups += 2;
			p = end;
			break;
		}
		if (p == s || p - s > 4) {
			return false;
		}
		groups++;
		if (p == end) {
			break;
		}
		if (*p != ':') {
			return false;
		}
		p++;
		if (p < end && *p == ':') {
			if (gap) {
				return false;
			}
			gap = true;
			p++;
			/* RFC 5118 §4.10: RFC 3261's ABNF lets "::" be followed by ":" IPv4address */
			if (p < end && *p == ':' && sip_is_ipv4(p + 1, (size_t)(end - p - 1))) {
				p++;
			}
		} else if (p == end) {
			return false; /* a single trailing ':' */
		}
	}
	return gap ? groups <= 7 : groups == 8;
}

int sip_host_check(const char *p, size_t len)
{
	int type;
	return sip_host_scan(p, p + len, p + len, &type) == p + len && len > 0 ? type : -1;
}

/*
 * hostname labels (RFC 3261 §25.1): alphanum, '-' only inside, joined by single dots; a final dot
 * ("example.com.") is allowed. Checked pairwise in one pass: a '.' may not follow '.', '-' or the
 * start, a '-' may not follow '.' or the start, and the last byte may not be '-'.
 */
static bool labels_ok(const char *p, const char *end)
{
	char prev = '.';
	for (; p < end; p++) {
		char c = *p;
		if ((c == '.' && (prev == '.' || prev == '-')) || (c == '-' && prev == '.')) {
			return false;
		}
		prev = c;
	}
	return prev != '-';
}

/*
 * A dotted quad at p, for the common case of a host that is one: returns its end, or NULL when p
 * does not start with four groups of 1-3 digits, each at most 255, joined by dots. The caller
 * still checks that no host character follows.
 */
static const char *scan_ipv4(const char *p, const char *end)
{
	for (int i = 0;; i++) {
		unsigned v = 0;
		const char *s = p;
		while (p < end && p - s < 4 && (unsigned)(*p - '0') <= 9) {
			v = v * 10 + (unsigned)(*p - '0');
			p++;
		}
		if (p == s || p - s > 3 || v > 255) {
			return NULL;
		}
		if (i == 3) {
			return p;
		}
		if (p == end || *p != '.') {
			return NULL;
		}
		p++;
	}
}

/*
 * A dotted quad is parsed directly. Anything else is scanned in one tight pass that collects the
 * classes seen; only then is the run checked as an IPv4 address (no letter or '-' seen) or as
 * host name labels, instead of several branches per character.
 */
const char *sip_host_scan_scalar(const char *p, const char *end, int *type)
{
	const char *s = p;
	uint32_t seen = 0;
	if (p < end && *p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (rb == NULL || !sip_is_ipv6(p + 1, (size_t)(rb - p - 1))) {
			return NULL;
		}
		*type = SIP_HOST_IPV6;
		return rb + 1;
	}
	if (p < end && sip_is(*p, SIP_C_DIGIT)) {
		const char *q = scan_ipv4(p, end);
		if (q != NULL && (q == end || !sip_is(*q, SIP_C_HOST))) {
			*type = SIP_HOST_IPV4;
			return q;
		}
	}
	for (; p < end; p++) {
		uint32_t c = sip_ctype[(uint8_t)*p];
		if (!(c & SIP_C_HOST)) {
			break;
		}
		seen |= c;
	}
	if (!(seen & (SIP_C_ALPHA | SIP_C_HYPHEN))) {
		*type = SIP_HOST_IPV4;
		return sip_is_ipv4(s, (size_t)(p - s)) ? p : NULL;
	}
	*type = SIP_HOST_NAME;
	return labels_ok(s, p) ? p : NULL;
}
