/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for net/: the input is a received Ethernet frame. It is classified; a verdict
 * that points into the frame must point inside it; an ARP request for us and an ICMP echo request
 * are turned into their replies in place, which must classify back as what they are; and a UDP
 * payload is sent again through the fragmenting builder at a small MTU, whose fragments must
 * reassemble to the same bytes with a valid checksum. The first input bytes also drive the
 * neighbour table (learn, then look up). A fragment goes into a reassembly table that lives
 * across inputs (so fragments of several inputs meet), with a clock the input advances; a
 * reassembled frame must fit its bound and classify again as an unfragmented frame.
 */
#include <stdbool.h>
#include <string.h>

#include "net/net_csum.h"
#include "net/net_neigh.h"
#include "net/net_reasm.h"
#include "net/net_rx.h"
#include "net/net_tx.h"
#include "tests/fuzz/fuzz.h"

static const uint8_t us[6] = {0x02, 0, 0, 0, 0, 0x02};

static void check_udp(const uint8_t *f, const struct net_rx_res *r)
{
	static uint8_t buf[2048], re[65536];
	struct net_udp_hdrs h = {.src_ip = 0xc6120002,
				 .dst_ip = r->src_ip,
				 .src_port = 5060,
				 .dst_port = r->src_port,
				 .ip_id = 9};
	memcpy(h.src_mac, us, 6);
	memcpy(h.dst_mac, r->src_mac, 6);
	const uint8_t *pay = f + r->payload_off;
	unsigned n = net_udp_nfrags(r->payload_len, NET_MTU_MIN);
	FUZZ_CHECK(n >= 1, "a received payload fits a datagram");
	uint16_t c = net_udp_csum(&h, pay, r->payload_len);
	size_t got = 0;
	for (unsigned k = 0; k < n; k++) {
		size_t len = net_udp_build(buf, sizeof(buf), &h, pay, r->payload_len, NET_MTU_MIN,
					   k, c, false);
		FUZZ_CHECK(len >= NET_ETH_HLEN + NET_IP_HLEN, "fragment built");
		unsigned tot = net_rd16(buf + NET_ETH_HLEN + 2);
		FUZZ_CHECK(tot <= NET_MTU_MIN && net_ip_csum_ok(buf + NET_ETH_HLEN, NET_IP_HLEN),
			   "fragment within the MTU, IP checksum good");
		memcpy(re + got, buf + NET_ETH_HLEN + NET_IP_HLEN, tot - NET_IP_HLEN);
		got += tot - NET_IP_HLEN;
	}
	FUZZ_CHECK(got == (size_t)r->payload_len + NET_UDP_HLEN &&
			   memcmp(re + NET_UDP_HLEN, pay, r->payload_len) == 0,
		   "fragments reassemble to the payload");
	FUZZ_CHECK(net_l4_csum_check(h.src_ip, h.dst_ip, NET_IP_PROTO_UDP, re, (uint16_t)got, 6) ==
			   NET_CSUM_OK,
		   "the checksum verifies");
}

static void check_frag(const struct net_rx_cfg *cfg, const struct net_rx_res *r, uint64_t now)
{
	static struct net_reasm tab;
	const uint8_t *out = NULL;
	size_t len = 0;
	FUZZ_CHECK(r->frag.len <= 65535, "a fragment within its frame");
	enum net_reasm_result res = net_reasm_add(&tab, &r->frag, now, &out, &len);
	FUZZ_CHECK(tab.live <= NET_REASM_ENTRIES, "the table stays bounded");
	if (res == NET_REASM_DONE) {
		FUZZ_CHECK(len <= NET_REASM_FRAME_CAP && len >= NET_ETH_HLEN + NET_IP_HLEN,
			   "a reassembled frame within bounds");
		struct net_rx_res again;
		net_rx_classify(cfg, out, len, &again);
		FUZZ_CHECK(again.v != NET_V_FRAGMENT, "a reassembled frame is not a fragment");
		FUZZ_CHECK(again.v != NET_V_UDP ||
				   (size_t)again.payload_off + again.payload_len <= len,
			   "its payload inside it");
	}
	(void)net_reasm_expire(&tab, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t f[65536 + 64];
	static struct net_neigh neigh;
	if (size > 65536) {
		return 0;
	}
	memcpy(f, data, size);
	struct net_rx_cfg cfg = {.ip = 0xc6120002, .port = {5060, 7400}};
	memcpy(cfg.mac, us, 6);
	if (size > 0) { /* let the input choose the driver's hints too */
		cfg.ip_hint = (enum net_hint)(data[size - 1] % 3);
		cfg.l4_hint = (enum net_hint)((data[size - 1] / 3) % 3);
	}
	struct net_rx_res r;
	net_rx_classify(&cfg, f, size, &r);
	FUZZ_CHECK(r.drop < NET_DROP_COUNT_, "a named reason");
	if (r.v == NET_V_UDP) {
		FUZZ_CHECK((size_t)r.payload_off + r.payload_len <= size,
			   "payload inside the frame");
		check_udp(f, &r);
	} else if (r.v == NET_V_ARP) {
		uint8_t m[6];
		net_neigh_learn(&neigh, r.src_ip, r.src_mac, 1);
		FUZZ_CHECK(r.src_ip == 0 || net_neigh_lookup(&neigh, r.src_ip, m, 2),
			   "a learned neighbour is found");
		if (r.for_us) {
			net_arp_reply_inplace(f, us);
			struct net_rx_cfg peer = {.ip = r.src_ip};
			memcpy(peer.mac, r.src_mac, 6);
			struct net_rx_res back;
			net_rx_classify(&peer, f, size, &back);
			FUZZ_CHECK(back.v == NET_V_ARP && back.arp_op == NET_ARP_REPLY &&
					   back.src_ip == cfg.ip,
				   "our ARP reply classifies as one");
		}
	} else if (r.v == NET_V_FRAGMENT) {
		static uint64_t now;
		now += size > 0 ? data[0] % 64
				: 1; /* milliseconds: some inputs outlive the timeout */
		check_frag(&cfg, &r, now);
	} else if (r.v == NET_V_ICMP_ECHO) {
		size_t len = net_icmp_echo_reply(f, sizeof(f), us);
		FUZZ_CHECK(len <= size + NET_ETH_MIN_FRAME,
			   "the reply is no longer than the request");
		FUZZ_CHECK(net_ip_csum_ok(f + NET_ETH_HLEN, NET_IP_HLEN), "reply IP checksum good");
	}
	return 0;
}
