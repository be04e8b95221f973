/* SPDX-License-Identifier: MIT */
/*
 * Internal to sipparse/: the character classes of RFC 3261 §25.1 as one 256-entry table, and the
 * small scanners every header parser shares (whitespace, tokens, quoted strings, numbers, IP
 * addresses). All scanners take [p, end) and never read at or past end, which is what keeps the
 * parser inside the datagram whatever it contains.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Character classes (bits of sip_ctype[]). */
enum {
	SIP_C_DIGIT = 1u << 0,
	SIP_C_ALPHA = 1u << 1,
	SIP_C_HEX = 1u << 2,
	SIP_C_TOKEN = 1u << 3, /* token: alphanum and -.!%*_+`'~ */
	SIP_C_WORD = 1u << 4,  /* word (Call-ID): token and ()<>:\"/[]?{} */
	SIP_C_UNRES = 1u << 5, /* unreserved: alphanum and -_.!~*'() */
	SIP_C_USER = 1u << 6,  /* user: unreserved and &=+$,;?/ ('%' handled apart) */
	SIP_C_PASS = 1u << 7,  /* password: unreserved and &=+$, */
	SIP_C_PARAM = 1u << 8, /* paramchar: unreserved and []/:&+$ */
	SIP_C_HNV = 1u << 9,   /* hname/hvalue: unreserved and []/?:+$ */
	SIP_C_HOST = 1u << 10, /* hostname: alphanum, '-', '.' */
	SIP_C_WS = 1u << 11,   /* SP, HTAB */
	SIP_C_LWS =
		1u << 12, /* SP, HTAB, CR, LF: inside a header value CR/LF only occur in folds */
	SIP_C_URIC = 1u << 13, /* uric less escaped: reserved and unreserved (absolute URIs) */
	SIP_C_TEL = 1u << 14,  /* tel number: hex digits, +*#, visual separators -.() */
	SIP_C_TEXT = 1u << 15, /* TEXT-UTF8 and HTAB: any byte but CTLs and DEL */
	SIP_C_QDTEXT =
		1u << 16, /* qdtext less LWS folds: SP, HTAB, %x21, %x23-5B, %x5D-7E, UTF-8 */
	SIP_C_HYPHEN = 1u << 17, /* '-' */
	SIP_C_GENV = 1u << 18,	 /* token and ':' (a gen-value that may be a bare IPv6 address) */
	SIP_C_SCHEME = 1u << 19, /* scheme after its first letter: alphanum and +-. */
	/* what a canonical AOR keeps as it is (sip_aor_is_canonical): */
	SIP_C_AOR_USER = 1u << 20, /* user less ';' and '?', where params or headers could begin */
	SIP_C_AOR_HOST = 1u << 21, /* hostname in lower case: a-z, 0-9, '-', '.' */
};

extern const uint32_t sip_ctype[256];

static inline bool sip_is(char c, unsigned cls)
{
	return (sip_ctype[(uint8_t)c] & cls) != 0;
}

/*
 * The run of class @p cls at p. Four bytes per loop step: one bounds check per four table
 * lookups instead of one per byte, which is most of what a byte-at-a-time scan costs.
 */
static inline const char *sip_skip(const char *p, const char *end, unsigned cls)
{
	for (; end - p >= 4; p += 4) {
		if (!sip_is(p[0], cls)) {
			return p;
		}
		if (!sip_is(p[1], cls)) {
			return p + 1;
		}
		if (!sip_is(p[2], cls)) {
			return p + 2;
		}
		if (!sip_is(p[3], cls)) {
			return p + 3;
		}
	}
	while (p < end && sip_is(*p, cls)) {
		p++;
	}
	return p;
}

/*
 * LWS inside a field value: SP, HTAB and folds. A CR counts only as the start of CRLF (RFC 3261
 * §25.1): a lone CR stops the skip, so the field's parser fails on it instead of letting it be
 * echoed into a response, where some receivers would take it for a line break.
 */
static inline const char *sip_skip_lws(const char *p, const char *end)
{
	while (p < end && sip_is(*p, SIP_C_LWS)) {
		if (*p == '\r' && (p + 1 == end || p[1] != '\n')) {
			break;
		}
		p++;
	}
	return p;
}

/* Trim trailing linear whitespace of [p, end). */
static inline const char *sip_rtrim(const char *p, const char *end)
{
	while (end > p && sip_is(end[-1], SIP_C_LWS)) {
		end--;
	}
	return end;
}

static inline int sip_hexval(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c |= 0x20;
	return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

static inline char sip_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
}

/* Case-insensitive compare of n bytes of two strings. */
static inline bool sip_lit_caseeq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (sip_lower(a[i]) != sip_lower(b[i])) {
			return false;
		}
	}
	return true;
}

/* Always inlined: with a literal and a constant length these fold into a compare or two. */
#define SIP_FOLD static inline __attribute__((always_inline))

