/* SPDX-License-Identifier: MIT */
/*
 * locus-bench's DPDK transport (lb_xport.h, --dpdk-args): the generator's datagrams go straight
 * onto a DPDK port, so that it can drive a locusd on DPDK over memif or vhost/virtio_user with
 * no kernel anywhere in the path. It speaks just enough Ethernet, ARP and IPv4/UDP for that, on
 * net/'s frame builder and classifier (the pure library locusd's own stack is made of).
 *
 * How it works:
 * - init: the EAL from --dpdk-args (the first port it probed is ours), one RX/TX queue pair per
 *   sending thread, an mbuf pool; then it waits for the link (memif and vhost come up when the
 *   other process connects) and resolves every target's MAC with ARP on queue 0, answering ARP
 *   for our own address (--bind) meanwhile. A target that never answers fails the run (exit 3).
 * - Each sending thread registers with the EAL (rte_thread_register: it gets an lcore id, hence
 *   the pool's per-lcore cache) and owns queue pair <thread>. Its sources are UDP ports
 *   20000 + 2 * thread + k of our address.
 * - tx: a request is written into a staging buffer, then net_udp_build() frames it into an mbuf
 *   with the UDP checksum computed in software (locusd verifies it; memif and vhost offload
 *   nothing); the frames go out in bursts of 32 (tx_flush, or a full burst). What the port's
 *   ring does not take waits in a backlog of TX_BACKLOG frames, in order, sent as the ring frees
 *   up (every turn of the loop and while it polls for answers), as a socket's buffer would: an
 *   open-loop generator that lost its CPU for a few ms catches up without losing requests. Only
 *   a full backlog drops a frame (counted in send_errors; the transaction's timers then resend
 *   it or count it missing, as with sockets).
 * - rx: polls its queue without sleeping until an answer comes or the loop's wait is over,
 *   classifies each frame with net_rx_classify() (our MAC, our address, our source ports; IP and
 *   UDP checksums verified) and hands each datagram's payload to the loop; ARP requests for us
 *   and pings are answered in place; anything else is counted (rx_dropped, and per reason on
 *   stderr at the end). The time spent polling an empty queue is the thread's idle time.
 *
 * The answer to a request must come back on the queue it was sent on: true for memif and vhost
 * with a one-worker locusd (its worker answers on the queue it read). A locusd whose workers hand
 * requests to each other answers some on another queue: those are counted as other_port drops
 * and their transactions as missing (one thread per locusd worker, each with its own queue, is
 * what this transport supports).
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench/lb_xport.h"
#include "common/lc_alloc.h"
#include "common/lc_counter.h"
#include "common/lc_error.h"
#include "dataplane/dp_dpdk.h"
#include "net/net_rx.h"
#include "net/net_tx.h"

#define BURST 32
#define RX_ROUNDS 4	/* bursts read per wait when they come full */
#define TX_BACKLOG 4096 /* frames queued while the port's ring is full (a socket's buffer) */
#define RING_DESC 1024
#define POOL_CACHE 256
#define SRC_PORT_BASE 20000
#define LINK_WAIT_MS 10000
#define ARP_WAIT_MS 5000
#define ARP_EVERY_MS 100
#define MAX_HOSTS (2 * LB_MAX_TARGETS)

/* A target's address and, once it answered ARP, its MAC. */
struct host {
	uint32_t ip; /* host order */
	uint8_t mac[NET_MAC_LEN];
	bool known;
};

/* Owner: main(); written by init, read-only while the threads run. */
struct shared {
	const struct lb_cfg *cfg;
	bool eal_up, port_up;
	struct rte_mempool *pool;
	uint16_t port;
	unsigned nq;
	uint8_t mac[NET_MAC_LEN];
	uint32_t ip; /* ours, host order */
	unsigned mtu;
	uint64_t tsc_hz;
	unsigned nhosts;
	struct host host[MAX_HOSTS];
};

/* Owner: its sending thread (main sets it up, and reads the drops after the thread ended). */
struct dq {
	const struct shared *sh;
	struct lb_stats *st;
	uint16_t queue;
	uint16_t ip_id;
	struct net_rx_cfg rx_cfg; /* our MAC, address and this thread's source ports */
	unsigned ntx;		  /* frames in txb, oldest first */
	struct rte_mbuf *txb[TX_BACKLOG];
	uint64_t drop[NET_DROP_COUNT_];
	uint64_t arp_answered;
	char stage[LB_XPORT_MSG_MAX];
};

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
	return LC_EINVAL;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static uint32_t ip_of(const struct lb_target *t)
{
	return ntohl(((const struct sockaddr_in *)&t->addr)->sin_addr.s_addr);
}

