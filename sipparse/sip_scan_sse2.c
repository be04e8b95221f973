/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 backend of sip_scan.h: 16 bytes per step with SSE2, which every x86-64 CPU has.
 *
 * How it works: each scan turns a 16-byte block into bit masks of the bytes it cares about
 * (compares and a movemask) and works on the masks. The TEXT and qdtext scans load only inside
 * [p, end): while more than 16 bytes are left, from p; the last block is the 16 bytes that end at
 * end, overlapping what was already checked, whose bits are shifted out; a range shorter than 16
 * bytes is scanned one byte at a time. The host and bare-URI scans may load up to lim, the
 * datagram's end, and mask off what lies past end, so short runs (a host is usually 10 to 20
 * bytes) still take one block; sip_colon16() loads the 16 bytes its caller vouches for. Line ends
 * are left to glibc's memchr, whose AVX2 code takes fewer instructions per header line than
 * 16-byte steps here. No load ever touches a byte outside the datagram, which keeps the parser inside the caller's
 * buffer (it may end at a page boundary) and keeps AddressSanitizer quiet.
 */
#include "sipparse/sip_scan.h"

#include <emmintrin.h>
#include <stdbool.h>
#include <stdint.h>

#include "sipparse/sip_lex.h"
#include "sipparse/sip_uri.h"

enum scan_kind { SCAN_TEXT, SCAN_QDTEXT };

/* Bytes that are not TEXT-UTF8: %x00-08, %x0A-1F and DEL. Bytes >= 0x80 are negative here. */
static inline __m128i not_text(__m128i v)
{
	__m128i ctl = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(-1)),
				    _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
	ctl = _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')), ctl);
	return _mm_or_si128(ctl, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
}

/* The stop mask of one block, bit i for byte i. */
static inline unsigned stops(__m128i v, enum scan_kind kind)
{
	__m128i m;
	if (kind == SCAN_TEXT) {
		m = not_text(v);
	} else {
		m = _mm_or_si128(not_text(v), _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
							   _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
	}
	return (unsigned)_mm_movemask_epi8(m);
}

static inline __m128i load16(const char *p)
{
	return _mm_loadu_si128((const __m128i *)(const void *)p);
}

/* The first stop in [p, end), or end when there is none. */
static inline const char *scan(const char *p, const char *end, enum scan_kind kind)
{
	if (end - p < 16) {
		return sip_skip(p, end, kind == SCAN_TEXT ? SIP_C_TEXT : SIP_C_QDTEXT);
	}
	for (; end - p > 16; p += 16) {
		unsigned m = stops(load16(p), kind);
		if (m != 0) {
			return p + __builtin_ctz(m);
		}
	}
	/* the last 16 bytes of the range; the first (p - t) of them were checked already */
	const char *t = end - 16;
	unsigned m = stops(load16(t), kind) >> (p - t);
	return m != 0 ? p + __builtin_ctz(m) : end;
}

const char *sip_skip_text(const char *p, const char *end)
{
	return scan(p, end, SCAN_TEXT);
}

const char *sip_skip_qdtext(const char *p, const char *end)
{
	return scan(p, end, SCAN_QDTEXT);
}

unsigned sip_colon16(const char *p)
{
	unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(load16(p), _mm_set1_epi8(':')));
	return (unsigned)__builtin_ctz(m | 0x10000);
}

/* The stops of sip_bare_uri_end(): ';', ',', '?', SP, HTAB, CR, LF. */
static inline unsigned bare_uri_stops(__m128i v)
{
	__m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(';')),
				 _mm_cmpeq_epi8(v, _mm_set1_epi8(',')));
	m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('?')),
					 _mm_cmpeq_epi8(v, _mm_set1_epi8(' '))));
	/* HTAB, LF and CR: 0x09, 0x0a, 0x0d; the bytes 0x0b and 0x0c in between are taken out */
	__m128i ctl = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - 0x09))),
				     _mm_set1_epi8((char)(0x80 + 5)));
	ctl = _mm_andnot_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(0x0b)),
					    _mm_cmpeq_epi8(v, _mm_set1_epi8(0x0c))),
			       ctl);
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(m, ctl));
}

const char *sip_bare_uri_end(const char *p, const char *end, const char *lim)
{
	for (; lim - p >= 16; p += 16) {
		unsigned m = bare_uri_stops(load16(p));
		if (m != 0 || end - p <= 16) {
			const char *s = m != 0 ? p + __builtin_ctz(m) : end;
			return s < end ? s : end;
		}
	}
	while (p < end && *p != ';' && *p != ',' && *p != '?' && !sip_is(*p, SIP_C_LWS)) {
		p++;
	}
	return p;
}

