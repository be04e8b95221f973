/* SPDX-License-Identifier: MIT */
/*
 * Wire constants of the protocols locus's own network stack speaks (Ethernet II, ARP for IPv4,
 * IPv4, UDP, ICMP echo) and big-endian loads and stores on byte buffers. The stack works on byte
 * offsets rather than packed structs: a frame may start at any address, and no cast of a packet
 * pointer to a wider type is ever needed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define NET_MAC_LEN 6
#define NET_ETH_HLEN 14
#define NET_ETH_MIN_FRAME 60 /* without the FCS: shorter frames are padded */
#define NET_ETHERTYPE_IPV4 0x0800
#define NET_ETHERTYPE_ARP 0x0806

#define NET_ARP_LEN 28 /* Ethernet/IPv4 ARP payload */
#define NET_ARP_REQUEST 1
#define NET_ARP_REPLY 2

#define NET_IP_HLEN 20 /* without options: what the stack sends */
#define NET_IP_PROTO_ICMP 1
#define NET_IP_PROTO_TCP 6
#define NET_IP_PROTO_UDP 17
#define NET_IP_DF 0x4000
#define NET_IP_MF 0x2000
#define NET_IP_OFFMASK 0x1fff
#define NET_IP_TTL 64

#define NET_UDP_HLEN 8
#define NET_ICMP_HLEN 8
#define NET_ICMP_ECHO_REPLY 0
#define NET_ICMP_ECHO_REQUEST 8

/* Offsets inside an untagged Ethernet frame. */
#define NET_OFF_ETH_DST 0
#define NET_OFF_ETH_SRC 6
#define NET_OFF_ETH_TYPE 12

static inline uint16_t net_rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t net_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void net_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void net_wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline bool net_mac_is_bcast(const uint8_t *m)
{
	return (m[0] & m[1] & m[2] & m[3] & m[4] & m[5]) == 0xff;
}

/* Broadcast counts as multicast (the group bit is set). */
static inline bool net_mac_is_mcast(const uint8_t *m)
{
	return (m[0] & 1) != 0;
}

static inline bool net_mac_is_zero(const uint8_t *m)
{
	return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}

static inline bool net_mac_eq(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, NET_MAC_LEN) == 0;
}

/* An address no packet may come from: 0.0.0.0/8, loopback, multicast, reserved, broadcast. */
static inline bool net_ip_bad_source(uint32_t ip)
{
	uint8_t a = (uint8_t)(ip >> 24);
	return a == 0 || a == 127 || a >= 224;
}
