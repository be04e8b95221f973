/* SPDX-License-Identifier: MIT */
/*
 * The DPDK io backend (struct dp_io_ops): one RX/TX queue pair per worker, polled by that
 * worker on its own lcore, and the node's own small network stack (net/) on top: the worker
 * sees only UDP datagrams for its SIP and LSP ports, as with the socket backend.
 *
 * How it works:
 * - rx_burst takes up to 32 frames from the queue, prefetching DPDK_PREFETCH ahead, and
 *   classifies each (net_rx_classify). A datagram for our SIP or LSP port is copied into one of
 *   the worker's dp_pkts (a copy for now: the pipeline's packets are not mbufs; zero-copy would
 *   mean giving dp_pkt an mbuf-backed variant, left for later) and the mbuf goes back at once.
 *   ARP requests for our address and ICMP echo requests are answered in place, in the same mbuf,
 *   on the same queue. Everything else is counted under its drop reason, or, with a TAP (the
 *   kernel's exception path, see dp_dpdk_port.c), handed to the kernel: TCP (the overlay links),
 *   ICMP other than echo, UDP to other ports, and a copy of every ARP reply so the kernel
 *   resolves its own neighbours. TCP segments a local Linux sender left with a partial checksum
 *   are finished first, or the kernel would drop them.
 * - tx_burst builds each datagram into mbufs (one per fragment when it exceeds the MTU) and
 *   sends them in bursts. The next hop (the peer when on-link, else --dpdk-gateway) is looked up
 *   in this queue's neighbour table, then in the other queues' (an ARP reply may arrive on any
 *   queue: af_packet fans out by hash). A miss builds the frames anyway and holds them (up to
 *   DPDK_HOLD per queue, DPDK_HOLD_MS) while an ARP request goes out (at most once per
 *   DPDK_ASK_MS per address); every burst retries the held frames, and those whose neighbour
 *   never answered are dropped as no_neighbour. An answer to a request usually finds its MAC at
 *   once: the request's source was learned on receipt.
 * - IPv4 fragments of UDP datagrams go into the queue's reassembly table (net_reasm, RFC 3261
 *   18.1.1); a datagram they complete is classified again as one frame. Expired datagrams are
 *   counted at the top of rx_burst.
 * - A datagram to our own address never goes to the wire (nobody answers an ARP request for
 *   ourselves): its frames go into the queue's loopback list and through rx_one at the queue's
 *   next rx_burst, with our own address allowed as the source (rx_cfg.from_self).
 * - Neighbours are learned from ARP requests for us, ARP replies, and the source of every
 *   accepted on-link IPv4 datagram (net_neigh: one writer per table, lock-free readers).
 * - Idle policy (idle, wait): with --dpdk-poll busy the worker never sleeps (100% of its lcore).
 *   With the default, adaptive, an empty poll costs no system call, no fence and no RCU
 *   offline/online unless the worker really sleeps (dpdk_idle decides first). How it sleeps:
 *   on a single-queue af_packet or af_xdp port, in ppoll() on its wake eventfd *and* the
 *   queue's socket, which the kernel makes readable when it puts a frame in the ring: the
 *   worker sleeps as soon as it finds the ring empty and a frame wakes it at once, as a
 *   socket server is woken (timeout DPDK_SLEEP_MAX_US, for the TAP and the timers). Otherwise
 *   (several queues, whose sockets cannot be told apart; any other PMD) it polls on for
 *   DPDK_SPIN_US after the last frame (by the TSC), then sleeps on the eventfd alone for
 *   DPDK_SLEEP_MIN_US, doubling up to DPDK_SLEEP_MAX_US while nothing arrives (each plus the
 *   kernel's timer slack, 50 us by default); a frame resets the sleep to the minimum. Either
 *   way a kick from another worker or control ends the sleep at once. Measured in
 *   bench/results/2026-12-07-dpdk-cpu.md: the earlier policy (256 empty polls, each with a
 *   TAP read and af_xdp's busy-poll recvfrom) never slept at 5,000 requests/s.
 *
 * Fast path: no system call, lock or allocation per packet (mbufs come from the pool's
 * per-lcore cache); a TX burst costs what the PMD's kick costs (af_packet and af_xdp: one send
 * per burst that queued frames). The TAP is the exception: its PMD reads and writes a file
 * descriptor, so it is polled once every DPDK_TAP_MS (at once again after a full burst, so a
 * bulk transfer is not held to a burst a millisecond), busy or idle, and frames for the kernel
 * (the overlay's TCP, a slow path) cost one write each.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <poll.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <string.h>
#include <time.h>

#include "common/lc_alloc.h"
#include "common/lc_error.h"
#include "dataplane/dp_dpdk_internal.h"
#include "net/net_csum.h"
#include "net/net_tx.h"

static void cnt(struct dpdk_q *q, enum dpdk_counter c, uint64_t n)
{
	lc_counter_add(&q->c[c], n);
}

static void drop_cnt(struct dpdk_q *q, enum net_drop why)
{
	lc_counter_inc(&q->c[DPDK_C_COUNT_ + why]);
}

static bool on_link(uint32_t ip)
{
	return (ip & dpdk.mask) == (dpdk.ip & dpdk.mask);
}

/* Own table first, then the others' (How it works). */
static bool neigh_find(struct dpdk_q *q, uint32_t ip, uint8_t *mac)
{
	uint32_t now_s = (uint32_t)(q->now_ms / 1000);
	if (net_neigh_lookup(&q->neigh, ip, mac, now_s)) {
		return true;
	}
	for (unsigned i = 0; i < dpdk.nq; i++) {
		if (i != q->id && dpdk.neigh[i] != NULL &&
		    net_neigh_lookup(dpdk.neigh[i], ip, mac, now_s)) {
			return true;
		}
	}
	return false;
}

