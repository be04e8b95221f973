/* SPDX-License-Identifier: MIT */
/*
 * Frame builders (net_tx.h).
 */
#include "net/net_tx.h"

#include "common/lc_compiler.h"
#include "net/net_csum.h"

/* Payload bytes of the IP packet per fragment (a multiple of 8), counting the UDP header. */
static unsigned frag_room(unsigned mtu)
{
	return ((mtu - NET_IP_HLEN) / 8) * 8;
}

unsigned net_udp_nfrags(size_t payload_len, unsigned mtu)
{
	if (payload_len > NET_UDP_MAX_PAYLOAD || mtu < NET_MTU_MIN) {
		return 0;
	}
	size_t l4 = payload_len + NET_UDP_HLEN;
	if (l4 + NET_IP_HLEN <= mtu) {
		return 1;
	}
	unsigned room = frag_room(mtu);
	return (unsigned)((l4 + room - 1) / room);
}

uint16_t net_udp_csum(const struct net_udp_hdrs *h, const uint8_t *payload, size_t payload_len)
{
	uint16_t ulen = (uint16_t)(payload_len + NET_UDP_HLEN);
	uint32_t sum = net_pseudo_sum(h->src_ip, h->dst_ip, NET_IP_PROTO_UDP, ulen);
	sum += (uint32_t)h->src_port + h->dst_port + ulen; /* the header, checksum 0 */
	sum = net_csum_add(sum, payload, payload_len);
	uint16_t c = (uint16_t)~net_csum_fold(sum);
	return c == 0 ? 0xffff : c;
}

static void put_eth(uint8_t *b, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(b + NET_OFF_ETH_DST, dst, NET_MAC_LEN);
	memcpy(b + NET_OFF_ETH_SRC, src, NET_MAC_LEN);
	net_wr16(b + NET_OFF_ETH_TYPE, type);
}

static void put_ip(uint8_t *ip, uint16_t tot, uint16_t id, uint16_t frag, uint8_t proto,
		   uint32_t src, uint32_t dst, bool offload)
{
	ip[0] = 0x45;
	ip[1] = 0;
	net_wr16(ip + 2, tot);
	net_wr16(ip + 4, id);
	net_wr16(ip + 6, frag);
	ip[8] = NET_IP_TTL;
	ip[9] = proto;
	net_wr16(ip + 10, 0);
	net_wr32(ip + 12, src);
	net_wr32(ip + 16, dst);
	if (!offload) {
		net_wr16(ip + 10, net_ip_csum(ip, NET_IP_HLEN));
	}
}

static size_t pad(uint8_t *buf, size_t len, size_t cap)
{
	if (len < NET_ETH_MIN_FRAME && cap >= NET_ETH_MIN_FRAME) {
		memset(buf + len, 0, NET_ETH_MIN_FRAME - len);
		return NET_ETH_MIN_FRAME;
	}
	return len;
}

size_t net_udp_build(uint8_t *buf, size_t cap, const struct net_udp_hdrs *h, const uint8_t *payload,
		     size_t payload_len, unsigned mtu, unsigned k, uint16_t udp_csum,
		     bool ip_offload)
{
	unsigned n = net_udp_nfrags(payload_len, mtu);
	if (k >= n) {
		return 0;
	}
	size_t l4 = payload_len + NET_UDP_HLEN;
	size_t room = n == 1 ? l4 : frag_room(mtu);
	size_t off = (size_t)k * room;	       /* of this fragment in the UDP datagram */
	size_t chunk = LC_MIN(room, l4 - off); /* its bytes, UDP header included */
	size_t len = NET_ETH_HLEN + NET_IP_HLEN + chunk;
	if (len > cap) {
		return 0;
	}
	uint8_t *ip = buf + NET_ETH_HLEN;
	uint16_t frag = (uint16_t)((k + 1 < n ? NET_IP_MF : 0) | (off / 8));
	put_eth(buf, h->dst_mac, h->src_mac, NET_ETHERTYPE_IPV4);
	put_ip(ip, (uint16_t)(NET_IP_HLEN + chunk), h->ip_id, frag, NET_IP_PROTO_UDP, h->src_ip,
	       h->dst_ip, ip_offload && n == 1);
	uint8_t *d = ip + NET_IP_HLEN;
	if (k == 0) {
		net_wr16(d, h->src_port);
		net_wr16(d + 2, h->dst_port);
		net_wr16(d + 4, (uint16_t)l4);
		net_wr16(d + 6, udp_csum);
		memcpy(d + NET_UDP_HLEN, payload, chunk - NET_UDP_HLEN);
	} else {
		memcpy(d, payload + off - NET_UDP_HLEN, chunk);
	}
	return pad(buf, len, cap);
}

