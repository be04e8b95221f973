/* SPDX-License-Identifier: MIT */
/*
 * net_tx: UDP frames with and without fragmentation (sizes, offsets, flags, the payload and the
 * checksum after reassembly), ARP requests, and the in-place ARP and ICMP echo replies.
 */
#include "net/net_csum.h"
#include "net/net_rx.h"
#include "net/net_tx.h"
#include "tests/tap.h"

static const uint8_t us[6] = {0x02, 0, 0, 0, 0, 0x02}, them[6] = {0x02, 0, 0, 0, 0, 0x01};

static struct net_udp_hdrs hdrs(void)
{
	struct net_udp_hdrs h = {.src_ip = 0xc6120002,
				 .dst_ip = 0xc6120001,
				 .src_port = 5060,
				 .dst_port = 40000,
				 .ip_id = 77};
	memcpy(h.src_mac, us, 6);
	memcpy(h.dst_mac, them, 6);
	return h;
}

static void test_small(void)
{
	struct net_udp_hdrs h = hdrs();
	uint8_t buf[2048];
	const uint8_t pay[] = "OPTIONS";
	uint16_t c = net_udp_csum(&h, pay, 7);
	is_int(net_udp_nfrags(7, 1500), 1, "a small datagram is one frame");
	size_t len = net_udp_build(buf, sizeof(buf), &h, pay, 7, 1500, 0, c, false);
	is_int(len, 60, "padded to 60 bytes");
	ok(net_ip_csum_ok(buf + 14, 20), "its IP header checksum verifies");
	is_int(net_rd16(buf + 14 + 6), 0, "not a fragment");
	is_int(net_l4_csum_check(h.src_ip, h.dst_ip, 17, buf + 34, 15, 6), NET_CSUM_OK,
	       "its UDP checksum verifies");
	is_int(net_rd16(buf + 14 + 2), 35, "IP total length excludes the padding");
	is_int(net_udp_build(buf, 40, &h, pay, 7, 1500, 0, c, false), 0, "too small a buffer: 0");
	is_int(net_udp_build(buf, sizeof(buf), &h, pay, 7, 1500, 1, c, false), 0,
	       "no second fragment");
}

static void test_frag(size_t plen, unsigned mtu)
{
	struct net_udp_hdrs h = hdrs();
	static uint8_t pay[65536], re[65536 + 8], buf[9100];
	for (size_t i = 0; i < plen; i++) {
		pay[i] = (uint8_t)(i * 7 + 3);
	}
	unsigned n = net_udp_nfrags(plen, mtu);
	uint16_t c = net_udp_csum(&h, pay, plen);
	size_t got = 0;
	bool good = true;
	for (unsigned k = 0; k < n; k++) {
		size_t len = net_udp_build(buf, sizeof(buf), &h, pay, plen, mtu, k, c, false);
		uint8_t *ip = buf + 14;
		unsigned tot = net_rd16(ip + 2), fo = net_rd16(ip + 6);
		good = good && len > 0 && tot <= mtu && net_ip_csum_ok(ip, 20) &&
		       net_rd16(ip + 4) == 77 && (fo & NET_IP_OFFMASK) * 8 == got &&
		       ((fo & NET_IP_MF) != 0) == (k + 1 < n) &&
		       (k + 1 == n || (tot - 20) % 8 == 0);
		memcpy(re + got, ip + 20, tot - 20);
		got += tot - 20;
	}
	ok(good, "%zu bytes at MTU %u: %u fragments with the right sizes, offsets and flags", plen,
	   mtu, n);
	ok(got == plen + 8 && memcmp(re + 8, pay, plen) == 0, "reassembled payload matches");
	ok(net_l4_csum_check(h.src_ip, h.dst_ip, 17, re, (uint16_t)got, 6) == NET_CSUM_OK,
	   "the checksum verifies over the reassembled datagram");
}

static void test_arp(void)
{
	uint8_t buf[64];
	size_t len = net_arp_build(buf, sizeof(buf), NET_ARP_REQUEST, them, 0xc6120001, NULL,
				   0xc6120002, NULL);
	is_int(len, 60, "ARP request padded to 60");
	struct net_rx_cfg cfg = {.ip = 0xc6120002, .port = {5060, 7400}};
	memcpy(cfg.mac, us, 6);
	struct net_rx_res r;
	net_rx_classify(&cfg, buf, len, &r);
	ok(r.v == NET_V_ARP && r.for_us && r.src_ip == 0xc6120001, "our request classifies");
	net_arp_reply_inplace(buf, us);
	struct net_rx_cfg peer = {.ip = 0xc6120001};
	memcpy(peer.mac, them, 6);
	net_rx_classify(&peer, buf, len, &r);
	ok(r.v == NET_V_ARP && r.arp_op == NET_ARP_REPLY && r.src_ip == 0xc6120002 &&
		   memcmp(r.src_mac, us, 6) == 0 && r.arp_tip == 0xc6120001,
	   "the reply says we are at our MAC, to the asker");
	ok(memcmp(buf, them, 6) == 0 && memcmp(buf + 6, us, 6) == 0, "and is unicast to it");
}

static void test_icmp(void)
{
	uint8_t f[128] = {0};
	memcpy(f, us, 6);
	memcpy(f + 6, them, 6);
	net_wr16(f + 12, NET_ETHERTYPE_IPV4);
	uint8_t *ip = f + 14;
	ip[0] = 0x46; /* one option word */
	net_wr16(ip + 2, 24 + 16);
	ip[8] = 64;
	ip[9] = NET_IP_PROTO_ICMP;
	net_wr32(ip + 12, 0xc6120001);
	net_wr32(ip + 16, 0xc6120002);
	ip[20] = 1; /* NOP options */
	ip[21] = 1;
	ip[22] = 1;
	ip[23] = 0;
	net_wr16(ip + 10, net_ip_csum(ip, 24));
	uint8_t *c = ip + 24;
	c[0] = NET_ICMP_ECHO_REQUEST;
	memcpy(c + 4, "\x12\x34\x00\x01pingdata", 12);
	net_wr16(c + 2, (uint16_t)~net_csum_fold(net_csum_add(0, c, 16)));
	struct net_rx_cfg cfg = {.ip = 0xc6120002};
	memcpy(cfg.mac, us, 6);
	struct net_rx_res r;
	net_rx_classify(&cfg, f, 14 + 40, &r);
	is_int(r.v, NET_V_ICMP_ECHO, "echo request with options classifies");
	size_t len = net_icmp_echo_reply(f, sizeof(f), us);
	is_int(len, 60, "the reply drops the options (and is padded)");
	ok(net_ip_csum_ok(ip, 20) && net_rd32(ip + 16) == 0xc6120001 &&
		   net_rd32(ip + 12) == 0xc6120002,
	   "reply addressed back, IP checksum good");
	ok(ip[20] == NET_ICMP_ECHO_REPLY && net_csum_fold(net_csum_add(0, ip + 20, 16)) == 0xffff &&
		   memcmp(ip + 24, "\x12\x34\x00\x01pingdata", 12) == 0,
	   "type 0, same id/seq/data, ICMP checksum good");
}

int main(void)
{
	plan(8 + 4 * 3 + 4 + 4);
	test_small();
	test_frag(1472, 1500); /* exactly one frame */
	test_frag(1473, 1500); /* just over */
	test_frag(5000, 1500);
	test_frag(65507, 576);
	test_arp();
	test_icmp();
	return tap_failed != 0;
}
