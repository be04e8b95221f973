/* SPDX-License-Identifier: MIT */
/*
 * IPv4 reassembly of UDP datagrams for the DPDK backend: a bounded table that collects the
 * fragments of a datagram (RFC 791) and hands back the whole datagram as one unfragmented frame,
 * which the caller classifies again like any received frame (net_rx_classify). RFC 3261 18.1.1:
 * a SIP implementation MUST handle messages up to the largest UDP datagram (65,535 bytes with IP
 * and UDP headers), and a sender fragments those. Pure: byte buffers and a clock given as input.
 *
 * How it works: a table holds NET_REASM_ENTRIES datagrams in progress, each keyed by (source,
 * destination, protocol, IP identification) as RFC 791 says, each with a buffer as large as the
 * largest IPv4 packet and a bitmap of the 8-byte blocks received. A fragment's payload is copied
 * into its place at once (the caller frees the frame), so the table holds no foreign buffers.
 * The datagram is complete when its last fragment (MF clear) fixed the total length and the
 * bytes received add up to it. Limits, each counted by the caller from the result:
 * - a fragment that overlaps one already received (a duplicate too), reaches past 65,515
 *   payload bytes, is empty, or is not a multiple of 8 bytes while more follow, drops the whole
 *   datagram (NET_REASM_BAD; RFC 5722's rule for IPv6, which Linux applies to IPv4 too);
 * - a fragment of a new datagram while every entry is busy is dropped (NET_REASM_FULL); entries
 *   older than NET_REASM_TIMEOUT_MS are freed first;
 * - an entry older than NET_REASM_TIMEOUT_MS is dropped by net_reasm_expire (a timeout: a
 *   fragment was lost, or went to another table).
 * The result of a completed datagram is a frame in the entry's buffer: the Ethernet header of its
 * first fragment, a fresh 20-byte IPv4 header (no options, no fragment bits, TTL 64, checksum
 * computed), then the reassembled payload. It stays valid until the next call on the table.
 *
 * One table per receive queue, written by that queue's thread only (no locks). Fragments of one
 * datagram that arrive on different queues never meet and time out (counted as such); see
 * docs/dpdk.md for why they normally share a queue.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net_proto.h"

#define NET_REASM_ENTRIES 8	  /* datagrams in reassembly per table */
#define NET_REASM_TIMEOUT_MS 3000 /* a datagram's fragments must all arrive within this */
#define NET_REASM_MAX_PAYLOAD (65535 - NET_IP_HLEN) /* IP payload of the largest datagram */
#define NET_REASM_FRAME_CAP (NET_ETH_HLEN + NET_IP_HLEN + NET_REASM_MAX_PAYLOAD)

/* Owner: its table. */
struct net_reasm_entry {
	bool used;
	uint8_t proto;
	uint16_t id;
	uint32_t src_ip, dst_ip; /* host order */
	uint64_t since_ms;	 /* the first fragment's arrival */
	uint32_t have;		 /* payload bytes received */
	uint32_t total;		 /* payload bytes of the datagram; 0 until the last fragment */
	uint64_t map[(NET_REASM_MAX_PAYLOAD + 8 * 64 - 1) / (8 * 64)]; /* 8-byte blocks received */
	uint8_t frame[NET_REASM_FRAME_CAP];
};

/* Owner: one thread (a DPDK queue's worker); about 530 KB, so allocated by the caller. Zeroed
 * storage is an empty table. */
struct net_reasm {
	unsigned live; /* entries in use */
	struct net_reasm_entry e[NET_REASM_ENTRIES];
};

/* One fragment, as net_rx_classify found it (NET_V_FRAGMENT). Owner: the caller. */
struct net_frag {
	uint32_t src_ip, dst_ip; /* host order */
	uint16_t id;
	uint8_t proto;
	bool more;	     /* MF: more fragments follow */
	uint32_t off;	     /* offset of this payload in the datagram's, in bytes */
	const uint8_t *eth;  /* the frame's Ethernet header (borrowed) */
	const uint8_t *data; /* this fragment's payload (borrowed) */
	uint32_t len;	     /* its length */
};

enum net_reasm_result {
	NET_REASM_HELD, /* kept; the datagram is not complete yet */
	NET_REASM_DONE, /* the datagram is complete: *frame, *len */
	NET_REASM_BAD,	/* dropped with its whole datagram (overlap, too large, malformed) */
	NET_REASM_FULL, /* dropped: no free entry for a new datagram */
};

/** Empty @p t. Context: its owner. */
void net_reasm_init(struct net_reasm *t);

/**
 * Add fragment @p fr (borrowed; copied) at time @p now_ms. On NET_REASM_DONE, @p frame and
 * @p len give the reassembled frame (see the file's top), valid until the next call on @p t.
 * Context: the table's owner; fast path (no allocation, no I/O; copies the fragment).
 */
enum net_reasm_result net_reasm_add(struct net_reasm *t, const struct net_frag *fr, uint64_t now_ms,
				    const uint8_t **frame, size_t *len);

/**
 * Drop the datagrams whose first fragment arrived more than NET_REASM_TIMEOUT_MS before
 * @p now_ms. @return how many. Context: the table's owner; cheap when t->live is 0.
 */
unsigned net_reasm_expire(struct net_reasm *t, uint64_t now_ms);