static void add_host(struct shared *sh, uint32_t ip)
{
	for (unsigned i = 0; i < sh->nhosts; i++) {
		if (sh->host[i].ip == ip) {
			return;
		}
	}
	sh->host[sh->nhosts++] = (struct host){.ip = ip};
}

static const struct host *host_of(const struct shared *sh, uint32_t ip)
{
	for (unsigned i = 0; i < sh->nhosts; i++) {
		if (sh->host[i].ip == ip) {
			return &sh->host[i];
		}
	}
	return NULL;
}

static int eal_init(struct shared *sh, const char *args, char *err, size_t errlen)
{
	static char buf[2048];
	char *argv[DP_DPDK_ARGS_MAX + 2];
	argv[0] = (char *)"locus-bench";
	int argc = dp_dpdk_split_args(args, buf, sizeof(buf), argv + 1, DP_DPDK_ARGS_MAX);
	if (argc < 0) {
		return fail(err, errlen, "--dpdk-args: %s",
			    argc == LC_EINVAL ? "an unterminated quote or backslash"
					      : "too many or too long arguments");
	}
	argv[argc + 1] = NULL;
	rte_log_set_global_level(RTE_LOG_NOTICE); /* --log-level in the arguments overrides it */
	if (rte_eal_init(argc + 1, argv) < 0) {
		return fail(err, errlen, "--dpdk-args: the EAL refused them (%s)",
			    rte_strerror(rte_errno));
	}
	sh->eal_up = true;
	sh->tsc_hz = rte_get_tsc_hz();
	return LC_OK;
}

static int port_setup(struct shared *sh, char *err, size_t errlen)
{
	uint16_t p;
	bool found = false;
	RTE_ETH_FOREACH_DEV (p) {
		sh->port = p;
		found = true;
		break;
	}
	if (!found) {
		return fail(err, errlen,
			    "--dpdk-args: no DPDK port (give a device, e.g. "
			    "--vdev=net_memif0,role=client,socket=/run/x.sock)");
	}
	struct rte_eth_dev_info info;
	if (rte_eth_dev_info_get(sh->port, &info) != 0 || info.max_rx_queues < sh->nq ||
	    info.max_tx_queues < sh->nq) {
		return fail(err, errlen, "DPDK port %u: fewer queue pairs than --threads %u",
			    sh->port, sh->nq);
	}
	unsigned n = 8191 * sh->nq;
	sh->pool = rte_pktmbuf_pool_create("lb_mbufs", n, POOL_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					   (int)rte_socket_id());
	if (sh->pool == NULL) {
		return fail(err, errlen, "no mbuf pool of %u (%s): give the EAL more memory (-m)",
			    n, rte_strerror(rte_errno));
	}
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	int ret = rte_eth_dev_configure(sh->port, (uint16_t)sh->nq, (uint16_t)sh->nq, &conf);
	uint16_t nrx = RING_DESC, ntx = RING_DESC;
	(void)rte_eth_dev_adjust_nb_rx_tx_desc(sh->port, &nrx, &ntx);
	int socket = rte_eth_dev_socket_id(sh->port);
	for (unsigned q = 0; q < sh->nq && ret == 0; q++) {
		ret = rte_eth_rx_queue_setup(sh->port, (uint16_t)q, nrx, (unsigned)socket, NULL,
					     sh->pool);
		if (ret == 0) {
			ret = rte_eth_tx_queue_setup(sh->port, (uint16_t)q, ntx, (unsigned)socket,
						     NULL);
		}
	}
	if (ret == 0) {
		ret = rte_eth_dev_start(sh->port);
	}
	if (ret != 0) {
		return fail(err, errlen, "DPDK port %u: configure or start: %s", sh->port,
			    rte_strerror(-ret));
	}
	sh->port_up = true;
	struct rte_ether_addr mac;
	uint16_t mtu = 1500;
	if (rte_eth_macaddr_get(sh->port, &mac) != 0) {
		return fail(err, errlen, "DPDK port %u: no MAC address", sh->port);
	}
	memcpy(sh->mac, mac.addr_bytes, NET_MAC_LEN);
	(void)rte_eth_dev_get_mtu(sh->port, &mtu);
	sh->mtu = LC_MAX(mtu, (uint16_t)NET_MTU_MIN);
	return LC_OK;
}

