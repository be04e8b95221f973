/* SPDX-License-Identifier: MIT */
/*
 * The Internet checksum in software (net_csum.h): plain C, 32 bytes a step; the stack checksums at
 * most one MTU per frame, and a port that offloads skips it entirely.
 */
#include <stdbool.h>
#include <string.h>

#include "net/net_csum.h"
#include "net/net_proto.h"

/*
 * How it works: the ones' complement sum does not depend on byte order (RFC 1071 §2(B)): summing
 * the data as native words and swapping the folded 16-bit result gives the sum of its big-endian
 * 16-bit words. And a ones' complement sum of 64-bit words, their carries added back in, folds to
 * the same 16-bit sum. So the loop adds 32 bytes a step as four 64-bit words into a 128-bit
 * accumulator (the compiler's add and add-with-carry: no carry is lost, none is handled by hand),
 * with unaligned loads through memcpy; the tail goes 8, 4, 2 and 1 bytes at a time. Only the
 * folded result is turned into network order to join @p sum. A trailing odd byte sits at an even
 * offset: network order pads it on the right, which is the low byte of a native little-endian
 * word.
 */
uint32_t net_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	unsigned __int128 acc = 0;
	size_t i = 0;
	for (; i + 32 <= len; i += 32) {
		/* four scalars, not an array: gcc 12 copies an array through the stack first */
		uint64_t a, b, c, d;
		memcpy(&a, p + i, 8);
		memcpy(&b, p + i + 8, 8);
		memcpy(&c, p + i + 16, 8);
		memcpy(&d, p + i + 24, 8);
		acc += a;
		acc += b;
		acc += c;
		acc += d;
	}
	for (; i + 8 <= len; i += 8) {
		uint64_t v;
		memcpy(&v, p + i, 8);
		acc += v;
	}
	uint64_t s = (uint64_t)(acc >> 64);
	uint64_t lo = (uint64_t)acc;
	/* fold the carries back in: lo + s may carry once more, which the fold below adds */
	s = (lo & 0xffffffffu) + (lo >> 32) + (s & 0xffffffffu) + (s >> 32);
	if (i + 4 <= len) {
		uint32_t v;
		memcpy(&v, p + i, 4);
		s += v;
		i += 4;
	}
	if (i + 2 <= len) {
		uint16_t v;
		memcpy(&v, p + i, 2);
		s += v;
		i += 2;
	}
	if (i < len) {
		s += __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? (uint64_t)p[i]
							       : (uint64_t)p[i] << 8;
	}
	while (s >> 16) {
		s = (s & 0xffff) + (s >> 16);
	}
	uint64_t be = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ((s & 0xff) << 8) | (s >> 8) : s;
	uint64_t t = (uint64_t)sum + be;
	/* keep headroom for further adds: fold into 17 bits */
	t = (t & 0xffff) + (t >> 16);
	t = (t & 0xffff) + (t >> 16);
	return (uint32_t)t;
}

/*
 * The folded ones' complement sum, in network order, of a 20-byte IPv4 header (no options, the
 * header of every datagram the stack sends and nearly every one it receives) with its checksum
 * field as it is or, when @p skip_csum, as zero. Five native 32-bit words, or four and the 16-bit
 * word at offset 8, summed in 64 bits: the folding that follows makes a 16-bit unit's position
 * inside a word irrelevant, as in net_csum_add(). A fifth of net_csum_add()'s work per header.
 */
static uint32_t ip20_sum(const uint8_t *ip, bool skip_csum)
{
	uint32_t w[5];
	memcpy(w, ip, sizeof(w));
	if (skip_csum) {
		uint16_t flags_ttl_proto;
		memcpy(&flags_ttl_proto, ip + 8, 2);
		w[2] = flags_ttl_proto;
	}
	uint64_t s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? (uint32_t)(((s & 0xff) << 8) | (s >> 8))
							 : (uint32_t)s;
}

uint16_t net_ip_csum(const uint8_t *ip, size_t hlen)
{
	if (hlen == NET_IP_HLEN) {
		return (uint16_t)~net_csum_fold(ip20_sum(ip, true));
	}
	uint32_t sum = net_csum_add(0, ip, 10);
	sum = net_csum_add(sum, ip + 12, hlen - 12);
	return (uint16_t)~net_csum_fold(sum);
}

bool net_ip_csum_ok(const uint8_t *ip, size_t hlen)
{
	uint32_t sum = hlen == NET_IP_HLEN ? ip20_sum(ip, false) : net_csum_add(0, ip, hlen);
	return net_csum_fold(sum) == 0xffff;
}

uint32_t net_pseudo_sum(uint32_t src_ip, uint32_t dst_ip, uint8_t proto, uint16_t l4_len)
{
	return (src_ip >> 16) + (src_ip & 0xffff) + (dst_ip >> 16) + (dst_ip & 0xffff) + proto +
	       l4_len;
}

uint16_t net_l4_csum(uint32_t src_ip, uint32_t dst_ip, uint8_t proto, const uint8_t *l4,
		     uint16_t l4_len, int skip_off, bool udp)
{
	uint32_t sum = net_pseudo_sum(src_ip, dst_ip, proto, l4_len);
	if (skip_off >= 0 && (size_t)skip_off + 2 <= l4_len) {
		sum = net_csum_add(sum, l4, (size_t)skip_off);
		sum = net_csum_add(sum, l4 + skip_off + 2, l4_len - (size_t)skip_off - 2);
	} else {
		sum = net_csum_add(sum, l4, l4_len);
	}
	uint16_t c = (uint16_t)~net_csum_fold(sum);
	return udp && c == 0 ? 0xffff : c;
}

enum net_csum_state net_l4_csum_check(uint32_t src_ip, uint32_t dst_ip, uint8_t proto,
				      const uint8_t *l4, uint16_t l4_len, unsigned csum_off)
{
	uint16_t got = net_rd16(l4 + csum_off);
	if (proto == NET_IP_PROTO_UDP && got == 0) {
		return NET_CSUM_NONE;
	}
	uint32_t pseudo = net_pseudo_sum(src_ip, dst_ip, proto, l4_len);
	if (net_csum_fold(net_csum_add(pseudo, l4, l4_len)) == 0xffff) {
		return NET_CSUM_OK;
	}
	/* CHECKSUM_PARTIAL: Linux stores ~csum_tcpudp_magic(), i.e. the folded pseudo sum */
	uint16_t partial = net_csum_fold(pseudo);
	return got == partial ? NET_CSUM_PARTIAL : NET_CSUM_BAD;
}