static void learn(struct dpdk_q *q, uint32_t ip, const uint8_t *mac)
{
	if (on_link(ip) && ip != dpdk.ip &&
	    net_neigh_learn(&q->neigh, ip, mac, (uint32_t)(q->now_ms / 1000))) {
		cnt(q, DPDK_C_ARP_LEARNED, 1);
	}
}

static void tx_flush(struct dpdk_q *q)
{
	unsigned sent = 0;
	for (int tries = 0; tries < 4 && sent < q->ntx; tries++) {
		sent += rte_eth_tx_burst(q->port, q->queue, q->txb + sent,
					 (uint16_t)(q->ntx - sent));
	}
	cnt(q, DPDK_C_TX_FRAMES, sent);
	if (sent < q->ntx) {
		lc_counter_add(&q->c[DPDK_C_COUNT_ + NET_DROP_TX_FULL], q->ntx - sent);
		rte_pktmbuf_free_bulk(q->txb + sent, q->ntx - sent);
	}
	q->ntx = 0;
}

static void tx_frame(struct dpdk_q *q, struct rte_mbuf *m)
{
	q->txb[q->ntx++] = m;
	if (q->ntx == DPDK_BURST) {
		tx_flush(q);
	}
}

static void kern_flush(struct dpdk_q *q)
{
	if (q->nkern == 0) {
		return;
	}
	unsigned sent = rte_eth_tx_burst(dpdk.tap_port, q->id, q->kernb, (uint16_t)q->nkern);
	cnt(q, DPDK_C_TO_KERNEL, sent);
	if (sent < q->nkern) {
		lc_counter_add(&q->c[DPDK_C_COUNT_ + NET_DROP_KERNEL_FULL], q->nkern - sent);
		rte_pktmbuf_free_bulk(q->kernb + sent, q->nkern - sent);
	}
	q->nkern = 0;
}

static void to_kernel(struct dpdk_q *q, struct rte_mbuf *m)
{
	q->kernb[q->nkern++] = m;
	if (q->nkern == DPDK_BURST) {
		kern_flush(q);
	}
}

/* Ask who has @p ip, unless this queue asked lately. */
static void ask(struct dpdk_q *q, uint32_t ip)
{
	unsigned slot = q->asked_next;
	for (unsigned i = 0; i < DPDK_ASKED; i++) {
		if (q->asked_ip[i] == ip) {
			if (q->now_ms - q->asked_ms[i] < DPDK_ASK_MS) {
				return;
			}
			slot = i;
			break;
		}
	}
	struct rte_mbuf *m = rte_pktmbuf_alloc(dpdk.pool);
	if (m == NULL) {
		drop_cnt(q, NET_DROP_NO_MBUF);
		return;
	}
	size_t len = net_arp_build(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_tailroom(m),
				   NET_ARP_REQUEST, dpdk.mac, dpdk.ip, NULL, ip, NULL);
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	if (slot == q->asked_next) {
		q->asked_next = (q->asked_next + 1) % DPDK_ASKED;
	}
	q->asked_ip[slot] = ip;
	q->asked_ms[slot] = q->now_ms;
	cnt(q, DPDK_C_ARP_ASKED, 1);
	tx_frame(q, m);
}