static int link_wait(const struct shared *sh, char *err, size_t errlen)
{
	for (unsigned ms = 0; ms < LINK_WAIT_MS; ms += 10) {
		struct rte_eth_link link;
		if (rte_eth_link_get_nowait(sh->port, &link) == 0 && link.link_status) {
			return LC_OK;
		}
		sleep_ms(10);
	}
	return fail(err, errlen,
		    "DPDK port %u: no link after %u s (is the other side up on the same memif "
		    "socket or vhost path, in the other role?)",
		    sh->port, LINK_WAIT_MS / 1000);
}

static void send_frame(const struct shared *sh, uint16_t q, struct rte_mbuf *m)
{
	if (rte_eth_tx_burst(sh->port, q, &m, 1) != 1) {
		rte_pktmbuf_free(m);
	}
}

static void arp_ask(const struct shared *sh, uint32_t ip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(sh->pool);
	if (m == NULL) {
		return;
	}
	size_t len = net_arp_build(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_tailroom(m),
				   NET_ARP_REQUEST, sh->mac, sh->ip, NULL, ip, NULL);
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	send_frame(sh, 0, m);
}

/* Init's receive: learn the targets' MACs from ARP replies, answer ARP requests for us. */
static void arp_poll(struct shared *sh, const struct net_rx_cfg *rc)
{
	for (unsigned q = 0; q < sh->nq; q++) {
		struct rte_mbuf *m[BURST];
		uint16_t n = rte_eth_rx_burst(sh->port, (uint16_t)q, m, BURST);
		for (uint16_t i = 0; i < n; i++) {
			struct net_rx_res r;
			uint8_t *f = rte_pktmbuf_mtod(m[i], uint8_t *);
			net_rx_classify(rc, f, m[i]->data_len, &r);
			if (r.v == NET_V_ARP) {
				for (unsigned h = 0; h < sh->nhosts; h++) {
					if (sh->host[h].ip == r.src_ip) {
						memcpy(sh->host[h].mac, r.src_mac, NET_MAC_LEN);
						sh->host[h].known = true;
					}
				}
				if (r.for_us) {
					net_arp_reply_inplace(f, sh->mac);
					send_frame(sh, (uint16_t)q, m[i]);
					continue;
				}
			}
			rte_pktmbuf_free(m[i]);
		}
	}
}

static int resolve(struct shared *sh, char *err, size_t errlen)
{
	const struct lb_cfg *c = sh->cfg;
	for (unsigned i = 0; i < c->nsip; i++) {
		add_host(sh, ip_of(&c->sip[i]));
	}
	for (unsigned i = 0; i < c->nlsp; i++) {
		add_host(sh, ip_of(&c->lsp[i]));
	}
	struct net_rx_cfg rc = {.ip = sh->ip};
	memcpy(rc.mac, sh->mac, NET_MAC_LEN);
	for (unsigned ms = 0; ms < ARP_WAIT_MS; ms++) {
		unsigned missing = 0;
		for (unsigned h = 0; h < sh->nhosts; h++) {
			if (!sh->host[h].known) {
				missing++;
				if (ms % ARP_EVERY_MS == 0) {
					arp_ask(sh, sh->host[h].ip);
				}
			}
		}
		if (missing == 0) {
			return LC_OK;
		}
		arp_poll(sh, &rc);
		sleep_ms(1);
	}
	for (unsigned h = 0; h < sh->nhosts; h++) {
		if (!sh->host[h].known) {
			uint32_t a = sh->host[h].ip;
			return fail(err, errlen, "no ARP answer from %u.%u.%u.%u in %u s", a >> 24,
				    (a >> 16) & 255, (a >> 8) & 255, a & 255, ARP_WAIT_MS / 1000);
		}
	}
	return LC_OK;
}

static void dpdk_fini(void *shared)
{
	struct shared *sh = shared;
	if (sh == NULL) {
		return;
	}
	if (sh->port_up) {
		(void)rte_eth_dev_stop(sh->port);
		(void)rte_eth_dev_close(sh->port);
	}
	rte_mempool_free(sh->pool);
	if (sh->eal_up) {
		(void)rte_eal_cleanup();
	}
	lc_free(sh);
}

static int dpdk_init(void **out, const struct lb_cfg *c, char *err, size_t errlen)
{
	struct shared *sh = lc_calloc(1, sizeof(*sh));
	if (sh == NULL) {
		snprintf(err, errlen, "out of memory");
		return LC_ENOMEM;
	}
	sh->cfg = c;
	sh->nq = c->threads;
	sh->ip = ip_of(&c->bind);
	int ret = eal_init(sh, c->dpdk_args, err, errlen);
	if (ret == LC_OK) {
		ret = port_setup(sh, err, errlen);
	}
	if (ret == LC_OK) {
		ret = link_wait(sh, err, errlen);
	}
	if (ret == LC_OK) {
		ret = resolve(sh, err, errlen);
	}
	if (ret != LC_OK) {
		dpdk_fini(sh);
		return ret;
	}
	*out = sh;
	return LC_OK;
}

