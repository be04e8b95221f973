/* SPDX-License-Identifier: MIT */
/*
 * net_reasm: datagrams fragmented by net_tx come back whole through net_rx and the table, in any
 * order, up to the largest UDP datagram; overlaps, duplicates, oversize and malformed fragments
 * drop their datagram; a full table refuses new datagrams; old ones time out.
 */
#include <stdlib.h>

#include "net/net_csum.h"
#include "net/net_reasm.h"
#include "net/net_rx.h"
#include "net/net_tx.h"
#include "tests/tap.h"

static const uint8_t us[6] = {0x02, 0, 0, 0, 0, 0x02}, them[6] = {0x02, 0, 0, 0, 0, 0x01};
static struct net_rx_cfg cfg = {.ip = 0xc6120002, .port = {5060, 7400}};
static struct net_reasm *tab;
static uint8_t pay[NET_UDP_MAX_PAYLOAD];
static uint8_t f[2048];

static struct net_udp_hdrs hdrs(uint16_t id)
{
	struct net_udp_hdrs h = {.src_ip = 0xc6120001,
				 .dst_ip = cfg.ip,
				 .src_port = 40000,
				 .dst_port = 5060,
				 .ip_id = id};
	memcpy(h.src_mac, them, 6);
	memcpy(h.dst_mac, us, 6);
	return h;
}

/* Fragment k of a @p n byte datagram with IP id @p id, classified: its verdict in *r. */
static enum net_verdict frag(uint16_t id, size_t n, unsigned mtu, unsigned k, struct net_rx_res *r)
{
	struct net_udp_hdrs h = hdrs(id);
	size_t len =
		net_udp_build(f, sizeof(f), &h, pay, n, mtu, k, net_udp_csum(&h, pay, n), false);
	net_rx_classify(&cfg, f, len, r);
	return r->v;
}

static enum net_reasm_result add(uint16_t id, size_t n, unsigned mtu, unsigned k, uint64_t now,
				 const uint8_t **out, size_t *out_len)
{
	struct net_rx_res r;
	if (frag(id, n, mtu, k, &r) != NET_V_FRAGMENT) {
		return (enum net_reasm_result) - 1;
	}
	return net_reasm_add(tab, &r.frag, now, out, out_len);
}

/* Send a datagram of @p n bytes in the fragment order @p order (NULL: reversed); whether it came
 * back whole as a UDP datagram with the same payload. */
static bool roundtrip(uint16_t id, size_t n, unsigned mtu, const unsigned *order)
{
	unsigned nf = net_udp_nfrags(n, mtu);
	const uint8_t *out = NULL;
	size_t out_len = 0;
	for (unsigned i = 0; i < nf; i++) {
		unsigned k = order != NULL ? order[i] : nf - 1 - i;
		enum net_reasm_result res = add(id, n, mtu, k, 100, &out, &out_len);
		if (res != (i + 1 == nf ? NET_REASM_DONE : NET_REASM_HELD)) {
			printf("# fragment %u (k %u of %u): result %d\n", i, k, nf, (int)res);
			return false;
		}
	}
	struct net_rx_res r;
	net_rx_classify(&cfg, out, out_len, &r);
	return r.v == NET_V_UDP && r.payload_len == n && !r.csum_partial && r.src_port == 40000 &&
	       memcmp(out + r.payload_off, pay, n) == 0 && memcmp(r.src_mac, them, 6) == 0 &&
	       tab->live == 0;
}

