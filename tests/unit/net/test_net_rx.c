/* SPDX-License-Identifier: MIT */
/*
 * net_rx: every verdict and every drop reason the classifier gives, one frame each, built with
 * net_tx and then bent.
 */
#include "net/net_csum.h"
#include "net/net_rx.h"
#include "net/net_tx.h"
#include "tests/tap.h"

static const uint8_t us[6] = {0x02, 0, 0, 0, 0, 0x02}, them[6] = {0x02, 0, 0, 0, 0, 0x01};
static struct net_rx_cfg cfg = {.ip = 0xc6120002, .port = {5060, 7400}};
static uint8_t f[2048];

/* A UDP frame from 198.18.0.1:40000 to us at @p dport. */
static size_t udp(uint16_t dport, const char *pay)
{
	struct net_udp_hdrs h = {.src_ip = 0xc6120001,
				 .dst_ip = cfg.ip,
				 .src_port = 40000,
				 .dst_port = dport,
				 .ip_id = 1};
	memcpy(h.src_mac, them, 6);
	memcpy(h.dst_mac, us, 6);
	size_t n = strlen(pay);
	return net_udp_build(f, sizeof(f), &h, (const uint8_t *)pay, n, 1500, 0,
			     net_udp_csum(&h, (const uint8_t *)pay, n), false);
}

static void refix_ip(void)
{
	net_wr16(f + 24, net_ip_csum(f + 14, 20));
}

static enum net_drop classify(size_t len, enum net_verdict *v)
{
	struct net_rx_res r;
	net_rx_classify(&cfg, f, len, &r);
	*v = r.v;
	return r.drop;
}

#define EXPECT_DROP(len, why, what)                                                                \
	do {                                                                                       \
		enum net_verdict v_;                                                               \
		enum net_drop d_ = classify((len), &v_);                                           \
		ok(v_ == NET_V_DROP && d_ == (why), "%s: dropped as %s (got %s)", (what),          \
		   net_drop_name[(why)], net_drop_name[d_]);                                       \
	} while (0)

