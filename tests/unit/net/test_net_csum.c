/* SPDX-License-Identifier: MIT */
/*
 * net_csum: the RFC 1071 example, a real IPv4 header, a real UDP datagram, and the three ways a
 * received UDP checksum can be acceptable (valid, none, partial).
 */
#include <string.h>

#include "net/net_csum.h"
#include "net/net_proto.h"
#include "tests/prng.h"
#include "tests/tap.h"

/* The sum as RFC 1071 defines it: big-endian 16-bit words, an odd last byte padded on the
 * right, folded; what net_csum_add's word-at-a-time loop must equal. */
static uint16_t reference(uint32_t start, const uint8_t *p, size_t len)
{
	uint64_t s = start;
	for (size_t i = 0; i < len; i += 2) {
		s += (uint64_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
	}
	while (s >> 16) {
		s = (s & 0xffff) + (s >> 16);
	}
	return (uint16_t)s;
}

/* Random buffers of every length up to 1600, at every alignment, from random starting sums. */
static void test_against_reference(void)
{
	static uint8_t buf[1608];
	rng_s = 0x5eedc5u;
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] = (uint8_t)rnd();
	}
	unsigned bad = 0, n = 0;
	for (size_t len = 0; len <= 1600; len++) {
		size_t off = len % 8;
		uint32_t start = (uint32_t)below(0x20000);
		n++;
		bad += net_csum_fold(net_csum_add(start, buf + off, len)) !=
		       reference(start, buf + off, len);
	}
	for (unsigned k = 0; k < 64; k++) { /* all 0xff: the carries at their largest */
		buf[k] = 0xff;
	}
	bad += net_csum_fold(net_csum_add(0x1ffff, buf, 64)) != reference(0x1ffff, buf, 64);
	/* the largest datagram, all ones: the 64-bit words' carries at their most */
	static uint8_t big[65536];
	memset(big, 0xff, sizeof(big));
	bad += net_csum_fold(net_csum_add(0x1ffff, big, sizeof(big) - 1)) !=
	       reference(0x1ffff, big, sizeof(big) - 1);
	is_int(bad, 0,
	       "%u random sums (lengths 0..1600, every alignment; 65535 bytes of ones) equal the "
	       "16-bit reference",
	       n + 2);
}

/* The IPv4 header of the well-known checksum example (checksum 0xb861); a UDP datagram
 * 192.168.0.1:1025 -> 192.168.0.2:53 with payload "hi\n" is checked against a sum by hand. */
static const uint8_t ip_hdr[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
				   0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

int main(void)
{
	plan(14);
	test_against_reference();
	/* RFC 1071 section 3: 0001 f203 f4f5 f6f7 sums to ddf2 */
	static const uint8_t rfc[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	is_int(net_csum_fold(net_csum_add(0, rfc, sizeof(rfc))), 0xddf2, "RFC 1071 example");
	/* chaining at an even offset gives the same sum */
	uint32_t s = net_csum_add(net_csum_add(0, rfc, 4), rfc + 4, 4);
	is_int(net_csum_fold(s), 0xddf2, "chained sum");
	static const uint8_t odd[] = {0x01, 0x02, 0x03};
	is_int(net_csum_fold(net_csum_add(0, odd, 3)), 0x0402, "odd length pads with zero");

	is_int(net_ip_csum(ip_hdr, 20), 0xb861, "IPv4 header checksum");
	ok(net_ip_csum_ok(ip_hdr, 20), "IPv4 header verifies");
	uint8_t bad[20];
	memcpy(bad, ip_hdr, 20);
	bad[8] = 0x3f;
	ok(!net_ip_csum_ok(bad, 20), "a changed TTL does not verify");
	/* the 20-byte header's own path against the general sum, checksum field set or not */
	unsigned ip_bad = 0;
	uint64_t seed = 0x9e3779b97f4a7c15u;
	for (int i = 0; i < 100000; i++) {
		uint8_t h[20];
		for (int k = 0; k < 20; k++) {
			seed = seed * 6364136223846793005u + 1442695040888963407u;
			h[k] = (uint8_t)(i < 8 ? (i & 1 ? 0xff : 0x00) : seed >> 56);
		}
		uint32_t general = net_csum_add(net_csum_add(0, h, 10), h + 12, 8);
		uint16_t want = (uint16_t)~net_csum_fold(general);
		ip_bad += net_ip_csum(h, 20) != want;
		ip_bad +=
			net_ip_csum_ok(h, 20) != (net_csum_fold(net_csum_add(0, h, 20)) == 0xffff);
		net_wr16(h + 10, net_ip_csum(h, 20));
		ip_bad += !net_ip_csum_ok(h, 20);
	}
	is_int(ip_bad, 0, "a 20-byte header sums as the general path does (100000 headers)");

	uint32_t src = 0xc0a80001, dst = 0xc0a80002;
	uint8_t udp[11] = {0x04, 0x01, 0x00, 0x35, 0x00, 0x0b, 0, 0, 'h', 'i', '\n'};
	uint16_t c = net_l4_csum(src, dst, NET_IP_PROTO_UDP, udp, 11, 6, true);
	/* by hand: pseudo c0a8+0001+c0a8+0002+0011+000b = 1816f; header 0401+0035+000b = 441;
	 * payload 6869+0a00 = 7269; total 1f819 -> f81a -> ~ = 07e5 */
	is_int(c, 0x07e5, "UDP checksum by hand");
	net_wr16(udp + 6, c);
	is_int(net_l4_csum_check(src, dst, NET_IP_PROTO_UDP, udp, 11, 6), NET_CSUM_OK,
	       "UDP checksum verifies");
	net_wr16(udp + 6, 0);
	is_int(net_l4_csum_check(src, dst, NET_IP_PROTO_UDP, udp, 11, 6), NET_CSUM_NONE,
	       "UDP checksum 0 means none");
	net_wr16(udp + 6, net_csum_fold(net_pseudo_sum(src, dst, NET_IP_PROTO_UDP, 11)));
	is_int(net_l4_csum_check(src, dst, NET_IP_PROTO_UDP, udp, 11, 6), NET_CSUM_PARTIAL,
	       "a Linux CHECKSUM_PARTIAL value is recognised");
	net_wr16(udp + 6, 0x1234);
	is_int(net_l4_csum_check(src, dst, NET_IP_PROTO_UDP, udp, 11, 6), NET_CSUM_BAD,
	       "anything else is bad");
	/* the UDP rule: a computed 0 is sent as 0xffff */
	uint8_t z[8] = {0};
	uint32_t ps = net_pseudo_sum(0, 0, NET_IP_PROTO_UDP, 8);
	/* choose the source port so that the whole sum is 0xffff */
	net_wr16(z, (uint16_t)~net_csum_fold(ps));
	is_int(net_l4_csum(0, 0, NET_IP_PROTO_UDP, z, 8, 6, true), 0xffff,
	       "a zero UDP checksum is sent as 0xffff");
	return tap_failed != 0;
}