/* Send the held frames whose next hop answered; drop those that waited too long. */
static void retry_held(struct dpdk_q *q)
{
	unsigned keep = 0;
	for (unsigned i = 0; i < q->nheld; i++) {
		struct dpdk_held *h = &q->held[i];
		uint8_t mac[NET_MAC_LEN];
		if (neigh_find(q, h->ip, mac)) {
			memcpy(rte_pktmbuf_mtod(h->m, uint8_t *) + NET_OFF_ETH_DST, mac,
			       NET_MAC_LEN);
			tx_frame(q, h->m);
		} else if (q->now_ms - h->since_ms > DPDK_HOLD_MS) {
			drop_cnt(q, NET_DROP_NO_NEIGHBOUR);
			rte_pktmbuf_free(h->m);
		} else {
			ask(q, h->ip);
			q->held[keep++] = *h;
		}
	}
	q->nheld = keep;
}

static void rx_arp(struct dpdk_q *q, struct rte_mbuf *m, const struct net_rx_res *r)
{
	learn(q, r->src_ip, r->src_mac);
	if (r->for_us) {
		net_arp_reply_inplace(rte_pktmbuf_mtod(m, uint8_t *), dpdk.mac);
		cnt(q, DPDK_C_ARP_ANSWERED, 1);
		tx_frame(q, m);
	} else if (dpdk.has_tap) {
		to_kernel(q, m); /* the kernel may have asked: let it learn too */
	} else {
		rte_pktmbuf_free(m);
	}
}

static void rx_icmp(struct dpdk_q *q, struct rte_mbuf *m)
{
	size_t len = net_icmp_echo_reply(rte_pktmbuf_mtod(m, uint8_t *),
					 m->data_len + rte_pktmbuf_tailroom(m), dpdk.mac);
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	m->ol_flags = 0;
	cnt(q, DPDK_C_ICMP_ECHO, 1);
	tx_frame(q, m);
}

static void rx_kernel(struct dpdk_q *q, struct rte_mbuf *m, const struct net_rx_res *r)
{
	if (!dpdk.has_tap) {
		drop_cnt(q, r->drop);
		rte_pktmbuf_free(m);
		return;
	}
	(void)net_rx_finish_partial(rte_pktmbuf_mtod(m, uint8_t *), m->data_len);
	to_kernel(q, m);
}

static void rx_udp(struct dpdk_q *q, const uint8_t *f, const struct net_rx_res *r, struct dp_pkt *p)
{
	memcpy(p->data, f + r->payload_off, r->payload_len);
	p->len = r->payload_len;
	p->sock = r->port;
	p->peer.family = AF_INET;
	p->peer.port = r->src_port;
	memset(p->peer.addr, 0, sizeof(p->peer.addr));
	net_wr32(p->peer.addr, r->src_ip);
	if (r->csum_partial) {
		cnt(q, DPDK_C_CSUM_PARTIAL, 1);
	}
	learn(q, r->src_ip, r->src_mac);
}

static enum net_hint hint(uint64_t ol, uint64_t mask, uint64_t good, uint64_t bad)
{
	uint64_t v = ol & mask;
	return v == good ? NET_HINT_GOOD : v == bad ? NET_HINT_BAD : NET_HINT_UNKNOWN;
}

/* A fragment: into this queue's reassembly table; a datagram it completes is classified again
 * as a whole frame. @return whether @p p was filled. */
