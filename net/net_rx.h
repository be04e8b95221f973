/* SPDX-License-Identifier: MIT */
/*
 * Receive-side classification of one Ethernet frame: is it a UDP datagram for one of the node's
 * ports (and where is its payload), an ARP message, an ICMP echo request to answer, something
 * the kernel may want (the exception path), or a drop, and for which reason. Pure: it reads the
 * frame and writes the verdict, nothing else.
 *
 * How it works: the checks run in wire order and the first failure decides the reason, so each
 * dropped frame is counted exactly once. Checksums: a port may have verified them already (the
 * hints from the driver); otherwise the IPv4 header checksum is verified here, and a UDP checksum
 * is accepted when it verifies, is 0 (none), or is the partial sum a local Linux sender leaves on
 * a virtual link (veth, af_packet, af_xdp); the verdict says so (csum_partial) and the caller
 * counts it. Only the node's own unicast MAC, and broadcast for ARP, are accepted. IPv4
 * fragments of UDP datagrams are handed back as such (NET_V_FRAGMENT) for the caller to
 * reassemble (net_reasm.h, RFC 3261 18.1.1); fragments of other protocols are dropped. A frame
 * the node sent to itself (the caller's loopback, cfg.from_self) may carry the node's own
 * address as its source.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net_proto.h"
#include "net/net_reasm.h"

/* Why a frame was not consumed. The names are those of `locusctl stats`. */
#define NET_DROPS(X)                                                                               \
	X(NET_DROP_NONE, "none")                                                                   \
	X(NET_DROP_TOO_SHORT, "too_short")	    /* shorter than its headers */                 \
	X(NET_DROP_NOT_OUR_MAC, "not_our_mac")	    /* unicast to another MAC, or multicast */     \
	X(NET_DROP_ETHERTYPE, "other_ethertype")    /* IPv6, VLAN tags, ... */                     \
	X(NET_DROP_ARP_BAD, "arp_malformed")	    /* not Ethernet/IPv4 ARP */                    \
	X(NET_DROP_ARP_NOT_OURS, "arp_not_for_us")  /* a request for another address */            \
	X(NET_DROP_IP_BAD, "ip_header_bad")	    /* version, header length */                   \
	X(NET_DROP_TRUNCATED, "truncated")	    /* shorter than its IPv4 total length */       \
	X(NET_DROP_IP_CSUM, "ip_checksum_bad")	    /* the header checksum fails */                \
	X(NET_DROP_NOT_OUR_IP, "not_our_ip")	    /* to another IPv4 address */                  \
	X(NET_DROP_BAD_SOURCE, "bad_source")	    /* from 0/8, 127/8, multicast, ourselves */    \
	X(NET_DROP_FRAGMENT, "ip_fragment")	    /* a fragment of other than UDP */             \
	X(NET_DROP_REASM_BAD, "reasm_bad")	    /* fragment overlaps, too large: datagram */   \
	X(NET_DROP_REASM_FULL, "reasm_table_full")  /* a fragment of a new datagram: no room */    \
	X(NET_DROP_REASM_TIMEOUT, "reasm_timeout")  /* a datagram not complete in time */          \
	X(NET_DROP_LOOP_FULL, "loopback_full")	    /* to send to ourselves: no room */            \
	X(NET_DROP_PROTO, "other_protocol")	    /* not UDP or ICMP (TCP without a TAP) */      \
	X(NET_DROP_UDP_BAD, "udp_header_bad")	    /* its length does not fit the packet */       \
	X(NET_DROP_UDP_CSUM, "udp_checksum_bad")    /* neither valid, 0, nor partial */            \
	X(NET_DROP_PORT, "other_port")		    /* UDP to a port the node does not serve */    \
	X(NET_DROP_ICMP_BAD, "icmp_bad")	    /* too short or a bad checksum */              \
	X(NET_DROP_ICMP_OTHER, "icmp_other")	    /* not an echo request */                      \
	X(NET_DROP_NO_NEIGHBOUR, "no_neighbour")    /* to send: the next hop did not answer */     \
	X(NET_DROP_NO_MBUF, "no_mbuf")		    /* to send: the buffer pool was empty */       \
	X(NET_DROP_TX_FULL, "tx_full")		    /* the port's queue refused the frame */       \
	X(NET_DROP_NOT_IPV4, "not_ipv4_peer")	    /* to send: an IPv6 peer */                    \
	X(NET_DROP_MULTI_SEG, "multi_segment")	    /* a chained buffer (jumbo frames) */          \
	X(NET_DROP_KERNEL_FULL, "kernel_path_full") /* the exception path refused the frame */

