/* SPDX-License-Identifier: MIT */
/*
 * Packet buffers and the per-worker pool they come from. A packet is one UDP datagram, received
 * or to be sent, with the peer address and which of the node's sockets it belongs to. Each
 * worker owns a pool reserved at start; a packet handed to another worker for its shard comes
 * back to its owner's pool through a return ring, so a pool is only ever touched by its worker.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "common/lc_compiler.h"
#include "dataplane/dp_key.h"
#include "dht/dht_key.h"
#include "dht/lsp.h"
#include "dht/lsp_ovl.h"
#include "sipparse/sip_msg.h"

/* Largest datagram: a SIP message over UDP may reach 65535 bytes (sipparse's SIP_MAX_MSG_LEN). */
#define DP_PKT_CAP 65536u

enum dp_sock { DP_SOCK_SIP = 0, DP_SOCK_LSP, DP_SOCK_COUNT_ };

/* A peer's UDP address. */
struct dp_addr {
	uint8_t family;	  /* AF_INET or AF_INET6 */
	uint16_t port;	  /* host byte order */
	uint8_t addr[16]; /* network byte order; IPv4 in the first 4 bytes */
};

/** Whether two addresses are the same (an IPv4 address is its first 4 bytes). Context: any. */
static inline bool dp_addr_equal(const struct dp_addr *a, const struct dp_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	       memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

/* dp_pkt.flags */
enum {
	DP_PKT_AUTHED = 1,    /* received: a member's tag was checked and cut off (dp_auth.h) */
	DP_PKT_TO_MEMBER = 2, /* to send: only to a member, tagged; refused when it has no key */
	DP_PKT_PLAIN = 4,     /* to send: never tagged (the answer to an untagged request) */
};

struct dht_peer;

/*
 * What classifying a received request found: its store key and where it goes. It travels with
 * the packet, also to the worker of another shard, so the key is computed once. Owner: as the
 * packet's; written by the worker that classifies it.
 */
struct dp_req {
	bool key_ok;		    /* key holds the request's store key */
	const struct dht_peer *fwd; /* the node the request goes to; NULL: handled here. Points
				     * into the routing table of the loop that classified it, so
				     * it never crosses a ring (a forwarded request is sent by the
				     * worker that classified it) */
	struct dp_key key;
};

/*
 * A received datagram, parsed: which member is set depends on the socket and the first bytes
 * (dp_sip_classify, dp_lsp_classify). Parsed once, where the datagram is received, and read by
 * whichever worker handles it: the views point into the packet's own data, and both travel
 * together across the shard rings. sip_parse and the LSP parsers write only the head of their
 * message and the array entries they fill, so a packet's parse touches a few cache lines of the
 * 28 KB, and the pool reserves them with the packet (pages touched as used).
 */
union dp_parsed {
	struct sip_msg sip;	    /* DP_SOCK_SIP */
	struct dht_lsp_msg lsp;	    /* DP_SOCK_LSP, a client's request or an answer */
	struct dht_lsp_ovl_msg ovl; /* DP_SOCK_LSP, node to node (dht_lsp_is_overlay_msg) */
};

/* Owner: the worker whose pool holds it, or the worker it was handed to until it comes back. */
struct dp_pkt {
	uint32_t len;	     /* bytes in data */
	uint8_t sock;	     /* enum dp_sock: arrived on / leaves from */
	uint8_t owner;	     /* index of the worker whose pool it belongs to */
	uint8_t flags;	     /* DP_PKT_*: set on receive (rx) or by the builder (tx) */
	struct dp_addr peer; /* source on receive, destination on send */
	dht_id_t auth_id;    /* DP_PKT_AUTHED: the sending member's node id */
	uint64_t rx_ms;	     /* received: when it reached this node (wall clock, ms, as the
				kernel stamped it); 0 when the backend cannot tell */
	struct dp_req req;   /* received requests: set by classification */
	union dp_parsed msg; /* received: set by classification; views into data */
	char data[DP_PKT_CAP];
};

/* Owner: one worker; never touched by another thread. */
struct dp_pool {
	struct dp_pkt *base; /* reserved with lc_pool_map, pages touched as used */
	struct dp_pkt **free;
	uint32_t nfree;
	uint32_t size;
};

/**
 * Reserve @p size packets for worker @p owner. @return LC_OK, LC_ENOMEM.
 * Context: control, at start.
 */
LC_MUSTCHECK int dp_pool_init(struct dp_pool *pool, uint32_t size, uint8_t owner);
void dp_pool_deinit(struct dp_pool *pool);

/** A free packet, or NULL when the pool is empty. Context: the owning worker; fast path. */
static inline struct dp_pkt *dp_pool_get(struct dp_pool *pool)
{
	return pool->nfree > 0 ? pool->free[--pool->nfree] : NULL;
}

/** Give a packet back. Context: the owning worker; fast path. */
static inline void dp_pool_put(struct dp_pool *pool, struct dp_pkt *p)
{
	pool->free[pool->nfree++] = p;
}