static bool rx_frag(struct dpdk_q *q, const struct net_rx_res *r, struct dp_pkt *p)
{
	const uint8_t *f = NULL;
	size_t len = 0;
	cnt(q, DPDK_C_RX_FRAGMENTS, 1);
	switch (net_reasm_add(q->reasm, &r->frag, q->now_ms, &f, &len)) {
	case NET_REASM_HELD:
		return false;
	case NET_REASM_BAD:
		drop_cnt(q, NET_DROP_REASM_BAD);
		return false;
	case NET_REASM_FULL:
		drop_cnt(q, NET_DROP_REASM_FULL);
		return false;
	case NET_REASM_DONE:
	default:
		break;
	}
	cnt(q, DPDK_C_REASSEMBLED, 1);
	struct net_rx_res whole;
	q->rx_cfg.ip_hint = NET_HINT_GOOD; /* net_reasm wrote the header */
	q->rx_cfg.l4_hint = NET_HINT_UNKNOWN;
	net_rx_classify(&q->rx_cfg, f, len, &whole);
	if (whole.v == NET_V_UDP) {
		rx_udp(q, f, &whole, p);
		return true;
	}
	/* larger than a frame: not for the kernel path either */
	drop_cnt(q, whole.v == NET_V_DROP || whole.v == NET_V_KERNEL ? whole.drop : NET_DROP_PROTO);
	return false;
}

/* Classify one frame; consume it (answer, pass on, free) or fill @p p. @return whether @p p was
 * filled. */
static bool rx_one(struct dpdk_q *q, struct rte_mbuf *m, struct dp_pkt *p)
{
	struct net_rx_res r;
	if (LC_UNLIKELY(m->nb_segs != 1)) {
		drop_cnt(q, NET_DROP_MULTI_SEG);
		rte_pktmbuf_free(m);
		return false;
	}
	q->rx_cfg.ip_hint = hint(m->ol_flags, RTE_MBUF_F_RX_IP_CKSUM_MASK,
				 RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_BAD);
	q->rx_cfg.l4_hint = hint(m->ol_flags, RTE_MBUF_F_RX_L4_CKSUM_MASK,
				 RTE_MBUF_F_RX_L4_CKSUM_GOOD, RTE_MBUF_F_RX_L4_CKSUM_BAD);
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	net_rx_classify(&q->rx_cfg, f, m->data_len, &r);
	switch (r.v) {
	case NET_V_UDP:
		rx_udp(q, f, &r, p);
		rte_pktmbuf_free(m);
		return true;
	case NET_V_ARP:
		rx_arp(q, m, &r);
		return false;
	case NET_V_ICMP_ECHO:
		learn(q, r.src_ip, r.src_mac);
		rx_icmp(q, m);
		return false;
	case NET_V_KERNEL:
		rx_kernel(q, m, &r);
		return false;
	case NET_V_FRAGMENT: {
		bool filled = rx_frag(q, &r, p); /* copies the fragment */
		rte_pktmbuf_free(m);
		return filled;
	}
	case NET_V_DROP:
	default:
		drop_cnt(q, r.drop);
		rte_pktmbuf_free(m);
		return false;
	}
}

/* What the kernel sent through the TAP goes out on our port queue. Each poll is a read() on the
 * TAP (one that fails when it is empty), hence the timer: the next poll is due DPDK_TAP_MS from
 * now, unless this one took a full burst (more may be waiting). */
static void from_kernel(struct dpdk_q *q)
{
	struct rte_mbuf *m[DPDK_BURST];
	uint16_t n = rte_eth_rx_burst(dpdk.tap_port, q->id, m, DPDK_BURST);
	q->tap_due_tsc = n == DPDK_BURST ? q->tsc : q->tsc + dpdk.tap_tsc;
	cnt(q, DPDK_C_FROM_KERNEL, n);
	for (uint16_t i = 0; i < n; i++) {
		m[i]->ol_flags = 0;
		tx_frame(q, m[i]);
	}
}

static void clock_tick(struct dpdk_q *q)
{
	q->tsc = rte_get_tsc_cycles();
	q->now_ms = q->tsc / dpdk.tsc_per_ms;
}

static bool tap_due(const struct dpdk_q *q)
{
	return dpdk.has_tap && q->tsc >= q->tap_due_tsc;
}

/* Frames this queue sent to the node's own address (tx_one), through the normal receive path
 * as the kernel's loopback would take them. @return how many of @p pkts were filled. */
static unsigned rx_loopback(struct dpdk_q *q, struct dp_pkt **pkts, unsigned n)
{
	unsigned i = 0, got = 0;
	q->rx_cfg.from_self = true;
	for (; i < q->nloop && got < n; i++) {
		got += rx_one(q, q->loop[i], pkts[got]);
	}
	q->rx_cfg.from_self = false;
	q->nloop -= i;
	memmove(q->loop, q->loop + i, q->nloop * sizeof(q->loop[0]));
	q->busy_tsc = q->tsc;
	return got;
}

