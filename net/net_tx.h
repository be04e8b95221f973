/* SPDX-License-Identifier: MIT */
/*
 * Building frames: a UDP datagram over IPv4 and Ethernet, fragmented when it exceeds the MTU
 * (RFC 791: every fragment but the last carries a multiple of 8 payload bytes; the UDP header,
 * with the checksum of the whole datagram, travels in the first), ARP requests, and the in-place
 * turnarounds of an ARP request and an ICMP echo request into their replies. Pure: byte buffers
 * in, lengths out.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net_proto.h"

#define NET_MTU_MIN 576 /* RFC 791: every host accepts this */
#define NET_UDP_MAX_PAYLOAD (65535 - NET_IP_HLEN - NET_UDP_HLEN)

/* The addresses of one datagram to send. Owner: the caller. */
struct net_udp_hdrs {
	uint8_t src_mac[NET_MAC_LEN], dst_mac[NET_MAC_LEN];
	uint32_t src_ip, dst_ip;     /* host order */
	uint16_t src_port, dst_port; /* host order */
	uint16_t ip_id;		     /* the IPv4 identification: unique per fragmented datagram */
};

/** How many frames a @p payload_len byte datagram takes at @p mtu (IP MTU, >= 576); 0 when it
 * is larger than UDP allows. */
unsigned net_udp_nfrags(size_t payload_len, unsigned mtu);

/** The UDP checksum of the datagram (pseudo-header, header, payload), to store as it is. */
uint16_t net_udp_csum(const struct net_udp_hdrs *h, const uint8_t *payload, size_t payload_len);

/**
 * Build frame @p k (0 .. nfrags-1) of the datagram into @p buf (@p cap bytes) with the UDP
 * checksum @p udp_csum (from net_udp_csum, or the pseudo-header sum when the port finishes it)
 * and the IPv4 header checksum (0 when @p ip_offload: the port computes it).
 * @return the frame's length (padded to the Ethernet minimum), or 0 when it does not fit @p cap.
 * Context: any; fast path.
 */
size_t net_udp_build(uint8_t *buf, size_t cap, const struct net_udp_hdrs *h, const uint8_t *payload,
		     size_t payload_len, unsigned mtu, unsigned k, uint16_t udp_csum,
		     bool ip_offload);

/** Build an ARP message (42 bytes, padded to 60) into @p buf; 0 when @p cap is too small.
 * @p tha may be NULL (zeros, for a request); @p eth_dst NULL means broadcast. */
size_t net_arp_build(uint8_t *buf, size_t cap, uint16_t op, const uint8_t *sha, uint32_t spa,
		     const uint8_t *tha, uint32_t tpa, const uint8_t *eth_dst);

/** Turn an ARP request for us (classified NET_V_ARP, for_us) into the reply, in place. */
void net_arp_reply_inplace(uint8_t *frame, const uint8_t *our_mac);

/**
 * Turn an ICMP echo request (classified NET_V_ICMP_ECHO) into the echo reply, in place, in a
 * buffer of @p cap bytes: addresses swapped, TTL reset, options dropped, checksums recomputed.
 * @return the reply's length (it shrinks when the request had IP options; padded to the Ethernet
 * minimum when @p cap allows).
 */
size_t net_icmp_echo_reply(uint8_t *frame, size_t cap, const uint8_t *our_mac);