int main(void)
{
	plan(19);
	memcpy(cfg.mac, us, 6);
	tab = calloc(1, sizeof(*tab));
	net_reasm_init(tab);
	for (size_t i = 0; i < sizeof(pay); i++) {
		pay[i] = (uint8_t)(i * 7 + (i >> 8));
	}
	struct net_rx_res r;
	const uint8_t *out;
	size_t out_len;

	ok(frag(1, 3000, 1500, 0, &r) == NET_V_FRAGMENT && r.frag.off == 0 && r.frag.more &&
		   r.frag.len == 1480 && r.frag.id == 1 && r.frag.proto == NET_IP_PROTO_UDP,
	   "a first fragment classifies as one: offset 0, MF, 1480 bytes");
	ok(frag(1, 3000, 1500, 2, &r) == NET_V_FRAGMENT && r.frag.off == 2960 && !r.frag.more &&
		   r.frag.len == 48,
	   "the last: offset 2960, no MF, 48 bytes");
	static const unsigned mixed[] = {2, 0, 1};
	ok(roundtrip(2, 3000, 1500, mixed), "3000 bytes in 3 fragments, out of order: whole");
	ok(roundtrip(3, 3000, 1500, NULL), "reversed: whole");
	ok(roundtrip(4, NET_UDP_MAX_PAYLOAD, 1500, NULL),
	   "65507 bytes (45 fragments), reversed: whole, checksum good");
	ok(roundtrip(5, NET_UDP_MAX_PAYLOAD, NET_MTU_MIN, NULL), "65507 bytes at MTU 576: whole");

	/* a duplicate or an overlap drops the datagram */
	is_int(add(6, 3000, 1500, 0, 100, &out, &out_len), NET_REASM_HELD, "first fragment held");
	is_int(add(6, 3000, 1500, 0, 100, &out, &out_len), NET_REASM_BAD,
	       "the same fragment again: the datagram is dropped");
	is_int(tab->live, 0, "and its entry freed");
	frag(7, 3000, 1500, 1, &r);
	r.frag.off -= 8;
	is_int(net_reasm_add(tab, &r.frag, 100, &out, &out_len), NET_REASM_HELD,
	       "a middle fragment 8 bytes early is held");
	is_int(add(7, 3000, 1500, 0, 100, &out, &out_len), NET_REASM_BAD,
	       "the first then overlaps it: dropped");

	/* malformed */
	frag(8, 3000, 1500, 1, &r);
	r.frag.off = NET_REASM_MAX_PAYLOAD - 8;
	is_int(net_reasm_add(tab, &r.frag, 100, &out, &out_len), NET_REASM_BAD,
	       "a fragment past 65515 bytes (ping of death)");
	frag(8, 3000, 1500, 0, &r);
	r.frag.len = 1001;
	is_int(net_reasm_add(tab, &r.frag, 100, &out, &out_len), NET_REASM_BAD,
	       "MF with a length not a multiple of 8");
	is_int(add(9, 3000, 1500, 1, 100, &out, &out_len), NET_REASM_HELD, "a middle one held");
	frag(9, 3000, 1500, 2, &r);
	r.frag.off = 8;
	r.frag.len = 8;
	is_int(net_reasm_add(tab, &r.frag, 100, &out, &out_len), NET_REASM_BAD,
	       "a last fragment that ends before data already received");

	/* the table's bound and the timeout */
	for (uint16_t id = 100; id < 100 + NET_REASM_ENTRIES; id++) {
		(void)add(id, 3000, 1500, 0, 100 + id, &out, &out_len);
	}
	is_int(add(200, 3000, 1500, 0, 200, &out, &out_len), NET_REASM_FULL,
	       "a new datagram while all entries are busy: table full");
	is_int(net_reasm_expire(tab, 100 + 100 + NET_REASM_TIMEOUT_MS), 0, "none timed out yet");
	is_int(net_reasm_expire(tab, 100 + 200 + NET_REASM_TIMEOUT_MS), NET_REASM_ENTRIES,
	       "all time out after NET_REASM_TIMEOUT_MS");

	/* a fragment of another protocol is not reassembled */
	frag(10, 3000, 1500, 0, &r);
	f[14 + 9] = NET_IP_PROTO_TCP;
	net_wr16(f + 24, 0);
	net_wr16(f + 24, net_ip_csum(f + 14, 20));
	net_rx_classify(&cfg, f, 1514, &r);
	ok(r.v == NET_V_DROP && r.drop == NET_DROP_FRAGMENT,
	   "a TCP fragment: dropped (ip_fragment)");
	free(tab);
	return tap_failed != 0;
}