static unsigned dpdk_rx_burst(void *ctx, struct dp_pkt **pkts, unsigned n)
{
	struct dpdk_q *q = ctx;
	clock_tick(q);
	if (q->nheld > 0) {
		retry_held(q);
	}
	if (q->reasm->live > 0) {
		lc_counter_add(&q->c[DPDK_C_COUNT_ + NET_DROP_REASM_TIMEOUT],
			       net_reasm_expire(q->reasm, q->now_ms));
	}
	if (tap_due(q)) {
		from_kernel(q);
	}
	unsigned got = q->nloop > 0 ? rx_loopback(q, pkts, n) : 0;
	struct rte_mbuf *m[DPDK_BURST];
	uint16_t nb = got < n ? rte_eth_rx_burst(q->port, q->queue, m,
						 (uint16_t)LC_MIN(n - got, DPDK_BURST))
			      : 0;
	if (got > 0) {
		cnt(q, DPDK_C_RX_UDP, got);
	}
	if (nb > 0) {
		q->busy_tsc = q->tsc;
		q->sleep_us = DPDK_SLEEP_MIN_US;
		cnt(q, DPDK_C_RX_FRAMES, nb);
		for (uint16_t i = 0; i < nb && i < DPDK_PREFETCH; i++) {
			rte_prefetch0(rte_pktmbuf_mtod(m[i], void *));
		}
		unsigned from_port = 0;
		for (uint16_t i = 0; i < nb; i++) {
			if (i + DPDK_PREFETCH < nb) {
				rte_prefetch0(rte_pktmbuf_mtod(m[i + DPDK_PREFETCH], void *));
			}
			from_port += rx_one(q, m[i], pkts[got + from_port]);
		}
		cnt(q, DPDK_C_RX_UDP, from_port);
		got += from_port;
	}
	if (q->ntx > 0) {
		tx_flush(q);
	}
	if (dpdk.has_tap) {
		kern_flush(q);
	}
	return got;
}

/* Build the frames of one datagram; @return how many (0: dropped and counted). */
static unsigned build(struct dpdk_q *q, const struct dp_pkt *p, const struct net_udp_hdrs *h,
		      struct rte_mbuf **m, bool may_offload)
{
	unsigned n = net_udp_nfrags(p->len, dpdk.mtu);
	if (LC_UNLIKELY(n == 0 || n > DPDK_MAX_FRAGS)) {
		cnt(q, DPDK_C_TX_TOO_LARGE, 1);
		return 0;
	}
	if (LC_UNLIKELY(rte_pktmbuf_alloc_bulk(dpdk.pool, m, n) != 0)) {
		drop_cnt(q, NET_DROP_NO_MBUF);
		return 0;
	}
	const uint8_t *pay = (const uint8_t *)p->data;
	bool offload = may_offload && dpdk.tx_csum_offload && n == 1;
	uint16_t csum =
		offload ? net_csum_fold(net_pseudo_sum(h->src_ip, h->dst_ip, NET_IP_PROTO_UDP,
						       (uint16_t)(p->len + NET_UDP_HLEN)))
			: net_udp_csum(h, pay, p->len);
	for (unsigned k = 0; k < n; k++) {
		size_t len =
			net_udp_build(rte_pktmbuf_mtod(m[k], uint8_t *), rte_pktmbuf_tailroom(m[k]),
				      h, pay, p->len, dpdk.mtu, k, csum, offload);
		m[k]->data_len = (uint16_t)len;
		m[k]->pkt_len = (uint32_t)len;
		if (offload) {
			m[k]->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
					 RTE_MBUF_F_TX_UDP_CKSUM;
			m[k]->l2_len = NET_ETH_HLEN;
			m[k]->l3_len = NET_IP_HLEN;
		}
	}
	if (n > 1) {
		cnt(q, DPDK_C_TX_FRAGMENTS, n);
	}
	return n;
}