static void dpdk_close(void *ctx)
{
	struct dq *q = ctx;
	if (q == NULL) {
		return;
	}
	if (q->ntx > 0) {
		rte_pktmbuf_free_bulk(q->txb, q->ntx);
	}
	bool any = false;
	for (unsigned i = 1; i < NET_DROP_COUNT_; i++) {
		if (q->drop[i] != 0) {
			fprintf(stderr, "%s %s %llu",
				any ? "," : "locus-bench: DPDK queue dropped:", net_drop_name[i],
				(unsigned long long)q->drop[i]);
			any = true;
		}
	}
	if (any) {
		fputc('\n', stderr);
	}
	lc_free(q);
}

static int dpdk_open(void **out, void *shared, unsigned thread, struct lb_stats *st, char *err,
		     size_t errlen)
{
	const struct shared *sh = shared;
	struct dq *q = lc_alloc_aligned(LC_CACHE_LINE, sizeof(*q));
	if (q == NULL) {
		snprintf(err, errlen, "out of memory");
		return LC_ENOMEM;
	}
	memset(q, 0, sizeof(*q));
	q->sh = sh;
	q->st = st;
	q->queue = (uint16_t)thread;
	q->ip_id = (uint16_t)(thread << 12);
	memcpy(q->rx_cfg.mac, sh->mac, NET_MAC_LEN);
	q->rx_cfg.ip = sh->ip;
	for (unsigned k = 0; k < sh->cfg->sockets && k < NET_MAX_PORTS; k++) {
		q->rx_cfg.port[k] = (uint16_t)(SRC_PORT_BASE + NET_MAX_PORTS * thread + k);
	}
	*out = q;
	return LC_OK;
}

static int dpdk_attach(void *ctx)
{
	(void)ctx;
	return rte_thread_register() == 0 ? LC_OK : -rte_errno;
}

static void dpdk_detach(void *ctx)
{
	(void)ctx;
	rte_thread_unregister();
}

static unsigned dpdk_local(void *ctx, unsigned k, char *out, size_t cap)
{
	const struct dq *q = ctx;
	uint32_t a = q->sh->ip;
	return (unsigned)snprintf(out, cap, "%u.%u.%u.%u:%u", a >> 24, (a >> 16) & 255,
				  (a >> 8) & 255, a & 255, q->rx_cfg.port[k]);
}

/* Send what the port's ring takes; the rest stays queued, in order, for the next try (the loop
 * tries again every turn, and while it polls for answers). */
static void dpdk_tx_flush(void *ctx)
{
	struct dq *q = ctx;
	unsigned sent = 0;
	while (sent < q->ntx) {
		uint16_t n = rte_eth_tx_burst(q->sh->port, q->queue, q->txb + sent,
					      (uint16_t)LC_MIN(q->ntx - sent, BURST));
		if (n == 0) {
			break;
		}
		sent += n;
	}
	if (sent > 0 && sent < q->ntx) {
		memmove(q->txb, q->txb + sent, (q->ntx - sent) * sizeof(q->txb[0]));
	}
	q->ntx -= sent;
}

/* Queue a frame; a full backlog (the ring has been full for TX_BACKLOG frames: locusd stopped
 * reading) drops it, counted in send_errors; its transaction's timers take over. */
static void tx_push(struct dq *q, struct rte_mbuf *m)
{
	if (q->ntx >= BURST) {
		dpdk_tx_flush(q);
	}
	if (LC_UNLIKELY(q->ntx == TX_BACKLOG)) {
		lc_counter_inc(&q->st->send_errors);
		rte_pktmbuf_free(m);
		return;
	}
	q->txb[q->ntx++] = m;
}

static char *dpdk_tx_buf(void *ctx, unsigned k)
{
	(void)k;
	struct dq *q = ctx;
	return q->stage;
}

