/* SPDX-License-Identifier: MIT */
/*
 * Frame classification (net_rx.h): Ethernet, then ARP or IPv4, then UDP or ICMP. Each step reads
 * only bytes the previous step proved present.
 */
#include "net/net_rx.h"

#include "net/net_csum.h"

const char *const net_drop_name[NET_DROP_COUNT_] = {
#define NET_DROP_NAME(name, text) text,
	NET_DROPS(NET_DROP_NAME)
#undef NET_DROP_NAME
};

static void drop(struct net_rx_res *res, enum net_drop why)
{
	res->v = NET_V_DROP;
	res->drop = why;
}

static void classify_arp(const struct net_rx_cfg *cfg, const uint8_t *f, size_t len,
			 struct net_rx_res *res)
{
	const uint8_t *a = f + NET_ETH_HLEN;
	if (len < NET_ETH_HLEN + NET_ARP_LEN) {
		drop(res, NET_DROP_TOO_SHORT);
		return;
	}
	uint16_t op = net_rd16(a + 6);
	/* htype Ethernet, ptype IPv4, hlen 6, plen 4 */
	if (net_rd16(a) != 1 || net_rd16(a + 2) != NET_ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4 ||
	    (op != NET_ARP_REQUEST && op != NET_ARP_REPLY) || net_mac_is_mcast(a + 8) ||
	    net_mac_is_zero(a + 8)) {
		drop(res, NET_DROP_ARP_BAD);
		return;
	}
	res->arp_op = op;
	res->src_ip = net_rd32(a + 14);
	res->arp_tip = net_rd32(a + 24);
	memcpy(res->src_mac, a + 8, NET_MAC_LEN);
	res->for_us = op == NET_ARP_REQUEST && res->arp_tip == cfg->ip;
	if (res->src_ip == cfg->ip) {
		drop(res, NET_DROP_BAD_SOURCE); /* another host claims our address (or a loop) */
		return;
	}
	if (op == NET_ARP_REQUEST && !res->for_us) {
		drop(res, NET_DROP_ARP_NOT_OURS);
		return;
	}
	res->v = NET_V_ARP;
}

static void classify_udp(const struct net_rx_cfg *cfg, const uint8_t *ip, unsigned hl, unsigned tot,
			 struct net_rx_res *res)
{
	const uint8_t *u = ip + hl;
	unsigned ulen = tot - hl;
	if (ulen < NET_UDP_HLEN || net_rd16(u + 4) < NET_UDP_HLEN || net_rd16(u + 4) > ulen) {
		drop(res, NET_DROP_UDP_BAD);
		return;
	}
	ulen = net_rd16(u + 4); /* IP may carry padding past the datagram */
	uint16_t dport = net_rd16(u + 2);
	unsigned p = 0;
	while (p < NET_MAX_PORTS && (cfg->port[p] == 0 || cfg->port[p] != dport)) {
		p++;
	}
	if (p == NET_MAX_PORTS) {
		res->v = NET_V_KERNEL;
		res->drop = NET_DROP_PORT;
		return;
	}
	if (cfg->l4_hint == NET_HINT_BAD) {
		drop(res, NET_DROP_UDP_CSUM);
		return;
	}
	if (cfg->l4_hint != NET_HINT_GOOD) {
		enum net_csum_state st = net_l4_csum_check(res->src_ip, cfg->ip, NET_IP_PROTO_UDP,
							   u, (uint16_t)ulen, 6);
		if (st == NET_CSUM_BAD) {
			drop(res, NET_DROP_UDP_CSUM);
			return;
		}
		res->csum_partial = st == NET_CSUM_PARTIAL;
	}
	res->v = NET_V_UDP;
	res->port = (uint8_t)p;
	res->src_port = net_rd16(u);
	res->payload_off = (uint16_t)(NET_ETH_HLEN + hl + NET_UDP_HLEN);
	res->payload_len = (uint16_t)(ulen - NET_UDP_HLEN);
}

static void classify_icmp(const uint8_t *ip, unsigned hl, unsigned tot, struct net_rx_res *res)
{
	const uint8_t *c = ip + hl;
	unsigned clen = tot - hl;
	if (clen < NET_ICMP_HLEN || net_csum_fold(net_csum_add(0, c, clen)) != 0xffff) {
		drop(res, NET_DROP_ICMP_BAD);
		return;
	}
	if (c[0] != NET_ICMP_ECHO_REQUEST || c[1] != 0) {
		res->v = NET_V_KERNEL;
		res->drop = NET_DROP_ICMP_OTHER;
		return;
	}
	res->v = NET_V_ICMP_ECHO;
}

static void classify_fragment(const uint8_t *f, const uint8_t *ip, unsigned hl, unsigned tot,
			      uint16_t frag, struct net_rx_res *res)
{
	if (ip[9] != NET_IP_PROTO_UDP) {
		drop(res, NET_DROP_FRAGMENT);
		return;
	}
	res->v = NET_V_FRAGMENT;
	res->frag = (struct net_frag){.src_ip = res->src_ip,
				      .dst_ip = net_rd32(ip + 16),
				      .id = net_rd16(ip + 4),
				      .proto = ip[9],
				      .more = (frag & NET_IP_MF) != 0,
				      .off = (uint32_t)(frag & NET_IP_OFFMASK) * 8,
				      .eth = f,
				      .data = ip + hl,
				      .len = tot - hl};
}