/*
 * Up to 8 bytes of p as one word (zero-filled), read with loads of 4, 2 and 1 bytes straight into
 * registers: a memcpy of n bytes into a zeroed word would go through the stack and stall the
 * wide load that follows (no store-to-load forwarding from narrower stores). The byte layout
 * differs between byte orders, but the input, the literal and the mask are all read this way.
 */
SIP_FOLD uint64_t sip_word(const char *p, size_t n)
{
	uint64_t v = 0;
	size_t i = 0;
	if (n >= 8) {
		memcpy(&v, p, 8);
		return v;
	}
	if (n & 4) {
		uint32_t x;
		memcpy(&x, p, 4);
		v = x;
		i = 4;
	}
	if (n & 2) {
		uint16_t x;
		memcpy(&x, p + i, 2);
		v |= (uint64_t)x << (8 * i);
		i += 2;
	}
	if (n & 1) {
		v |= (uint64_t)(uint8_t)p[i] << (8 * i);
	}
	return v;
}

/* 0x20 in each byte where the literal has a lower-case letter, 0 elsewhere. */
SIP_FOLD uint64_t sip_case_mask(const char *lit, size_t n)
{
	char b[8] = {0};
	for (size_t i = 0; i < n && i < 8; i++) {
		b[i] = (lit[i] >= 'a' && lit[i] <= 'z') ? 0x20 : 0;
	}
	return sip_word(b, n);
}

/*
 * Whether the n bytes at p equal the lower-case literal @p lit, ignoring ASCII case: a word (8
 * bytes) at a time, setting bit 0x20 only where the literal has a letter, because setting it
 * elsewhere would let "\r" match "-". With a literal and a constant n the masks and the literal's
 * words are computed by the compiler, so a header or parameter name costs one or two compares.
 */
SIP_FOLD bool sip_lit_ieq(const char *p, const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		size_t k = n - i < 8 ? n - i : 8;
		if ((sip_word(p + i, k) | sip_case_mask(lit + i, k)) != sip_word(lit + i, k)) {
			return false;
		}
	}
	return true;
}

/* sip_lit_ieq() with a string literal: SIP_LIT_IEQ(p, "branch") compares 6 bytes at p. */
#define SIP_LIT_IEQ(p, lit) sip_lit_ieq((p), (lit), sizeof(lit) - 1)

/* sip_scan_escaped() for any run: runs of the class and %HH escapes alternating. */
const char *sip_scan_escaped_long(const char *p, const char *end, unsigned cls);

/*
 * Scan characters of class @p cls, also accepting %HH escapes. Returns the end of the run, or
 * NULL when a '%' is not followed by two hex digits. Inline for the usual run without escapes.
 */
static inline const char *sip_scan_escaped(const char *p, const char *end, unsigned cls)
{
	p = sip_skip(p, end, cls);
	return (p == end || *p != '%') ? p : sip_scan_escaped_long(p, end, cls);
}

/*
 * p points at a '"'. Returns the pointer just past the closing quote, or NULL when the string is
 * unterminated or holds a byte that qdtext/quoted-pair forbid (RFC 3261 §25.1).
 */
const char *sip_scan_quoted(const char *p, const char *end);

/* sip_parse_uint() for any length: digit by digit, adding no more once past max. */
int sip_parse_uint_long(const char *p, size_t len, uint64_t max, uint64_t *out);

/*
 * Parse [p, p+len) as 1*DIGIT into *out. Returns 0 on success, -1 when empty or not all digits,
 * 1 when the value exceeds @p max (*out is then max). Inline: it runs for every port and number.
 */
static inline int sip_parse_uint(const char *p, size_t len, uint64_t max, uint64_t *out)
{
	/* up to 9 digits cannot wrap, so the range is checked once at the end; the numbers of a
	 * SIP message (ports, CSeq, Expires, Max-Forwards) all take this path */
	if (len - 1 < 9) {
		uint64_t v = 0;
		for (size_t i = 0; i < len; i++) {
			unsigned d = (unsigned)(uint8_t)p[i] - '0';
			if (d > 9) {
				return -1;
			}
			v = v * 10 + d;
		}
		*out = v > max ? max : v;
		return v > max;
	}
	return sip_parse_uint_long(p, len, max, out);
}

/* Whether [p, p+len) is a dotted-quad IPv4address. */
bool sip_is_ipv4(const char *p, size_t len);

/* Whether [p, p+len) is an IPv6address (RFC 3261 §25.1 / RFC 4291 text form, no brackets). */
bool sip_is_ipv6(const char *p, size_t len);

/*
 * Classify and validate a host (hostname / IPv4address / IPv6reference) in [p, p+len).
 * Returns the enum sip_host_type, or -1 when it is none of them.
 */
int sip_host_check(const char *p, size_t len);

/*
 * Scan a host (hostname / IPv4address / IPv6reference) starting at p, one byte at a time: stops
 * at the first byte that cannot continue it. Sets *type to the enum sip_host_type. Returns the end
 * of the host, or NULL when what was scanned is not a valid host. This is the portable definition;
 * the parser calls sip_host_scan() (sip_scan.h), which gives the same answers.
 */
const char *sip_host_scan_scalar(const char *p, const char *end, int *type);