/* Hold frames for @p next_hop, or drop them when the hold queue is full. */
static void hold(struct dpdk_q *q, struct rte_mbuf **m, unsigned n, uint32_t next_hop)
{
	if (q->nheld + n > DPDK_HOLD) {
		drop_cnt(q, NET_DROP_NO_NEIGHBOUR);
		rte_pktmbuf_free_bulk(m, n);
		return;
	}
	for (unsigned k = 0; k < n; k++) {
		q->held[q->nheld++] = (struct dpdk_held){m[k], next_hop, q->now_ms};
	}
	cnt(q, DPDK_C_HELD, 1);
	ask(q, next_hop);
}

/* A datagram to the node's own address: never to the wire (nobody would answer our ARP for
 * ourselves), but into this queue's loopback, received at its next rx_burst (rx_loopback). */
static void loopback(struct dpdk_q *q, const struct dp_pkt *p, struct net_udp_hdrs *h)
{
	struct rte_mbuf *m[DPDK_MAX_FRAGS];
	memcpy(h->dst_mac, dpdk.mac, NET_MAC_LEN);
	unsigned n = build(q, p, h, m, false);
	if (n == 0) {
		return;
	}
	if (LC_UNLIKELY(q->nloop + n > DPDK_LOOP)) {
		drop_cnt(q, NET_DROP_LOOP_FULL);
		rte_pktmbuf_free_bulk(m, n);
		return;
	}
	memcpy(q->loop + q->nloop, m, n * sizeof(m[0]));
	q->nloop += n;
	cnt(q, DPDK_C_LOOPBACK, 1);
}

static void tx_one(struct dpdk_q *q, const struct dp_pkt *p)
{
	if (LC_UNLIKELY(p->peer.family != AF_INET)) {
		drop_cnt(q, NET_DROP_NOT_IPV4);
		return;
	}
	struct net_udp_hdrs h = {.src_ip = dpdk.ip,
				 .dst_ip = net_rd32(p->peer.addr),
				 .src_port = dpdk.udp_port[p->sock],
				 .dst_port = p->peer.port,
				 .ip_id = q->ip_id++};
	memcpy(h.src_mac, dpdk.mac, NET_MAC_LEN);
	if (LC_UNLIKELY(h.dst_ip == dpdk.ip)) {
		loopback(q, p, &h);
		return;
	}
	uint32_t next_hop = on_link(h.dst_ip) || dpdk.gateway == 0 ? h.dst_ip : dpdk.gateway;
	bool known = neigh_find(q, next_hop, h.dst_mac);
	struct rte_mbuf *m[DPDK_MAX_FRAGS];
	unsigned n = build(q, p, &h, m, true);
	if (n == 0) {
		return;
	}
	cnt(q, DPDK_C_TX_UDP, 1);
	if (!known) {
		hold(q, m, n, next_hop);
		return;
	}
	for (unsigned k = 0; k < n; k++) {
		tx_frame(q, m[k]);
	}
}

/* Every datagram is consumed: sent, held for its neighbour, or dropped under a counted reason
 * (the socket backend also reports an undeliverable datagram as handled). */
static unsigned dpdk_tx_burst(void *ctx, struct dp_pkt **pkts, unsigned n)
{
	struct dpdk_q *q = ctx;
	clock_tick(q);
	for (unsigned i = 0; i < n; i++) {
		if (i + 1 < n) {
			rte_prefetch0(pkts[i + 1]->data);
		}
		tx_one(q, pkts[i]);
	}
	if (q->ntx > 0) {
		tx_flush(q);
	}
	return n;
}

/* After an empty iteration: the TAP when it is due, then spin (How it works) or let the worker
 * sleep. */
static bool dpdk_idle(void *ctx)
{
	struct dpdk_q *q = ctx;
	clock_tick(q);
	if (tap_due(q)) {
		from_kernel(q);
		if (q->ntx > 0) {
			tx_flush(q);
			q->busy_tsc = q->tsc; /* the kernel talks: its answers may follow at once */
		}
	}
	return dpdk.busy_poll || q->nloop > 0 || q->tsc - q->busy_tsc < q->spin_tsc;
}