size_t net_arp_build(uint8_t *buf, size_t cap, uint16_t op, const uint8_t *sha, uint32_t spa,
		     const uint8_t *tha, uint32_t tpa, const uint8_t *eth_dst)
{
	static const uint8_t bcast[NET_MAC_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t zero[NET_MAC_LEN] = {0};
	if (cap < NET_ETH_HLEN + NET_ARP_LEN) {
		return 0;
	}
	put_eth(buf, eth_dst != NULL ? eth_dst : bcast, sha, NET_ETHERTYPE_ARP);
	uint8_t *a = buf + NET_ETH_HLEN;
	net_wr16(a, 1);
	net_wr16(a + 2, NET_ETHERTYPE_IPV4);
	a[4] = NET_MAC_LEN;
	a[5] = 4;
	net_wr16(a + 6, op);
	memcpy(a + 8, sha, NET_MAC_LEN);
	net_wr32(a + 14, spa);
	memcpy(a + 18, tha != NULL ? tha : zero, NET_MAC_LEN);
	net_wr32(a + 24, tpa);
	return pad(buf, NET_ETH_HLEN + NET_ARP_LEN, cap);
}

void net_arp_reply_inplace(uint8_t *frame, const uint8_t *our_mac)
{
	uint8_t *a = frame + NET_ETH_HLEN;
	uint8_t sha[NET_MAC_LEN], spa[4], tpa[4];
	memcpy(sha, a + 8, NET_MAC_LEN);
	memcpy(spa, a + 14, 4);
	memcpy(tpa, a + 24, 4);
	put_eth(frame, sha, our_mac, NET_ETHERTYPE_ARP);
	net_wr16(a + 6, NET_ARP_REPLY);
	memcpy(a + 8, our_mac, NET_MAC_LEN);
	memcpy(a + 14, tpa, 4);
	memcpy(a + 18, sha, NET_MAC_LEN);
	memcpy(a + 24, spa, 4);
}

size_t net_icmp_echo_reply(uint8_t *frame, size_t cap, const uint8_t *our_mac)
{
	uint8_t *ip = frame + NET_ETH_HLEN;
	unsigned hl = (unsigned)(ip[0] & 0x0f) * 4, tot = net_rd16(ip + 2);
	unsigned clen = tot - hl;
	uint32_t src = net_rd32(ip + 12), dst = net_rd32(ip + 16);
	uint8_t peer[NET_MAC_LEN];
	memcpy(peer, frame + NET_OFF_ETH_SRC, NET_MAC_LEN);
	put_eth(frame, peer, our_mac, NET_ETHERTYPE_IPV4);
	if (hl > NET_IP_HLEN) { /* options are not echoed */
		memmove(ip + NET_IP_HLEN, ip + hl, clen);
	}
	uint8_t *c = ip + NET_IP_HLEN;
	put_ip(ip, (uint16_t)(NET_IP_HLEN + clen), net_rd16(ip + 4), 0, NET_IP_PROTO_ICMP, dst, src,
	       false);
	c[0] = NET_ICMP_ECHO_REPLY;
	net_wr16(c + 2, 0);
	net_wr16(c + 2, (uint16_t)~net_csum_fold(net_csum_add(0, c, clen)));
	return pad(frame, NET_ETH_HLEN + NET_IP_HLEN + clen, cap);
}
