/* SPDX-License-Identifier: MIT */
/*
 * The Internet checksum (RFC 1071): the IPv4 header checksum and the UDP/TCP/ICMP checksums with
 * the IPv4 pseudo-header, computed in software on byte buffers. Values are in host order: store
 * them with net_wr16().
 *
 * A "partial" checksum is what a Linux sender leaves in a UDP or TCP header when it expects the
 * device to finish the job (CHECKSUM_PARTIAL, e.g. across a veth pair): the folded pseudo-header
 * sum, not complemented. A receiver on a virtual port sees it as it was left; see
 * net_l4_csum_check().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Add @p len bytes at @p p (borrowed) to a running sum, as big-endian 16-bit words; an odd last
 * byte is padded with zero. Chain only at even offsets. Context: any. */
uint32_t net_csum_add(uint32_t sum, const uint8_t *p, size_t len);

/** Fold a running sum to 16 bits (not complemented). */
static inline uint16_t net_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/** The checksum to store in an IPv4 header of @p hlen bytes (its checksum field is ignored). */
uint16_t net_ip_csum(const uint8_t *ip, size_t hlen);

/** Whether an IPv4 header of @p hlen bytes carries a correct checksum. */
bool net_ip_csum_ok(const uint8_t *ip, size_t hlen);

/** The IPv4 pseudo-header sum of a @p l4_len byte segment of protocol @p proto (unfolded). */
uint32_t net_pseudo_sum(uint32_t src_ip, uint32_t dst_ip, uint8_t proto, uint16_t l4_len);

/**
 * The checksum to store in a UDP or TCP header: over the pseudo-header and @p l4_len bytes at
 * @p l4 (its checksum field must be zero, or @p skip_off names it: pass its offset in @p l4, or
 * -1). UDP turns 0 into 0xffff (0 means "none"); pass @p udp for that.
 */
uint16_t net_l4_csum(uint32_t src_ip, uint32_t dst_ip, uint8_t proto, const uint8_t *l4,
		     uint16_t l4_len, int skip_off, bool udp);

/* What a received L4 checksum turned out to be. */
enum net_csum_state {
	NET_CSUM_OK,	  /* verifies */
	NET_CSUM_NONE,	  /* UDP with checksum 0: the sender computed none (allowed on IPv4) */
	NET_CSUM_PARTIAL, /* the pseudo-header sum only: a local sender's unfinished offload */
	NET_CSUM_BAD,	  /* anything else */
};

/**
 * Check the UDP or TCP checksum of a received segment (@p csum_off: the offset of its checksum
 * field in @p l4). Context: any.
 */
enum net_csum_state net_l4_csum_check(uint32_t src_ip, uint32_t dst_ip, uint8_t proto,
				      const uint8_t *l4, uint16_t l4_len, unsigned csum_off);
