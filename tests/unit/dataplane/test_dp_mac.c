/* SPDX-License-Identifier: MIT */
/*
 * dp_mac: known answers for both outputs of SipHash-2-4 (the reference implementation's
 * vectors, which OpenSSL's own test carries: key 00 01 .. 0f, message 00 01 .. n-1), that the
 * pieces of a message (however they cut its words) and the key of the previous call change
 * nothing, and that a tampered message, tag, key or nonce does not verify.
 */
#include <string.h>

#include "common/lc_compiler.h"
#include "dataplane/dp_mac.h"
#include "tests/tap.h"

static uint8_t key[DP_MAC_KEY_LEN];
static uint8_t in[64];

/* SipHash-2-4, 16-byte output, of in[0..n) under key */
static const struct {
	unsigned n;
	uint8_t tag[16];
} kat128[] = {
	{8,
	 {0x3b, 0x62, 0xa9, 0xba, 0x62, 0x58, 0xf5, 0x61, 0x0f, 0x83, 0xe2, 0x64, 0xf3, 0x14, 0x97,
	  0xb4}},
	{15,
	 {0x54, 0x93, 0xe9, 0x99, 0x33, 0xb0, 0xa8, 0x11, 0x7e, 0x08, 0xec, 0x0f, 0x97, 0xcf, 0xc3,
	  0xd9}},
	{16,
	 {0x6e, 0xe2, 0xa4, 0xca, 0x67, 0xb0, 0x54, 0xbb, 0xfd, 0x33, 0x15, 0xbf, 0x85, 0x23, 0x05,
	  0x77}},
	{17,
	 {0x47, 0x3d, 0x06, 0xe8, 0x73, 0x8d, 0xb8, 0x98, 0x54, 0xc0, 0x66, 0xc4, 0x7a, 0xe4, 0x77,
	  0x40}},
	{63,
	 {0x51, 0x50, 0xd1, 0x77, 0x2f, 0x50, 0x83, 0x4a, 0x50, 0x3e, 0x06, 0x9a, 0x97, 0x3f, 0xbd,
	  0x7c}},
};

/* SipHash-2-4, 8-byte output (as a little-endian number), of in[0..n) under key */
static const struct {
	unsigned n;
	uint64_t v;
} kat64[] = {
	{0, 0x726fdb47dd0e0e31ull},  {1, 0x74f839c593dc67fdull},  {7, 0xab0200f58b01d137ull},
	{8, 0x93f5f5799a932462ull},  {15, 0xa129ca6149be45e5ull}, {16, 0x3f2acc7f57c29bdbull},
	{63, 0x958a324ceb064572ull},
};

/* The reference message's first 8 bytes, as the nonce dp_mac_tag puts before the pieces. */
#define REF_NONCE 0x0706050403020100ull

static void test_known_answers(void)
{
	for (unsigned i = 0; i < LC_ARRAY_SIZE(kat128); i++) {
		unsigned n = kat128[i].n;
		struct dp_mac_piece p = {in + 8, n - 8};
		uint8_t tag[DP_MAC_TAG_LEN];
		dp_mac_tag(key, REF_NONCE, &p, 1, tag);
		ok(memcmp(tag, kat128[i].tag, 16) == 0,
		   "SipHash-2-4-128 of %u bytes: the reference vector", n);
	}
	for (unsigned i = 0; i < LC_ARRAY_SIZE(kat64); i++) {
		unsigned n = kat64[i].n;
		struct dp_mac_piece p = {in, n};
		ok(dp_mac_prf64(key, &p, 1) == kat64[i].v,
		   "SipHash-2-4-64 of %u bytes: the reference vector", n);
	}
}