static void dpdk_tx_commit(void *ctx, unsigned k, const struct lb_target *to, size_t len)
{
	struct dq *q = ctx;
	const struct shared *sh = q->sh;
	const struct host *h = host_of(sh, ip_of(to));
	struct rte_mbuf *m = rte_pktmbuf_alloc(sh->pool);
	if (LC_UNLIKELY(m == NULL || h == NULL || net_udp_nfrags(len, sh->mtu) != 1)) {
		rte_pktmbuf_free(m); /* NULL is fine */
		lc_counter_inc(&q->st->send_errors);
		return;
	}
	struct net_udp_hdrs hd = {
		.src_ip = sh->ip,
		.dst_ip = h->ip,
		.src_port = q->rx_cfg.port[k],
		.dst_port = ntohs(((const struct sockaddr_in *)&to->addr)->sin_port),
		.ip_id = q->ip_id++,
	};
	memcpy(hd.src_mac, sh->mac, NET_MAC_LEN);
	memcpy(hd.dst_mac, h->mac, NET_MAC_LEN);
	const uint8_t *pay = (const uint8_t *)q->stage;
	size_t flen = net_udp_build(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_tailroom(m), &hd,
				    pay, len, sh->mtu, 0, net_udp_csum(&hd, pay, len), false);
	m->data_len = (uint16_t)flen;
	m->pkt_len = (uint32_t)flen;
	tx_push(q, m);
}

/* One burst: answers to the loop, ARP and ping answered, the rest counted. */
static void rx_frames(struct dq *q, struct rte_mbuf **m, unsigned n, lb_xport_rx_fn fn, void *arg)
{
	struct rte_mbuf *done[BURST];
	unsigned ndone = 0;
	uint64_t now = lb_now_ns();
	for (unsigned i = 0; i < n; i++) {
		struct net_rx_res r;
		uint8_t *f = rte_pktmbuf_mtod(m[i], uint8_t *);
		net_rx_classify(&q->rx_cfg, f, m[i]->data_len, &r);
		if (LC_UNLIKELY(m[i]->nb_segs != 1)) {
			r.v = NET_V_DROP;
			r.drop = NET_DROP_MULTI_SEG;
		}
		if (r.v == NET_V_UDP) {
			fn(arg, (const char *)f + r.payload_off, r.payload_len, false, now);
		} else if (r.v == NET_V_ARP && r.for_us) {
			net_arp_reply_inplace(f, q->sh->mac);
			q->arp_answered++;
			tx_push(q, m[i]);
			continue;
		} else if (r.v == NET_V_ICMP_ECHO) {
			size_t len = net_icmp_echo_reply(
				f, m[i]->data_len + rte_pktmbuf_tailroom(m[i]), q->sh->mac);
			m[i]->data_len = (uint16_t)len;
			m[i]->pkt_len = (uint32_t)len;
			tx_push(q, m[i]);
			continue;
		} else if (r.v != NET_V_ARP) { /* ARP replies are simply dropped */
			q->drop[r.drop]++;
			lc_counter_inc(&q->st->rx_dropped);
		}
		done[ndone++] = m[i];
	}
	rte_pktmbuf_free_bulk(done, ndone);
}

static uint64_t dpdk_rx(void *ctx, uint64_t wait_ns, lb_xport_rx_fn fn, void *arg)
{
	struct dq *q = ctx;
	const struct shared *sh = q->sh;
	struct rte_mbuf *m[BURST];
	uint64_t t0 = rte_rdtsc();
	uint64_t deadline = t0 + (uint64_t)((double)wait_ns * (double)sh->tsc_hz / 1e9);
	uint16_t n;
	uint64_t idle;
	for (;;) {
		if (q->ntx > 0) {
			dpdk_tx_flush(q); /* a backlog goes out as the ring frees up */
		}
		n = rte_eth_rx_burst(sh->port, q->queue, m, BURST);
		uint64_t t = rte_rdtsc();
		if (n > 0 || t >= deadline) {
			idle = t - t0;
			break;
		}
	}
	for (int round = 1; n > 0; round++) {
		rx_frames(q, m, n, fn, arg);
		if (n < BURST || round == RX_ROUNDS) {
			break;
		}
		n = rte_eth_rx_burst(sh->port, q->queue, m, BURST);
	}
	if (q->ntx > 0) {
		dpdk_tx_flush(q); /* ARP replies and ACKs go out now */
	}
	return (uint64_t)((double)idle * 1e9 / (double)sh->tsc_hz);
}

static const struct lb_xport_ops dpdk_ops = {
	.name = "dpdk",
	.init = dpdk_init,
	.fini = dpdk_fini,
	.open = dpdk_open,
	.close = dpdk_close,
	.attach = dpdk_attach,
	.detach = dpdk_detach,
	.local = dpdk_local,
	.tx_buf = dpdk_tx_buf,
	.tx_commit = dpdk_tx_commit,
	.tx_flush = dpdk_tx_flush,
	.rx = dpdk_rx,
};

const struct lb_xport_ops *lb_xport_dpdk(void)
{
	return &dpdk_ops;
}