static bool dpdk_wait(void *ctx, int wake_fd, int timeout_ms)
{
	struct dpdk_q *q = ctx;
	if (q->nloop > 0 || dpdk.busy_poll) {
		return false;
	}
	/* With the queue's socket a frame ends the sleep, and the timeout only paces the TAP and
	 * the timers; without it, the backoff (How it works). A negative fd is skipped by ppoll. */
	unsigned us = q->rx_fd >= 0 ? DPDK_SLEEP_MAX_US : q->sleep_us;
	us = LC_MIN(us, (unsigned)timeout_ms * 1000u);
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)us * 1000};
	struct pollfd pfd[2] = {{.fd = wake_fd, .events = POLLIN},
				{.fd = q->rx_fd, .events = POLLIN}};
	cnt(q, DPDK_C_SLEEPS, 1);
	q->sleep_us = LC_MIN(q->sleep_us * 2, DPDK_SLEEP_MAX_US);
	/* fastpath-ok: idle only (the adaptive policy's sleep), never while packets flow */
	int r = ppoll(pfd, 2, &ts, NULL);
	return r > 0 && (pfd[0].revents & POLLIN);
}

static int dpdk_open(void **out, const struct dp_io_cfg *cfg, unsigned worker)
{
	(void)cfg;
	if (!dpdk.up || worker >= dpdk.nq) {
		return LC_EINVAL;
	}
	struct dpdk_q *q = lc_alloc_aligned(LC_CACHE_LINE, sizeof(*q));
	if (q == NULL) {
		return LC_ENOMEM;
	}
	memset(q, 0, sizeof(*q));
	q->reasm = lc_alloc(sizeof(*q->reasm));
	if (q->reasm == NULL) {
		lc_free(q);
		return LC_ENOMEM;
	}
	net_reasm_init(q->reasm);
	q->id = worker;
	q->port = dpdk.port_of[worker];
	q->queue = dpdk.queue_of[worker];
	memcpy(q->rx_cfg.mac, dpdk.mac, NET_MAC_LEN);
	q->rx_cfg.ip = dpdk.ip;
	q->rx_cfg.port[0] = dpdk.udp_port[0];
	q->rx_cfg.port[1] = dpdk.udp_port[1];
	q->ip_id = (uint16_t)(worker << 12);
	q->sleep_us = DPDK_SLEEP_MIN_US;
	q->rx_fd = dpdk.rx_fd;
	/* a frame wakes a worker that sleeps on its socket: spinning would only burn the CPU */
	q->spin_tsc = q->rx_fd >= 0 ? 0 : dpdk.spin_tsc;
	net_neigh_init(&q->neigh);
	dpdk.neigh[worker] = &q->neigh;
	*out = q;
	return LC_OK;
}

static void dpdk_close(void *ctx)
{
	struct dpdk_q *q = ctx;
	if (q == NULL) {
		return;
	}
	if (q->ntx > 0) {
		rte_pktmbuf_free_bulk(q->txb, q->ntx);
	}
	if (q->nkern > 0) {
		rte_pktmbuf_free_bulk(q->kernb, q->nkern);
	}
	for (unsigned i = 0; i < q->nheld; i++) {
		rte_pktmbuf_free(q->held[i].m);
	}
	if (q->nloop > 0) {
		rte_pktmbuf_free_bulk(q->loop, q->nloop);
	}
	lc_free(q->reasm);
	dpdk.neigh[q->id] = NULL;
	lc_free(q);
}

static int dpdk_local_addr(void *ctx, enum dp_sock sock, struct sockaddr_storage *out)
{
	(void)ctx;
	struct sockaddr_in *s = (struct sockaddr_in *)out;
	memset(out, 0, sizeof(*out));
	s->sin_family = AF_INET;
	s->sin_port = htons(dpdk.udp_port[sock]);
	s->sin_addr.s_addr = htonl(dpdk.ip);
	return LC_OK;
}

static unsigned dpdk_counters(void *ctx, const char *const **names, const lc_counter_t **values)
{
	struct dpdk_q *q = ctx;
	*names = dpdk_counter_name;
	*values = q->c;
	return DPDK_NCOUNTERS;
}

static const struct dp_io_ops dpdk_ops = {
	.name = "dpdk",
	.open = dpdk_open,
	.close = dpdk_close,
	.local_addr = dpdk_local_addr,
	.rx_burst = dpdk_rx_burst,
	.tx_burst = dpdk_tx_burst,
	.idle = dpdk_idle,
	.wait = dpdk_wait,
	.counters = dpdk_counters,
};

const struct dp_io_ops *dp_dpdk_io_ops(void)
{
	return &dpdk_ops;
}