/* However the message is cut, and whatever key the previous call used, the tag is the same. */
static void test_pieces_and_rekeying(void)
{
	uint8_t whole[DP_MAC_TAG_LEN], cut[DP_MAC_TAG_LEN], other[DP_MAC_TAG_LEN];
	struct dp_mac_piece p1 = {in + 8, 55};
	dp_mac_tag(key, REF_NONCE, &p1, 1, whole);
	int same = 0, cuts = 0;
	for (size_t a = 0; a <= 55; a += 5) {
		for (size_t b = a; b <= 55; b += 7, cuts++) {
			struct dp_mac_piece p3[3] = {
				{in + 8, a}, {in + 8 + a, b - a}, {in + 8 + b, 55 - b}};
			dp_mac_tag(key, REF_NONCE, p3, 3, cut);
			same += memcmp(cut, whole, sizeof(cut)) == 0;
		}
	}
	ok(cuts == 54 && same == cuts, "every cut into 3 pieces (%d of %d)", same, cuts);
	ok(memcmp(whole, kat128[4].tag, 16) == 0, "and it is the 63-byte vector");

	uint8_t key2[DP_MAC_KEY_LEN];
	memset(key2, 0xa5, sizeof(key2));
	dp_mac_tag(key2, REF_NONCE, &p1, 1, other);
	ok(memcmp(other, whole, sizeof(other)) != 0, "another key, another tag");
	dp_mac_tag(key, REF_NONCE, &p1, 1, cut);
	ok(memcmp(cut, whole, sizeof(cut)) == 0, "the previous key leaves nothing behind");

	struct dp_mac_piece none = {NULL, 0};
	uint8_t empty[DP_MAC_TAG_LEN];
	dp_mac_tag(key, REF_NONCE, NULL, 0, empty);
	dp_mac_tag(key, REF_NONCE, &none, 1, cut);
	ok(memcmp(empty, kat128[0].tag, 16) == 0 && memcmp(cut, empty, 16) == 0,
	   "no pieces, or an empty one: the tag of the nonce alone (8-byte vector)");
}

static void test_verify(void)
{
	uint8_t msg[300];
	for (size_t i = 0; i < sizeof(msg); i++) {
		msg[i] = (uint8_t)(i * 7 + 1);
	}
	struct dp_mac_piece p[2] = {{msg, 100}, {msg + 100, 200}};
	uint8_t tag[DP_MAC_TAG_LEN];
	const uint64_t nonce = 0x1122334455667788ull;
	dp_mac_tag(key, nonce, p, 2, tag);
	ok(dp_mac_verify(key, nonce, p, 2, tag), "it verifies");

	int bad = 0;
	for (size_t i = 0; i < sizeof(msg); i++) {
		msg[i] ^= 0x01;
		bad += dp_mac_verify(key, nonce, p, 2, tag);
		msg[i] ^= 0x01;
	}
	is_int(bad, 0, "no message with one bit flipped verifies (300 tries)");
	bad = 0;
	for (size_t i = 0; i < DP_MAC_TAG_LEN * 8; i++) {
		tag[i / 8] ^= (uint8_t)(1u << (i % 8));
		bad += dp_mac_verify(key, nonce, p, 2, tag);
		tag[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	is_int(bad, 0, "no tag with one bit flipped verifies (128 tries)");
	bad = 0;
	for (size_t i = 0; i < DP_MAC_KEY_LEN * 8; i++) {
		key[i / 8] ^= (uint8_t)(1u << (i % 8));
		bad += dp_mac_verify(key, nonce, p, 2, tag);
		key[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	is_int(bad, 0, "no key with one bit flipped verifies (128 tries)");
	bad = 0;
	for (unsigned i = 0; i < 64; i++) {
		bad += dp_mac_verify(key, nonce ^ (1ull << i), p, 2, tag);
	}
	is_int(bad, 0, "no nonce with one bit flipped verifies (64 tries)");
	struct dp_mac_piece shorter[2] = {{msg, 100}, {msg + 100, 199}};
	ok(!dp_mac_verify(key, nonce, shorter, 2, tag), "a truncated message does not");
	ok(dp_mac_verify(key, nonce, p, 2, tag), "the original still does");
}

/* Byte by byte, a piece per byte: every length of tail the buffer can hold, at every offset,
 * for both outputs (the vectors above only cover whole pieces). */
static void test_byte_pieces(void)
{
	struct dp_mac_piece one[64];
	for (unsigned i = 0; i < 64; i++) {
		one[i] = (struct dp_mac_piece){in + i, 1};
	}
	int same = 0;
	for (unsigned n = 0; n <= 64; n++) {
		struct dp_mac_piece whole = {in, n};
		uint8_t a[DP_MAC_TAG_LEN], b[DP_MAC_TAG_LEN];
		dp_mac_tag(key, REF_NONCE, &whole, 1, a);
		dp_mac_tag(key, REF_NONCE, one, n, b);
		same += dp_mac_prf64(key, &whole, 1) == dp_mac_prf64(key, one, n) &&
			memcmp(a, b, sizeof(a)) == 0;
	}
	is_int(same, 65, "a piece per byte gives what one piece gives, lengths 0 to 64");
}

int main(void)
{
	for (unsigned i = 0; i < sizeof(key); i++) {
		key[i] = (uint8_t)i;
	}
	for (unsigned i = 0; i < sizeof(in); i++) {
		in[i] = (uint8_t)i;
	}
	test_known_answers();
	test_pieces_and_rekeying();
	test_verify();
	test_byte_pieces();
	done_testing();
	return exit_status();
}
