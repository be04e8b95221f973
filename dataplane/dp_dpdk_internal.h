/* SPDX-License-Identifier: MIT */
/*
 * What the two halves of the DPDK backend share: the process-wide port state that
 * dp_dpdk_port.c sets up (EAL, ports, pool, TAP) and dp_io_dpdk.c reads on the fast path, and
 * the per-queue context with its counters.
 */
#pragma once

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/lc_counter.h"
#include "dataplane/dp_dpdk.h"
#include "dataplane/dp_worker.h"
#include "net/net_neigh.h"
#include "net/net_reasm.h"
#include "net/net_rx.h"

#define DPDK_BURST 32	   /* frames per rx/tx burst (the "bursts of 32") */
#define DPDK_PREFETCH 3	   /* frames ahead whose data is prefetched */
#define DPDK_HOLD 64	   /* frames per queue waiting for their next hop's MAC */
#define DPDK_MAX_FRAGS 128 /* frames of one datagram: 65507 bytes at the 576-byte minimum MTU */
#define DPDK_LOOP 256	   /* frames per queue sent to our own address, waiting for rx */
#define DPDK_HOLD_MS 1500  /* how long one waits before it is dropped (no_neighbour) */
#define DPDK_ASK_MS 500	   /* an address is asked for (ARP request) at most this often */
#define DPDK_ASKED 8	   /* addresses asked for lately, per queue */
#define DPDK_TAP_MS 1	   /* the TAP is polled this often (a read() each time) */
#define DPDK_SPIN_US 20	   /* adaptive, on a timer: polls on this long after a frame */
#define DPDK_SLEEP_MIN_US 16
#define DPDK_SLEEP_MAX_US 1000

/* The queue's own counters, besides the drop reasons of net_rx.h. */
#define DPDK_COUNTERS(X)                                                                           \
	X(DPDK_C_RX_FRAMES, "rx_frames")	  /* frames received from the port */              \
	X(DPDK_C_TX_FRAMES, "tx_frames")	  /* frames the port took */                       \
	X(DPDK_C_RX_UDP, "rx_udp")		  /* datagrams handed to the worker */             \
	X(DPDK_C_TX_UDP, "tx_udp")		  /* datagrams sent (or held) */                   \
	X(DPDK_C_TX_FRAGMENTS, "tx_fragments")	  /* frames of datagrams over the MTU */           \
	X(DPDK_C_TX_TOO_LARGE, "tx_too_large")	  /* datagrams over 65507 bytes */                 \
	X(DPDK_C_CSUM_PARTIAL, "rx_csum_partial") /* accepted with a partial or no checksum */     \
	X(DPDK_C_ARP_ANSWERED, "arp_answered")	  /* requests for our address answered */          \
	X(DPDK_C_ARP_LEARNED, "arp_learned")	  /* neighbours learned or changed */              \
	X(DPDK_C_ARP_ASKED, "arp_requests_sent")  /* requests we sent to resolve a next hop */     \
	X(DPDK_C_ICMP_ECHO, "icmp_echo_answered")                                                  \
	X(DPDK_C_HELD, "held_for_neighbour")	/* datagrams that waited for an ARP reply */       \
	X(DPDK_C_TO_KERNEL, "to_kernel")	/* frames passed to the TAP */                     \
	X(DPDK_C_FROM_KERNEL, "from_kernel")	/* frames the kernel sent through the TAP */       \
	X(DPDK_C_SLEEPS, "idle_sleeps")		/* adaptive polling: sleeps taken */               \
	X(DPDK_C_RX_FRAGMENTS, "rx_fragments")	/* IPv4 fragments of UDP datagrams received */     \
	X(DPDK_C_REASSEMBLED, "rx_reassembled") /* datagrams reassembled from them */              \
	X(DPDK_C_LOOPBACK, "loopback")		/* datagrams to our own address, looped back */

enum dpdk_counter {
#define DPDK_C_ENUM(name, text) name,
	DPDK_COUNTERS(DPDK_C_ENUM)
#undef DPDK_C_ENUM
		DPDK_C_COUNT_
};

/* Counter i of a queue: its own first, then one per drop reason (index DPDK_C_COUNT_ + reason). */
#define DPDK_NCOUNTERS (DPDK_C_COUNT_ + NET_DROP_COUNT_)

/* Owner: dp_dpdk_port.c writes it in dp_dpdk_init and reads it in dp_dpdk_fini; immutable while
 * the workers run, when every queue reads it. */
struct dpdk_state {
	bool up;		  /* the EAL is initialised */
	struct rte_mempool *pool; /* every queue's mbufs */
	unsigned nmbufs;	  /* its size */
	unsigned nq;		  /* queues = workers */
	uint16_t port_of[DP_MAX_WORKERS];
	uint16_t queue_of[DP_MAX_WORKERS];
	uint16_t ports[DP_MAX_WORKERS];
	unsigned nports;
	bool has_tap;
	uint16_t tap_port;
	bool started[RTE_MAX_ETHPORTS]; /* rte_eth_dev_start succeeded: dp_dpdk_fini stops it */
	uint8_t mac[NET_MAC_LEN];
	uint32_t ip, mask, gateway; /* host order */
	uint16_t udp_port[2];
	unsigned mtu;
	bool tx_csum_offload; /* IPv4 + UDP checksums are the port's job */
	bool busy_poll;
	uint64_t tsc_per_ms;
	uint64_t spin_tsc; /* DPDK_SPIN_US in TSC cycles */
	uint64_t tap_tsc;  /* DPDK_TAP_MS in TSC cycles */
	int rx_fd;	   /* the one queue's socket, which a frame makes readable; -1: none */
	struct net_neigh *neigh[DP_MAX_WORKERS]; /* each queue's table, read by all */
};

extern struct dpdk_state dpdk;
extern const char *dpdk_counter_name[DPDK_NCOUNTERS];

/* Frames waiting for the MAC of ip. */
struct dpdk_held {
	struct rte_mbuf *m;
	uint32_t ip;
	uint64_t since_ms;
};

/* Owner: its worker (one queue pair); control reads the counters. Cache-line aligned. */
struct dpdk_q {
	unsigned id;
	uint16_t port, queue;
	struct net_rx_cfg rx_cfg;
	uint64_t tsc;	      /* the TSC, read once per burst and per idle poll */
	uint64_t now_ms;      /* the same in milliseconds */
	uint64_t busy_tsc;    /* when frames last came: the adaptive spin runs from here */
	uint64_t tap_due_tsc; /* when the TAP is to be polled next */
	uint16_t ip_id;
	unsigned sleep_us; /* the next idle sleep */
	int rx_fd;	   /* the queue's socket (dpdk.rx_fd) or -1 */
	uint64_t spin_tsc; /* the adaptive spin: 0 with rx_fd, else dpdk.spin_tsc */
	unsigned ntx, nkern;
	struct rte_mbuf *txb[DPDK_BURST];   /* frames to the port */
	struct rte_mbuf *kernb[DPDK_BURST]; /* frames to the TAP */
	unsigned nheld;
	struct dpdk_held held[DPDK_HOLD];
	unsigned nloop;
	struct rte_mbuf *loop[DPDK_LOOP]; /* frames to ourselves, received at the next rx_burst */
	struct net_reasm *reasm;	  /* this queue's reassembly table (lc_alloc) */
	uint32_t asked_ip[DPDK_ASKED];
	uint64_t asked_ms[DPDK_ASKED];
	unsigned asked_next;
	LC_CACHE_ALIGNED lc_counter_t c[DPDK_NCOUNTERS];
	struct net_neigh neigh; /* written by this queue only */
};