static void classify_ipv4(const struct net_rx_cfg *cfg, const uint8_t *f, size_t len,
			  struct net_rx_res *res)
{
	const uint8_t *ip = f + NET_ETH_HLEN;
	size_t avail = len - NET_ETH_HLEN;
	if (avail < NET_IP_HLEN) {
		drop(res, NET_DROP_TOO_SHORT);
		return;
	}
	unsigned hl = (unsigned)(ip[0] & 0x0f) * 4, tot = net_rd16(ip + 2);
	if ((ip[0] >> 4) != 4 || hl < NET_IP_HLEN || tot < hl || hl > avail) {
		drop(res, NET_DROP_IP_BAD);
		return;
	}
	if (tot > avail) { /* af_packet: a datagram the kernel reassembled past the ring's frame */
		drop(res, NET_DROP_TRUNCATED);
		return;
	}
	if (cfg->ip_hint == NET_HINT_BAD ||
	    (cfg->ip_hint != NET_HINT_GOOD && !net_ip_csum_ok(ip, hl))) {
		drop(res, NET_DROP_IP_CSUM);
		return;
	}
	if (net_rd32(ip + 16) != cfg->ip) {
		drop(res, NET_DROP_NOT_OUR_IP);
		return;
	}
	res->src_ip = net_rd32(ip + 12);
	if (net_ip_bad_source(res->src_ip) || (res->src_ip == cfg->ip && !cfg->from_self)) {
		drop(res, NET_DROP_BAD_SOURCE);
		return;
	}
	memcpy(res->src_mac, f + NET_OFF_ETH_SRC, NET_MAC_LEN);
	uint16_t frag = net_rd16(ip + 6);
	if (frag & (NET_IP_MF | NET_IP_OFFMASK)) {
		classify_fragment(f, ip, hl, tot, frag, res);
		return;
	}
	switch (ip[9]) {
	case NET_IP_PROTO_UDP:
		classify_udp(cfg, ip, hl, tot, res);
		return;
	case NET_IP_PROTO_ICMP:
		classify_icmp(ip, hl, tot, res);
		return;
	default:
		res->v = NET_V_KERNEL;
		res->drop = NET_DROP_PROTO;
		return;
	}
}

void net_rx_classify(const struct net_rx_cfg *cfg, const uint8_t *frame, size_t len,
		     struct net_rx_res *res)
{
	memset(res, 0, sizeof(*res));
	if (len < NET_ETH_HLEN) {
		drop(res, NET_DROP_TOO_SHORT);
		return;
	}
	const uint8_t *dst = frame + NET_OFF_ETH_DST;
	uint16_t type = net_rd16(frame + NET_OFF_ETH_TYPE);
	bool ours = net_mac_eq(dst, cfg->mac);
	if (net_mac_is_mcast(frame + NET_OFF_ETH_SRC)) {
		drop(res, NET_DROP_BAD_SOURCE);
		return;
	}
	if (type == NET_ETHERTYPE_ARP && (ours || net_mac_is_bcast(dst))) {
		classify_arp(cfg, frame, len, res);
		return;
	}
	if (!ours) {
		drop(res, NET_DROP_NOT_OUR_MAC);
		return;
	}
	if (type != NET_ETHERTYPE_IPV4) {
		drop(res, NET_DROP_ETHERTYPE);
		return;
	}
	classify_ipv4(cfg, frame, len, res);
}

bool net_rx_finish_partial(uint8_t *frame, size_t len)
{
	if (len < NET_ETH_HLEN + NET_IP_HLEN ||
	    net_rd16(frame + NET_OFF_ETH_TYPE) != NET_ETHERTYPE_IPV4) {
		return false;
	}
	uint8_t *ip = frame + NET_ETH_HLEN;
	unsigned hl = (unsigned)(ip[0] & 0x0f) * 4, tot = net_rd16(ip + 2);
	unsigned off = ip[9] == NET_IP_PROTO_TCP ? 16 : ip[9] == NET_IP_PROTO_UDP ? 6 : 0;
	if ((ip[0] >> 4) != 4 || hl < NET_IP_HLEN || tot > len - NET_ETH_HLEN ||
	    tot < hl + off + 2 || off == 0 || (net_rd16(ip + 6) & (NET_IP_MF | NET_IP_OFFMASK))) {
		return false;
	}
	uint8_t *l4 = ip + hl;
	uint16_t l4_len = (uint16_t)(tot - hl);
	uint32_t src = net_rd32(ip + 12), dst = net_rd32(ip + 16);
	if (net_l4_csum_check(src, dst, ip[9], l4, l4_len, off) != NET_CSUM_PARTIAL) {
		return false;
	}
	net_wr16(l4 + off,
		 net_l4_csum(src, dst, ip[9], l4, l4_len, (int)off, ip[9] == NET_IP_PROTO_UDP));
	return true;
}