int main(void)
{
	plan(27);
	memcpy(cfg.mac, us, 6);
	struct net_rx_res r;
	size_t len = udp(5060, "REGISTER sip:x SIP/2.0\r\n\r\n");
	net_rx_classify(&cfg, f, len, &r);
	ok(r.v == NET_V_UDP && r.port == 0 && r.src_port == 40000 && r.src_ip == 0xc6120001 &&
		   r.payload_len == 26 && memcmp(f + r.payload_off, "REGISTER", 8) == 0 &&
		   !r.csum_partial && memcmp(r.src_mac, them, 6) == 0,
	   "a SIP datagram: port 0, payload found, source known");
	len = udp(7400, "lsp");
	net_rx_classify(&cfg, f, len, &r);
	ok(r.v == NET_V_UDP && r.port == 1 && r.payload_len == 3, "an LSP datagram: port 1");
	net_wr16(f + 34 + 6, 0);
	net_rx_classify(&cfg, f, len, &r);
	ok(r.v == NET_V_UDP && r.csum_partial == false, "checksum 0 (none) is accepted");
	net_wr16(f + 34 + 6, net_csum_fold(net_pseudo_sum(0xc6120001, cfg.ip, 17, 11)));
	net_rx_classify(&cfg, f, len, &r);
	ok(r.v == NET_V_UDP && r.csum_partial, "a partial checksum (veth) is accepted and flagged");
	net_wr16(f + 34 + 6, 0x4242);
	EXPECT_DROP(len, NET_DROP_UDP_CSUM, "a bad UDP checksum");
	cfg.l4_hint = NET_HINT_GOOD;
	net_rx_classify(&cfg, f, len, &r);
	ok(r.v == NET_V_UDP, "but the port's GOOD hint is trusted");
	cfg.l4_hint = NET_HINT_BAD;
	len = udp(7400, "lsp");
	EXPECT_DROP(len, NET_DROP_UDP_CSUM, "the port's BAD hint");
	cfg.l4_hint = NET_HINT_UNKNOWN;

	len = udp(9999, "x");
	net_rx_classify(&cfg, f, len, &r);
	ok(r.v == NET_V_KERNEL && r.drop == NET_DROP_PORT, "another port: for the kernel path");
	len = udp(5060, "x");
	f[14 + 9] = NET_IP_PROTO_TCP;
	refix_ip();
	net_rx_classify(&cfg, f, len, &r);
	ok(r.v == NET_V_KERNEL && r.drop == NET_DROP_PROTO, "TCP: for the kernel path");

	len = udp(5060, "x");
	EXPECT_DROP(10, NET_DROP_TOO_SHORT, "a runt");
	f[0] = 0x04;
	EXPECT_DROP(len, NET_DROP_NOT_OUR_MAC, "another unicast MAC");
	len = udp(5060, "x");
	net_wr16(f + 12, 0x86dd);
	EXPECT_DROP(len, NET_DROP_ETHERTYPE, "IPv6");
	len = udp(5060, "x");
	f[14] = 0x65;
	EXPECT_DROP(len, NET_DROP_IP_BAD, "IP version 6 in an IPv4 frame");
	len = udp(5060, "x");
	f[14 + 8] = 1;
	EXPECT_DROP(len, NET_DROP_IP_CSUM, "a bad IP header checksum");
	len = udp(5060, "x");
	net_wr32(f + 14 + 16, 0xc6120003);
	refix_ip();
	EXPECT_DROP(len, NET_DROP_NOT_OUR_IP, "another IP");
	len = udp(5060, "x");
	net_wr32(f + 14 + 12, 0x7f000001);
	refix_ip();
	EXPECT_DROP(len, NET_DROP_BAD_SOURCE, "from 127.0.0.1");
	len = udp(5060, "x");
	net_wr16(f + 14 + 6, NET_IP_MF);
	refix_ip();
	net_rx_classify(&cfg, f, len, &r);
	ok(r.v == NET_V_FRAGMENT && r.frag.more && r.frag.off == 0 && r.frag.len == 9,
	   "a first fragment: for reassembly (net_reasm)");
	len = udp(5060, "x");
	net_wr32(f + 14 + 12, cfg.ip);
	refix_ip();
	net_wr16(f + 34 + 6, 0);
	EXPECT_DROP(len, NET_DROP_BAD_SOURCE, "from our own address, off the wire");
	cfg.from_self = true;
	net_rx_classify(&cfg, f, len, &r);
	ok(r.v == NET_V_UDP && r.src_ip == cfg.ip, "but accepted from our own loopback");
	cfg.from_self = false;
	len = udp(5060, "x");
	net_wr16(f + 34 + 4, 200);
	EXPECT_DROP(len, NET_DROP_UDP_BAD, "a UDP length past the packet");
	len = udp(5060, "x");
	net_wr16(f + 14 + 2, 500);
	refix_ip();
	EXPECT_DROP(len, NET_DROP_TRUNCATED, "an IP length past the frame: truncated");

	len = net_arp_build(f, sizeof(f), NET_ARP_REQUEST, them, 0xc6120001, NULL, 0xc6120009,
			    NULL);
	EXPECT_DROP(len, NET_DROP_ARP_NOT_OURS, "an ARP request for another address");
	len = net_arp_build(f, sizeof(f), NET_ARP_REPLY, them, 0xc6120001, us, cfg.ip, us);
	net_rx_classify(&cfg, f, len, &r);
	ok(r.v == NET_V_ARP && !r.for_us && r.arp_op == NET_ARP_REPLY, "an ARP reply: learn it");
	f[14 + 5] = 16;
	EXPECT_DROP(len, NET_DROP_ARP_BAD, "ARP with a 16-byte protocol address");

	/* a TCP segment with a partial checksum is finished for the kernel */
	len = udp(5060, "0123456789abcdefghij");
	f[14 + 9] = NET_IP_PROTO_TCP;
	refix_ip();
	uint8_t *t = f + 34;
	net_wr16(t + 16, net_csum_fold(net_pseudo_sum(0xc6120001, cfg.ip, 6, 28)));
	ok(net_rx_finish_partial(f, len), "a partial TCP checksum is finished");
	is_int(net_l4_csum_check(0xc6120001, cfg.ip, 6, t, 28, 16), NET_CSUM_OK, "and verifies");
	ok(!net_rx_finish_partial(f, len), "a full one is left alone");
	return tap_failed != 0;
}