enum net_drop {
#define NET_DROP_ENUM(name, text) name,
	NET_DROPS(NET_DROP_ENUM)
#undef NET_DROP_ENUM
		NET_DROP_COUNT_
};

extern const char *const net_drop_name[NET_DROP_COUNT_];

/* What a port's driver already knows about a checksum (from its offload flags). */
enum net_hint { NET_HINT_UNKNOWN = 0, NET_HINT_GOOD, NET_HINT_BAD };

enum net_verdict {
	NET_V_DROP,	 /* count res.drop and free */
	NET_V_UDP,	 /* a datagram for port index res.port: payload at payload_off */
	NET_V_ARP,	 /* an ARP request for us (answer it) or any reply (learn it) */
	NET_V_ICMP_ECHO, /* an echo request to us: net_icmp_echo_reply() answers it in place */
	NET_V_KERNEL,	 /* for us but not ours to handle (res.drop says why, if no kernel path) */
	NET_V_FRAGMENT,	 /* a fragment of a UDP datagram to us: res.frag, for net_reasm_add */
};

#define NET_MAX_PORTS 2

/* The node's own addresses. Owner: the caller; read-only here. */
struct net_rx_cfg {
	uint8_t mac[NET_MAC_LEN];
	uint32_t ip;		      /* host order */
	uint16_t port[NET_MAX_PORTS]; /* host order; 0: unused */
	enum net_hint ip_hint, l4_hint;
	bool from_self; /* the frame is the node's own (loopback): its address is a valid source */
};

/* The verdict on one frame; the fields past `drop` are set only for the verdicts they name.
 * Owner: the caller's stack. */
struct net_rx_res {
	enum net_verdict v;
	enum net_drop drop;
	bool csum_partial;    /* UDP: accepted with a partial (or no) checksum */
	uint8_t port;	      /* UDP: index into cfg.port */
	uint16_t payload_off; /* UDP: from the start of the frame */
	uint16_t payload_len; /* UDP */
	uint16_t src_port;    /* UDP */
	uint32_t src_ip;      /* UDP, ICMP, KERNEL (IPv4), ARP: the sender's protocol address */
	uint16_t arp_op;      /* ARP: NET_ARP_REQUEST or NET_ARP_REPLY */
	uint32_t arp_tip;     /* ARP: the target protocol address */
	bool for_us;	      /* ARP: a request for our address */
	uint8_t src_mac[NET_MAC_LEN]; /* every verdict but DROP: the frame's (or ARP sender's) */
	struct net_frag frag;	      /* FRAGMENT: its pointers borrow the frame */
};

/**
 * Classify @p len bytes at @p frame (borrowed) against @p cfg.
 * Context: any thread; fast path (no allocation, no I/O).
 */
void net_rx_classify(const struct net_rx_cfg *cfg, const uint8_t *frame, size_t len,
		     struct net_rx_res *res);

/**
 * For an IPv4 TCP or UDP frame of @p len bytes whose L4 checksum is the partial sum a local
 * Linux sender leaves (net_csum.h), compute and store the full checksum, so that a kernel that
 * verifies it (the exception path, a TAP) accepts the frame. Other frames are left alone.
 * @return whether the frame changed. Context: any; fast path.
 */
bool net_rx_finish_partial(uint8_t *frame, size_t len);