/*
 * Host names and IPv4 addresses, 16 bytes per block, up to four blocks (64 bytes; longer hosts
 * and hosts within 16 bytes of the datagram's end take the scalar path). Each block gives four
 * bit masks: host bytes (alphanumeric, '-', '.'), letters, dots and hyphens. The host is the run
 * of host bytes, cut at end; the label rules then become a few operations on the masks instead
 * of a pass over the bytes.
 */
struct host_masks {
	uint64_t host, alpha, dot, hyphen;
};

static inline void host_block(const char *p, unsigned k, struct host_masks *m)
{
	__m128i v = load16(p + k);
	/* x - lo < n (unsigned) as one signed compare: shift the range to start at -128 */
	__m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
	__m128i alpha = _mm_cmplt_epi8(_mm_add_epi8(lower, _mm_set1_epi8((char)(0x80 - 'a'))),
				       _mm_set1_epi8((char)(0x80 + 26)));
	__m128i digit = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - '0'))),
				       _mm_set1_epi8((char)(0x80 + 10)));
	__m128i dot = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
	__m128i hyphen = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
	__m128i host = _mm_or_si128(_mm_or_si128(alpha, digit), _mm_or_si128(dot, hyphen));
	m->host |= (uint64_t)(unsigned)_mm_movemask_epi8(host) << k;
	m->alpha |= (uint64_t)(unsigned)_mm_movemask_epi8(alpha) << k;
	m->dot |= (uint64_t)(unsigned)_mm_movemask_epi8(dot) << k;
	m->hyphen |= (uint64_t)(unsigned)_mm_movemask_epi8(hyphen) << k;
}

/*
 * A run of n digits and dots (dots marked in @p dot) as a dotted quad: exactly three dots, four
 * groups of 1-3 digits, each at most 255. The same rule as sip_is_ipv4().
 */
static bool ipv4_groups_ok(const char *p, unsigned n, uint64_t dot)
{
	if (n < 7 || n > 15) {
		return false;
	}
	uint64_t marks = dot | (1ull << n); /* the end closes the fourth group */
	unsigned start = 0;
	for (int i = 0; i < 4; i++) {
		if (marks == 0) {
			return false;
		}
		unsigned pos = (unsigned)__builtin_ctzll(marks);
		unsigned len = pos - start;
		marks &= marks - 1;
		if (len - 1 > 2) {
			return false;
		}
		if (len == 3 &&
		    (p[start] - '0') * 100 + (p[start + 1] - '0') * 10 + (p[start + 2] - '0') >
			    255) {
			return false;
		}
		start = pos + 1;
	}
	return marks == 0;
}

const char *sip_host_scan(const char *p, const char *end, const char *lim, int *type)
{
	if (p == end || *p == '[' || lim - p < 16) {
		return sip_host_scan_scalar(p, end, type);
	}
	struct host_masks m = {0, 0, 0, 0};
	size_t avail = (size_t)(end - p);
	for (unsigned k = 0;; k += 16) {
		host_block(p, k, &m);
		if ((m.host >> k & 0xffff) != 0xffff || k + 16 >= avail) {
			break;
		}
		if (k == 48 || lim - (p + k + 16) < 16) {
			return sip_host_scan_scalar(p, end, type);
		}
	}
	unsigned n = ~m.host != 0 ? (unsigned)__builtin_ctzll(~m.host) : 64;
	n = n < avail ? n : (unsigned)avail;
	uint64_t keep = n == 64 ? ~0ull : (1ull << n) - 1;
	uint64_t dot = m.dot & keep;
	uint64_t hyphen = m.hyphen & keep;
	if (((m.alpha | m.hyphen) & keep) == 0) {
		*type = SIP_HOST_IPV4;
		return ipv4_groups_ok(p, n, dot) ? p + n : NULL;
	}
	/* labels: a '.' may not follow '.', '-' or the start; a '-' may not follow '.' or the start
	 * or end the name (the rules of labels_ok() in sip_lex.c) */
	*type = SIP_HOST_NAME;
	uint64_t bad = (dot & ((dot | hyphen) << 1 | 1)) | (hyphen & (dot << 1 | 1)) |
		       (hyphen >> (n - 1) & 1);
	return bad == 0 ? p + n : NULL;
}
