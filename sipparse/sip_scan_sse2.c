/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 backend of sip_scan.h: 16 bytes per step with SSE2, which every x86-64 CPU has.
 * Line ends are not here: glibc's memchr (AVX2 where the CPU has it) found them faster than an
 * SSE2 loop inlined here did on header lines of 20 to 80 bytes, so sip_parse.c keeps memchr.
 *
 * How it works: each scan turns a 16-byte block into a bit mask of the bytes that stop it
 * (compares and a movemask) and returns the first set bit. Blocks are loaded only inside
 * [p, end): while more than 16 bytes are left, from p; the last block is the 16 bytes that end at
 * end, overlapping what was already checked, whose bits are shifted out. A range shorter than 16
 * bytes has no such block and is scanned one byte at a time. So no load ever touches a byte
 * outside the range, which keeps the parser inside the caller's datagram (it may end at a page
 * boundary) and keeps AddressSanitizer quiet.
 */
#include "sipparse/sip_scan.h"

#include <emmintrin.h>
#include <stdint.h>

#include "sipparse/sip_lex.h"

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
