/* SPDX-License-Identifier: MIT */
/*
 * SipHash-2-4 (dp_mac.h says why this primitive and why computed here rather than by libcrypto),
 * written from the paper (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012) and
 * checked against its reference vectors in tests/unit/dataplane/test_dp_mac.c.
 *
 * How it works: the state is four 64-bit words, set from the key and the constants of the
 * paper's "somepseudorandomlygeneratedbytes". The message is read as little-endian 64-bit words;
 * each is xored into v3, mixed by 2 SipRounds (compression) and xored into v0. The last word
 * holds the message's 0..7 trailing bytes and, in its top byte, the length mod 256. Then v2 is
 * xored with 0xff (0xee for the 16-byte output) and 4 SipRounds (finalization) give the output
 * v0 ^ v1 ^ v2 ^ v3. The 16-byte output also starts with v1 ^= 0xee and takes its second word
 * after v1 ^= 0xdd and 4 more rounds. The message arrives in pieces (struct dp_mac_piece) that
 * need not be word-aligned, so up to 7 bytes wait in a small buffer for the next piece.
 * Everything lives on the caller's stack: no context, no allocation, nothing that can fail.
 */
#include <endian.h>
#include <string.h>

#include "common/lc_compiler.h"
#include "dataplane/dp_mac.h"

/* Owner: the calling function's stack, for one MAC. */
struct sip {
	uint64_t v0, v1, v2, v3;
	uint64_t len;	/* message bytes so far (only the low 8 bits matter) */
	uint8_t buf[8]; /* the bytes of a word not yet complete */
	unsigned nbuf;
};

static inline uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t rd64le(const uint8_t *p)
{
	uint64_t x;
	memcpy(&x, p, 8);
	return le64toh(x);
}

static inline void wr64le(uint8_t *p, uint64_t x)
{
	x = htole64(x);
	memcpy(p, &x, 8);
}

static inline void sipround(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl(s->v2, 32);
}

static inline void compress(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sipround(s);
	sipround(s);
	s->v0 ^= m;
}

static inline void sip_init(struct sip *s, const uint8_t key[DP_MAC_KEY_LEN], bool wide)
{
	uint64_t k0 = rd64le(key), k1 = rd64le(key + 8);
	s->v0 = k0 ^ 0x736f6d6570736575ull;
	s->v1 = k1 ^ 0x646f72616e646f6dull ^ (wide ? 0xee : 0);
	s->v2 = k0 ^ 0x6c7967656e657261ull;
	s->v3 = k1 ^ 0x7465646279746573ull;
	s->len = 0;
	s->nbuf = 0;
}

/* Feed @p n bytes at @p p: first complete a buffered word, then whole words straight from @p p,
 * then keep the rest for the next piece. */
static inline void sip_update(struct sip *s, const uint8_t *p, size_t n)
{
	s->len += n;
	if (s->nbuf > 0) {
		size_t k = LC_MIN(n, 8 - (size_t)s->nbuf);
		memcpy(s->buf + s->nbuf, p, k);
		s->nbuf += (unsigned)k;
		p += k;
		n -= k;
		if (s->nbuf < 8) {
			return;
		}
		compress(s, rd64le(s->buf));
		s->nbuf = 0;
	}
	for (; n >= 8; p += 8, n -= 8) {
		compress(s, rd64le(p));
	}
	if (n > 0) { /* (memcpy of 0 bytes from a NULL piece would be undefined) */
		memcpy(s->buf, p, n);
		s->nbuf = (unsigned)n;
	}
}

static inline void sip_pieces(struct sip *s, const struct dp_mac_piece *msg, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (msg[i].len > 0) {
			sip_update(s, msg[i].p, msg[i].len);
		}
	}
}

/* Close the message and run finalization; the first output word (the second is sip_more). */
static inline uint64_t sip_final(struct sip *s, bool wide)
{
	uint64_t b = s->len << 56;
	for (unsigned i = 0; i < s->nbuf; i++) {
		b |= (uint64_t)s->buf[i] << (8 * i);
	}
	compress(s, b);
	s->v2 ^= wide ? 0xee : 0xff;
	for (unsigned i = 0; i < 4; i++) {
		sipround(s);
	}
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* The 16-byte output's second word, after sip_final(s, true). */
static inline uint64_t sip_more(struct sip *s)
{
	s->v1 ^= 0xdd;
	for (unsigned i = 0; i < 4; i++) {
		sipround(s);
	}
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* The 16-byte output as two words (the tag is their little-endian bytes, first word first). */
static void tag_words(const uint8_t key[DP_MAC_KEY_LEN], uint64_t nonce,
		      const struct dp_mac_piece *msg, unsigned n, uint64_t w[2])
{
	struct sip s;
	sip_init(&s, key, true);
	/* the nonce's 8 little-endian bytes are the message's first word: no need to lay them out */
	compress(&s, nonce);
	s.len = 8;
	sip_pieces(&s, msg, n);
	w[0] = sip_final(&s, true);
	w[1] = sip_more(&s);
}

void dp_mac_tag(const uint8_t key[DP_MAC_KEY_LEN], uint64_t nonce, const struct dp_mac_piece *msg,
		unsigned n, uint8_t tag[DP_MAC_TAG_LEN])
{
	uint64_t w[2];
	tag_words(key, nonce, msg, n, w);
	wr64le(tag, w[0]);
	wr64le(tag + 8, w[1]);
}

bool dp_mac_verify(const uint8_t key[DP_MAC_KEY_LEN], uint64_t nonce,
		   const struct dp_mac_piece *msg, unsigned n, const uint8_t tag[DP_MAC_TAG_LEN])
{
	uint64_t w[2];
	tag_words(key, nonce, msg, n, w);
	/* no branch on how much of the tag matched: time says nothing about the right tag */
	uint64_t diff = (w[0] ^ rd64le(tag)) | (w[1] ^ rd64le(tag + 8));
	return diff == 0;
}

uint64_t dp_mac_prf64(const uint8_t key[DP_MAC_KEY_LEN], const struct dp_mac_piece *msg, unsigned n)
{
	struct sip s;
	sip_init(&s, key, false);
	sip_pieces(&s, msg, n);
	return sip_final(&s, false);
}
